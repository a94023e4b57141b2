"""/api/v1/webhooks/ (the paths of docs/webhooks.md) and the public /docs/ip-ranges.json."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter

from ..context import AppContext
from ..params import RowId
from ..workspaces.rules import needs
from . import service
from .schemas import (
    AttemptDetail,
    DeliveryLogPage,
    IpRanges,
    RecoverRequest,
    RecoverResult,
    Webhook,
    WebhookCreate,
    WebhookList,
    WebhookPatch,
    WebhookWithSecret,
)


class WebhooksController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @post(
        "/",
        summary="Subscribe a URL to events (the secret is in this answer only)",
        opt=needs("owner", "webhooks"),
    )
    async def create(
        self, request: Request, ctx: AppContext, data: WebhookCreate
    ) -> WebhookWithSecret:
        return await service.create_webhook(ctx, request.user, data)

    @get("/", summary="Your webhooks", opt=needs("viewer", "read"))
    async def list_all(self, request: Request, ctx: AppContext) -> WebhookList:
        return WebhookList(results=await service.list_webhooks(ctx, request.user))

    @get("/{webhook_id:int}/", summary="One webhook", opt=needs("viewer", "read"))
    async def get_one(self, request: Request, ctx: AppContext, webhook_id: RowId) -> Webhook:
        return await service.get_webhook(ctx, request.user, webhook_id)

    @patch(
        "/{webhook_id:int}/",
        summary="Change url, description, events or status (active re-enables)",
        opt=needs("owner", "webhooks"),
    )
    async def update(
        self, request: Request, ctx: AppContext, webhook_id: RowId, data: WebhookPatch
    ) -> Webhook:
        return await service.update_webhook(ctx, request.user, webhook_id, data)

    @delete(
        "/{webhook_id:int}/",
        summary="Delete a webhook and its deliveries log",
        opt=needs("owner", "webhooks"),
    )
    async def remove(self, request: Request, ctx: AppContext, webhook_id: RowId) -> None:
        await service.delete_webhook(ctx, request.user, webhook_id)

    @get(
        "/{webhook_id:int}/deliveries/",
        summary="The deliveries log: one row per attempt, newest first",
        opt=needs("viewer", "read"),
    )
    async def deliveries(
        self,
        request: Request,
        ctx: AppContext,
        webhook_id: RowId,
        event: str | None = Parameter(default=None, description="only this event type"),
        outcome: str | None = Parameter(
            default=None, description="succeeded, failed, interrupted or sending"
        ),
        cursor: str | None = None,
        limit: int | None = None,
    ) -> DeliveryLogPage:
        return await service.list_deliveries(
            ctx, request.user, webhook_id, event=event, outcome=outcome, cursor=cursor, limit=limit
        )

    @get(
        "/{webhook_id:int}/deliveries/{attempt_id:int}/",
        summary="One attempt with its request and response",
        opt=needs("viewer", "read"),
    )
    async def attempt(
        self, request: Request, ctx: AppContext, webhook_id: RowId, attempt_id: RowId
    ) -> AttemptDetail:
        return await service.get_attempt(ctx, request.user, webhook_id, attempt_id)

    @post(
        "/{webhook_id:int}/deliveries/{attempt_id:int}/redeliver/",
        summary="Send that event again now",
        opt=needs("owner", "webhooks"),
    )
    async def redeliver(
        self, request: Request, ctx: AppContext, webhook_id: RowId, attempt_id: RowId
    ) -> AttemptDetail:
        return await service.redeliver(ctx, request.user, webhook_id, attempt_id)

    @post(
        "/{webhook_id:int}/recover/",
        status_code=202,
        summary="Re-queue every failed delivery since a time",
        opt=needs("owner", "webhooks"),
    )
    async def recover(
        self, request: Request, ctx: AppContext, webhook_id: RowId, data: RecoverRequest
    ) -> RecoverResult:
        return RecoverResult(await service.recover(ctx, request.user, webhook_id, data.since))

    @post(
        "/{webhook_id:int}/test/",
        summary="Send a synthetic scan.created now; returns the attempt",
        opt=needs("owner", "webhooks"),
    )
    async def test(self, request: Request, ctx: AppContext, webhook_id: RowId) -> AttemptDetail:
        return await service.send_test(ctx, request.user, webhook_id)

    @post(
        "/{webhook_id:int}/rotate/",
        status_code=200,
        summary="New secret (shown once); the old one stops at once",
        opt=needs("owner", "webhooks"),
    )
    async def rotate(
        self, request: Request, ctx: AppContext, webhook_id: RowId
    ) -> WebhookWithSecret:
        return await service.rotate_secret(ctx, request.user, webhook_id)


# `security=[{}]`: public in the schema (no bearer token needed).
@get(
    "/docs/ip-ranges.json",
    tags=["webhooks"],
    summary="Source addresses of webhook deliveries",
    security=[{}],
)
async def ip_ranges(ctx: AppContext) -> Response[IpRanges]:
    return Response(service.ip_ranges(ctx), headers={"Cache-Control": "public, max-age=3600"})
