"""Login, the caller, and user administration."""

from __future__ import annotations

from litestar import Controller, Request, get, patch, post
from litestar.params import Parameter

from ..context import AppContext
from ..errors import ApiError
from ..pagination import check_limit, decode_cursor, encode_cursor
from ..params import RowId
from ..workspaces.rules import ADMIN, PUBLIC, SIGNED_IN
from ..workspaces.schemas import Caller
from . import invitations, resets, service, store
from .schemas import (
    InvitationAccept,
    InvitationAccepted,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    PasswordResetRequested,
    TokenRequest,
    TokenResponse,
    User,
    UserCreate,
    UserCreated,
    UserPage,
    UserPatch,
    user_from_row,
)
from .tokens import API_AUDIENCE

BAD_LOGIN = "Invalid email or password"


def issue_token(ctx: AppContext, user: User, epoch: int | None = None) -> TokenResponse:
    token = ctx.tokens.issue(user.id, API_AUDIENCE, epoch)
    return TokenResponse(
        access_token=token,
        token_type="bearer",
        expires_in=int(ctx.tokens.ttl.total_seconds()),
    )


@post(
    "/api/v1/auth/token/",
    status_code=200,
    tags=["auth"],
    security=[{}],
    summary="Exchange email and password for a bearer token",
    opt=PUBLIC,
)
async def create_token(data: TokenRequest, ctx: AppContext, request: Request) -> TokenResponse:
    # Reserved before the (slow) verification: parallel guesses cannot outrun the count.
    ctx.quotas.reserve_login(data.email, request)  # 429 + Retry-After when guessing
    user = await service.authenticate(ctx.db, ctx.tokens, data.email, data.password)
    ctx.quotas.record_login(data.email, request, ok=user is not None)
    if user is None:
        raise ApiError(401, BAD_LOGIN, error="unauthorized")
    return issue_token(ctx, user)


async def signed_in_user(ctx: AppContext, caller: Caller) -> User:
    """The person behind a signed-in caller (the access rule SIGNED_IN keeps API keys out)."""
    assert caller.user_id is not None
    user = await ctx.db.read(service.get_user, caller.user_id)
    if user is None:  # deleted between the token's check and now
        raise ApiError(401, "Your account no longer exists", error="unauthorized")
    return user


@get("/api/v1/me/", tags=["auth"], summary="The authenticated user", opt=SIGNED_IN)
async def me(ctx: AppContext, request: Request[Caller, object, object]) -> User:
    return await signed_in_user(ctx, request.user)


@post(
    "/api/v1/me/password/",
    status_code=200,
    tags=["auth"],
    summary="Change your own password; ends your other sessions and returns a fresh token",
    opt=SIGNED_IN,
)
async def change_password(
    data: PasswordChange, ctx: AppContext, request: Request[Caller, object, object]
) -> TokenResponse:
    user = await signed_in_user(ctx, request.user)
    epoch = await service.change_own_password(
        ctx, request, user, data.current_password, data.new_password
    )
    return issue_token(ctx, user, epoch)


@post(
    "/api/v1/me/sign-out-everywhere/",
    status_code=204,
    tags=["auth"],
    summary="End every token and UI session you hold, this one included",
    opt=SIGNED_IN,
)
async def sign_out_everywhere(ctx: AppContext, request: Request[Caller, object, object]) -> None:
    await service.sign_out_everywhere(
        ctx.db, (await signed_in_user(ctx, request.user)).id, ctx.tokens
    )


@post(
    "/api/v1/auth/password-reset/",
    status_code=202,
    tags=["auth"],
    security=[{}],
    summary="Mail a password-reset link to an account's email",
    description="The same answer whether an account has the email or not. The link "
    "(`/admin/password-reset/{token}`) works once, for one hour. With mail off nothing is sent "
    "(`mail_enabled` false): an admin makes a link with `qrstudio-box users reset-link`. "
    "429 with Retry-After past 3 requests an hour for one email from one address.",
    opt=PUBLIC,
)
async def request_password_reset(
    data: PasswordResetRequest, ctx: AppContext, request: Request
) -> PasswordResetRequested:
    await resets.request_reset(ctx, data.email, request)
    return PasswordResetRequested(
        detail=resets.requested_answer(ctx.mail.enabled), mail_enabled=ctx.mail.enabled
    )


