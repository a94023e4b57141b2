"""Workspaces: who acts on what (the Caller, the access guard), workspaces and members."""

from __future__ import annotations

from .api import WorkspacesController

ROUTES = [WorkspacesController]
