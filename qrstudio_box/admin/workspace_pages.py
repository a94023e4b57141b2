"""Workspaces in the admin UI (issue 16): the header's switcher, the admins' overview of every
workspace (create, rename, change the plan), and the owners' members page. Every write goes
through workspaces.service, the same functions (and rules) as /api/v1/workspaces/."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Controller, Request, get, post

from ..errors import ApiError, plain_words
from ..workspaces import service as workspaces
from ..workspaces.rules import ROLES
from ..workspaces.schemas import MemberAdd, WorkspaceCreate, WorkspacePatch
from . import session, sources
from .ui import app_ctx, current_user, current_workspace, errors_of, go, page, safe_next


@post(
    "/workspace", status_code=303, opt={"rate_limit": False, "own_account": True}
)  # switching always works
async def switch_workspace(request: Request) -> object:
    """The switcher: act on another workspace (one the person may enter) from now on."""
    ctx, user = app_ctx(request), current_user(request)
    form = await request.form()
    raw = (form.get("workspace_id") or "").strip()
    target = safe_next(form.get("next"))
    chosen = int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63 else None
    if chosen is None:
        return go(request, target, ("error", "Choose a workspace."))
    try:
        caller = await ctx.db.read(workspaces.resolve_caller, user.id, user.is_admin, None, chosen)
    except ApiError:
        return go(request, target, ("error", "No such workspace."))
    return go(
        request,
        target,
        ("success", f"Now working in {caller.workspace_name} as {caller.role}."),
        cookies=[session.workspace_cookie(request, ctx, chosen)],
    )


def admin_in(ctx: Any, admin_id: int, workspace_id: int):
    """The signed-in admin acting on `workspace_id` (404 when there is none): the Caller the
    service's update expects, built by the same rule as the API's."""
    return ctx.db.read(workspaces.resolve_caller, admin_id, True, None, workspace_id)


def _convert(data: dict[str, Any], shape: type) -> Any:
    """A form's fields -> the API's edge shape, so the UI and the API refuse the same input."""
    try:
        return msgspec.convert(data, shape)
    except msgspec.ValidationError as error:
        text = str(error)
        field = next((name for name in data if f"`$.{name}`" in text), "form")
        raise ApiError(400, f"{field}: {plain_words(text)}", field=field) from None


class WorkspacesPages(Controller):
    """The agency's overview of its clients: every workspace with its plan and month."""

    path = "/workspaces"
    opt = {"admin_only": True}

    @get("/")
    async def overview(self, request: Request) -> object:
        return await self._overview(request)

    async def _overview(
        self, request: Request, errors: dict[str, str] | None = None, status: int = 200, **form
    ) -> object:
        ctx = app_ctx(request)
        # The admin's Caller only says who asks: the page needs no current workspace.
        rows = await workspaces.list_workspaces(ctx, request.state.ui_caller, every=True)
        summaries = await asyncio.gather(*(sources.workspace_summary(ctx, w.id) for w in rows))
        return page(
            request,
            "workspaces/list.html",
            nav="workspaces",
            status=status,
            rows=list(zip(rows, summaries, strict=True)),
            plans=sorted(ctx.settings.plans, key=lambda name: ctx.settings.plans[name].rank),
            default_plan=ctx.settings.accounts.default_plan,
            errors=errors or {},
            form=form,
        )

    @post("/", status_code=303)
    async def create(self, request: Request) -> object:
        ctx = app_ctx(request)
        form = await request.form()
        name, plan = (form.get("name") or ""), (form.get("plan") or "").strip()
        try:
            data = _convert({"name": name, "plan": plan or None}, WorkspaceCreate)
            made = await workspaces.create_workspace(ctx, request.state.ui_caller, data)
        except ApiError as error:
            return await self._overview(
                request, errors=errors_of(error), status=400, name=name, plan=plan
            )
        return go(
            request,
            f"/admin/workspaces/#workspace-{made.id}",
            ("success", f"Workspace {made.name} created on the {made.plan} plan."),
        )

    @post("/{workspace_id:int}", status_code=303)
    async def update(self, request: Request, workspace_id: int) -> object:
        """Rename and/or change the plan (the fields a form sends; empty ones stay)."""
        ctx = app_ctx(request)
        form = await request.form()
        changes = {key: form.get(key) for key in ("name", "plan") if (form.get(key) or "").strip()}
        target = await admin_in(ctx, current_user(request).id, workspace_id)
        try:
            patch = _convert(changes, WorkspacePatch)
            done = await workspaces.update_workspace(ctx, target, patch)
        except ApiError as error:
            problems = {f"{k}-{workspace_id}": v for k, v in errors_of(error).items()}
            return await self._overview(request, errors=problems, status=400)
        return go(
            request,
            f"/admin/workspaces/#workspace-{workspace_id}",
            ("success", f"Workspace {done.name} is on the {done.plan} plan."),
        )

    @post("/{workspace_id:int}/credits", status_code=303)
    async def grant_credits(self, request: Request, workspace_id: int) -> object:
        """A credit pack for the workspace's month (the quotas API's rules)."""
        ctx = app_ctx(request)
        form = await request.form()
        raw, note = (form.get("amount") or "").strip(), (form.get("note") or "").strip()
        if not raw.isdigit() or int(raw) < 1:
            problem = "Enter a whole number of generations, 1 or more."
            return await self._overview(
                request, errors={f"amount-{workspace_id}": problem}, status=400
            )
        try:
            await sources.grant_credits(ctx, workspace_id, int(raw), note, current_user(request))
        except ApiError as error:
            if error.status_code == 404:
                raise
            problems = {f"amount-{workspace_id}": _sentence(error)}
            return await self._overview(request, errors=problems, status=400)
        return go(
            request,
            f"/admin/workspaces/#workspace-{workspace_id}",
            ("success", f"Granted {int(raw):,} generations for this month."),
        )


