"""GET /metrics: off without a token, bearer-guarded with one, exact numbers in Prometheus text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from qrstudio_box import __version__
from qrstudio_box.config import settings_from_mapping
from qrstudio_box.ops.metrics import bearer_matches

TOKEN = "scrape-token-1234567890"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


@pytest.fixture
def config(tmp_path):
    return {"storage": {"data_dir": str(tmp_path / "data")}, "metrics": {"token": TOKEN}}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Basic {TOKEN}",
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
    ],
)
def test_a_wrong_or_missing_token_is_401(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert response.json()["error"] == "unauthorized"


def test_an_api_jwt_is_not_a_metrics_token(client, admin_headers):
    assert client.get("/metrics", headers=admin_headers).status_code == 401


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer {TOKEN}", True),
        (f"Bearer  {TOKEN} ", True),
        (f"Token {TOKEN}", False),
        (TOKEN, False),
    ],
)
def test_bearer_matching(header, ok):
    assert bearer_matches(header, TOKEN) is ok


def test_metrics_report_the_database_exactly(client, rows, fake_clock):
    now = fake_clock.now()
    rows.dynamic_qr(owner_id=1, scan_count=40)
    rows.dynamic_qr(owner_id=1, scan_count=2)
    rows.dynamic_qr(owner_id=1, scan_count=5, deleted=True)  # its scans still happened
    active = rows.webhook(1, "active")
    rows.webhook(1, "active")
    rows.webhook(1, "degraded")
    for _ in range(3):
        event = rows.event(1, now)
        done = rows.delivery(active, event, now - timedelta(minutes=5))
        rows.attempt(done, now - timedelta(minutes=5), outcome="failed")
        rows.attempt(done, now - timedelta(minutes=4))
    failed_event = rows.event(1, now)
    rows.delivery(active, failed_event, now - timedelta(hours=3), status="failed")
    oldest = rows.delivery(
        active,
        rows.event(1, now),
        now - timedelta(minutes=90),
        status="pending",
        next_attempt=now + timedelta(minutes=30),
    )
    rows.attempt(oldest, now - timedelta(minutes=60), outcome="interrupted")
    rows.delivery(
        active, rows.event(1, now), now - timedelta(seconds=10), status="pending", next_attempt=now
    )

    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    got = samples(response.text)

    assert got[("qrstudio_build_info", (("version", __version__),))] == 1
    assert got[("qrstudio_scans_total", ())] == 47
    assert got[("qrstudio_dynamic_qrs", ())] == 2
    assert got[("qrstudio_users", ())] == 1
    assert got[("qrstudio_events", ())] == 6
    assert got[("qrstudio_deliveries", (("status", "succeeded"),))] == 3
    assert got[("qrstudio_deliveries", (("status", "failed"),))] == 1
    assert got[("qrstudio_deliveries", (("status", "pending"),))] == 2
    assert got[("qrstudio_delivery_attempts", (("outcome", "succeeded"),))] == 3
    assert got[("qrstudio_delivery_attempts", (("outcome", "failed"),))] == 3
    assert got[("qrstudio_delivery_attempts", (("outcome", "interrupted"),))] == 1
    assert got[("qrstudio_delivery_attempts", (("outcome", "sending"),))] == 0
    assert got[("qrstudio_delivery_queue_depth", ())] == 2
    assert got[("qrstudio_delivery_queue_due", ())] == 1
    assert got[("qrstudio_delivery_oldest_pending_age_seconds", ())] == 90 * 60
    assert got[("qrstudio_webhooks", (("status", "active"),))] == 2
    assert got[("qrstudio_webhooks", (("status", "degraded"),))] == 1
    assert got[("qrstudio_webhooks", (("status", "disabled"),))] == 0
    assert got[("qrstudio_database_size_bytes", ())] > 0

    # The clock moves; the age follows it.
    fake_clock.advance(minutes=10)
    later = samples(client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text)
    assert later[("qrstudio_delivery_oldest_pending_age_seconds", ())] == 100 * 60


def test_an_empty_appliance_reports_zeros_for_every_label(client):
    got = samples(client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text)
    for status in ("active", "degraded", "disabled"):
        assert got[("qrstudio_webhooks", (("status", status),))] == 0
    for status in ("pending", "succeeded", "failed"):
        assert got[("qrstudio_deliveries", (("status", status),))] == 0
    assert got[("qrstudio_delivery_oldest_pending_age_seconds", ())] == 0


def test_metrics_are_not_in_the_public_api_schema(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "/metrics" not in paths


def test_token_from_the_environment():
    settings = settings_from_mapping({}, env={"QRSTUDIO_METRICS_TOKEN": "from-env"})
    assert settings.metrics.token == "from-env"


def test_the_real_server_serves_metrics_with_a_token_from_the_environment(server_factory):
    import httpx

    server = server_factory(env={"QRSTUDIO_METRICS_TOKEN": "env-token-0987654321"}).start()
    assert httpx.get(f"{server.base_url}/metrics").status_code == 401
    response = httpx.get(
        f"{server.base_url}/metrics", headers={"Authorization": "Bearer env-token-0987654321"}
    )
    assert response.status_code == 200
    got = samples(response.text)
    assert got[("qrstudio_users", ())] == 1  # the bootstrapped admin
    assert got[("qrstudio_build_info", (("version", __version__),))] == 1
    assert server.stop() == 0
