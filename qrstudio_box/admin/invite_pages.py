"""/admin/invite/{token}: accepting an invitation to a workspace (issue 16.5).

Public: a visitor without an account signs up (email from the invitation), one with an
account signs in, a signed-in user joins with one click. The rules are accounts'
(accounts/invitations.py); a used, withdrawn or expired link gets a plain page saying so.
"""

from __future__ import annotations

from litestar import Request, get, post

from ..accounts import invitations
from ..accounts import service as accounts
from ..errors import ApiError
from . import session
from .password_reset_pages import link_problem_page
from .ui import app_ctx, current_user, errors_of, go, page


def _problem_page(request: Request, problem: str):
    return link_problem_page(
        request,
        problem,
        "invitation",
        "Ask an owner of the workspace to invite you again.",
        ("/admin/", "Go to QRStudio Box"),
    )


def _mode(request: Request, invitation, want_sign_in: bool) -> str:
    if current_user(request) is not None:
        return "join"
    return "signin" if invitation.account_exists or want_sign_in else "signup"


def _page(request: Request, token: str, invitation, mode: str, status=200, **extra):
    context = {"email": invitation.email, "errors": {}, **extra}
    return page(
        request,
        "invite.html",
        status=status,
        token=token,
        invitation=invitation,
        mode=mode,
        **context,
    )


@get("/invite/{token:str}", opt={"public": True})
async def invitation_page(request: Request, token: str, signin: str | None = None) -> object:
    problem, invitation = await invitations.open_invitation(app_ctx(request), token)
    if invitation is None:
        return _problem_page(request, problem)
    return _page(request, token, invitation, _mode(request, invitation, bool(signin)))


def _joined(request: Request, ctx, user, joined, epoch: int | None = None, signed_in=False):
    if joined.already_member:
        text = f"You are a member of {joined.workspace_name} already ({joined.role})."
    else:
        text = f"You joined {joined.workspace_name} as {joined.role}."
    cookies = session.session_cookies(request, ctx, user, epoch) if signed_in else []
    cookies.append(session.workspace_cookie(request, ctx, joined.workspace_id))
    return go(request, "/admin/", ("success", text), cookies=cookies)


@post("/invite/{token:str}", opt={"public": True}, status_code=303)
async def accept_invitation(request: Request, token: str) -> object:
    ctx = app_ctx(request)
    form = await request.form()
    action = form.get("action") or ""
    problem, invitation = await invitations.open_invitation(ctx, token)
    if invitation is None:
        return _problem_page(request, problem)
    user = current_user(request)
    try:
        if user is not None:
            return _joined(request, ctx, user, await invitations.join(ctx, token, user.id))
        if action == "signup":
            new_user, joined = await invitations.sign_up(ctx, token, form.get("password") or "")
            return _joined(request, ctx, new_user, joined, signed_in=True)
        return await _sign_in_and_join(request, ctx, token, invitation, form)
    except ApiError as error:
        if error.field == "token":
            problem, _ = await invitations.open_invitation(ctx, token)
            return _problem_page(request, problem or "used")
        if error.status_code == 409:  # an account has the email by now: sign in instead
            return _page(request, token, invitation, "signin", status=409)
        mode = "signup" if action == "signup" else "signin"
        status = 429 if error.status_code == 429 else 400
        errors = errors_of(error) if status == 400 else {"form": str(error.detail)}
        email = (form.get("email") or invitation.email).strip()
        return _page(request, token, invitation, mode, status=status, errors=errors, email=email)


async def _sign_in_and_join(request: Request, ctx, token: str, invitation, form) -> object:
    """The sign-in form's rules (auth_pages.login_submit): the same throttle, the same answer."""
    email = (form.get("email") or "").strip()
    password = form.get("password") or ""
    if not email or not password:
        errors = {"email": "Enter your email address."} if not email else {}
        if not password:
            errors["password"] = "Enter your password."
        return _page(request, token, invitation, "signin", status=400, errors=errors, email=email)
    ctx.quotas.reserve_login(email, request)  # 429 + Retry-After when guessing
    user = await accounts.authenticate(ctx.db, ctx.tokens, email, password)
    ctx.quotas.record_login(email, request, ok=user is not None)
    if user is None:
        return _page(
            request,
            token,
            invitation,
            "signin",
            status=400,
            errors={"form": "Invalid email or password."},
            email=email,
        )
    joined = await invitations.join(ctx, token, user.id)
    return _joined(request, ctx, user, joined, signed_in=True)


ROUTES = [invitation_page, accept_invitation]