class MembersPages(Controller):
    """The current workspace's members, for its owners (and the box's admins)."""

    path = "/members"
    opt = {"role": "owner"}

    @get("/")
    async def members(self, request: Request) -> object:
        return await self._members(request)

    async def _members(
        self, request: Request, errors: dict[str, str] | None = None, status: int = 200, **form
    ) -> object:
        ctx, caller = app_ctx(request), current_workspace(request)
        return page(
            request,
            "workspaces/members.html",
            nav="members",
            status=status,
            members=await workspaces.list_members(ctx, caller),
            roles=ROLES,
            errors=errors or {},
            form=form,
        )

    @post("/", status_code=303)
    async def add(self, request: Request) -> object:
        ctx, caller = app_ctx(request), current_workspace(request)
        form = await request.form()
        email, role = (form.get("email") or "").strip(), (form.get("role") or "").strip()
        try:
            data = _convert({"email": email, "role": role}, MemberAdd)
            member = await workspaces.add_member(ctx, caller, data.email, data.role)
        except ApiError as error:
            return await self._members(
                request, errors=errors_of(error), status=error.status_code, email=email, role=role
            )
        return go(
            request,
            "/admin/members/",
            ("success", f"{member.email} joined {caller.workspace_name} as {member.role}."),
        )

    @post("/{user_id:int}/role", status_code=303)
    async def change_role(self, request: Request, user_id: int) -> object:
        ctx, caller = app_ctx(request), current_workspace(request)
        role = ((await request.form()).get("role") or "").strip()
        if role not in ROLES:
            return await self._members(
                request, errors={f"role-{user_id}": "Choose viewer, editor or owner."}, status=400
            )
        try:
            member = await workspaces.change_member(ctx, caller, user_id, role)
        except ApiError as error:
            if error.status_code == 404:
                raise
            return await self._members(
                request, errors={f"role-{user_id}": _sentence(error)}, status=error.status_code
            )
        return go(request, "/admin/members/", ("success", f"{member.email} is now {role}."))

    @post("/{user_id:int}/remove", status_code=303)
    async def remove(self, request: Request, user_id: int) -> object:
        ctx, caller = app_ctx(request), current_workspace(request)
        try:
            await workspaces.remove_member(ctx, caller, user_id)
        except ApiError as error:
            if error.status_code == 404:
                raise
            return await self._members(
                request, errors={f"role-{user_id}": _sentence(error)}, status=error.status_code
            )
        return go(request, "/admin/members/", ("success", f"Removed from {caller.workspace_name}."))


def _sentence(error: ApiError) -> str:
    """The service's message as the form shows it, whichever field it named."""
    return " ".join(errors_of(error).values())


ROUTES = [switch_workspace, WorkspacesPages, MembersPages]
