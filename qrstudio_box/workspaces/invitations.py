"""Invitations to a workspace by email (issue 16.5): made, listed and withdrawn by its owners.

An invitation is a one-time link `{public_url}/admin/invite/{token}` (onetime.new_token; only
the hash is stored), valid INVITATION_TTL (7 days), for one email and one role. It is mailed
through `ctx.mail`; when mail is off or the send fails, the answer carries the `link` for the
owner to pass on (and only then: a mailed link stays in the invitee's inbox). Accepting it
(sign-up or join) is accounts' (accounts/invitations.py), which creates users.
A new invitation to the same email in the same workspace withdraws the older pending one.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import msgspec

from ..clock import iso_s, parse_iso
from ..db import Tx
from ..errors import ApiError
from ..mail.rules import normalize_email
from ..onetime import new_token
from . import store
from .schemas import Caller, Invitation, InvitationCreate, InvitationCreated

INVITATION_TTL = timedelta(days=7)
INVITE_PATH = "/admin/invite/"


def invite_link(public_url: str, token: str) -> str:
    return f"{public_url}{INVITE_PATH}{token}"


def invitation_mail(
    workspace: str, role: str, inviter: str | None, link: str, expires_at: datetime
) -> tuple[str, str]:
    """(subject, body) of the invitation mail."""
    who = inviter or "An admin"
    subject = f"{who} invited you to {workspace} on QRStudio Box"
    body = (
        f"{who} invited you to the workspace {workspace} on QRStudio Box, as {role}.\n\n"
        "Open this link to accept: it signs you up, or adds the workspace to your account "
        "when you have one.\n\n"
        f"{link}\n\n"
        f"It works once, until {expires_at:%Y-%m-%d %H:%M} UTC. If you did not expect this "
        "mail, ignore it.\n"
    )
    return subject, body


def invitation_from_row(row: sqlite3.Row) -> Invitation:
    return Invitation(
        id=row["id"],
        email=row["email"],
        role=row["role"],
        invited_by=row["invited_by"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


def _insert(
    tx: Tx, workspace_id: int, email: str, role: str, hashed: str, invited_by: int | None
) -> tuple[sqlite3.Row, str | None]:
    if store.member_with_email(tx.conn, workspace_id, email):
        raise ApiError(409, "email: this user is a member already", field="email")
    now = tx.clock.now()
    store.withdraw_pending_invitations(tx, workspace_id, email, iso_s(now))
    invitation_id = store.insert_invitation(
        tx,
        workspace_id,
        email,
        role,
        hashed,
        invited_by,
        iso_s(now),
        iso_s(now + INVITATION_TTL),
    )
    inviter = store.user_email(tx.conn, invited_by) if invited_by is not None else None
    return store.get_invitation(tx.conn, workspace_id, invitation_id), inviter


async def create_invitation(ctx, caller: Caller, data: InvitationCreate) -> InvitationCreated:
    """Make the invitation and mail it; `link` in the answer only when it was not mailed."""
    email = normalize_email(data.email)
    token, hashed = new_token()
    row, inviter = await ctx.db.write(
        _insert, caller.owner_id, email, data.role, hashed, caller.user_id
    )
    link = invite_link(ctx.settings.public_url, token)
    subject, body = invitation_mail(
        caller.workspace_name, data.role, inviter, link, parse_iso(row["expires_at"])
    )
    mailed = await ctx.mail.send(email, subject, body)
    return InvitationCreated(
        **msgspec.structs.asdict(invitation_from_row(row)),
        mailed=mailed,
        link=None if mailed else link,
    )


async def pending_invitations(ctx, caller: Caller) -> list[Invitation]:
    """Neither accepted, withdrawn nor expired; newest first. No token: it is not stored."""
    now = iso_s(ctx.clock.now())
    rows = await ctx.db.read(store.pending_invitations, caller.owner_id, now)
    return [invitation_from_row(row) for row in rows]


async def withdraw_invitation(ctx, caller: Caller, invitation_id: int) -> None:
    """The link stops working at once (404 unless pending in this workspace)."""

    def write(tx: Tx) -> None:
        now = iso_s(tx.clock.now())
        if not store.withdraw_invitation(tx, caller.owner_id, invitation_id, now):
            raise ApiError(404, "No pending invitation with that id")

    await ctx.db.write(write)
