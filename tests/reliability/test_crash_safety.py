"""Crash safety: the real server, SIGKILLed in the middle of a scan burst, loses nothing.

One pro user with four dynamic QRs and four webhooks:

* ``all``   -> flaky receiver A, subscribed to scan.created + dynamic_qr.created/updated;
* ``scans`` -> flaky receiver B, subscribed to scan.created only;
* ``quiet`` -> receiver Q, subscribed to dynamic_qr.updated only (gets no scan events);
* ``off``   -> receiver D, subscribed to everything, then disabled (PATCH status) before the burst.

Eight threads scan (each request with its own User-Agent, so a stored row names the request that
made it) while another thread renames QRs; when about 40% of the scans have been answered the
process is SIGKILLed. The flaky receivers answer 500 to every third request until the kill; those
deliveries are retried by the normal schedule (one minute after the failure, real time: the
subprocess runs on the system clock), so the test waits for that minute instead of cheating it.
After the kill the receivers answer 200.

Then, on the restarted process (same data_dir): a scan answered 302 is stored exactly once; an
unanswered one at most once; every stored event (scan.created == stored scans; each acknowledged
rename) reached every subscribed, non-disabled endpoint at least once with a 2xx; the disabled
endpoint got nothing after it was disabled; `PRAGMA integrity_check` is ok.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from ..conftest import MEMBER_PASSWORD
from ..webhooks.receivers import ReceivedRequest, Receiver, Reply

THREADS = 8
SCANS_PER_THREAD = 150
KILL_AFTER_ANSWERED = int(THREADS * SCANS_PER_THREAD * 0.4)
RETRY_DELAY = 60.0  # policy.RETRY_DELAYS[0]: the first retry after a failed attempt
SLACK = 30.0  # for a loaded 2-core machine: ticks are 1 s apart, the backlog drains after that

CONFIG = {
    "webhooks": {"allow_http": True, "allow_private_targets": True, "timeout_seconds": 5.0},
    "plans": {
        "pro": {
            "rank": 10,
            "monthly_quota": 100000,
            "webhooks": True,
            "max_webhooks": 10,
            "max_dynamic_qrs": 1000,
            "api_rate_limit": 100000,
        }
    },
    "accounts": {"default_plan": "pro"},  # [plans] replaces the default plans: only pro exists
}


class FlakyReceiver(Receiver):
    """Answers 500 to every `every`-th request while `flaky`; 200 otherwise. Records the event
    ids (webhook-id header) of the requests it answered with a 2xx, and when it last failed."""

    def __init__(self, every: int = 3) -> None:
        super().__init__(responder=self._answer)
        self.every = every
        self.flaky = True
        self.count = 0
        self.last_failure = 0.0  # time.monotonic()
        self.acked: Counter[str] = Counter()
        self.acked_types: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def _answer(self, request: ReceivedRequest) -> Reply:
        with self._count_lock:
            self.count += 1
            if self.flaky and self.count % self.every == 0:
                self.last_failure = time.monotonic()
                return Reply(500, body=b"flaky")
            self.acked[request.headers["webhook-id"]] += 1
            self.acked_types[request.headers["x-qrstudio-event"]] += 1
            return Reply(200)

    def acked_ids(self) -> set[str]:
        with self._count_lock:  # receiver threads add to the Counter while the test reads it
            return set(self.acked)


@dataclass
class Burst:
    """What the clients saw: the User-Agents answered 302, and those with no answer."""

    answered: set[str] = field(default_factory=set)
    unanswered: set[str] = field(default_factory=set)
    odd: list[tuple[str, int]] = field(default_factory=list)  # any status but 302
    renamed: list[str] = field(default_factory=list)  # names acknowledged with 200
    lock: threading.Lock = field(default_factory=threading.Lock)


def scanner(
    base_url: str, short_ids: list[str], thread: int, burst: Burst, stop: threading.Event
) -> None:
    with httpx.Client(base_url=base_url, timeout=15.0) as client:
        for n in range(SCANS_PER_THREAD):
            agent = f"CrashTest/1.0 (thread {thread}; scan {n})"
            try:
                response = client.get(
                    f"/r/{short_ids[n % len(short_ids)]}",
                    headers={"User-Agent": agent, "Referer": f"https://example.com/{thread}/{n}"},
                )
            except httpx.HTTPError:
                with burst.lock:
                    burst.unanswered.add(agent)
                return  # the server is gone: this thread's burst ends here
            with burst.lock:
                if response.status_code == 302:
                    burst.answered.add(agent)
                else:
                    burst.odd.append((agent, response.status_code))
            if stop.is_set():
                return


def renamer(
    base_url: str, headers: dict, short_ids: list[str], burst: Burst, stop: threading.Event
) -> None:
    with httpx.Client(base_url=base_url, headers=headers, timeout=15.0) as client:
        for n in range(10_000):
            name = f"renamed-{n}"
            try:
                response = client.patch(
                    f"/api/v1/dynamic-qrs/{short_ids[n % len(short_ids)]}/", json={"name": name}
                )
            except httpx.HTTPError:
                return
            if response.status_code == 200:
                burst.renamed.append(name)
            else:
                burst.odd.append((name, response.status_code))
            if stop.is_set():
                return


def wait_until(predicate, deadline: float, what: str, every: float = 0.2) -> None:
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    assert predicate(), f"timed out waiting for {what}"


def test_sigkill_mid_burst_loses_no_scan_and_no_delivery(server_factory):
    flaky_a, flaky_b = FlakyReceiver(), FlakyReceiver()
    quiet, off = Receiver(), Receiver()
    for receiver in (flaky_a, flaky_b, quiet, off):
        receiver.start()
    try:
        server = server_factory(config=CONFIG).start()
        base = server.base_url
        admin = server.token()
        made = httpx.post(
            f"{base}/api/v1/admin/users/",
            headers=admin,
            json={"email": "crash@example.com", "password": MEMBER_PASSWORD, "plan": "pro"},
        )
        assert made.status_code == 201, made.text
        owner = server.token("crash@example.com", MEMBER_PASSWORD)

        def subscribe(url: str, events: list[str]) -> int:
            response = httpx.post(
                f"{base}/api/v1/webhooks/",
                headers=owner,
                json={"url": url, "events": events, "description": "crash test"},
            )
            assert response.status_code == 201, response.text
            return response.json()["id"]

        every = ["scan.created", "dynamic_qr.created", "dynamic_qr.updated"]
        hooks = {
            "all": subscribe(flaky_a.url, every),
            "scans": subscribe(flaky_b.url, ["scan.created"]),
            "quiet": subscribe(quiet.url, ["dynamic_qr.updated"]),
            "off": subscribe(off.url, every),
        }
        short_ids = []
        for n in range(4):
            response = httpx.post(
                f"{base}/api/v1/dynamic-qrs/",
                headers=owner,
                json={"name": f"crash-{n}", "destination_url": f"https://example.com/landing/{n}"},
            )
            assert response.status_code == 201, response.text
            short_ids.append(response.json()["short_id"])

        # The endpoint to disable works first (it gets the four dynamic_qr.created), then is paused.
        off.wait_for(4, timeout=30)
        response = httpx.patch(
            f"{base}/api/v1/webhooks/{hooks['off']}/", headers=owner, json={"status": "disabled"}
        )
        assert response.status_code == 200 and response.json()["status"] == "disabled", (
            response.text
        )
        conn = sqlite3.connect(server.database_path, timeout=30)
        conn.row_factory = sqlite3.Row

        def off_deliveries() -> list[tuple]:
            return [
                tuple(r)
                for r in conn.execute(
                    "SELECT id, status FROM deliveries WHERE webhook_id = ? ORDER BY id",
                    (hooks["off"],),
                )
            ]

        wait_until(
            lambda: all(s == "succeeded" for _, s in off_deliveries()),
            time.monotonic() + 30,
            "the disabled endpoint's earlier deliveries to finish",
        )
        off_before = (len(off.requests), off_deliveries())

        # The burst, and the kill in its middle.
        burst, stop = Burst(), threading.Event()
        workers = [
            threading.Thread(target=scanner, args=(base, short_ids, t, burst, stop))
            for t in range(THREADS)
        ]
        workers.append(threading.Thread(target=renamer, args=(base, owner, short_ids, burst, stop)))
        for worker in workers:
            worker.start()
        wait_until(
            lambda: (
                len(burst.answered) >= KILL_AFTER_ANSWERED or not any(w.is_alive() for w in workers)
            ),
            time.monotonic() + 60,
            "the burst to get going",
            every=0.005,
        )
        server.kill()
        killed_at = time.monotonic()
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
            assert not worker.is_alive()
        for receiver in (flaky_a, flaky_b):
            receiver.flaky = False  # from now on every delivery is accepted
        assert burst.odd == [], burst.odd[:5]
        assert len(burst.answered) >= KILL_AFTER_ANSWERED, "the kill came after the burst had ended"
        assert len(burst.answered) < THREADS * SCANS_PER_THREAD, (
            "the kill did not interrupt the burst"
        )
        assert flaky_a.last_failure and flaky_b.last_failure, (
            "the receivers never failed a delivery"
        )

        server.start()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        # Scans: answered ones exactly once, unanswered ones at most once, nothing else.
        stored = Counter(row[0] for row in conn.execute("SELECT user_agent FROM scans"))
        assert [agent for agent in burst.answered if stored[agent] != 1] == []
        assert {agent: n for agent, n in stored.items() if n > 1} == {}
        assert set(stored) <= burst.answered | burst.unanswered
        # Each stored scan has exactly one scan.created event (same transaction), and vice versa.
        scan_events = Counter(
            row[0]
            for row in conn.execute(
                "SELECT json_extract(CAST(body AS TEXT), '$.data.user_agent') FROM events"
                " WHERE type = 'scan.created'"
            )
        )
        assert scan_events == stored
        renames = Counter(
            row[0]
            for row in conn.execute(
                "SELECT json_extract(CAST(body AS TEXT), '$.data.name') FROM events"
                " WHERE type = 'dynamic_qr.updated'"
            )
        )
        assert [name for name in burst.renamed if renames[name] != 1] == []
        assert all(n == 1 for n in renames.values())

        # Deliveries: every stored event reaches each subscribed, non-disabled endpoint.
        events_by_type: dict[str, set[str]] = {}
        for event_id, event_type in conn.execute("SELECT id, type FROM events"):
            events_by_type.setdefault(event_type, set()).add(event_id)
        expected = {
            "all": set().union(*(events_by_type.get(t, set()) for t in every)),
            "scans": events_by_type.get("scan.created", set()),
            "quiet": events_by_type.get("dynamic_qr.updated", set()),
        }
        assert len(expected["scans"]) >= KILL_AFTER_ANSWERED and expected["quiet"]

        def received() -> dict[str, set[str]]:
            return {
                "all": flaky_a.acked_ids(),
                "scans": flaky_b.acked_ids(),
                "quiet": {r.headers["webhook-id"] for r in list(quiet.requests)},
            }

        def everything_arrived() -> bool:
            got = received()
            return all(expected[name] <= got[name] for name in expected)

        # Failed attempts retry one minute after the failure (real time), so wait that long.
        last_failure = max(flaky_a.last_failure, flaky_b.last_failure)
        wait_until(
            everything_arrived,
            last_failure + RETRY_DELAY + SLACK,
            "every stored event at every subscribed endpoint",
        )
        got = received()
        assert {name: len(expected[name] - got[name]) for name in expected} == {
            "all": 0,
            "scans": 0,
            "quiet": 0,
        }
        assert set(flaky_b.acked_types) == {"scan.created"}
        assert {r.headers["x-qrstudio-event"] for r in quiet.requests} == {"dynamic_qr.updated"}
        # No delivery was sent for an event that was never stored.
        stored_ids = set().union(*events_by_type.values())
        assert got["all"] <= stored_ids and got["scans"] <= stored_ids

        # The disabled endpoint: nothing sent, no delivery even queued, since it was disabled.
        assert (len(off.requests), off_deliveries()) == off_before
        statuses = dict(conn.execute("SELECT id, status FROM webhooks"))
        assert statuses[hooks["off"]] == "disabled"
        assert {statuses[hooks[name]] for name in ("all", "scans", "quiet")} <= {
            "active",
            "degraded",
        }
        # Every delivery of the live endpoints ended well; the log shows the crash honestly.
        left = conn.execute(
            "SELECT status, count(*) FROM deliveries"
            " WHERE webhook_id != ? AND status != 'succeeded' GROUP BY status",
            (hooks["off"],),
        ).fetchall()
        assert [tuple(row) for row in left] == []
        outcomes = dict(
            conn.execute("SELECT outcome, count(*) FROM delivery_attempts GROUP BY outcome")
        )
        assert outcomes.get("sending", 0) == 0 and outcomes.get("failed", 0) > 0
        conn.close()
        assert server.stop() == 0
        check = sqlite3.connect(server.database_path)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()
        print(
            f"answered {len(burst.answered)}, unanswered {len(burst.unanswered)},"
            f" stored {len(stored)}, renames {len(burst.renamed)},"
            f" waited {time.monotonic() - killed_at:.0f}s after the kill"
        )
    finally:
        for receiver in (flaky_a, flaky_b, quiet, off):
            receiver.stop()
