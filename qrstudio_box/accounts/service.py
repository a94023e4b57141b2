"""Account rules. Hashing is slow on purpose, so it happens before the write transaction,
never inside it (the single writer would stall every other write for that long)."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field

from ..clock import iso_s
from ..config import Settings
from ..db import Tx
from ..errors import ApiError, FieldProblems, bad_request
from ..mail.rules import normalize_email
from ..workspaces import service as workspaces
from ..workspaces import store as workspaces_store
from ..workspaces.service import check_plan
from . import rules, store
from .passwords import (
    PasswordHash,
    generate_password,
    hash_password,
    password_problem,
    verify_password,
)
from .schemas import User, UserPatch, user_from_row
from .tokens import Tokens, end_all_sessions

BOOTSTRAP_EMAIL = "admin@localhost"


@dataclass(frozen=True)
class NewUser:
    email: str
    password_hash: PasswordHash
    role: str
    plan: str  # of the user's personal workspace
    # Shown once to whoever created the user; never in a repr (debug logs print arguments).
    generated_password: str | None = field(repr=False)


def check_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise bad_request("password", problem)
    return password


def prepare_new_user(
    settings: Settings, email: str, password: str | None, role: str, plan: str | None
) -> NewUser:
    """Validate and hash (CPU-bound: call it in a thread from async code)."""
    problems = FieldProblems()  # every wrong field in one answer (issue 15.8)
    email = problems.check(normalize_email, email)
    plan = problems.check(check_plan, settings, plan or settings.accounts.default_plan)
    if role not in ("admin", "member"):
        problems.add("role", "role: must be admin or member")
    generated = None
    if password is None:
        password = generated = generate_password()
    problems.check(check_password, password)
    problems.raise_if_any()
    return NewUser(email, hash_password(password), role, plan, generated)


def insert_new_user(tx: Tx, new: NewUser, *, personal_workspace: bool = True) -> User:
    """The user, and (unless they join through an invitation) their personal workspace on
    `new.plan`, which they own."""
    if store.get_user_by_email(tx.conn, new.email) is not None:
        raise ApiError(409, f"email: a user with email {new.email} already exists", field="email")
    user_id = store.insert_user(tx, new.email, new.password_hash, new.role, iso_s(tx.clock.now()))
    if personal_workspace:
        workspaces.create_personal_workspace(tx, user_id, new.email, new.plan)
    return user_from_row(store.get_user(tx.conn, user_id))


def prepare_patch(settings: Settings, patch: UserPatch) -> dict[str, object]:
    """Column changes from a PATCH body, validated; hashes a new password (CPU-bound)."""
    changes: dict[str, object] = {}
    if isinstance(patch.plan, str):
        changes["plan"] = check_plan(settings, patch.plan)
    if isinstance(patch.role, str):
        changes["role"] = patch.role
    if isinstance(patch.is_active, bool):
        changes["is_active"] = int(patch.is_active)
    if isinstance(patch.password, str):
        changes["password_hash"] = hash_password(check_password(patch.password))
    return changes


def apply_patch(
    tx: Tx,
    user_id: int,
    changes: dict[str, object],
    *,
    actor_id: int | None = None,
    tokens: Tokens | None = None,
) -> User:
    """Apply checked column changes as `actor_id` (None: the operator at the CLI).

    Refuses what would lock everyone out (rules.admin_change_problem, counted inside this
    transaction, so two admins demoting each other at once cannot both succeed), and ends the
    user's tokens when their password, role or active flag changes."""
    current = store.get_user(tx.conn, user_id)
    if current is None:
        raise ApiError(404, "No user with that id")
    if "role" in changes or "is_active" in changes:
        problem = rules.admin_change_problem(
            actor_id=actor_id,
            target_id=user_id,
            target_role=current["role"],
            target_active=bool(current["is_active"]),
            new_role=changes.get("role"),
            new_active=bool(changes["is_active"]) if "is_active" in changes else None,
            active_admins=store.count_active_admins(tx.conn),
        )
        if problem:
            raise bad_request(*problem)
    plan = changes.pop("plan", None)
    if plan is not None and not workspaces_store.set_personal_plan(tx, user_id, plan):
        # A user without a personal workspace (they joined through an invitation) gets one.
        workspaces.create_personal_workspace(tx, user_id, current["email"], plan)
    store.update_user(tx, user_id, changes)
    if rules.ends_sessions(current, changes):
        end_all_sessions(tx, user_id, tokens)
    return user_from_row(store.get_user(tx.conn, user_id))


