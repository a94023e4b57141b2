"""The outermost ASGI layer, in front of everything (the redirect's fast path included).

* **Request headers are bounded.** uvicorn's httptools parser has no limit of its own (the
  ``h11_max_incomplete_event_size`` option only binds the slower h11 parser), so a 1 MB
  User-Agent reached the fast path, Litestar and the scan's parser. Past
  ``MAX_HEADER_BYTES`` in all (names, values and their separators, as on the wire) the answer
  is 431 in the usual JSON error shape, before anything else reads them. The reverse proxy in
  front bounds what the process has to buffer at all (docs/operations.md).
* **Every HTML answer carries the security headers** (``web.SECURITY_HEADERS``: CSP, frame
  denial, nosniff, Referrer-Policy...), whoever made it: the admin router's pages, the public
  404/405/410/500 pages, the ``/r/`` pages, and pages of routes added later. Headers a response
  already set are kept.
"""

from __future__ import annotations

from collections.abc import Awaitable

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body
from .web import SECURITY_HEADERS

# 16 KB in all: browsers send 1-2 KB, and a cookie jar near its limit stays well under this.
MAX_HEADER_BYTES = 16 * 1024

_TOO_LARGE_BODY = msgspec.json.encode(
    error_body(431, f"request headers: at most {MAX_HEADER_BYTES // 1024} KB in all")
)
_SECURITY_HEADERS = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]


def header_bytes(headers) -> int:
    """The size of the request headers as sent: `name: value` plus CRLF for each."""
    size = 4 * len(headers)
    for name, value in headers:
        size += len(name) + len(value)
    return size


def with_security_headers(message: Message) -> None:
    """Adds the security headers a `http.response.start` message for an HTML page lacks."""
    headers = message.get("headers") or []
    for name, value in headers:
        if name == b"content-type" or name.lower() == b"content-type":
            if value.startswith(b"text/html"):
                names = {name.lower() for name, _ in headers}
                message["headers"] = [
                    *headers,
                    *((n, v) for n, v in _SECURITY_HEADERS if n not in names),
                ]
            return


def wrap(inner: ASGIApp) -> ASGIApp:
    """`inner` behind the header size limit, its HTML answers given the security headers."""

    async def edge(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        if header_bytes(scope["headers"]) > MAX_HEADER_BYTES:
            await _too_large(send)
            return

        def send_with_headers(message: Message) -> Awaitable[None]:
            # A plain function returning send's awaitable: no extra coroutine per message (the
            # redirect is this layer's hottest customer).
            if message["type"] == "http.response.start":
                with_security_headers(message)
            return send(message)

        await inner(scope, receive, send_with_headers)

    return edge


async def _too_large(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 431,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_TOO_LARGE_BODY)).encode()),
                (b"cache-control", b"no-store"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _TOO_LARGE_BODY})
