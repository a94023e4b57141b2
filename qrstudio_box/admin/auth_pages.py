"""Sign in and sign out."""

from __future__ import annotations

from litestar import Request, get, post

from ..accounts import service as accounts
from ..errors import ApiError
from . import session
from .ui import app_ctx, current_user, go, page, safe_next


@get("/login", opt={"public": True}, name="admin:login")
async def login_form(request: Request, next: str | None = None) -> object:
    if current_user(request):
        return go(request, safe_next(next))
    return page(request, "login.html", next=safe_next(next), email="", errors={})


@post("/login", opt={"public": True}, status_code=200)
async def login_submit(request: Request) -> object:
    ctx = app_ctx(request)
    form = await request.form()
    email = (form.get("email") or "").strip()
    password = form.get("password") or ""
    target = safe_next(form.get("next"))
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your email address."
    if not password:
        errors["password"] = "Enter your password."
    user = None
    if not errors:
        # The same throttle as the API's token endpoint: the UI is no side door for guessing.
        # Reserved before the (slow) verification: parallel guesses cannot outrun the count.
        try:
            ctx.quotas.reserve_login(email, request)
        except ApiError as error:
            return page(
                request,
                "login.html",
                status=429,
                headers=error.headers,
                next=target,
                email=email,
                errors={"form": str(error.detail)},
            )
        user = await accounts.authenticate(ctx.db, ctx.tokens, email, password)
        ctx.quotas.record_login(email, request, ok=user is not None)
        if user is None:
            errors["form"] = "Invalid email or password."
    if user is None:
        return page(request, "login.html", status=400, next=target, email=email, errors=errors)
    return go(request, target, cookies=session.session_cookies(request, ctx, user))


@post("/logout", status_code=303, opt={"rate_limit": False, "own_account": True})  # always possible
async def logout(request: Request) -> object:
    """Ends this session on the server too: a copy of the cookie no longer signs anyone in."""
    ctx = app_ctx(request)
    token = session.session_token(request, ctx)
    if token is not None:
        await ctx.db.write(ctx.tokens.revoke, token)
    return go(
        request,
        "/admin/login",
        ("success", "You are signed out."),
        cookies=session.signed_out_cookies(request, ctx),
    )
