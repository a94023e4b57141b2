"""Accepting an invitation (issue 16.5): a visitor without an account signs up through it
(their email is the invitation's; no personal workspace, they join the inviting one), a
signed-in user, or one who signs in on its page, gets the workspace added with the role.

Which account joins: the one signed in (or signing in) on the page, whatever its email: the
link is the secret, mailed to the invited address, and a person may hold their account
under another address than the one the owner knew. The page says which account joins before
it does. Making invitations is the workspaces domain's (workspaces/invitations.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass

from ..clock import iso_s, parse_iso
from ..db import Tx
from ..errors import bad_request
from ..onetime import token_hash
from ..workspaces import store as workspaces_store
from . import rules, store
from .schemas import User, user_from_row
from .service import authenticate, insert_new_user, prepare_new_user


@dataclass(frozen=True)
class OpenInvitation:
    """An invitation that can still be accepted, as its page shows it."""

    id: int
    workspace_id: int
    workspace_name: str
    email: str
    role: str
    expires_at: str
    account_exists: bool  # an account has the invited email: sign in to accept


@dataclass(frozen=True)
class Joined:
    workspace_id: int
    workspace_name: str
    role: str  # the role the user has there now
    already_member: bool  # they were a member before (their role stays as it was)


def _problem(row: sqlite3.Row | None, now) -> str | None:
    return rules.link_problem(
        found=row is not None,
        used=row is not None and row["accepted_at"] is not None,
        revoked=row is not None and row["revoked_at"] is not None,
        expires_at=parse_iso(row["expires_at"]) if row is not None else None,
        now=now,
    )


def _refuse(problem: str):
    return bad_request("token", f"this invitation {rules.LINK_PROBLEMS[problem]}")


async def open_invitation(ctx, token: str) -> tuple[str | None, OpenInvitation | None]:
    """(problem key of rules.LINK_PROBLEMS, None) or (None, the invitation)."""
    row = await ctx.db.read(workspaces_store.invitation_by_token, token_hash(token))
    problem = _problem(row, ctx.clock.now())
    if problem is not None:
        return problem, None
    return None, OpenInvitation(
        id=row["id"],
        workspace_id=row["workspace_id"],
        workspace_name=row["workspace_name"],
        email=row["email"],
        role=row["role"],
        expires_at=row["expires_at"],
        account_exists=row["account_id"] is not None,
    )


def _join(tx: Tx, hashed: str, user_id: int) -> Joined:
    """Use the invitation for `user_id`: checked again here, so it is used once even when two
    tabs accept it at the same moment."""
    row = workspaces_store.invitation_by_token(tx.conn, hashed)
    problem = _problem(row, tx.clock.now())
    if problem is not None:
        raise _refuse(problem)
    now = iso_s(tx.clock.now())
    workspaces_store.accept_invitation(tx, row["id"], user_id, now)
    added = workspaces_store.add_member(tx, row["workspace_id"], user_id, row["role"], now)
    member = workspaces_store.member(tx.conn, row["workspace_id"], user_id)
    return Joined(row["workspace_id"], row["workspace_name"], member["role"], not added)


async def join(ctx, token: str, user_id: int) -> Joined:
    """An existing (signed-in) user accepts: the workspace is added to their account."""
    return await ctx.db.write(_join, token_hash(token), user_id)


def _sign_up(tx: Tx, hashed: str, new) -> tuple[User, Joined]:
    # A link that no longer works raises in _join and rolls the new account back with it.
    user = insert_new_user(tx, new, personal_workspace=False)
    joined = _join(tx, hashed, user.id)
    # Their one workspace is their default. (An existing user who joins keeps theirs: a
    # script's token without X-QRStudio-Workspace must not start acting elsewhere.)
    store.update_user(tx, user.id, {"default_workspace_id": joined.workspace_id})
    return user_from_row(store.get_user(tx.conn, user.id)), joined


async def sign_up(ctx, token: str, password: str) -> tuple[User, Joined]:
    """A visitor without an account: an account with the invitation's email and `password`
    (400 naming `password` when it breaks the rules; 409 naming `email` when an account has
    it meanwhile: sign in instead), and the membership."""
    problem, invitation = await open_invitation(ctx, token)
    if invitation is None:
        raise _refuse(problem)
    new = await asyncio.to_thread(
        prepare_new_user, ctx.settings, invitation.email, password, "member", None
    )
    return await ctx.db.write(_sign_up, token_hash(token), new)


async def accept_with_password(
    ctx, token: str, password: str, request
) -> tuple[User, Joined, bool] | None:
    """The API's accept (scripts): when an account has the invited email, `password` is its
    password (through the login throttle; None when wrong) and the workspace is added to it;
    else an account is made with it. (user, joined, whether the account is new)."""
    problem, invitation = await open_invitation(ctx, token)
    if invitation is None:
        raise _refuse(problem)
    if not invitation.account_exists:
        user, joined = await sign_up(ctx, token, password)
        return user, joined, True
    ctx.quotas.reserve_login(invitation.email, request)
    user = await authenticate(ctx.db, ctx.tokens, invitation.email, password)
    ctx.quotas.record_login(invitation.email, request, ok=user is not None)
    if user is None:
        return None
    return user, await join(ctx, token, user.id), False
