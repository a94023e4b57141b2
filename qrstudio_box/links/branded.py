"""What a branded domain's host answers (issue 17.3): its own codes, its fallback, a neutral page.

``fastpath.install`` hands every request whose Host is a branded domain here, whatever its
path or method, before Litestar's router: so a client's name never fronts the appliance's API,
admin UI, sign-in page, schema, metrics or static files, and no answer here sets a cookie.

* An active domain: ``GET /{short_id}`` and ``GET /r/{short_id}`` of a live code OF THAT DOMAIN
  are the scan the default host's fast path records, with the same 302 (``redirect.scan``);
  HEAD says where it would go, recording nothing (as ``/r/`` does on the default host). The
  root, an unknown code (another domain's, the default host's, another workspace's) and a code
  that is switched off or deleted: 302 to the domain's ``fallback_url`` when it has one (no
  scan), else the neutral 404 (410 for its own code that is switched off or deleted).
* A reserved first segment (``rules.RESERVED_PATHS``: /api, /admin, /static, /schema...), any
  method but GET and HEAD, a pending or deleted domain, a websocket: the neutral 404.

The neutral page names nothing (no product, no link to the admin UI, no stylesheet): a
scanner learns only that the link leads nowhere. edge.py gives it the security headers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from litestar.types import Receive, Scope, Send

from .redirect import redirect_headers, scan, scan_headers, send_redirect
from .rules import CODE, REFUSED, branded_target

if TYPE_CHECKING:
    from ..context import AppContext
    from ..domains.service import DomainEntry

log = logging.getLogger(__name__)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
</head>
<body>
<h1>{title}</h1>
<p>{message}</p>
</body>
</html>
"""
NEUTRAL_PAGES = {
    404: ("Not found", "There is nothing at this address."),
    410: ("No longer available", "This code is no longer in use."),
    500: ("Something went wrong", "Please try again later."),
}
_BODIES = {
    status: _PAGE.format(title=title, message=message).encode()
    for status, (title, message) in NEUTRAL_PAGES.items()
}


async def send_neutral_page(scope: Scope, send: Send, status: int) -> None:
    body = _BODIES[status]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def _ended(scope: Scope, receive: Receive, send: Send) -> None:
    await send_neutral_page(scope, send, 410)


async def _crashed(scope: Scope, receive: Receive, send: Send, error: Exception) -> None:
    log.error("unhandled error on %s %s", scope["method"], scope["path"], exc_info=error)
    await send_neutral_page(scope, send, 500)


async def serve(
    ctx: AppContext, domain: DomainEntry, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer a request on a branded domain's host, whatever it asks."""
    if scope["type"] != "http":  # a websocket: refused before it is accepted (403)
        await send({"type": "websocket.close", "code": 1008})
        return
    method = scope["method"]
    if not domain.is_active or (method != "GET" and method != "HEAD"):
        await send_neutral_page(scope, send, 404)
        return
    kind, short_id = branded_target(scope["path"])
    if kind == REFUSED:
        await send_neutral_page(scope, send, 404)
        return
    qr = ctx.links.lookup_on(domain.id, short_id) if kind == CODE else None
    if qr is not None and qr.is_live:
        if method == "GET":
            await scan(ctx, qr, scope, receive, send, _crashed, _ended)
        else:
            await _preview(ctx, qr, scope, send)
        return
    if domain.fallback_url:
        await send_redirect(send, redirect_headers(domain.fallback_url))
        return
    await send_neutral_page(scope, send, 404 if qr is None else 410)


async def _preview(ctx: AppContext, qr, scope: Scope, send: Send) -> None:
    """HEAD of a live code: where a scan would go, nothing recorded."""
    forwarded_for, user_agent, _, accept_language = scan_headers(scope, qr)
    client = scope.get("client")
    routed = ctx.links.preview(
        qr,
        client[0] if client else None,
        forwarded_for,
        user_agent,
        accept_language,
        scope.get("query_string", b""),
    )
    if not routed.destination_url:
        await send_neutral_page(scope, send, 410)
        return
    await send_redirect(send, redirect_headers(routed.destination_url))
