"""Webhook shapes at the API's edge (msgspec). Only create and rotate carry the secret."""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType


class WebhookCreate(Struct, forbid_unknown_fields=True):
    url: str
    events: list[str]
    description: str = ""


class WebhookPatch(Struct, forbid_unknown_fields=True):
    url: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    events: list[str] | UnsetType = UNSET
    # "active" re-enables a degraded or disabled webhook and clears its failure streak;
    # "disabled" pauses it.
    status: str | UnsetType = UNSET


class Webhook(Struct, kw_only=True):
    id: int
    url: str
    description: str
    events: list[str]
    status: str
    consecutive_failures: int
    created_at: str
    updated_at: str
    failing_since: str | None = None
    disabled_at: str | None = None
    last_success_at: str | None = None
    last_failure_at: str | None = None


class WebhookWithSecret(Struct, kw_only=True):
    """The answer of create and rotate: docs/webhooks.md's field order, the secret shown once."""

    id: int
    url: str
    description: str
    events: list[str]
    secret: str
    status: str
    consecutive_failures: int
    created_at: str
    updated_at: str
    failing_since: str | None = None
    disabled_at: str | None = None
    last_success_at: str | None = None
    last_failure_at: str | None = None


class WebhookList(Struct):
    results: list[Webhook]


class DeliveryLogEntry(Struct, kw_only=True):
    """One attempt. The fields of docs/webhooks.md first, then what the dashboard needs."""

    id: int
    event: str
    response_status: int | None
    duration_ms: int | None
    error: str
    created_at: str
    outcome: str  # sending | succeeded | failed | interrupted
    attempt: int
    event_id: str
    delivery_id: int
    kind: str  # event | redeliver | test


class DeliveryLogPage(Struct):
    results: list[DeliveryLogEntry]
    next: str | None = None


class AttemptDetail(Struct, kw_only=True):
    id: int
    event: str
    response_status: int | None
    duration_ms: int | None
    error: str
    created_at: str
    outcome: str
    attempt: int
    event_id: str
    delivery_id: int
    kind: str
    finished_at: str | None
    request_headers: dict[str, str]  # signatures redacted
    request_body: str
    response_headers: dict[str, str]
    response_body: str  # the first 4 KB, decoded as UTF-8 (invalid bytes replaced)


class RecoverRequest(Struct, forbid_unknown_fields=True):
    # ISO 8601 (`2026-05-09T14:00:00Z`) or unix seconds
    since: str | int


class RecoverResult(Struct):
    requeued: int


class IpRanges(Struct, kw_only=True):
    """GET /docs/ip-ranges.json: where deliveries come from, for firewall allow-lists."""

    description: str
    webhooks: list[str]  # every CIDR
    ipv4: list[str]
    ipv6: list[str]
