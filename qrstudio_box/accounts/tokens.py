"""Signed tokens: API bearer tokens and UI sessions, and which of them still count.

Every token is an HS256 JWT signed with the key kept in data_dir, and carries:
* `aud`: who it is for, `qrstudio:api` (bearer tokens from POST /api/v1/auth/token/) or
  `qrstudio:ui` (the admin UI's session cookie). Neither is accepted where the other belongs,
  so a session cookie lifted from a browser is no API token and the reverse.
* `extras.ep`: the user's token epoch when it was issued. Changing a user's password, role or
  active flag and "sign out everywhere" add one to `users.token_epoch`: every token issued
  before stops counting, and nothing brings it back (reactivating a user does not lower it).
  An epoch counter, not an issue time: two events in the same second, or a wall clock that
  steps back, cannot make an old token look new.
* `jti`: a random id, so one session can be ended alone (the UI's Sign out) on a deny-list.

`Tokens` keeps the epochs and the deny-list in memory (loaded at start, written through by
the transaction that changes them, via `tx.on_commit`): checking a token reads no row.

The third kind of bearer credential, an API key (`qsb_...`, issue 16.6), is no JWT: the bearer
middleware below branches on its prefix before any JWT is decoded and has the workspaces domain
look it up (`ctx.api_keys`, workspaces.service.ApiKeyJudge).
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from ..clock import unix_ms
from ..db import Tx
from ..keyfiles import read_or_create
from ..workspaces.rules import API_KEY_PREFIX, WORKSPACE_HEADER
from ..workspaces.schemas import Caller
from ..workspaces.service import parse_workspace_header, resolve_caller
from . import store

KEY_FILE = "jwt.key"
ALGORITHM = "HS256"
API_AUDIENCE = "qrstudio:api"
UI_AUDIENCE = "qrstudio:ui"
EPOCH_CLAIM = "ep"
# How often the server rereads the epochs, for changes made by the CLI in another process.
EPOCH_REFRESH_SECONDS = 10

# Everything outside /api/v1/ (redirects, /healthz, /schema, /static, the admin UI with its own
# cookie session), the token endpoint itself, the password reset and accepting an invitation
# go without a bearer token.
PUBLIC_PATHS = [
    r"^(?!/api/v1/)",
    r"^/api/v1/auth/token/?$",
    r"^/api/v1/auth/password-reset(/confirm)?/?$",
    r"^/api/v1/invitations/accept/?$",
]


def load_or_create_key(data_dir: Path) -> str:
    """The signing key, generated on first start and kept so tokens survive restarts."""
    return (
        read_or_create(data_dir / KEY_FILE, lambda: (secrets.token_urlsafe(48) + "\n").encode())
        .decode()
        .strip()
    )


def now_ms() -> int:
    # Token expiry is checked by PyJWT against the system clock, so the deny-list, which only
    # has to outlive a token's expiry, is pruned by that same clock (not the injected one).
    return int(time.time() * 1000)


class Tokens:
    """Issues tokens and decides in memory whether one still counts."""

    def __init__(self, key: str, ttl: timedelta) -> None:
        self.key = key
        self.ttl = ttl
        self._epochs: dict[int, int] = {}
        self._revoked: dict[str, int] = {}  # jti -> expires_ms
        # Both dicts are written from the reader thread (load), the writer thread (commit
        # callbacks) and the event loop (sign-in): pruning iterates the deny-list, which must
        # not change size underneath, and raising an epoch is a read then a write.
        self._lock = threading.Lock()

    # -- issuing and checking ------------------------------------------------------------

    def issue(self, user_id: int, audience: str, epoch: int | None = None) -> str:
        """A token for `audience`, at the user's current epoch (or `epoch`, when the caller
        has just written a new one in a transaction whose commit callbacks may not have run)."""
        token = Token(
            sub=str(user_id),
            exp=datetime.now(UTC) + self.ttl,
            aud=audience,
            jti=secrets.token_urlsafe(16),
            extras={EPOCH_CLAIM: self.epoch(user_id) if epoch is None else epoch},
        )
        return token.encode(self.key, ALGORITHM)

    def decode(self, raw: str, audience: str) -> Token | None:
        """The token if it is well signed, unexpired, for `audience` and still counts."""
        try:
            token = Token.decode(raw, self.key, ALGORITHM, audience=audience)
        except NotAuthorizedException:
            return None
        return token if self.counts(token) else None

    def counts(self, token: Token) -> bool:
        """Not ended by an epoch change or a sign-out (signature and audience checked before)."""
        if not token.sub.isdigit():
            return False
        epoch = token.extras.get(EPOCH_CLAIM)
        if type(epoch) is not int or epoch < self.epoch(int(token.sub)):
            return False
        return not (isinstance(token.jti, str) and token.jti in self._revoked)

    def epoch(self, user_id: int) -> int:
        return self._epochs.get(user_id, 0)

    # -- the in-memory state -------------------------------------------------------------

    def note_epoch(self, user_id: int, epoch: int) -> None:
        # Epochs only grow; the larger of two readings is the newer one.
        with self._lock:
            if epoch > self._epochs.get(user_id, 0):
                self._epochs[user_id] = epoch

    def load(self, conn) -> None:
        """Fill memory from the database (at start, and every EPOCH_REFRESH_SECONDS)."""
        for user_id, epoch in store.token_epochs(conn):
            self.note_epoch(user_id, epoch)
        revoked = store.revoked_tokens_after(conn, now_ms())
        with self._lock:
            self._forget_expired()
            self._revoked.update(revoked)

    def _note_revoked(self, jti: str, expires_ms: int) -> None:
        with self._lock:
            self._forget_expired()
            self._revoked[jti] = expires_ms

    def _forget_expired(self) -> None:
        # An expired token is refused for its expiry; the deny-list need not remember it.
        # Called with _lock held.
        now = now_ms()
        for jti in [jti for jti, expires in self._revoked.items() if expires <= now]:
            del self._revoked[jti]

    # -- changes, inside the caller's write transaction ----------------------------------

    def end_all(self, tx: Tx, user_id: int) -> int:
        """End every token `user_id` holds; returns the new epoch (memory follows at commit)."""
        return end_all_sessions(tx, user_id, self)

    def revoke(self, tx: Tx, token: Token) -> None:
        """End this one token (by its jti) until it would have expired anyway."""
        if not isinstance(token.jti, str) or not token.sub.isdigit():
            return
        expires_ms = unix_ms(token.exp)
        store.delete_revoked_tokens_before(tx, now_ms())
        store.insert_revoked_token(tx, token.jti, int(token.sub), expires_ms)
        tx.on_commit(lambda: self._note_revoked(token.jti, expires_ms))


def end_all_sessions(tx: Tx, user_id: int, tokens: Tokens | None) -> int:
    """Bump the user's token epoch in `tx`; `tokens` (None in the CLI, whose change the server
    picks up within EPOCH_REFRESH_SECONDS) learns it when the transaction commits."""
    epoch = store.bump_token_epoch(tx, user_id)
    if tokens is not None:
        tx.on_commit(lambda: tokens.note_epoch(user_id, epoch))
    return epoch


class BearerAuthMiddleware(JWTAuthenticationMiddleware):
    """`Authorization: Bearer <credential>`, nothing else (Litestar would take any scheme)."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        scheme, _, credential = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credential:
            raise NotAuthorizedException("A bearer token is required")
        if credential.startswith(API_KEY_PREFIX):
            # Looked up, not decoded: unknown, revoked or expired is a 401 saying which.
            judge = connection.app.state.ctx.api_keys
            caller = await judge.authenticate(credential, *requested_workspace(connection))
            return AuthenticationResult(user=caller, auth=None)
        return await self.authenticate_token(credential, connection)


