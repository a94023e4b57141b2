"""The redirect's fast path, and routing by Host: everything answered below Litestar's router.

Every printed code lands on ``GET /r/{short_id}`` (or ``GET /{short_id}`` on a branded domain),
so its cost per scan is the appliance's capacity. py-spy on the redirect bench put about half
of the main thread's time in the layers around the handler: the exception and middleware
wrappers (bearer auth and the API rate limit, which both let ``/r/`` through untouched),
routing, dependency injection, signature parsing and the Response object. None of them does
anything for a 302, so ``install`` puts a small ASGI function in front of them that answers
exactly that case: GET of a known, active QR. It runs the same ``LinksService.record_scan`` as
the Litestar handler and sends the same 302 (``redirect.py`` builds it for both).
``links/domain.py`` installs it (``wrap_app``).

The same function routes by Host (issue 17.3), so no path can slip past it: a request whose
Host is a branded domain (``ctx.domains.by_host``, one dict get) is answered here whatever its
path, by ``branded.serve`` (its codes, its fallback, a neutral page; nothing of the appliance's
own). Any other Host is the default host: the fast path below, then Litestar, as before.

On the default host everything else falls through to the Litestar handlers in
``links/api.py``, which stay the documented route (OpenAPI) and keep their behaviour: unknown
and inactive codes (HTML pages), HEAD, a trailing slash. An error while recording is answered by
the app's own crash handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send

from . import branded
from .api import ended_page
from .redirect import scan
from .rules import host_name

if TYPE_CHECKING:
    from litestar import Litestar

    from ..context import AppContext

PREFIX = "/r/"


def request_host(scope: Scope) -> str:
    """The Host header's host (`host_name`), "" without one. Clients send Host first."""
    for name, value in scope["headers"]:
        if name == b"host":
            return host_name(value)
    return ""


def install(app: Litestar, ctx: AppContext, on_crash) -> None:
    """Route branded hosts and answer scans of live QRs before Litestar's handler stack
    (``app.asgi_handler``)."""
    inner: ASGIApp = app.asgi_handler

    async def crashed(scope: Scope, receive: Receive, send: Send, error: Exception) -> None:
        # The same 500 (logged, HTML or JSON) as any other route's.
        request: Request = Request(scope, receive)
        await on_crash(request, error).to_asgi_response(app=None, request=request)(
            scope, receive, send
        )

    async def ended(scope: Scope, receive: Receive, send: Send) -> None:
        request: Request = Request(scope, receive)
        await ended_page(request).to_asgi_response(app=None, request=request)(scope, receive, send)

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http" or kind == "websocket":
            domain = ctx.domains.by_host(request_host(scope))
            if domain is not None:
                await branded.serve(ctx, domain, scope, receive, send)
                return
            if kind == "http" and scope["method"] == "GET":
                path = scope["path"]
                if path.startswith(PREFIX):
                    qr = ctx.links.lookup(path[len(PREFIX) :])
                    if qr is not None and qr.is_live:
                        await scan(ctx, qr, scope, receive, send, crashed, ended)
                        return
        await inner(scope, receive, send)

    app.asgi_handler = asgi
