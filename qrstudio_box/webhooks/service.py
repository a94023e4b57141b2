"""Webhook rules that need I/O. The API and the admin UI both call these functions.

Every function takes the AppContext and the Caller (``workspaces.schemas.Caller``), checks
the plan, scopes every lookup by the workspace (another workspace's id is a 404), and raises
``ApiError`` with the one JSON error shape on bad input.
"""

from __future__ import annotations

import ipaddress
import json
import secrets as random_tokens
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from ..clock import from_unix_ms, iso_ms, iso_s, parse_iso, unix_ms
from ..errors import ApiError, FieldProblems, bad_request
from ..events import EVENT_TYPES, encode_event, new_event_id
from ..pagination import check_limit, decode_cursor, encode_cursor
from ..params import MAX_ROW_ID
from . import health, policy, store
from .dispatcher import Dispatcher
from .schemas import (
    AttemptDetail,
    DeliveryLogEntry,
    DeliveryLogPage,
    IpRanges,
    Webhook,
    WebhookCreate,
    WebhookPatch,
    WebhookWithSecret,
)
from .secretbox import SecretBox
from .signing import new_secret
from .transport import DeliveryClient
from .urlsafety import Resolver, UnsafeUrl, UrlPolicy, operator_hint, vet_url

if TYPE_CHECKING:
    from ..context import AppContext
    from ..events import Subscriber
    from ..workspaces.schemas import Caller

PLAN_REQUIRED = "Webhooks require Pro plan or higher"
# Who can change that, in the API's answer (issue 16 point 7: no "ask your administrator").
PLAN_REQUIRED_DETAIL = f"{PLAN_REQUIRED}: an admin of this box changes the workspace's plan"
MAX_DESCRIPTION = 500
OUTCOMES = ("succeeded", "failed", "interrupted", "sending")


@dataclass(eq=False)
class WebhooksRuntime:
    """What the domain keeps while running: ``ctx.webhooks``."""

    url_policy: UrlPolicy
    resolver: Resolver  # swap in tests; used at create/update AND at connect time
    secret_box: SecretBox
    client: DeliveryClient
    dispatcher: Dispatcher
    # Its subscription to the app's events.Outbox (outbox.subscribe), dropped at stop.
    fan_out: Subscriber | None = None


# -- shapes ---------------------------------------------------------------------------------


def _iso_from_ms(value: int | None) -> str | None:
    return iso_s(from_unix_ms(value)) if value is not None else None