def caller_of_user(
    conn, user_id: int, requested_workspace_id: int | None, named_by: str | None = None
) -> Caller | None:
    """The Caller of an active user, acting on the workspace they asked for or their default
    one (workspaces.service.resolve_caller); None for an unknown or inactive user. One read
    transaction: the user row and the workspace."""
    row = store.get_user(conn, user_id)
    if row is None or not row["is_active"]:
        return None
    return resolve_caller(
        conn,
        user_id,
        row["role"] == "admin",
        row["default_workspace_id"],
        requested_workspace_id,
        named_by,
    )


WORKSPACE_ROUTES = "/api/v1/workspaces/"


def requested_workspace(connection: ASGIConnection) -> tuple[int | None, str | None]:
    """The workspace a call names, and where (the field a 404 names): a route under
    /api/v1/workspaces/{workspace_id}/ acts on that one (so the access guard judges the
    caller's role THERE), else `X-QRStudio-Workspace`. (The admin's routes with a workspace id
    act on it from outside, as an admin: their path does not choose the caller's workspace.)"""
    in_path = connection.scope.get("path_params", {}).get("workspace_id")
    if in_path is not None and connection.scope["path"].startswith(WORKSPACE_ROUTES):
        return int(in_path), None
    header = parse_workspace_header(connection.headers.get(WORKSPACE_HEADER))
    return header, WORKSPACE_HEADER


def build_jwt_auth(db: Any, tokens: Tokens) -> JWTAuth[Caller, Token]:
    async def retrieve_user(token: Token, connection: ASGIConnection) -> Caller | None:
        if not tokens.counts(token):  # in memory: no row is read for an ended token
            return None
        return await db.read(caller_of_user, int(token.sub), *requested_workspace(connection))

    return JWTAuth[Caller, Token](
        retrieve_user_handler=retrieve_user,
        token_secret=tokens.key,
        algorithm=ALGORITHM,
        accepted_audiences=[API_AUDIENCE],
        authentication_middleware_class=BearerAuthMiddleware,
        exclude=PUBLIC_PATHS,
        default_token_expiration=tokens.ttl,
    )
