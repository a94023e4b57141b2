"""Accounts: login, users, the bootstrap admin."""

from __future__ import annotations

import asyncio
import sys

from ..context import AppContext
from ..db import Database
from ..workspaces.service import highest_plan
from . import service
from .api import (
    AdminUsersController,
    accept_invitation,
    change_password,
    confirm_password_reset,
    create_token,
    me,
    request_password_reset,
    sign_out_everywhere,
)
from .tokens import EPOCH_REFRESH_SECONDS

ROUTES = [
    create_token,
    me,
    change_password,
    sign_out_everywhere,
    request_password_reset,
    confirm_password_reset,
    accept_invitation,
    AdminUsersController,
]


async def bootstrap(ctx: AppContext) -> None:
    """On an empty database, create the first admin and say how to log in (once)."""
    db: Database = ctx.db
    if await db.fetchone("SELECT 1 FROM users LIMIT 1"):
        return
    email = ctx.env.get("QRSTUDIO_ADMIN_EMAIL") or service.BOOTSTRAP_EMAIL
    password = ctx.env.get("QRSTUDIO_ADMIN_PASSWORD") or None
    new = await asyncio.to_thread(
        service.prepare_new_user, ctx.settings, email, password, "admin", highest_plan(ctx.settings)
    )
    user = await db.write(service.bootstrap_admin, new)
    if user is None:
        return
    if new.generated_password:
        print(
            f"\n  First start: created admin {user.email} with password {new.generated_password}\n"
            "  (shown only now; change it with: "
            f"qrstudio-box users set-password --email {user.email})\n",
            file=sys.stdout,
            flush=True,
        )
    else:
        print(
            f"  First start: created admin {user.email} (password from QRSTUDIO_ADMIN_PASSWORD)",
            flush=True,
        )


async def start(ctx: AppContext) -> None:
    await bootstrap(ctx)
    await ctx.db.write(service.put_first_admin_on_top_plan, highest_plan(ctx.settings))
    await ctx.db.read(ctx.tokens.load)
    # The CLI (set-password, set-role, set-active) changes epochs from another process.
    ctx.scheduler.add_job(
        ctx.db.read,
        "interval",
        args=[ctx.tokens.load],
        seconds=EPOCH_REFRESH_SECONDS,
        id="token-epochs",
        coalesce=True,
        max_instances=1,
    )
