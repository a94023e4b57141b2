"""The one guard of /api/v1: each route's `opt["access"]` (rules.Access) against the Caller."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from ..errors import ApiError
from .rules import access_problem

API_PREFIX = "/api/v1/"


def check_access(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Installed on the app: every route outside /api/v1/ (the redirect, the admin UI with its
    own hook, /healthz ...) is not its business."""
    if not connection.scope["path"].startswith(API_PREFIX):
        return
    # scope.get, not connection.user: the auth middleware skips OPTIONS (CORS preflight), and
    # connection.user raises when no user was set.
    if connection.scope["method"] == "OPTIONS":
        return
    problem = access_problem(handler.opt.get("access"), connection.scope.get("user"))
    if problem is not None:
        raise ApiError(*problem)
