from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from ..errors import ApiError


def admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    user = connection.user
    if user is None or not user.is_admin:
        raise ApiError(403, "This needs an admin account")
