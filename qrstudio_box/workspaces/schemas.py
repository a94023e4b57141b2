"""Workspace shapes at the API's edge, and the Caller: who acts, on which workspace."""

from __future__ import annotations

from typing import Literal

from msgspec import UNSET, Struct, UnsetType

WorkspaceRole = Literal["viewer", "editor", "owner"]
Scope = Literal["read", "write", "webhooks"]


class Caller(Struct, frozen=True):
    """`request.user` on every /api/v1 route, and the admin UI's acting identity: a signed-in
    user or an API key, the workspace it acts on, and what it may do there.

    The domains own their rows by workspace: they read `owner_id` (the workspace id, the
    `owner_id` of event payloads) and `plan` (the workspace's), never a person's id."""

    user_id: int | None  # the signed-in person; None for an API key
    is_admin: bool  # an instance admin, signed in (an API key never is)
    workspace_id: int | None  # None only for a user who belongs to no workspace
    workspace_name: str
    plan: str  # the workspace's plan ("" without a workspace)
    role: WorkspaceRole | None  # the caller's role there; an instance admin acts as "owner"
    api_key_id: int | None = None
    scopes: frozenset[str] | None = None  # an API key's scopes; None for a person

    @property
    def owner_id(self) -> int:
        """The workspace the call acts on. The access guard refuses every workspace route to
        a caller without one, so a handler never reads None here."""
        if self.workspace_id is None:
            raise LookupError("this caller belongs to no workspace")
        return self.workspace_id


class Workspace(Struct):
    id: int
    name: str
    plan: str
    role: WorkspaceRole | None  # the caller's role (None: an admin who is not a member)
    personal: bool  # someone's personal workspace (created with their account)
    member_count: int
    created_at: str


class WorkspaceList(Struct):
    results: list[Workspace]


class WorkspaceCreate(Struct, forbid_unknown_fields=True):
    name: str
    plan: str | None = None


class WorkspacePatch(Struct, forbid_unknown_fields=True):
    name: str | UnsetType = UNSET
    plan: str | UnsetType = UNSET


class Member(Struct):
    user_id: int
    email: str
    role: WorkspaceRole
    created_at: str


class MemberList(Struct):
    results: list[Member]


class MemberAdd(Struct, forbid_unknown_fields=True):
    email: str
    role: WorkspaceRole


class MemberPatch(Struct, forbid_unknown_fields=True):
    role: WorkspaceRole


class InvitationCreate(Struct, forbid_unknown_fields=True):
    email: str
    role: WorkspaceRole


class Invitation(Struct, kw_only=True):
    """A pending invitation (its token is never stored, so never listed)."""

    id: int
    email: str
    role: WorkspaceRole
    invited_by: int | None  # the user who invited (None once they are deleted)
    created_at: str
    expires_at: str


class InvitationCreated(Invitation, kw_only=True, omit_defaults=True):
    """The answer to an invitation: `mailed` says whether the mail left; `link` (to pass on)
    is there only when it did not (mail off, or the send failed)."""

    mailed: bool
    link: str | None = None


class InvitationList(Struct):
    results: list[Invitation]


# -- API keys (issue 16.6) ---------------------------------------------------------------------


class ApiKeyCreate(Struct, forbid_unknown_fields=True):
    name: str
    # Checked by workspaces.rules (a clear 400 naming `scopes`), not by a Literal here.
    scopes: list[str]
    expires_at: str | None = None  # ISO 8601, in the future; None: never expires


class ApiKey(Struct):
    """A key as lists show it: never its secret (the database holds only its hash)."""

    id: int
    name: str
    prefix: str  # the key's first characters, e.g. "qsb_Ab12cD"
    scopes: list[str]
    created_at: str
    expires_at: str | None
    last_used_at: str | None


class ApiKeyCreated(ApiKey):
    key: str  # qsb_...: in this answer only


class ApiKeyList(Struct):
    results: list[ApiKey]
