"""Invitations of the current workspace (issue 16.5): invite by email and role, see the pending
ones, withdraw one. Owners only (the same rule as the API's). When the mail did not leave
(mail off, or the send failed) the page shows the link, once, to pass on."""

from __future__ import annotations

from litestar import Request, get, post

from ..errors import ApiError
from ..params import RowId
from ..workspaces import invitations
from ..workspaces.rules import ROLES
from ..workspaces.schemas import InvitationCreate
from .ui import app_ctx, current_workspace, errors_of, go, page

ROLE_HINTS = {
    "viewer": "reads QRs, stats and deliveries",
    "editor": "also makes and changes QRs",
    "owner": "also webhooks, API keys, members",
}


async def _page(request: Request, status: int = 200, **context) -> object:
    ctx = app_ctx(request)
    context.setdefault("values", {"email": "", "role": "editor"})
    context.setdefault("errors", {})
    return page(
        request,
        "invitations.html",
        nav="invitations",
        status=status,
        pending=await invitations.pending_invitations(ctx, current_workspace(request)),
        roles=[(role, ROLE_HINTS[role]) for role in ROLES],
        mail_enabled=ctx.mail.enabled,
        **context,
    )


@get("/invitations", opt={"role": "owner"})
async def invitations_page(request: Request) -> object:
    return await _page(request)


@post("/invitations", opt={"role": "owner"}, status_code=200)
async def invite(request: Request) -> object:
    form = await request.form()
    values = {"email": (form.get("email") or "").strip(), "role": form.get("role") or ""}
    if values["role"] not in ROLES:
        errors = {"role": "Role must be viewer, editor or owner."}
        return await _page(request, status=400, values=values, errors=errors)
    try:
        made = await invitations.create_invitation(
            app_ctx(request), current_workspace(request), InvitationCreate(**values)
        )
    except ApiError as error:
        status = error.status_code if error.status_code in (400, 409) else 400
        return await _page(request, status=status, values=values, errors=errors_of(error))
    return await _page(request, made=made)


@post("/invitations/{invitation_id:int}/withdraw", opt={"role": "owner"}, status_code=303)
async def withdraw(request: Request, invitation_id: RowId) -> object:
    await invitations.withdraw_invitation(
        app_ctx(request), current_workspace(request), invitation_id
    )
    return go(request, "/admin/invitations", ("success", "Invitation withdrawn."))


ROUTES = [invitations_page, invite, withdraw]
