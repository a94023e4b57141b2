"""Usage and credit packs over HTTP: GET /api/v1/usage/, the admin usage and credits routes."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath

from ..clock import iso_s
from ..context import AppContext
from ..db import Tx
from ..errors import ApiError
from . import quota, service
from .guards import admin_only
from .schemas import User

UserRequest = Request[User, object, object]


class CreditGrantIn(msgspec.Struct, forbid_unknown_fields=True):
    # Generations added to the user's current month (UTC).
    amount: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)]
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class CreditGrantOut(msgspec.Struct):
    id: int
    owner_id: int
    period: str
    amount: int
    note: str
    granted_by: int | None
    created_at: str
    usage: quota.Usage


@get("/api/v1/usage/", tags=["quotas"], summary="The caller's generations, credits and scans this month")
async def my_usage(request: UserRequest, ctx: AppContext) -> quota.Usage:
    return await ctx.quotas.usage(request.user)


class AdminQuotaController(Controller):
    path = "/api/v1/admin/users"
    guards = [admin_only]
    tags = ["admin", "quotas"]

    @get("/{user_id:int}/usage/", summary="A user's generations, credits and scans this month")
    async def usage(self, user_id: FromPath[int], ctx: AppContext) -> quota.Usage:
        return await ctx.quotas.usage(await _user_or_404(ctx, user_id))

    @post("/{user_id:int}/credits/", status_code=201, summary="Grant a credit pack for the current month")
    async def grant(
        self, user_id: FromPath[int], data: CreditGrantIn, request: UserRequest, ctx: AppContext
    ) -> CreditGrantOut:
        user = await _user_or_404(ctx, user_id)
        now = ctx.clock.now()

        def write(tx: Tx) -> tuple[int, str]:
            grant_id, period, _ = quota.grant_credits(
                tx, user.id, data.amount, data.note, request.user.id, now
            )
            return grant_id, period

        grant_id, period = await ctx.db.write(write)
        return CreditGrantOut(
            id=grant_id,
            owner_id=user.id,
            period=period,
            amount=data.amount,
            note=data.note,
            granted_by=request.user.id,
            created_at=iso_s(now),
            usage=await ctx.quotas.usage(user),
        )


async def _user_or_404(ctx: AppContext, user_id: int) -> User:
    user = await ctx.db.read(service.get_user, user_id)
    if user is None:
        raise ApiError(404, "No user with that id")
    return user
