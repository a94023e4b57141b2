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
    # Litestar's automatic OPTIONS answers (Allow: ...) declare nothing and carry no data; an
    # OPTIONS handler of ours would declare its access like any other route.
    access = handler.opt.get("access")
    if access is None and connection.scope["method"] == "OPTIONS":
        return
    # scope.get, not connection.user: the auth middleware skips OPTIONS, and connection.user
    # raises when no user was set.
    problem = access_problem(access, connection.scope.get("user"))
    if problem is not None:
        raise ApiError(*problem)