@post(
    "/api/v1/auth/password-reset/confirm/",
    status_code=200,
    tags=["auth"],
    security=[{}],
    summary="Set a new password with a reset link's token; returns a bearer token",
    description="Ends every token and session the user held. 400 naming `token` when the "
    "link is unknown, used or expired, `new_password` when it breaks the password rules.",
    opt=PUBLIC,
)
async def confirm_password_reset(data: PasswordResetConfirm, ctx: AppContext) -> TokenResponse:
    user, epoch = await resets.complete_reset(ctx, data.token, data.new_password)
    return issue_token(ctx, user, epoch)


@post(
    "/api/v1/invitations/accept/",
    status_code=200,
    tags=["workspaces"],
    security=[{}],
    summary="Accept an invitation: sign up, or add the workspace to the invited account",
    description="For scripts; people use the link's page, /admin/invite/{token}. Without an "
    "account for the invited email one is made with `password` (no personal workspace: they "
    "land in the inviting one); with one, `password` is its password (401 when wrong, "
    "through the login throttle). Answers a bearer token. 400 naming `token` when the "
    "invitation is unknown, used, withdrawn or expired.",
    opt=PUBLIC,
)
async def accept_invitation(
    data: InvitationAccept, ctx: AppContext, request: Request
) -> InvitationAccepted:
    accepted = await invitations.accept_with_password(ctx, data.token, data.password, request)
    if accepted is None:
        raise ApiError(401, BAD_LOGIN, error="unauthorized", field="password")
    user, joined, new_account = accepted
    token = issue_token(ctx, user)
    return InvitationAccepted(
        user_id=user.id,
        new_account=new_account,
        workspace_id=joined.workspace_id,
        workspace_name=joined.workspace_name,
        role=joined.role,
        access_token=token.access_token,
        token_type=token.token_type,
        expires_in=token.expires_in,
    )


class AdminUsersController(Controller):
    path = "/api/v1/admin/users"
    opt = ADMIN
    tags = ["admin"]

    @post(
        "/", summary="Create a user (a password is generated and returned once when none is given)"
    )
    async def create(self, data: UserCreate, ctx: AppContext) -> UserCreated:
        user, generated = await service.create_user(
            ctx.db, ctx.settings, data.email, data.password, data.role, data.plan
        )
        return UserCreated(user=user, password=generated)

    @get("/", summary="List users, newest first")
    async def list(
        self,
        ctx: AppContext,
        cursor: str | None = None,
        limit: int | None = None,
        search: str | None = Parameter(default=None, max_length=254),
    ) -> UserPage:
        size = check_limit(limit)
        key = decode_cursor(cursor)
        before = int(key[0]) if key else None
        rows = await ctx.db.read(store.list_users, size + 1, before, search)
        users = [user_from_row(row) for row in rows[:size]]
        return UserPage(
            results=users, next=encode_cursor(users[-1].id) if len(rows) > size else None
        )

    @get("/{user_id:int}/", summary="One user")
    async def get_one(self, user_id: RowId, ctx: AppContext) -> User:
        user = await ctx.db.read(service.get_user, user_id)
        if user is None:
            raise ApiError(404, "No user with that id")
        return user

    @patch(
        "/{user_id:int}/",
        summary="Change a user's plan, role, active flag or password",
        description="A new password, role or active flag ends every token the user holds. "
        "Refused (400): deactivating or demoting yourself, and leaving no active admin.",
    )
    async def update(
        self,
        user_id: RowId,
        data: UserPatch,
        ctx: AppContext,
        request: Request[Caller, object, object],
    ) -> User:
        return await service.update_user(
            ctx.db, ctx.settings, user_id, data, actor_id=request.user.user_id, tokens=ctx.tokens
        )

    @post(
        "/{user_id:int}/sign-out-everywhere/",
        status_code=204,
        summary="End every token and UI session the user holds",
    )
    async def sign_out_everywhere(self, user_id: RowId, ctx: AppContext) -> None:
        await service.sign_out_everywhere(ctx.db, user_id, ctx.tokens)
