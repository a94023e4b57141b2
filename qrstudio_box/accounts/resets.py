"""Password reset by email (issue 16.5).

"Forgot your password?" -> an email address -> (when an active account has it, and mail is on)
a mail with a one-time link `{public_url}/admin/password-reset/{token}`, valid RESET_LINK_TTL
(1 hour: long enough to find the mail, short enough that an old inbox opens nothing) -> a new
password (passwords.password_problem, the rule of every other password) -> every token and
session of the user ends (tokens.end_all_sessions) and every other reset link of theirs too.

The request always gets the same answer, whether an account has the email or not, and takes
the same road (one write transaction; the mail leaves in the background), so it tells no one
who has an account. Each request counts against `ctx.quotas.reserve_password_reset`, so the
form cannot be used to flood someone's inbox. With mail off no link is made: the page says
so, and the operator makes one with `qrstudio-box users reset-link --email EMAIL`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

from ..clock import iso_s, parse_iso
from ..db import Tx
from ..errors import bad_request
from ..mail.rules import normalize_email
from ..onetime import new_token, token_hash
from . import rules, store
from .passwords import PasswordHash, hash_password, password_problem
from .schemas import User, user_from_row
from .tokens import end_all_sessions

RESET_LINK_TTL = timedelta(hours=1)
RESET_PATH = "/admin/password-reset/"
SUBJECT = "Reset your QRStudio Box password"
# The answer to every request: the same whether an account has the email or not.
REQUESTED = (
    "If an account has that email, a link to reset its password is on its way. "
    "It works for {minutes} minutes."
)
MAIL_OFF = "Mail is off on this box: ask an admin for a password-reset link."


def requested_answer(mail_enabled: bool) -> str:
    return (
        REQUESTED.format(minutes=int(RESET_LINK_TTL.total_seconds() // 60))
        if mail_enabled
        else MAIL_OFF
    )


def reset_link(public_url: str, token: str) -> str:
    return f"{public_url}{RESET_PATH}{token}"


def reset_mail(email: str, public_url: str, link: str) -> str:
    minutes = int(RESET_LINK_TTL.total_seconds() // 60)
    return (
        f"Someone (hopefully you) asked to reset the password of {email} on the QRStudio Box "
        f"at {public_url}.\n\n"
        f"To choose a new password, open this link within {minutes} minutes:\n\n"
        f"{link}\n\n"
        "It works once, and signs you out everywhere else. If you did not ask for this, "
        "ignore this mail: your password stays as it is.\n"
    )


def create_link(tx: Tx, user_id: int) -> str:
    """A new reset link's token for the user (the CLI's `users reset-link`)."""
    token, hashed = new_token()
    now = tx.clock.now()
    store.insert_password_reset(tx, hashed, user_id, iso_s(now), iso_s(now + RESET_LINK_TTL))
    return token


def _link_for_email(tx: Tx, email: str) -> str | None:
    """A token when an active account has this email, else None (and nothing written)."""
    row = store.get_user_by_email(tx.conn, email)
    if row is None or not row["is_active"]:
        return None
    return create_link(tx, row["id"])


async def request_reset(ctx, email: str, request) -> None:
    """Mail a reset link to `email` if an active account has it (400 naming `email` when it is
    no address; 429 past the throttle). Answers the same either way; mail off: does nothing."""
    email = normalize_email(email)
    ctx.quotas.reserve_password_reset(email, request)
    if not ctx.mail.enabled:
        return
    token = await ctx.db.write(_link_for_email, email)
    if token is not None:
        public_url = ctx.settings.public_url
        body = reset_mail(email, public_url, reset_link(public_url, token))
        ctx.mail.send_later(email, SUBJECT, body)


def _problem(row: sqlite3.Row | None, now) -> str | None:
    return rules.link_problem(
        found=row is not None and bool(row["is_active"]),
        used=row is not None and row["used_at"] is not None,
        expires_at=parse_iso(row["expires_at"]) if row is not None else None,
        now=now,
    )


async def check_link(ctx, token: str) -> tuple[str | None, str]:
    """(problem key of rules.LINK_PROBLEMS or None, the account's email when the link works)."""
    row = await ctx.db.read(store.get_password_reset, token_hash(token))
    problem = _problem(row, ctx.clock.now())
    return problem, row["email"] if problem is None else ""


def _use_link(tx: Tx, hashed: str, password_hash: PasswordHash, tokens) -> tuple[User, int]:
    # Checked again inside the write: two tabs submitting one link cannot both use it.
    row = store.get_password_reset(tx.conn, hashed)
    problem = _problem(row, tx.clock.now())
    if problem is not None:
        raise bad_request("token", f"this link {rules.LINK_PROBLEMS[problem]}")
    user_id = row["user_id"]
    store.use_password_resets(tx, user_id, iso_s(tx.clock.now()))
    store.update_user(tx, user_id, {"password_hash": password_hash})
    epoch = end_all_sessions(tx, user_id, tokens)
    return user_from_row(store.get_user(tx.conn, user_id)), epoch


async def complete_reset(ctx, token: str, new_password: str) -> tuple[User, int]:
    """Set the password through the link; ends every session of the user and returns the user
    and their new token epoch (for a session that signs them in at once). 400 naming
    `new_password` or `token`."""
    problem = password_problem(new_password)
    if problem:
        raise bad_request("new_password", problem)
    new_hash = await asyncio.to_thread(hash_password, new_password)
    return await ctx.db.write(_use_link, token_hash(token), new_hash, ctx.tokens)
