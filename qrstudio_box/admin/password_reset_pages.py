"""Forgot your password? The request form, and the link's new-password form (issue 16.5).

The rules are accounts/resets.py's; these pages are public (no session needed) and go
through the router's CSRF check like the sign-in form.
"""

from __future__ import annotations

from litestar import Request, get, post

from ..accounts import resets, rules
from ..errors import ApiError
from . import session
from .ui import app_ctx, errors_of, go, page

# A used or expired link is gone (410); one that never existed is not found (404).
PROBLEM_STATUS = {"unknown": 404, "used": 410, "expired": 410, "revoked": 410}


def link_problem_page(request: Request, problem: str, noun: str, advice: str, action: tuple):
    """The plain page for a one-time link that no longer works (also the invitation's)."""
    message = f"This {noun} {rules.LINK_PROBLEMS[problem]}."
    return page(
        request,
        "link_problem.html",
        status=PROBLEM_STATUS[problem],
        title="This link does not work" if problem == "unknown" else f"This {noun} is closed",
        problem=problem,
        message=message,
        advice=advice,
        action_href=action[0],
        action_label=action[1],
    )


def _reset_link_problem(request: Request, problem: str):
    return link_problem_page(
        request,
        problem,
        "link",
        "Ask for a new one: each link works once, for one hour.",
        ("/admin/password-reset", "Ask for a new link"),
    )


@get("/password-reset", opt={"public": True})
async def reset_request_form(request: Request) -> object:
    ctx = app_ctx(request)
    return page(
        request,
        "password_reset.html",
        mail_enabled=ctx.mail.enabled,
        answer=resets.requested_answer(ctx.mail.enabled),
        sent=False,
        email="",
        errors={},
    )


@post("/password-reset", opt={"public": True}, status_code=200)
async def reset_request_submit(request: Request) -> object:
    ctx = app_ctx(request)
    form = await request.form()
    email = (form.get("email") or "").strip()
    context = {
        "mail_enabled": ctx.mail.enabled,
        "answer": resets.requested_answer(ctx.mail.enabled),
        "email": email,
    }
    try:
        await resets.request_reset(ctx, email, request)
    except ApiError as error:
        status = 429 if error.status_code == 429 else 400
        return page(
            request,
            "password_reset.html",
            status=status,
            headers=error.headers,
            sent=False,
            errors={"form": str(error.detail)} if status == 429 else errors_of(error),
            **context,
        )
    return page(request, "password_reset.html", sent=True, errors={}, **context)


@get("/password-reset/{token:str}", opt={"public": True})
async def new_password_form(request: Request, token: str) -> object:
    problem, email = await resets.check_link(app_ctx(request), token)
    if problem:
        return _reset_link_problem(request, problem)
    return page(request, "password_new.html", token=token, email=email, errors={})


@post("/password-reset/{token:str}", opt={"public": True}, status_code=303)
async def new_password_submit(request: Request, token: str) -> object:
    """Sets the password, ends every other session, and signs this browser in."""
    ctx = app_ctx(request)
    form = await request.form()
    try:
        user, epoch = await resets.complete_reset(ctx, token, form.get("new_password") or "")
    except ApiError as error:
        if error.field == "token":
            problem, _ = await resets.check_link(ctx, token)
            return _reset_link_problem(request, problem or "used")
        _, email = await resets.check_link(ctx, token)
        return page(
            request,
            "password_new.html",
            status=400,
            token=token,
            email=email,
            errors=errors_of(error),
        )
    return go(
        request,
        "/admin/",
        ("success", "Your password is changed; every other session and API token has ended."),
        cookies=session.session_cookies(request, ctx, user, epoch),
    )


ROUTES = [reset_request_form, reset_request_submit, new_password_form, new_password_submit]
