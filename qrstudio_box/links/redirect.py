"""A scan's 302, built once for every path that answers it.

The fast path (``fastpath.py``), a branded domain's (``branded.py``) and the Litestar handler
(``api.py``) send the very same ASGI messages, so they cannot drift apart: Location,
``Cache-Control: no-store``, an empty text body. ``scan`` records a scan and sends that 302 for
the first two.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from litestar import Response
from litestar.types import ASGIApp, Receive, Scope, Send

from ..urls import as_location

if TYPE_CHECKING:
    from ..context import AppContext
    from .service import CachedQr

# (scope, receive, send, error): how a scan that could not be recorded is answered.
OnScanError = Callable[[Scope, Receive, Send, Exception], Awaitable[None]]
# (scope, receive, send): the page of a code outside its lifecycle without an expired_url.
OnEnded = Callable[[Scope, Receive, Send], Awaitable[None]]

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


def scan_headers(
    scope: Scope, qr: CachedQr
) -> tuple[list[str], str | None, str | None, str | None]:
    """(X-Forwarded-For values, User-Agent, Referer, Accept-Language) as the scan reads them."""
    forwarded_for: list[str] = []
    user_agent = referer = accept_language = None
    for name, value in scope["headers"]:  # a repeated header: the first, as request.headers.get
        if name == b"user-agent":
            if user_agent is None:
                user_agent = value.decode("latin-1")
        elif name == b"referer":
            if referer is None:
                referer = value.decode("latin-1")
        elif name == b"x-forwarded-for":
            forwarded_for.append(value.decode("latin-1"))
        elif name == b"accept-language" and qr.rules:  # only rules may ask for it
            if accept_language is None:
                accept_language = value.decode("latin-1")
    return forwarded_for, user_agent, referer, accept_language


async def scan(
    ctx: AppContext,
    qr: CachedQr,
    scope: Scope,
    receive: Receive,
    send: Send,
    on_error: OnScanError,
    on_ended: OnEnded,
) -> None:
    """Record the scan and send its 302 (both hosts); `on_ended` and `on_error` answer the rest
    in the host's own style."""
    forwarded_for, user_agent, referer, accept_language = scan_headers(scope, qr)
    client = scope.get("client")
    try:
        routed = await ctx.links.record_scan(
            qr,
            client[0] if client else None,
            forwarded_for,
            user_agent,
            referer,
            accept_language,
            scope.get("query_string", b""),
        )
        # "": outside its lifecycle without an expired_url, the 410 page (recorded all the same)
        headers = redirect_headers(routed.destination_url) if routed.destination_url else None
    except Exception as error:
        await on_error(scope, receive, send, error)
        return
    if headers is None:
        await on_ended(scope, receive, send)
        return
    await send_redirect(send, headers)
