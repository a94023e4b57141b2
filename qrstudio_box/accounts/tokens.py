"""JWT bearer auth for /api/v1 (Litestar's JWTAuth), keyed by a secret kept in data_dir."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from ..keyfiles import read_or_create
from . import store
from .schemas import User, user_from_row

KEY_FILE = "jwt.key"

# Everything outside /api/v1/ (redirects, /healthz, /schema, /static, the admin UI with its own
# cookie session) and the token endpoint itself go without a bearer token.
PUBLIC_PATHS = [r"^(?!/api/v1/)", r"^/api/v1/auth/token/?$"]


def load_or_create_key(data_dir: Path) -> str:
    """The signing key, generated on first start and kept so tokens survive restarts."""
    return (
        read_or_create(data_dir / KEY_FILE, lambda: (secrets.token_urlsafe(48) + "\n").encode())
        .decode()
        .strip()
    )


def build_jwt_auth(db, key: str, ttl_minutes: int) -> JWTAuth[User, Token]:
    async def retrieve_user(token: Token, connection: ASGIConnection) -> User | None:
        # Litestar takes whatever follows the first space; we insist on the Bearer scheme.
        if not connection.headers.get("authorization", "").lower().startswith("bearer "):
            return None
        try:
            user_id = int(token.sub)
        except ValueError:
            return None
        row = await db.read(store.get_user, user_id)
        if row is None or not row["is_active"]:
            return None
        return user_from_row(row)

    return JWTAuth[User, Token](
        retrieve_user_handler=retrieve_user,
        token_secret=key,
        exclude=PUBLIC_PATHS,
        default_token_expiration=timedelta(minutes=ttl_minutes),
    )
