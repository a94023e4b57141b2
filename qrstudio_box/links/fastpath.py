"""The redirect's fast path: a scan of a live QR answered below Litestar's router.

Every printed code lands on ``GET /r/{short_id}``, so its cost per scan is the appliance's
capacity. py-spy on the redirect bench put about half of the main thread's time in the layers
around the handler: the exception and middleware wrappers (bearer auth and the API rate limit,
which both let ``/r/`` through untouched), routing, dependency injection, signature parsing and
the Response object. None of them does anything for a 302, so ``install`` puts a small ASGI
function in front of them that answers exactly that case: GET of a known, active QR. It runs
the same ``LinksService.record_scan`` as the Litestar handler and sends the same 302
(``redirect.py`` builds it for both). ``links/domain.py`` installs it (``wrap_app``).

Everything else falls through to the Litestar handlers in ``links/api.py``, which stay the
documented route (OpenAPI) and keep their behaviour: unknown and inactive codes (HTML pages),
HEAD, a trailing slash. An error while recording is answered by the app's own crash handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send

from .api import ended_page
from .redirect import redirect_headers, send_redirect

if TYPE_CHECKING:
    from litestar import Litestar

    from ..context import AppContext

PREFIX = "/r/"


def install(app: Litestar, ctx: AppContext, on_crash) -> None:
    """Answer scans of live QRs before Litestar's handler stack (``app.asgi_handler``)."""
    inner: ASGIApp = app.asgi_handler

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            if path.startswith(PREFIX):
                qr = ctx.links.lookup(path[len(PREFIX) :])
                if qr is not None and qr.is_live:
                    await _scan(ctx, qr, scope, receive, send, on_crash)
                    return
        await inner(scope, receive, send)

    app.asgi_handler = asgi


async def _scan(ctx: AppContext, qr, scope: Scope, receive: Receive, send: Send, on_crash) -> None:
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
    except Exception as error:  # the same 500 (logged, HTML or JSON) as any other route's
        request: Request = Request(scope, receive)
        response = on_crash(request, error).to_asgi_response(app=None, request=request)
        await response(scope, receive, send)
        return
    if headers is None:
        request = Request(scope, receive)
        await ended_page(request).to_asgi_response(app=None, request=request)(scope, receive, send)
        return
    await send_redirect(send, headers)
