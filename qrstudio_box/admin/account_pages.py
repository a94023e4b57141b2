"""The signed-in person's own account: change password, sign out everywhere."""

from __future__ import annotations

from litestar import Request, get, post

from ..accounts import service as accounts
from ..errors import ApiError
from . import session
from .ui import app_ctx, current_user, errors_of, go, page


@get("/account")
async def account_page(request: Request) -> object:
    return page(request, "account.html", nav="account", errors={})


@post("/account/password", status_code=303, opt={"own_account": True})
async def change_password(request: Request) -> object:
    """Ends every other session of this user; this one continues with a fresh cookie."""
    ctx = app_ctx(request)
    form = await request.form()
    user = current_user(request)
    try:
        epoch = await accounts.change_own_password(
            ctx,
            request,
            user,
            form.get("current_password") or "",
            form.get("new_password") or "",
        )
    except ApiError as error:
        status = 429 if error.status_code == 429 else 400
        return page(request, "account.html", nav="account", status=status, errors=errors_of(error))
    return go(
        request,
        "/admin/account",
        ("success", "Password changed. Your other sessions and API tokens have ended."),
        cookies=session.session_cookies(request, ctx, user, epoch),
    )


@post("/account/sign-out-everywhere", status_code=303, opt={"own_account": True})
async def sign_out_everywhere(request: Request) -> object:
    ctx = app_ctx(request)
    await accounts.sign_out_everywhere(ctx.db, current_user(request).id, ctx.tokens)
    return go(
        request,
        "/admin/login",
        ("success", "You are signed out everywhere: every session and API token has ended."),
        cookies=session.signed_out_cookies(request, ctx),
    )


ROUTES = [account_page, change_password, sign_out_everywhere]
