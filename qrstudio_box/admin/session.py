"""The UI's cookie session: an HS256 JWT for the UI's audience (accounts/tokens.py), carried in
an HttpOnly cookie. An API bearer token is no session, and a session is no bearer token.

Also the per-request UI state the router hook prepares (signed-in user, CSRF token, flashes),
and the security headers every UI response carries.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.security.jwt import Token
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ..accounts import service as accounts
from ..accounts.schemas import User
from ..accounts.tokens import UI_AUDIENCE, caller_of_user
from ..errors import ApiError
from ..web import SECURITY_HEADERS
from ..workspaces.schemas import Caller
from . import tokens

SESSION_COOKIE = "qrstudio_session"
CSRF_COOKIE = "qrstudio_csrf"
FLASH_COOKIE = "qrstudio_flash"
# The workspace the UI acts on (the switcher sets it); absent or stale: the user's default one.
WORKSPACE_COOKIE = "qrstudio_workspace"
COOKIE_PATH = "/admin"


def security_headers_middleware(app: ASGIApp) -> ASGIApp:
    """Adds SECURITY_HEADERS to every UI response, error pages and redirects included."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def ui_key(ctx: Any) -> bytes:
    """HMAC key for CSRF and flash cookies, derived from the JWT key so no new secret file."""
    return hmac.new(ctx.tokens.key.encode(), b"qrstudio-admin-ui", hashlib.sha256).digest()


def is_secure(request: Request, ctx: Any) -> bool:
    return request.url.scheme == "https" or ctx.settings.server.public_url.startswith("https://")


def session_token(request: Request, ctx: Any) -> Token | None:
    """The session cookie's token while it counts: None when missing, expired, tampered, signed
    with another key, meant for the API, or ended (sign-out, password or role change...)."""
    raw = request.cookies.get(SESSION_COOKIE)
    return ctx.tokens.decode(raw, UI_AUDIENCE) if raw else None


async def load_user(request: Request, ctx: Any) -> tuple[User, Caller] | None:
    """The signed-in user and the Caller the pages act as: the workspace of the switcher's
    cookie while they may still enter it, else their default workspace (as the API decides)."""
    token = session_token(request, ctx)
    if token is None:
        return None
    raw = request.cookies.get(WORKSPACE_COOKIE, "")
    chosen = int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63 else None
    return await ctx.db.read(_user_and_caller, int(token.sub), chosen)


def _user_and_caller(conn, user_id: int, chosen: int | None) -> tuple[User, Caller] | None:
    user = accounts.get_user(conn, user_id)
    if user is None or not user.is_active:
        return None
    try:
        caller = caller_of_user(conn, user_id, chosen)
    except ApiError:  # removed from that workspace since: back to the default one
        caller = caller_of_user(conn, user_id, None)
    assert caller is not None
    return user, caller


def workspace_cookie(request: Request, ctx: Any, workspace_id: int) -> Cookie:
    return Cookie(
        key=WORKSPACE_COOKIE,
        value=str(workspace_id),
        path=COOKIE_PATH,
        httponly=True,
        secure=is_secure(request, ctx),
        samesite="lax",
        max_age=400 * 24 * 3600,
    )


def session_cookies(
    request: Request, ctx: Any, user: User, epoch: int | None = None
) -> list[Cookie]:
    """Cookies that sign `user` in: the JWT session and a fresh CSRF token bound to them.
    `epoch`: the one just written, when this session outlives the end of the user's others."""
    ttl = ctx.tokens.ttl
    jwt = ctx.tokens.issue(user.id, UI_AUDIENCE, epoch)
    secure = is_secure(request, ctx)
    return [
        Cookie(
            key=SESSION_COOKIE,
            value=jwt,
            path=COOKIE_PATH,
            httponly=True,
            secure=secure,
            samesite="lax",
            max_age=int(ttl.total_seconds()),
        ),
        csrf_cookie(request, ctx, tokens.new_csrf_token(ui_key(ctx), str(user.id))),
    ]


def signed_out_cookies(request: Request, ctx: Any) -> list[Cookie]:
    return [
        Cookie(
            key=SESSION_COOKIE,
            value="",
            path=COOKIE_PATH,
            httponly=True,
            secure=is_secure(request, ctx),
            samesite="lax",
            max_age=0,
            expires=0,
        ),
        csrf_cookie(request, ctx, tokens.new_csrf_token(ui_key(ctx), "")),
    ]


def csrf_cookie(request: Request, ctx: Any, value: str) -> Cookie:
    # SameSite=Strict: the cookie half of the double submit never rides a cross-site request.
    return Cookie(
        key=CSRF_COOKIE,
        value=value,
        path=COOKIE_PATH,
        httponly=True,
        secure=is_secure(request, ctx),
        samesite="strict",
    )


def flash_cookie(request: Request, ctx: Any, messages: list[tuple[str, str]]) -> Cookie:
    return Cookie(
        key=FLASH_COOKIE,
        value=tokens.pack_flash(ui_key(ctx), messages),
        path=COOKIE_PATH,
        httponly=True,
        secure=is_secure(request, ctx),
        samesite="lax",
        max_age=120,
    )


def clear_flash_cookie(request: Request, ctx: Any) -> Cookie:
    return Cookie(
        key=FLASH_COOKIE,
        value="",
        path=COOKIE_PATH,
        httponly=True,
        secure=is_secure(request, ctx),
        samesite="lax",
        max_age=0,
        expires=0,
    )
