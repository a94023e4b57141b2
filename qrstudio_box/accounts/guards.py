from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from ..errors import ApiError


def admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    # scope.get, not connection.user: the auth middleware skips OPTIONS (CORS preflight), and
    # connection.user raises when no user was set.
    if connection.scope["method"] == "OPTIONS":
        return
    user = connection.scope.get("user")
    if user is None or not user.is_admin:
        raise ApiError(403, "This needs an admin account")