def webhook_from_row(row) -> Webhook:
    return Webhook(
        id=row["id"],
        url=row["url"],
        description=row["description"],
        events=json.loads(row["events"]),
        status=row["status"],
        consecutive_failures=row["consecutive_failures"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        failing_since=_iso_from_ms(row["failing_since_ms"]),
        disabled_at=row["disabled_at"],
        last_success_at=row["last_success_at"],
        last_failure_at=row["last_failure_at"],
    )


def with_secret(webhook: Webhook, secret: str) -> WebhookWithSecret:
    fields = msgspec.structs.asdict(webhook)
    return WebhookWithSecret(secret=secret, **fields)


def log_entry_from_row(row) -> DeliveryLogEntry:
    return DeliveryLogEntry(
        id=row["id"],
        event=row["event_type"],
        response_status=row["response_status"],
        duration_ms=row["duration_ms"],
        error=row["error"],
        created_at=row["started_at"],
        outcome=row["outcome"],
        attempt=row["attempt_number"],
        event_id=row["event_id"],
        delivery_id=row["delivery_id"],
        kind=row["kind"],
    )


def attempt_from_row(row) -> AttemptDetail:
    entry = msgspec.structs.asdict(log_entry_from_row(row))
    return AttemptDetail(
        **entry,
        finished_at=row["finished_at"],
        request_headers=json.loads(row["request_headers"]),
        request_body=bytes(row["request_body"] or b"").decode("utf-8", "replace"),
        response_headers=json.loads(row["response_headers"]),
        response_body=bytes(row["response_body"] or b"").decode("utf-8", "replace"),
    )


# -- input rules ----------------------------------------------------------------------------


def require_plan(ctx: AppContext, caller: Caller) -> None:
    if not policy.plan_has_webhooks(ctx.settings, caller.plan):
        raise ApiError(403, PLAN_REQUIRED_DETAIL)


def check_events(events: list[str]) -> list[str]:
    if not events:
        raise bad_request("events", f"choose at least one event: {', '.join(EVENT_TYPES)}")
    for event in events:
        if event not in EVENT_TYPES:
            raise bad_request(
                "events", f"unknown event {event!r}; known events: {', '.join(EVENT_TYPES)}"
            )
    return list(dict.fromkeys(events))  # duplicates collapse, order kept


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise bad_request("description", f"must be at most {MAX_DESCRIPTION} characters")
    # Like QR names: control characters only hide things in logs and UIs; newlines and tabs
    # are fine in a description.
    if any((ord(ch) < 32 and ch not in "\n\t") or ord(ch) == 127 for ch in description):
        raise bad_request("description", "must not contain control characters")
    return description


async def check_url(ctx: AppContext, url: str) -> str:
    runtime = ctx.webhooks
    try:
        await vet_url(url, runtime.url_policy, runtime.resolver)
    except UnsafeUrl as refused:
        hint = operator_hint(refused.switch) if refused.switch else ""
        raise ApiError(400, str(refused) + hint, field="url") from None
    return url


def _is_id(value: object) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ROW_ID


async def _owned(ctx: AppContext, caller: Caller, webhook_id: int):
    require_plan(ctx, caller)
    if not _is_id(webhook_id):
        raise ApiError(404, "No webhook with that id")
    row = await ctx.db.read(store.get_webhook, caller.owner_id, webhook_id)
    if row is None:
        raise ApiError(404, "No webhook with that id")
    return row


# -- subscriptions --------------------------------------------------------------------------


async def list_webhooks(ctx: AppContext, caller: Caller) -> list[Webhook]:
    require_plan(ctx, caller)
    return [
        webhook_from_row(row) for row in await ctx.db.read(store.list_webhooks, caller.owner_id)
    ]


async def get_webhook(ctx: AppContext, caller: Caller, webhook_id: int) -> Webhook:
    return webhook_from_row(await _owned(ctx, caller, webhook_id))


async def create_webhook(ctx: AppContext, caller: Caller, data: WebhookCreate) -> WebhookWithSecret:
    require_plan(ctx, caller)
    problems = FieldProblems()  # every wrong field in one answer (issue 15.8)
    events = problems.check(check_events, data.events)
    description = problems.check(check_description, data.description)
    url = await problems.check_async(check_url, ctx, data.url)
    problems.raise_if_any()
    limit = ctx.settings.plan(caller.plan).max_webhooks
    secret = new_secret()
    sealed = ctx.webhooks.secret_box.seal(secret)

    def insert(tx) -> int:
        # counted inside the write transaction, so two racing creates cannot pass the limit
        if store.count_webhooks(tx.conn, caller.owner_id) >= limit:
            raise ApiError(
                403,
                f"Your plan ({caller.plan}) allows at most {limit} webhooks; "
                "an admin of this box changes the workspace's plan",
            )
        return store.insert_webhook(
            tx, caller.owner_id, url, description, json.dumps(events), sealed, iso_s(tx.clock.now())
        )

    webhook_id = await ctx.db.write(insert)
    return with_secret(await get_webhook(ctx, caller, webhook_id), secret)


async def update_webhook(
    ctx: AppContext, caller: Caller, webhook_id: int, data: WebhookPatch
) -> Webhook:
    await _owned(ctx, caller, webhook_id)
    changes: dict[str, Any] = {}
    problems = FieldProblems()  # every wrong field in one answer (issue 15.8)
    if data.url is not msgspec.UNSET:
        changes["url"] = await problems.check_async(check_url, ctx, data.url)
    if data.description is not msgspec.UNSET:
        changes["description"] = problems.check(check_description, data.description)
    if data.events is not msgspec.UNSET:
        events = problems.check(check_events, data.events)
        changes["events"] = json.dumps(events)
    status = data.status
    if status is not msgspec.UNSET and status not in (policy.ACTIVE, policy.DISABLED):
        problems.add("status", 'status: must be "active" (re-enable) or "disabled" (pause)')
    problems.raise_if_any()

    def apply(tx) -> None:
        row = store.get_webhook(tx.conn, caller.owner_id, webhook_id)
        if row is None:
            raise ApiError(404, "No webhook with that id")
        now = tx.clock.now()
        if status == policy.ACTIVE:
            changes.update(health.reenabled_columns())
        elif status == policy.DISABLED and row["status"] != policy.DISABLED:
            health.disable(tx, webhook_id, now, health.DISABLED_BY_OWNER, changes)
            return
        store.update_webhook(tx, webhook_id, changes, iso_s(now))

    await ctx.db.write(apply)
    return await get_webhook(ctx, caller, webhook_id)


async def reenable_webhook(ctx: AppContext, caller: Caller, webhook_id: int) -> Webhook:
    """The dashboard's Re-enable: same as PATCH {"status": "active"}."""
    return await update_webhook(ctx, caller, webhook_id, WebhookPatch(status=policy.ACTIVE))


async def delete_webhook(ctx: AppContext, caller: Caller, webhook_id: int) -> None:
    require_plan(ctx, caller)
    if not await ctx.db.write(store.delete_webhook, caller.owner_id, webhook_id):
        raise ApiError(404, "No webhook with that id")


async def rotate_secret(ctx: AppContext, caller: Caller, webhook_id: int) -> WebhookWithSecret:
    """A new secret; the old one stops signing at once (queued deliveries sign when claimed)."""
    await _owned(ctx, caller, webhook_id)
    secret = new_secret()
    sealed = ctx.webhooks.secret_box.seal(secret)

    def apply(tx) -> None:
        store.update_webhook(tx, webhook_id, {"secret_sealed": sealed}, iso_s(tx.clock.now()))

    await ctx.db.write(apply)
    return with_secret(await get_webhook(ctx, caller, webhook_id), secret)


# -- the deliveries log ---------------------------------------------------------------------


async def list_deliveries(
    ctx: AppContext,
    caller: Caller,
    webhook_id: int,
    *,
    event: str | None = None,
    outcome: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> DeliveryLogPage:
    await _owned(ctx, caller, webhook_id)
    if event is not None and event not in EVENT_TYPES:
        raise bad_request(
            "event", f"unknown event {event!r}; known events: {', '.join(EVENT_TYPES)}"
        )
    if outcome is not None and outcome not in OUTCOMES:
        raise bad_request("outcome", f"must be one of {', '.join(OUTCOMES)}")
    size = check_limit(limit)
    key = decode_cursor(cursor)
    before = key[0] if key else None
    if before is not None and not _is_id(before):
        raise bad_request("cursor", "is not a cursor this server returned")
    rows = await ctx.db.read(store.list_attempts, webhook_id, size + 1, before, event, outcome)
    entries = [log_entry_from_row(row) for row in rows[:size]]
    return DeliveryLogPage(entries, encode_cursor(entries[-1].id) if len(rows) > size else None)


async def get_attempt(
    ctx: AppContext, caller: Caller, webhook_id: int, attempt_id: int
) -> AttemptDetail:
    await _owned(ctx, caller, webhook_id)
    row = (
        await ctx.db.read(store.get_attempt, webhook_id, attempt_id) if _is_id(attempt_id) else None
    )
    if row is None:
        raise ApiError(404, "No delivery attempt with that id")
    return attempt_from_row(row)


async def get_attempts(
    ctx: AppContext, caller: Caller, webhook_id: int, attempt_ids: list[int]
) -> list[AttemptDetail]:
    """Several attempts, whole, in one read (the admin UI's log page opens them in place)."""
    await _owned(ctx, caller, webhook_id)
    rows = await ctx.db.read(store.get_attempts, webhook_id, [i for i in attempt_ids if _is_id(i)])
    return [attempt_from_row(row) for row in rows]


# -- sending now: test, redeliver, recover ---------------------------------------------------


def sample_scan(owner_id: int, now: datetime) -> dict[str, Any]:
    """A realistic scan.created payload (docs/webhooks.md's fields) for the test trigger."""
    return {
        "short_id": "tEsT0001",
        "name": "Test event from QRStudio Box",
        "owner_id": owner_id,
        "destination_url": "https://example.com/menus/spring-2026",
        "scanned_at": iso_ms(now),
        "country": "CA",
        "city": "Montreal",
        "device_family": "iPhone",
        "os_family": "iOS",
        "browser_family": "Mobile Safari",
        "referer": "https://google.com/",
        "user_agent": (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
        ),
        "is_bot": False,
        "variant_label": "(default)",
    }


async def _send_new_delivery(ctx: AppContext, webhook_id: int, make) -> AttemptDetail:
    """Insert a delivery already leased to us, sign it, send it at once, return its attempt."""
    dispatcher = ctx.webhooks.dispatcher
    token = random_tokens.token_hex(8)

    def prepare(tx):
        now = tx.clock.now()
        delivery_id = make(tx, now, token, unix_ms(now) + dispatcher.lease_ms)
        return dispatcher.prepare(tx, store.sendable(tx, delivery_id), token, now)

    try:
        job = await ctx.db.write(prepare)
    except sqlite3.IntegrityError:  # the webhook was deleted a moment ago
        raise ApiError(404, "No webhook with that id") from None
    attempt_id = await dispatcher.send(job)
    row = await ctx.db.read(store.get_attempt, webhook_id, attempt_id)
    return attempt_from_row(row)


async def send_test(ctx: AppContext, caller: Caller, webhook_id: int) -> AttemptDetail:
    """A synthetic scan.created with a fresh evt_ id, sent now and logged like any attempt.

    A test is a diagnostic: one attempt, no retries, no effect on the endpoint's health, and it
    is allowed on a disabled endpoint (to check it before re-enabling).
    """
    await _owned(ctx, caller, webhook_id)

    def make(tx, now, token, lease_until_ms):
        event_id = new_event_id()
        body = encode_event(event_id, "scan.created", iso_s(now), sample_scan(caller.owner_id, now))
        return store.insert_delivery(
            tx,
            webhook_id,
            event_seq=None,
            event_id=event_id,
            event_type="scan.created",
            test_body=body,
            kind="test",
            now_ms=unix_ms(now),
            now=iso_s(now),
            lease_until_ms=lease_until_ms,
            lease_token=token,
        )

    return await _send_new_delivery(ctx, webhook_id, make)


async def redeliver(
    ctx: AppContext, caller: Caller, webhook_id: int, attempt_id: int
) -> AttemptDetail:
    """Send that attempt's event again now, as a new delivery (with retries if it fails)."""
    row = await _owned(ctx, caller, webhook_id)
    if row["status"] == policy.DISABLED:
        raise ApiError(409, 'The webhook is disabled: re-enable it first (PATCH status "active")')
    attempt = (
        await ctx.db.read(store.get_attempt, webhook_id, attempt_id) if _is_id(attempt_id) else None
    )
    if attempt is None:
        raise ApiError(404, "No delivery attempt with that id")

    def make(tx, now, token, lease_until_ms):
        is_test = attempt["event_seq"] is None
        return store.insert_delivery(
            tx,
            webhook_id,
            event_seq=attempt["event_seq"],
            event_id=attempt["event_id"],
            event_type=attempt["event_type"],
            test_body=bytes(attempt["request_body"]) if is_test else None,
            kind="test" if is_test else "redeliver",
            now_ms=unix_ms(now),
            now=iso_s(now),
            lease_until_ms=lease_until_ms,
            lease_token=token,
        )

    return await _send_new_delivery(ctx, webhook_id, make)


def parse_since(value: str | int) -> datetime:
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise ValueError("negative")
            moment = from_unix_ms(value * 1000)
        else:
            moment = parse_iso(str(value))
        unix_ms(moment)  # representable as the integer we compare with
    except (ValueError, OverflowError, OSError):
        raise bad_request("since", "must be an ISO 8601 timestamp or unix seconds") from None
    return moment


async def recover(ctx: AppContext, caller: Caller, webhook_id: int, since: str | int) -> int:
    """Re-queue every failed delivery created since `since`; returns how many."""
    row = await _owned(ctx, caller, webhook_id)
    moment = parse_since(since)
    if row["status"] == policy.DISABLED:
        raise ApiError(409, 'The webhook is disabled: re-enable it first (PATCH status "active")')

    def apply(tx) -> int:
        count = store.requeue_failed_since(tx, webhook_id, unix_ms(moment), unix_ms(tx.clock.now()))
        if count:
            tx.on_commit(ctx.webhooks.dispatcher.wake)
        return count

    return await ctx.db.write(apply)


# -- jobs and public info -------------------------------------------------------------------


async def apply_health_rules(ctx: AppContext) -> list[int]:
    """The periodic job: disable endpoints failing for 24 h even when no new event arrives."""
    return await ctx.db.write(lambda tx: health.apply_time_rules(tx, tx.clock.now()))


def ip_ranges(ctx: AppContext) -> IpRanges:
    cidrs = [
        str(ipaddress.ip_network(c, strict=False)) for c in ctx.settings.webhooks.egress_ip_ranges
    ]
    return IpRanges(
        description="Source addresses of QRStudio Box webhook deliveries, for firewall allow-lists."
        + ("" if cidrs else " None are configured: ask the operator."),
        webhooks=cidrs,
        ipv4=[c for c in cidrs if ipaddress.ip_network(c).version == 4],
        ipv6=[c for c in cidrs if ipaddress.ip_network(c).version == 6],
    )
