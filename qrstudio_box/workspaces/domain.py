"""Workspaces: who acts on what (the Caller, the access guard), workspaces, members,
invitations and API keys."""

from __future__ import annotations

from ..context import AppContext
from .api import ApiKeysController, InvitationsController, WorkspacesController
from .service import ApiKeyJudge

ROUTES = [WorkspacesController, InvitationsController, ApiKeysController]


async def start(ctx: AppContext) -> None:
    # Judges `Bearer qsb_...` for the bearer middleware (accounts.tokens), and keeps the
    # in-memory record of when each key's last use was written.
    ctx.api_keys = ApiKeyJudge(ctx.db, ctx.clock)
