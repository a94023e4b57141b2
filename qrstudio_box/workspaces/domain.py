"""Workspaces: who acts on what (the Caller, the access guard), workspaces, members and
invitations."""

from __future__ import annotations

from .api import InvitationsController, WorkspacesController

ROUTES = [WorkspacesController, InvitationsController]
