"""Workspaces: which one a call acts on, personal workspaces, and managing them and their
members. Instance admins manage every workspace; owners manage their members."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime

import msgspec

from ..clock import Clock, iso_ms, iso_s, parse_iso
from ..config import Settings
from ..db import Database, Tx
from ..errors import ApiError, FieldProblems, bad_request
from . import rules, store
from .schemas import (
    ApiKey,
    ApiKeyCreate,
    ApiKeyCreated,
    Caller,
    Member,
    Workspace,
    WorkspaceCreate,
    WorkspacePatch,
)

log = logging.getLogger(__name__)

NO_SUCH_WORKSPACE = "No such workspace"


def check_plan(settings: Settings, plan: str) -> str:
    if plan not in settings.plans:
        raise bad_request("plan", f"must be one of: {', '.join(sorted(settings.plans))}")
    return plan


def highest_plan(settings: Settings) -> str:
    """The highest-ranked plan (the agency's own workspace is on it)."""
    return max(settings.plans, key=lambda name: (settings.plans[name].rank, name))


def parse_workspace_header(value: str | None) -> int | None:
    """`X-QRStudio-Workspace: <id>`, or None when absent (400 naming the header otherwise)."""
    if value is None or value == "":
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**63:
        raise bad_request(rules.WORKSPACE_HEADER, "must be a workspace id, a positive integer")
    return int(text)


def caller_from_row(
    row: sqlite3.Row | None, user_id: int | None, is_admin: bool, **key: object
) -> Caller:
    if row is None:
        return Caller(user_id, is_admin, None, "", "", None, **key)  # type: ignore[arg-type]
    role = None if key else rules.effective_role(row["role"], is_admin)
    return Caller(user_id, is_admin, row["id"], row["name"], row["plan"], role, **key)  # type: ignore[arg-type]


def resolve_caller(
    conn: sqlite3.Connection,
    user_id: int,
    is_admin: bool,
    default_workspace_id: int | None,
    requested_id: int | None,
    named_by: str | None = rules.WORKSPACE_HEADER,
) -> Caller:
    """The Caller of a signed-in person: the workspace `requested_id` names (a member's, or
    any for an instance admin; else 404, which does not confirm it exists), else their
    default one (store.default_workspace). `named_by`: where the request named it (the
    header; None for a path), which the 404 names."""
    if requested_id is not None:
        row = store.get_workspace(conn, requested_id, user_id)
        if row is None or (row["role"] is None and not is_admin):
            raise ApiError(404, NO_SUCH_WORKSPACE, field=named_by)
    else:
        row = store.default_workspace(conn, user_id, default_workspace_id)
    return caller_from_row(row, user_id, is_admin)


def workspace_from_row(row: sqlite3.Row) -> Workspace:
    return Workspace(
        id=row["id"],
        name=row["name"],
        plan=row["plan"],
        role=row["role"],
        personal=row["personal_user_id"] is not None,
        member_count=row["member_count"],
        created_at=row["created_at"],
    )


# -- personal workspaces (every account made by an admin, the CLI or the bootstrap has one) --


def create_personal_workspace(tx: Tx, user_id: int, email: str, plan: str) -> int:
    """The user's own workspace, named after them, with them as its owner."""
    now = iso_s(tx.clock.now())
    workspace_id = store.insert_workspace(tx, email, plan, user_id, now)
    store.add_member(tx, workspace_id, user_id, "owner", now)
    return workspace_id


# -- managing workspaces ---------------------------------------------------------------------


async def list_workspaces(ctx, caller: Caller, every: bool) -> list[Workspace]:
    """The caller's workspaces; with `every` (admins only) all of them."""
    if every and caller.is_admin:
        rows = await ctx.db.read(store.all_workspaces, caller.user_id)
    elif caller.user_id is None:  # an API key sees its own workspace
        rows = [await ctx.db.read(store.get_workspace, caller.owner_id, None)]
    else:
        rows = await ctx.db.read(store.workspaces_of, caller.user_id)
    return [workspace_from_row(row) for row in rows if row is not None]


async def get_workspace(ctx, caller: Caller) -> Workspace:
    """The workspace the call acts on (a path's `{workspace_id}` names it: see
    accounts.tokens.requested_workspace; the access guard has checked the role there)."""
    row = await ctx.db.read(store.get_workspace, caller.owner_id, caller.user_id)
    return workspace_from_row(row)


def check_workspace_fields(settings: Settings, name: str | None, plan: str | None) -> None:
    problems = FieldProblems()
    if name is not None:
        problem = rules.workspace_name_problem(name)
        if problem:
            problems.add("name", f"name: {problem}")
    if plan is not None:
        problems.check(check_plan, settings, plan)
    problems.raise_if_any()


async def create_workspace(ctx, caller: Caller, data: WorkspaceCreate) -> Workspace:
    """An admin creates a client workspace (no members yet: add or invite its owner)."""
    plan = data.plan or ctx.settings.accounts.default_plan
    check_workspace_fields(ctx.settings, data.name, plan)

    def write(tx: Tx) -> sqlite3.Row:
        now = iso_s(tx.clock.now())
        workspace_id = store.insert_workspace(tx, data.name.strip(), plan, None, now)
        return store.get_workspace(tx.conn, workspace_id, caller.user_id)

    return workspace_from_row(await ctx.db.write(write))


async def update_workspace(ctx, caller: Caller, patch: WorkspacePatch) -> Workspace:
    """Owners rename their workspace; only an instance admin changes its plan."""
    name = patch.name if isinstance(patch.name, str) else None
    plan = patch.plan if isinstance(patch.plan, str) else None
    if plan is not None and not caller.is_admin:
        raise ApiError(403, "plan: only an admin of this box changes a plan", field="plan")
    check_workspace_fields(ctx.settings, name, plan)
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name.strip()
    if plan is not None:
        changes["plan"] = plan
    await ctx.db.write(store.update_workspace, caller.owner_id, changes)
    return await get_workspace(ctx, caller)


# -- members ---------------------------------------------------------------------------------


def member_from_row(row: sqlite3.Row) -> Member:
    return Member(
        user_id=row["user_id"], email=row["email"], role=row["role"], created_at=row["created_at"]
    )


async def list_members(ctx, caller: Caller) -> list[Member]:
    return [member_from_row(row) for row in await ctx.db.read(store.members, caller.owner_id)]


async def add_member(ctx, caller: Caller, email: str, role: str) -> Member:
    """Add an existing user (someone without an account is invited instead)."""
    workspace_id = caller.owner_id

    def write(tx: Tx) -> Member:
        user_id = store.user_id_by_email(tx.conn, email.strip())
        if user_id is None:
            raise ApiError(404, "email: no user has this email; invite them instead", field="email")
        if not store.add_member(tx, workspace_id, user_id, role, iso_s(tx.clock.now())):
            raise ApiError(409, "email: this user is a member already", field="email")
        return member_from_row(store.member(tx.conn, workspace_id, user_id))

    return await ctx.db.write(write)


def _change_member(tx: Tx, workspace_id: int, user_id: int, role: str | None) -> Member | None:
    """Set a member's role, or remove them (role None); keeps one owner (counted here, in the
    write transaction, so two owners demoting each other at once cannot both win)."""
    current = store.member(tx.conn, workspace_id, user_id)
    if current is None:
        raise ApiError(404, "No such member")
    owners = store.count_owners(tx.conn, workspace_id)
    if current["role"] == "owner" and role != "owner":
        problem = rules.member_change_problem(owners - 1)
        if problem:
            raise bad_request("role", problem)
    if role is None:
        store.remove_member(tx, workspace_id, user_id)
        return None
    store.set_member_role(tx, workspace_id, user_id, role)
    return member_from_row(store.member(tx.conn, workspace_id, user_id))


async def change_member(ctx, caller: Caller, user_id: int, role: str) -> Member:
    member = await ctx.db.write(_change_member, caller.owner_id, user_id, role)
    assert member is not None
    return member


async def remove_member(ctx, caller: Caller, user_id: int) -> None:
    await ctx.db.write(_change_member, caller.owner_id, user_id, None)


# -- a workspace as the admin's tools see it (usage, credits) --------------------------------


def workspace_as_caller(conn: sqlite3.Connection, workspace_id: int) -> Caller | None:
    """The workspace itself, as the quotas domain reads it (owner_id, plan), for an admin's
    look at a workspace they act on from outside; None when there is no such workspace."""
    row = store.get_workspace(conn, workspace_id, None)
    return None if row is None else caller_from_row(row, None, False)


def personal_workspace_as_caller(conn: sqlite3.Connection, user_id: int) -> Caller | None:
    """A user's personal workspace (the admin users API's usage and credits act on it)."""
    row = store.personal_workspace(conn, user_id)
    return None if row is None else caller_from_row(row, None, False)


# -- API keys (issue 16.6) -------------------------------------------------------------------


def api_key_from_row(row: sqlite3.Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=json.loads(row["scopes"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
    )


def check_api_key_create(
    data: ApiKeyCreate, now: datetime
) -> tuple[str, list[str], datetime | None]:
    """(name, scopes, expiry) of a new key, or one 400 naming every wrong field."""
    problems = FieldProblems()
    name = problems.check(rules.check_api_key_name, data.name)
    scopes = problems.check(rules.check_api_key_scopes, data.scopes)
    expires = problems.check(rules.check_api_key_expiry, data.expires_at, now)
    problems.raise_if_any()
    assert name is not None and scopes is not None
    return name, scopes, expires


def add_api_key(
    tx: Tx,
    workspace_id: int,
    name: str,
    scopes: list[str],
    expires: datetime | None,
    created_by: int | None,
) -> ApiKeyCreated:
    """Issue a key for the workspace in `tx` (the API, the UI and the CLI all come here, with
    checked input): the key is in the answer and nowhere else, the row keeps its hash."""
    if store.get_workspace(tx.conn, workspace_id, None) is None:
        raise ApiError(404, NO_SUCH_WORKSPACE)
    key = rules.new_api_key()
    key_id = store.insert_api_key(
        tx,
        workspace_id,
        name,
        rules.api_key_shown_prefix(key),
        rules.hash_api_key(key),
        json.dumps(scopes),
        created_by,
        iso_ms(tx.clock.now()),
        iso_ms(expires) if expires else None,
    )
    shown = api_key_from_row(store.get_api_key(tx.conn, workspace_id, key_id))
    return ApiKeyCreated(**msgspec.structs.asdict(shown), key=key)


async def create_api_key(ctx, caller: Caller, data: ApiKeyCreate) -> ApiKeyCreated:
    name, scopes, expires = check_api_key_create(data, ctx.clock.now())
    return await ctx.db.write(add_api_key, caller.owner_id, name, scopes, expires, caller.user_id)


async def list_api_keys(ctx, caller: Caller) -> list[ApiKey]:
    """The workspace's keys that were not revoked, newest first, never their secret."""
    return [
        api_key_from_row(row) for row in await ctx.db.read(store.list_api_keys, caller.owner_id)
    ]


async def revoke_api_key(ctx, caller: Caller, key_id: int) -> None:
    """Revoked at once: every call reads its key's row, so the next one is refused. Another
    workspace's key, or one revoked before, is a 404."""
    revoked = await ctx.db.write(
        store.revoke_api_key, caller.owner_id, key_id, iso_ms(ctx.clock.now())
    )
    if not revoked:
        raise ApiError(404, "No API key with that id")


def api_key_caller(
    conn: sqlite3.Connection,
    key: str,
    now: datetime,
    requested_id: int | None,
    named_by: str | None = rules.WORKSPACE_HEADER,
) -> tuple[Caller, str | None]:
    """The Caller acting for `key` and the key's stored last_used_at, from one read
    transaction; ApiError 401 for an unknown, revoked or expired key (plain words), 404 when
    the call names a workspace other than the key's (`named_by` as in resolve_caller)."""
    row = None
    if rules.looks_like_api_key(key):
        row = store.find_api_key(conn, rules.hash_api_key(key))
    if row is None:
        raise ApiError(401, "Unknown API key")
    refusal = rules.api_key_refusal(row["revoked_at"], row["expires_at"], now)
    if refusal:
        raise ApiError(401, refusal)
    if requested_id is not None and requested_id != row["workspace_id"]:
        raise ApiError(404, NO_SUCH_WORKSPACE, field=named_by)
    workspace = store.get_workspace(conn, row["workspace_id"], None)
    caller = caller_from_row(
        workspace, None, False, api_key_id=row["id"], scopes=frozenset(json.loads(row["scopes"]))
    )
    return caller, row["last_used_at"]


class ApiKeyJudge:
    """Judges `Authorization: Bearer qsb_...` (`ctx.api_keys`) and keeps each key's last use.

    Every call reads its key's row (one lookup by the unique hash, as a token's call reads its
    user's row), so a revocation, by this process or the CLI, counts on the very next call:
    nothing about a key's validity is cached. last_used_at is written at most once per
    `rules.LAST_USED_EVERY` per key: `_last_written` remembers when this process last wrote
    it (by the app's clock), and the write joins the group commit as a background call.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._last_written: dict[int, datetime] = {}

    async def authenticate(
        self, key: str, requested_id: int | None, named_by: str | None = rules.WORKSPACE_HEADER
    ) -> Caller:
        """The key's Caller (see `api_key_caller` for the refusals)."""
        now = self.clock.now()
        caller, stored = await self.db.read(api_key_caller, key, now, requested_id, named_by)
        assert caller.api_key_id is not None
        await self._note_use(caller.api_key_id, stored, now)
        return caller

    async def _note_use(self, key_id: int, stored: str | None, now: datetime) -> None:
        last = self._last_written.get(key_id)
        if last is None and stored is not None:
            last = parse_iso(stored)  # written before this process started
        if not rules.last_used_due(last, now):
            return
        # Noted before the write: the calls that arrive while it runs do not write again.
        self._last_written[key_id] = now
        try:
            await self.db.write_batched(
                store.note_api_keys_used, [(key_id, iso_ms(now))], background=True
            )
        except Exception:  # a lost "last used" must not fail the call it describes
            log.warning("could not record the last use of API key %s", key_id, exc_info=True)
