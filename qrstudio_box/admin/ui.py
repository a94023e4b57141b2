"""What every UI handler shares: the router hook (session, CSRF, access), page rendering with
the common context, and redirects that carry flash messages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template

from ..errors import ApiError
from ..links.rules import short_link_note
from ..web import error_page
from ..webhooks.urlsafety import switches_on
from ..workspaces import service as workspaces
from ..workspaces.rules import Access, access_problem
from ..workspaces.schemas import Caller
from . import charts, fmt, session, tokens
from .forms import field_group, sentence

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def app_ctx(request: Request) -> Any:
    return request.app.state.ctx


async def before_ui_request(request: Request) -> Response | None:
    """Runs before every /admin handler: who is signed in, CSRF on every POST, who may enter.

    Handlers mark themselves with opt: `public=True` (sign-in page), `admin_only=True`,
    `role="viewer"|"editor"|"owner"` (a page acting on the current workspace),
    `own_account=True` (a write on the person's own account or session, no workspace role),
    `rate_limit=True` (a GET that renders) or `rate_limit=False` (a POST that must always work).
    A write that declares none of public, admin_only, role, own_account is refused: access is
    declared, never assumed (as on the API).
    """
    ctx = app_ctx(request)
    opt = request.route_handler.opt
    signed_in = await session.load_user(request, ctx)
    user, caller = signed_in if signed_in else (None, None)
    request.state.ui_user = user
    request.state.ui_caller = caller
    # The header's switcher lists the workspaces this person may act on (every one for an
    # instance admin), on every signed-in page.
    request.state.ui_workspaces = (
        await workspaces.list_workspaces(ctx, caller, every=user.is_admin)
        if user is not None and caller is not None
        else []
    )
    subject = str(user.id) if user else ""
    key = session.ui_key(ctx)

    if user is None and not opt.get("public"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/admin/login?next={quote(target, safe='')}", status_code=303)

    cookie_token = request.cookies.get(session.CSRF_COOKIE)
    if request.method not in SAFE_METHODS:
        form = await request.form()
        if not tokens.csrf_pair_valid(key, cookie_token, form.get("csrf_token"), subject):
            return ui_error(
                request,
                403,
                "This form has expired",
                "The request was refused because its security token was missing or stale. "
                "Go back, reload the page and try again.",
            )

    if tokens.csrf_token_valid(key, cookie_token, subject):
        request.state.csrf_token, request.state.csrf_is_new = cookie_token, False
    else:
        request.state.csrf_token, request.state.csrf_is_new = (
            tokens.new_csrf_token(key, subject),
            True,
        )

    if opt.get("admin_only") and not (user and user.is_admin):
        return ui_error(
            request,
            403,
            "Admins only",
            "This page is for administrators. Ask an admin if you need access.",
        )
    # A page that acts on the current workspace says which role it needs (opt role=...), as
    # each API route does; the same pure rule judges both.
    needed = opt.get("role")
    if request.method not in SAFE_METHODS and not (
        needed or opt.get("public") or opt.get("admin_only") or opt.get("own_account")
    ):
        return ui_error(request, 403, "Not allowed here", "This form declares no access rule.")
    if needed and caller is not None:
        problem = access_problem(Access("workspace", needed, None), caller)
        if problem is not None:
            return ui_error(request, problem[0], "Not allowed here", problem[1] + ".")

    # Writes, and the GET routes that render an image (opt rate_limit=True), spend the same
    # per-workspace budget as the API, whichever door the request uses.
    if caller is not None and opt.get("rate_limit", request.method not in SAFE_METHODS):
        try:
            ctx.quotas.check_rate_limit(caller)
        except ApiError as refusal:
            response = ui_error(request, 429, "Slow down", str(refusal.detail))
            response.headers.update(refusal.headers or {})
            return response
    return None


def ui_error(request: Request, status: int, title: str, message: str) -> Template:
    """The public error page, served as HTML from UI handlers (whose default type is JSON)."""
    response = error_page(request, status, title, message)
    response.media_type = MediaType.HTML
    return response


def current_user(request: Request):
    """The signed-in person (accounts.schemas.User)."""
    return request.state.ui_user


def may(caller: Caller | None, role: str) -> bool:
    """Whether the page's Caller has `role` (or above) in its workspace: templates hide the
    buttons of the pages the hook would refuse (the same rule judges both)."""
    return caller is not None and access_problem(Access("workspace", role, None), caller) is None


def current_workspace(request: Request) -> Caller:
    """The Caller the page acts as: the user in the workspace the switcher chose. A page that
    needs one refuses a user in no workspace with a plain 403 page."""
    caller = request.state.ui_caller
    if caller.workspace_id is None:
        raise PermissionDeniedException("You belong to no workspace yet: ask an owner to add you")
    return caller


def page(
    request: Request,
    template: str,
    *,
    nav: str = "",
    status: int = 200,
    cookies: list[Cookie] | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """Render a signed-in page with the shared context: user, CSRF token, flash messages."""
    ctx = app_ctx(request)
    out_cookies = list(cookies or [])
    raw_flash = request.cookies.get(session.FLASH_COOKIE)
    flashes = tokens.unpack_flash(session.ui_key(ctx), raw_flash)
    if raw_flash:
        out_cookies.append(session.clear_flash_cookie(request, ctx))
    if getattr(request.state, "csrf_is_new", False):
        out_cookies.append(session.csrf_cookie(request, ctx, request.state.csrf_token))
    context.update(
        current_user=getattr(request.state, "ui_user", None),
        current_workspace=getattr(request.state, "ui_caller", None),
        switcher_workspaces=getattr(request.state, "ui_workspaces", []),
        can=lambda role: may(getattr(request.state, "ui_caller", None), role),
        csrf_token=getattr(request.state, "csrf_token", ""),
        flash_messages=[{"kind": kind, "text": text} for kind, text in flashes]
        + context.pop("flash", []),
        nav=nav,
        settings=ctx.settings,
        now=ctx.clock.now(),
        meter_svg=charts.meter_svg,
        meter_state=charts.meter_state,
        share_bar=charts.share_bar,
        fmt=fmt,
        # Where printed codes point (a banner while phones cannot reach it), and the webhook
        # testing switches (a "test mode" badge on the webhooks pages while one is on).
        short_link_note=short_link_note(ctx.settings.public_url),
        webhooks_test_switches=switches_on(ctx.webhooks.url_policy) if ctx.webhooks else [],
    )
    return Template(
        template_name=template,
        context=context,
        cookies=out_cookies,
        headers=headers or {},
        status_code=status,
        media_type=MediaType.HTML,
    )


def go(
    request: Request, url: str, *messages: tuple[str, str], cookies: list[Cookie] | None = None
) -> Redirect:
    """303 See Other to `url`, carrying flash messages [(kind, text)] to the next page."""
    ctx = app_ctx(request)
    out = list(cookies or [])
    if messages:
        out.append(session.flash_cookie(request, ctx, list(messages)))
    return Redirect(url, status_code=303, cookies=out)


def safe_next(target: str | None) -> str:
    """Only same-site admin paths after sign-in (no open redirect to //evil.example)."""
    if (
        target
        and target.startswith("/admin/")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return "/admin/"


def flash(kind: str, text: str) -> dict[str, str]:
    """A message shown on the page being rendered now (not after a redirect)."""
    return {"kind": kind, "text": text}


def errors_of(error: Exception) -> dict[str, str]:
    """An ApiError from a domain service -> {form field: message} for the form, every wrong
    field at once, in plain words ('form' for an error that is no field's)."""
    problems = getattr(error, "problems", None)
    if not problems:
        return {"form": str(getattr(error, "detail", "") or error)}
    out: dict[str, str] = {}
    for field, detail in problems:
        group = field_group(field)
        text = sentence(field, detail)
        out[group] = f"{out[group]} {text}" if group in out else text
    return out
