"""GET /metrics: Prometheus text format, guarded by `[metrics] token` (a bearer token).

With no token configured the route answers 404, as if it did not exist: metrics tell an
outsider how busy the appliance is and how its customers' endpoints fare. The numbers are
read from the database at scrape time (one read transaction), so they survive restarts
and need no bookkeeping on the hot paths.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from litestar import Request, Response, get
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric

from ..clock import unix_ms
from ..context import AppContext
from ..errors import ApiError
from .store import MetricsSnapshot, metrics_snapshot


class SnapshotCollector:
    """Turns one MetricsSnapshot into metric families (prometheus_client's collector protocol)."""

    def __init__(self, snapshot: MetricsSnapshot, version: str) -> None:
        self.snapshot = snapshot
        self.version = version

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        yield InfoMetricFamily(
            "qrstudio_build", "The running QRStudio Box.", value={"version": self.version}
        )
        yield CounterMetricFamily(
            "qrstudio_scans",
            "Scans recorded, over all dynamic QRs ever created.",
            value=snap.scans_total,
        )
        yield GaugeMetricFamily(
            "qrstudio_dynamic_qrs", "Dynamic QRs that are not deleted.", value=snap.dynamic_qrs
        )
        yield GaugeMetricFamily("qrstudio_users", "User accounts.", value=snap.users)
        yield GaugeMetricFamily(
            "qrstudio_events", "Events kept in the outbox (within retention).", value=snap.events
        )

        deliveries = GaugeMetricFamily(
            "qrstudio_deliveries",
            "Webhook deliveries kept (within retention), by status.",
            labels=["status"],
        )
        for status, count in snap.deliveries_by_status.items():
            deliveries.add_metric([status], count)
        yield deliveries
        attempts = GaugeMetricFamily(
            "qrstudio_delivery_attempts",
            "Rows of the delivery log (within retention), by outcome.",
            labels=["outcome"],
        )
        for outcome, count in snap.attempts_by_outcome.items():
            attempts.add_metric([outcome], count)
        yield attempts

        yield GaugeMetricFamily(
            "qrstudio_delivery_queue_depth",
            "Deliveries still pending (due or retrying later).",
            value=snap.deliveries_by_status.get("pending", 0),
        )
        yield GaugeMetricFamily(
            "qrstudio_delivery_queue_due",
            "Pending deliveries whose attempt is due now.",
            value=snap.queue_due,
        )
        yield GaugeMetricFamily(
            "qrstudio_delivery_oldest_pending_age_seconds",
            "Age of the oldest pending delivery; 0 when none is pending.",
            value=snap.oldest_pending_age_seconds,
        )

        webhooks = GaugeMetricFamily(
            "qrstudio_webhooks", "Webhook subscriptions by status.", labels=["status"]
        )
        for status, count in snap.webhooks_by_status.items():
            webhooks.add_metric([status], count)
        yield webhooks
        yield GaugeMetricFamily(
            "qrstudio_database_size_bytes",
            "Size of the SQLite database file (pages in use).",
            value=snap.database_bytes,
        )


# The classic text format, understood by every Prometheus (and VictoriaMetrics, Grafana
# Agent...). Litestar adds "; charset=utf-8".
CONTENT_TYPE = "text/plain; version=0.0.4"


def render(snapshot: MetricsSnapshot, version: str) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot, version))
    return generate_latest(registry)


def bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    # compare_digest: how much of a guessed token matched must not show in the timing.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request, ctx: AppContext) -> Response[bytes]:
    token = ctx.settings.metrics.token
    if not token:
        raise ApiError(404, "Not found")
    if not bearer_matches(request.headers.get("authorization"), token):
        raise ApiError(
            401,
            "metrics: a valid bearer token is required",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    snapshot = await ctx.db.read(metrics_snapshot, unix_ms(ctx.clock.now()))
    return Response(
        render(snapshot, ctx.version),
        media_type=CONTENT_TYPE,
        headers={"Cache-Control": "no-store"},
    )
