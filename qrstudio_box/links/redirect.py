"""A scan's 302, built once for both paths that answer it.

The fast path (``fastpath.py``) and the Litestar handler (``api.py``) send the very same ASGI
messages, so they cannot drift apart: Location, ``Cache-Control: no-store``, an empty text body.
"""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.types import ASGIApp, Receive, Scope, Send

from ..urls import as_location

_FIXED_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", b"0"),
]


def redirect_headers(destination_url: str) -> list[tuple[bytes, bytes]]:
    """Every header of the 302 to that destination (an IDN host in punycode, see as_location)."""
    return [(b"location", as_location(destination_url).encode("latin-1")), *_FIXED_HEADERS]


async def send_redirect(send: Send, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


class ScanRedirect(Response):
    """The Litestar handler's 302: Litestar sends what ``to_asgi_response`` gives it, here the
    fast path's own messages."""

    def __init__(self, destination_url: str) -> None:
        super().__init__(b"", status_code=302)
        self.redirect_headers = redirect_headers(destination_url)

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIApp:
        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            await send_redirect(send, self.redirect_headers)

        return asgi
