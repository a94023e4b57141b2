"""Account rules. Hashing is slow on purpose, so it happens before the write transaction,
never inside it (the single writer would stall every other write for that long)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass, field

from ..clock import iso_s
from ..config import Settings
from ..db import Tx
from ..errors import ApiError, bad_request
from . import store
from .passwords import (
    PasswordHash,
    generate_password,
    hash_password,
    password_problem,
    verify_password,
)
from .schemas import User, UserPatch, user_from_row

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}$")
BOOTSTRAP_EMAIL = "admin@localhost"


@dataclass(frozen=True)
class NewUser:
    email: str
    password_hash: PasswordHash
    role: str
    plan: str
    # Shown once to whoever created the user; never in a repr (debug logs print arguments).
    generated_password: str | None = field(repr=False)


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise bad_request("email", "must be an email address like name@example.com")
    return email


def check_plan(settings: Settings, plan: str) -> str:
    if plan not in settings.plans:
        raise bad_request("plan", f"must be one of: {', '.join(sorted(settings.plans))}")
    return plan


def check_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise bad_request("password", problem)
    return password


def prepare_new_user(
    settings: Settings, email: str, password: str | None, role: str, plan: str | None
) -> NewUser:
    """Validate and hash (CPU-bound: call it in a thread from async code)."""
    email = normalize_email(email)
    plan = check_plan(settings, plan or settings.accounts.default_plan)
    if role not in ("admin", "member"):
        raise bad_request("role", "must be admin or member")
    generated = None
    if password is None:
        password = generated = generate_password()
    check_password(password)
    return NewUser(email, hash_password(password), role, plan, generated)


def insert_new_user(tx: Tx, new: NewUser) -> User:
    if store.get_user_by_email(tx.conn, new.email) is not None:
        raise ApiError(409, f"email: a user with email {new.email} already exists", field="email")
    user_id = store.insert_user(
        tx, new.email, new.password_hash, new.role, new.plan, iso_s(tx.clock.now())
    )
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


def apply_patch(tx: Tx, user_id: int, changes: dict[str, object]) -> User:
    if not store.update_user(tx, user_id, changes):
        raise ApiError(404, "No user with that id")
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


async def authenticate(db, email: str, password: str) -> User | None:
    row = await db.read(store.get_login, email.strip().lower())
    return await asyncio.to_thread(check_login, row, password)


async def create_user(
    db, settings: Settings, email: str, password: str | None, role: str, plan: str | None
) -> tuple[User, str | None]:
    new = await asyncio.to_thread(prepare_new_user, settings, email, password, role, plan)
    user = await db.write(insert_new_user, new)
    return user, new.generated_password


async def update_user(db, settings: Settings, user_id: int, patch: UserPatch) -> User:
    changes = await asyncio.to_thread(prepare_patch, settings, patch)
    return await db.write(apply_patch, user_id, changes)


def bootstrap_admin(tx: Tx, new: NewUser) -> User | None:
    """Create the first admin, only on an empty database."""
    if store.count_users(tx.conn) > 0:
        return None
    return insert_new_user(tx, new)