def get_user(conn: sqlite3.Connection, user_id: int) -> User | None:
    row = store.get_user(conn, user_id)
    return user_from_row(row) if row else None


def check_login(row: sqlite3.Row | None, password: str) -> User | None:
    """The user these credentials belong to, or None: unknown, wrong and inactive look alike."""
    ok = verify_password(row["password_hash"] if row else None, password)
    if not ok or row is None or not row["is_active"]:
        return None
    return user_from_row(row)


async def authenticate(db, tokens: Tokens, email: str, password: str) -> User | None:
    row = await db.read(store.get_login, email.strip().lower())
    user = await asyncio.to_thread(check_login, row, password)
    if user is not None:
        # The CLI may have raised the epoch since memory was last reread: a token issued at the
        # older epoch would die at the next reread, seconds after this sign-in succeeded.
        tokens.note_epoch(user.id, row["token_epoch"])
    return user


async def create_user(
    db, settings: Settings, email: str, password: str | None, role: str, plan: str | None
) -> tuple[User, str | None]:
    new = await asyncio.to_thread(prepare_new_user, settings, email, password, role, plan)
    user = await db.write(insert_new_user, new)
    return user, new.generated_password


async def update_user(
    db,
    settings: Settings,
    user_id: int,
    patch: UserPatch,
    *,
    actor_id: int | None,
    tokens: Tokens | None,
) -> User:
    changes = await asyncio.to_thread(prepare_patch, settings, patch)
    return await db.write(
        lambda tx: apply_patch(tx, user_id, changes, actor_id=actor_id, tokens=tokens)
    )


def _end_sessions_of(tx: Tx, user_id: int, tokens: Tokens) -> int:
    if store.get_user(tx.conn, user_id) is None:
        raise ApiError(404, "No user with that id")
    return end_all_sessions(tx, user_id, tokens)


async def sign_out_everywhere(db, user_id: int, tokens: Tokens) -> int:
    """End every token and session of the user (404 when there is no such user)."""
    return await db.write(_end_sessions_of, user_id, tokens)


def _set_own_password(tx: Tx, user_id: int, password_hash: PasswordHash, tokens: Tokens) -> int:
    store.update_user(tx, user_id, {"password_hash": password_hash})
    return end_all_sessions(tx, user_id, tokens)


async def change_own_password(
    ctx, request, user: User, current_password: str, new_password: str
) -> int:
    """A signed-in user's own password change (API and UI); ends all their tokens and returns
    the new epoch, at which the caller issues the session doing the change a fresh token.

    The new password follows the same rule as an admin's (passwords.password_problem). The
    current one goes through the login throttle: with a stolen session, guessing it is
    guessing a password like any other."""
    problem = password_problem(new_password)
    if problem:
        raise bad_request("new_password", problem)
    ctx.quotas.reserve_login(user.email, request)
    stored = await ctx.db.read(store.get_password_hash, user.id)
    ok = await asyncio.to_thread(verify_password, stored, current_password)
    ctx.quotas.record_login(user.email, request, ok=ok)
    if not ok:
        raise bad_request("current_password", "is not your current password")
    new_hash = await asyncio.to_thread(hash_password, new_password)
    return await ctx.db.write(_set_own_password, user.id, new_hash, ctx.tokens)


def bootstrap_admin(tx: Tx, new: NewUser) -> User | None:
    """Create the first admin, only on an empty database (`new.plan`: the highest-ranked)."""
    if store.count_users(tx.conn) > 0:
        return None
    return insert_new_user(tx, new)


FIRST_ADMIN_PLAN_KEY = "first_admin_plan_set"


def put_first_admin_on_top_plan(tx: Tx, plan: str) -> bool:
    """Once per database (the 0.2 upgrade included): the first admin's personal workspace,
    the agency's own, goes on the highest-ranked plan; an admin started on the default plan
    was told to "ask your administrator", i.e. themself."""
    if store.get_meta(tx.conn, FIRST_ADMIN_PLAN_KEY) is not None:
        return False
    first_admin = store.first_admin_id(tx.conn)
    if first_admin is None or not workspaces_store.set_personal_plan(tx, first_admin, plan):
        return False  # no admin with a workspace yet: the next start tries again
    store.set_meta_if_absent(tx, FIRST_ADMIN_PLAN_KEY, plan)
    return True
