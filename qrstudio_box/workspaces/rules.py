"""Who may do what in a workspace: pure rules, table-tested in tests/workspaces/test_rules.py."""

from __future__ import annotations

from dataclasses import dataclass

from .schemas import Caller

ROLES = ("viewer", "editor", "owner")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
SCOPES = ("read", "write", "webhooks")
# A key's scope and the ones it brings along: whoever may change may also read.
SCOPE_IMPLIES = {"read": {"read"}, "write": {"write", "read"}, "webhooks": {"webhooks", "read"}}
WORKSPACE_HEADER = "X-QRStudio-Workspace"


@dataclass(frozen=True)
class Access:
    """What a /api/v1 route needs (its handler's `opt["access"]`).

    kind "workspace": a role in the workspace the call acts on, and for an API key `scope`
    (None: no API key may call it, e.g. managing members or keys). "admin": an instance
    admin, signed in. "signed_in": any signed-in person (their own account, or a route that
    names its workspace in the path and checks the role there). "caller": any signed-in
    person or API key. "public": none.
    """

    kind: str
    role: str = "viewer"
    scope: str | None = None


def needs(role: str, scope: str | None) -> dict[str, Access]:
    """The `opt` of a workspace route: `@get(..., opt=needs("viewer", "read"))`."""
    return {"access": Access("workspace", role, scope)}


ADMIN = {"access": Access("admin")}
SIGNED_IN = {"access": Access("signed_in")}
ANY_CALLER = {"access": Access("caller")}
PUBLIC = {"access": Access("public")}


def key_has_scope(scopes: frozenset[str], needed: str) -> bool:
    return any(needed in SCOPE_IMPLIES.get(scope, ()) for scope in scopes)


def access_problem(access: Access | None, caller: Caller | None) -> tuple[int, str] | None:
    """(status, why) when `caller` may not call a route that needs `access`; None when it may.
    A route that declares nothing is refused: access is opt-in, never by omission."""
    if access is None:
        return 403, "This route declares no access rule"
    if access.kind == "public":
        return None
    if caller is None:
        return 401, "A bearer token is required"
    if access.kind == "caller":
        return None
    if access.kind == "admin":
        if caller.is_admin:
            return None
        return 403, "This needs an admin account"
    if access.kind == "signed_in":
        if caller.user_id is None:
            return 403, "API keys cannot do this; sign in with a user account"
        return None
    if caller.workspace_id is None:
        return 403, "You belong to no workspace; ask an owner of one to add you"
    if caller.api_key_id is not None:
        if access.scope is None:
            return 403, "API keys cannot do this; sign in with a user account"
        if not key_has_scope(caller.scopes or frozenset(), access.scope):
            return 403, f"This API key lacks the {access.scope} scope"
        return None
    if caller.role is None or ROLE_RANK[caller.role] < ROLE_RANK[access.role]:
        return 403, f"This needs the {access.role} role in this workspace"
    return None


def effective_role(member_role: str | None, is_admin: bool) -> str | None:
    """An instance admin acts as an owner in every workspace; others by their membership."""
    return "owner" if is_admin else member_role


def member_change_problem(owners_left: int) -> str | None:
    """A workspace always keeps one owner: `owners_left` is how many it would have after the
    change (counted in the write transaction)."""
    if owners_left < 1:
        return "a workspace must keep at least one owner"
    return None


def workspace_name_problem(name: str) -> str | None:
    if not name.strip():
        return "must not be empty"
    if len(name) > 100:
        return "must be at most 100 characters"
    return None
