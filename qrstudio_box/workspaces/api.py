"""/api/v1/workspaces/: the caller's workspaces, an admin's client workspaces, members."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, patch, post

from ..context import AppContext
from ..params import RowId
from . import invitations, service
from .rules import ADMIN, ANY_CALLER, needs
from .schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    Caller,
    InvitationCreate,
    InvitationCreated,
    InvitationList,
    Member,
    MemberAdd,
    MemberList,
    MemberPatch,
    Workspace,
    WorkspaceCreate,
    WorkspaceList,
    WorkspacePatch,
)


class WorkspacesController(Controller):
    path = "/api/v1/workspaces"
    tags = ["workspaces"]

    @get("/", opt=ANY_CALLER)
    async def list(
        self, ctx: AppContext, request: Request[Caller, object, object], all: bool = False
    ) -> WorkspaceList:
        """The caller's workspaces with their role in each; `?all=true` (admins) every one."""
        return WorkspaceList(results=await service.list_workspaces(ctx, request.user, all))

    @post("/", status_code=201, opt=ADMIN)
    async def create(
        self, data: WorkspaceCreate, ctx: AppContext, request: Request[Caller, object, object]
    ) -> Workspace:
        return await service.create_workspace(ctx, request.user, data)

    # The routes below act on the workspace their path names (accounts.tokens.requested_workspace),
    # so the access rule judges the caller's role in THAT workspace.

    @get("/{workspace_id:int}/", opt=needs("viewer", "read"))
    async def get_one(
        self, workspace_id: RowId, ctx: AppContext, request: Request[Caller, object, object]
    ) -> Workspace:
        return await service.get_workspace(ctx, request.user)

    @patch("/{workspace_id:int}/", opt=needs("owner", None))
    async def update(
        self,
        workspace_id: RowId,
        data: WorkspacePatch,
        ctx: AppContext,
        request: Request[Caller, object, object],
    ) -> Workspace:
        """Owners rename; admins also change the plan."""
        return await service.update_workspace(ctx, request.user, data)

    @get("/{workspace_id:int}/members/", opt=needs("owner", None))
    async def members(
        self, workspace_id: RowId, ctx: AppContext, request: Request[Caller, object, object]
    ) -> MemberList:
        return MemberList(results=await service.list_members(ctx, request.user))

    @post("/{workspace_id:int}/members/", status_code=201, opt=needs("owner", None))
    async def add_member(
        self,
        workspace_id: RowId,
        data: MemberAdd,
        ctx: AppContext,
        request: Request[Caller, object, object],
    ) -> Member:
        """Add an existing user by email (invite someone without an account instead)."""
        return await service.add_member(ctx, request.user, data.email, data.role)

    @patch("/{workspace_id:int}/members/{user_id:int}/", opt=needs("owner", None))
    async def change_member(
        self,
        workspace_id: RowId,
        user_id: RowId,
        data: MemberPatch,
        ctx: AppContext,
        request: Request[Caller, object, object],
    ) -> Member:
        return await service.change_member(ctx, request.user, user_id, data.role)

    @delete("/{workspace_id:int}/members/{user_id:int}/", opt=needs("owner", None))
    async def remove_member(
        self,
        workspace_id: RowId,
        user_id: RowId,
        ctx: AppContext,
        request: Request[Caller, object, object],
    ) -> None:
        await service.remove_member(ctx, request.user, user_id)


class InvitationsController(Controller):
    """Invitations by email to the workspace the path names (issue 16.5; owners and admins).
    Made and mailed here (invitations.py); accepted through the link (accounts)."""

    path = "/api/v1/workspaces/{workspace_id:int}/invitations"
    tags = ["workspaces"]

    @post(
        "/",
        status_code=201,
        opt=needs("owner", None),
        summary="Invite someone by email, with a role",
        description="Mails a one-time link (7 days). `mailed` says whether the mail left; "
        "`link` is in the answer only when it did not (mail off, or the send failed): pass it "
        "on yourself. A new invitation to the same email withdraws the pending one. 409 "
        "naming `email` for a member already.",
    )
    async def create(
        self,
        workspace_id: RowId,
        data: InvitationCreate,
        ctx: AppContext,
        request: Request[Caller, object, object],
    ) -> InvitationCreated:
        return await invitations.create_invitation(ctx, request.user, data)

    @get("/", opt=needs("owner", None), summary="Pending invitations (never their links)")
    async def pending(
        self, workspace_id: RowId, ctx: AppContext, request: Request[Caller, object, object]
    ) -> InvitationList:
        return InvitationList(results=await invitations.pending_invitations(ctx, request.user))

    @delete(
        "/{invitation_id:int}/",
        opt=needs("owner", None),
        summary="Withdraw a pending invitation: its link stops working",
    )
    async def withdraw(
        self,
        workspace_id: RowId,
        invitation_id: RowId,
        ctx: AppContext,
        request: Request[Caller, object, object],
    ) -> None:
        await invitations.withdraw_invitation(ctx, request.user, invitation_id)


class ApiKeysController(Controller):
    """/api/v1/api-keys/ (issue 16.6): the keys of the workspace the call acts on, managed by
    its owners (and instance admins) signed in as themselves; an API key never manages keys."""

    path = "/api/v1/api-keys"
    tags = ["api keys"]

    @post("/", status_code=201, opt=needs("owner", None))
    async def create(
        self, data: ApiKeyCreate, ctx: AppContext, request: Request[Caller, object, object]
    ) -> ApiKeyCreated:
        """Create a key: `key` (qsb_...) is in this answer only; the box keeps its hash."""
        return await service.create_api_key(ctx, request.user, data)

    @get("/", opt=needs("owner", None))
    async def list_keys(
        self, ctx: AppContext, request: Request[Caller, object, object]
    ) -> ApiKeyList:
        """The workspace's keys (not revoked), newest first, without their secret."""
        return ApiKeyList(results=await service.list_api_keys(ctx, request.user))

    @delete("/{key_id:int}/", opt=needs("owner", None))
    async def revoke(
        self, key_id: RowId, ctx: AppContext, request: Request[Caller, object, object]
    ) -> None:
        """Revoke a key: the next call made with it gets 401."""
        await service.revoke_api_key(ctx, request.user, key_id)
