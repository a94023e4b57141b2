"""Webhook test fixtures: an app whose webhooks reach local receivers, and helpers to drive it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from qrstudio_box import events
from qrstudio_box.clock import FakeClock
from qrstudio_box.webhooks.urlsafety import UnresolvableHost

from .receivers import TlsFiles


@pytest.fixture
def fake_clock() -> FakeClock:
    # Near real time, so the standardwebhooks verifier's 5-minute tolerance accepts signatures.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> TlsFiles:
    return TlsFiles.make(tmp_path_factory.mktemp("webhooks-tls"), names=("receiver.test",))


@pytest.fixture
def config(tmp_path, tls) -> dict[str, Any]:
    """Local receivers allowed, the test CA trusted, a short deadline for timeout tests."""
    return {
        "storage": {"data_dir": str(tmp_path / "data")},
        "webhooks": {
            "allow_http": True,
            "allow_private_targets": True,
            "ca_bundle": str(tls.ca_file),
            "timeout_seconds": 1.0,
            "egress_ip_ranges": ["203.0.113.0/24", "2001:db8:100::/48"],
        },
    }


class DNS:
    """A resolver tests control: names -> addresses; unknown names do not resolve."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {"receiver.test": ["127.0.0.1"]}

    async def __call__(self, host: str, port: int) -> list[str]:
        try:
            return list(self.names[host])
        except KeyError:
            raise UnresolvableHost(host) from None


@pytest.fixture
def dns(ctx) -> DNS:
    resolver = DNS()
    ctx.webhooks.resolver = resolver
    return resolver


@pytest.fixture
def pro(make_user):
    return make_user(plan="pro")


@pytest.fixture
def emit(client, ctx) -> Callable[..., events.Event]:
    """Store an event (and its deliveries) the way a domain does: emit() in a write."""

    def _emit(owner_id: int, type: str = "scan.created", data: dict | None = None) -> events.Event:
        payload = data if data is not None else {"short_id": "aBc12dEf", "country": "CA"}

        async def write():
            return await ctx.db.write(lambda tx: events.emit(tx, owner_id, type, payload))

        return client.blocking_portal.call(write)

    return _emit


@pytest.fixture
def run_due(client, ctx) -> Callable[[], int]:
    """Send everything due at the FakeClock's now and wait for all results."""
    return lambda: client.blocking_portal.call(ctx.webhooks.dispatcher.run_due)


@pytest.fixture
def subscribe(client, dns) -> Callable[..., dict]:
    def _subscribe(
        account, url: str, events: list[str] | None = None, description: str = ""
    ) -> dict:
        response = client.post(
            "/api/v1/webhooks/",
            headers=account.headers,
            json={"url": url, "events": events or ["scan.created"], "description": description},
        )
        assert response.status_code == 201, response.text
        return response.json()

    return _subscribe
