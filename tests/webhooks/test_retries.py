"""The retry table, endpoint health and dispatch guarantees, on a stepped FakeClock."""

import asyncio
import sqlite3
import time
from collections import Counter
from contextlib import closing
from datetime import timedelta

import pytest

from qrstudio_box.clock import iso_s, unix_ms
from qrstudio_box.webhooks import service

from ..conftest import wait_until
from .receivers import Receiver, Reply, refused_port


def attempt_times(sql):
    return [
        (r["attempt_number"], r["started_at"], r["outcome"])
        for r in sql(
            "SELECT attempt_number, started_at, outcome FROM delivery_attempts ORDER BY id"
        )
    ]


def health(client, account, hook):
    body = client.get(f"/api/v1/webhooks/{hook['id']}/", headers=account.headers).json()
    return body["status"], body["consecutive_failures"]


def test_whole_retry_table_with_exact_attempt_times(
    client, pro, subscribe, emit, run_due, fake_clock, sql
):
    t0 = fake_clock.now()
    with Receiver(status=503) as receiver:
        hook = subscribe(pro, receiver.url)
        emit(pro.id)
        run_due()
        expected = [(1, iso_s(t0), "failed")]
        assert attempt_times(sql) == expected
        for attempt, delay in (
            (2, timedelta(minutes=1)),
            (3, timedelta(minutes=5)),
            (4, timedelta(minutes=30)),
            (5, timedelta(hours=2)),
        ):
            fake_clock.advance(seconds=delay.total_seconds() - 1)
            run_due()
            assert attempt_times(sql) == expected, "nothing may go out a second early"
            fake_clock.advance(seconds=1)
            run_due()
            expected.append((attempt, iso_s(fake_clock.now()), "failed"))
            assert attempt_times(sql) == expected
        assert fake_clock.now() - t0 == timedelta(minutes=1 + 5 + 30 + 120)
        delivery = sql("SELECT status, attempts, next_attempt_ms, last_error FROM deliveries")[0]
        assert tuple(delivery) == ("failed", 5, None, "HTTP 503: not a 2xx answer")
        fake_clock.advance(days=2)
        run_due()
        assert len(receiver.requests) == 5
        assert health(client, pro, hook) == ("degraded", 5)


def test_retry_after_on_429_waits_at_least_that_long(
    client, pro, subscribe, emit, run_due, fake_clock, sql
):
    t0 = fake_clock.now()
    with Receiver(status=429, headers={"Retry-After": "600"}) as receiver:
        subscribe(pro, receiver.url)
        emit(pro.id)
        run_due()
        fake_clock.advance(minutes=9, seconds=59)
        run_due()
        assert len(receiver.requests) == 1
        fake_clock.advance(seconds=1)
        receiver.reply = Reply(429, headers={"Retry-After": "86400"})
        run_due()
        assert [t for _, t, _ in attempt_times(sql)] == [
            iso_s(t0),
            iso_s(t0 + timedelta(minutes=10)),
        ]
        # a day asked for: capped at 2 hours
        fake_clock.advance(hours=2)
        receiver.reply = Reply(200)
        run_due()
        assert attempt_times(sql)[-1] == (
            3,
            iso_s(t0 + timedelta(hours=2, minutes=10)),
            "succeeded",
        )


def test_success_resets_the_streak(client, pro, subscribe, emit, run_due, fake_clock):
    with Receiver(status=500) as receiver:
        hook = subscribe(pro, receiver.url)
        for _ in range(3):
            emit(pro.id)
        run_due()
        assert health(client, pro, hook) == ("active", 3)
        receiver.reply = Reply(204)
        fake_clock.advance(minutes=1)
        run_due()
        assert health(client, pro, hook) == ("active", 0)
        got = client.get(f"/api/v1/webhooks/{hook['id']}/", headers=pro.headers).json()
        assert got["failing_since"] is None and got["last_success_at"] == iso_s(fake_clock.now())


def test_degraded_then_disabled_by_time_alone_then_reenabled(
    client, ctx, pro, subscribe, emit, run_due, fake_clock, sql
):
    t0 = fake_clock.now()
    with Receiver(status=500) as receiver:
        hook = subscribe(pro, receiver.url)
        for _ in range(4):
            emit(pro.id)
        run_due()
        assert health(client, pro, hook) == ("active", 4)
        fake_clock.advance(minutes=1)
        run_due()  # 4 retries: 8 failures
        assert health(client, pro, hook) == ("degraded", 8)
        got = client.get(f"/api/v1/webhooks/{hook['id']}/", headers=pro.headers).json()
        assert got["failing_since"] == iso_s(t0)

        apply = lambda: client.blocking_portal.call(service.apply_health_rules, ctx)  # noqa: E731
        fake_clock.set(t0 + timedelta(hours=24) - timedelta(seconds=1))
        assert apply() == []
        assert health(client, pro, hook)[0] == "degraded"
        fake_clock.set(t0 + timedelta(hours=24))
        assert apply() == [hook["id"]]
        assert health(client, pro, hook)[0] == "disabled"
        # pending retries stopped, no new deliveries, nothing sent
        assert sql("SELECT count(*) FROM deliveries WHERE status = 'pending'")[0][0] == 0
        sent = len(receiver.requests)
        emit(pro.id)
        fake_clock.advance(days=1)
        run_due()
        assert len(receiver.requests) == sent
        assert sql("SELECT count(*) FROM deliveries")[0][0] == 4

        receiver.reply = Reply(200)
        reenabled = client.patch(
            f"/api/v1/webhooks/{hook['id']}/", headers=pro.headers, json={"status": "active"}
        ).json()
        assert (reenabled["status"], reenabled["consecutive_failures"]) == ("active", 0)
        emit(pro.id)
        run_due()
        assert len(receiver.requests) == sent + 1
        assert receiver.requests[-1].json()["type"] == "scan.created"


def test_a_failure_24h_into_the_streak_disables_at_once(
    client, pro, subscribe, emit, run_due, fake_clock, sql
):
    with Receiver(status=500) as receiver:
        hook = subscribe(pro, receiver.url)
        emit(pro.id)
        run_due()
        fake_clock.advance(hours=24)
        emit(pro.id)
        emit(pro.id)
        run_due()
        status, failures = health(client, pro, hook)
        assert status == "disabled"
        statuses = Counter(r[0] for r in sql("SELECT status FROM deliveries"))
        assert statuses == {"failed": 3}


def test_overlapping_ticks_never_send_one_delivery_twice(client, ctx, pro, subscribe, emit, sql):
    with Receiver(delay=0.05) as receiver:
        subscribe(pro, receiver.url)
        subscribe(pro, receiver.url + "/second")
        for _ in range(12):
            emit(pro.id)
        dispatcher = ctx.webhooks.dispatcher

        async def storm():
            for _ in range(10):
                await asyncio.gather(*(dispatcher.tick() for _ in range(5)))
            await dispatcher.run_due()

        client.blocking_portal.call(storm)
        ids = Counter(r.headers["x-qrstudio-delivery-id"] for r in receiver.requests)
        assert len(ids) == 24 and set(ids.values()) == {1}
        assert tuple(
            sql("SELECT count(*), count(DISTINCT delivery_id) FROM delivery_attempts")[0]
        ) == (24, 24)
        assert sql("SELECT count(*) FROM deliveries WHERE status = 'succeeded'")[0][0] == 24


@pytest.fixture
def capped_config(config):
    config["webhooks"]["max_per_endpoint"] = 2
    return config


def test_per_endpoint_cap(capped_config, client, pro, subscribe, emit, run_due, sql):
    with Receiver(delay=0.5) as slow, Receiver() as fast:
        subscribe(pro, slow.url)
        subscribe(pro, fast.url)
        for _ in range(6):
            emit(pro.id)
        run_due()
        assert len(slow.requests) == 6 and len(fast.requests) == 6
        assert slow.max_in_flight == 2
        assert sql("SELECT count(*) FROM deliveries WHERE status = 'succeeded'")[0][0] == 12


def test_deadline_and_refused_connection_are_logged(client, pro, subscribe, emit, run_due, sql):
    port = refused_port()
    with Receiver(delay=3.0) as sleepy:
        slow_hook = subscribe(pro, sleepy.url)
        down_hook = subscribe(pro, f"http://127.0.0.1:{port}/hook")
        emit(pro.id)
        run_due()
        for hook, error in (
            (slow_hook, "Read timed out (no answer within 1 s)"),
            (down_hook, f"Connection refused by 127.0.0.1:{port}"),
        ):
            [row] = client.get(
                f"/api/v1/webhooks/{hook['id']}/deliveries/", headers=pro.headers
            ).json()["results"]
            assert (row["response_status"], row["error"], row["outcome"]) == (None, error, "failed")
        assert len(sleepy.requests) == 1


def test_redirect_is_not_followed(client, pro, subscribe, emit, run_due, sql):
    with Receiver() as target, Receiver(status=307) as redirector:
        redirector.reply.headers["Location"] = target.url
        hook = subscribe(pro, redirector.url)
        emit(pro.id)
        run_due()
        [row] = client.get(
            f"/api/v1/webhooks/{hook['id']}/deliveries/", headers=pro.headers
        ).json()["results"]
        assert (row["response_status"], row["outcome"]) == (307, "failed")
        assert row["error"] == f"Redirect not followed: HTTP 307 to {target.url}"
        assert target.requests == []
        assert tuple(sql("SELECT status, attempts FROM deliveries")[0]) == ("pending", 1)


@pytest.fixture
def no_private_config(config):
    config["webhooks"]["allow_private_targets"] = False
    return config


def test_rebinding_at_send_time_is_refused(no_private_config, client, pro, dns, emit, run_due, sql):
    with Receiver() as receiver:
        dns.names["rebind.test"] = ["93.184.216.34"]  # public at subscription time
        response = client.post(
            "/api/v1/webhooks/",
            headers=pro.headers,
            json={"url": receiver.url_for("rebind.test"), "events": ["scan.created"]},
        )
        assert response.status_code == 201, response.text
        dns.names["rebind.test"] = ["127.0.0.1"]  # loopback at send time
        emit(pro.id)
        run_due()
        assert receiver.requests == []
        error = sql("SELECT error FROM delivery_attempts")[0][0]
        assert error == (
            "Refused at connect time: rebind.test resolves to a non-public address "
            "(a loopback address); webhook targets must be public"
        )


def test_dispatch_and_health_jobs_are_scheduled(ctx):
    dispatch = ctx.scheduler.get_job("webhooks-dispatch")
    assert dispatch.trigger.interval == timedelta(seconds=1)
    assert (dispatch.coalesce, dispatch.max_instances) == (True, 1)
    health_job = ctx.scheduler.get_job("webhooks-health")
    assert health_job.trigger.interval == timedelta(minutes=1)
    assert (health_job.coalesce, health_job.max_instances) == (True, 1)


def test_a_commit_wakes_the_dispatcher_without_the_interval_job(client, ctx, pro, subscribe, emit):
    with Receiver() as receiver:
        subscribe(pro, receiver.url)
        client.blocking_portal.call(lambda: _pause(ctx))
        emit(pro.id)
        [request] = receiver.wait_for(1, timeout=10)
        assert request.headers["x-qrstudio-event"] == "scan.created"


async def _pause(ctx):
    ctx.scheduler.pause_job("webhooks-dispatch")


@pytest.fixture
def global_cap_config(config):
    config["webhooks"]["max_concurrency"] = 2
    config["webhooks"]["slow_send_seconds"] = 5.0  # every send here answers in time: no slow pool
    return config


def test_global_cap(global_cap_config, client, pro, subscribe, emit, run_due, sql):
    with Receiver(delay=0.3) as receiver:
        for n in range(3):  # three endpoints on one receiver: it sees the sum of their sends
            subscribe(pro, f"{receiver.url}/{n}")
        emit(pro.id)
        emit(pro.id)
        run_due()
        assert len(receiver.requests) == 6
        assert receiver.max_in_flight == 2
        assert sql("SELECT count(*) FROM deliveries WHERE status = 'succeeded'")[0][0] == 6


def test_failing_endpoints_get_one_slot_each_within_their_shared_total(
    client, ctx, pro, subscribe, emit, sql
):
    """Endpoints that may hang to the deadline cannot take the slots healthy ones need."""
    from qrstudio_box.webhooks import outbox, store

    # Only this test claims: no wake-up after commit (the fan-out alone), no interval tick.
    ctx.db.outbox.unsubscribe(ctx.webhooks.fan_out)
    outbox.subscribe(ctx.db.outbox)
    client.blocking_portal.call(lambda: _pause(ctx))
    failing = [subscribe(pro, f"https://receiver.test/failing{i}") for i in range(3)]
    healthy = subscribe(pro, "https://receiver.test/healthy")
    for _ in range(6):
        emit(pro.id)  # six deliveries for each of the four endpoints
    with closing(sqlite3.connect(ctx.settings.database_path)) as conn, conn:
        conn.execute(
            f"UPDATE webhooks SET consecutive_failures = 3 WHERE id IN "
            f"({','.join(str(hook['id']) for hook in failing)})"
        )
    now_ms = unix_ms(ctx.clock.now())

    async def claim():
        return await ctx.db.write(
            lambda tx: store.claim_due(
                tx, now_ms, now_ms + 60_000, "t", per_endpoint=4, limit=32, failing_total=2
            )
        )

    rows = client.blocking_portal.call(claim)
    per_endpoint = Counter(row["webhook_id"] for row in rows)
    assert per_endpoint[healthy["id"]] == 4  # its full per-endpoint cap
    assert (
        sum(per_endpoint[hook["id"]] for hook in failing) == 2
    )  # failing_total (the dispatcher passes a quarter of max_concurrency)
    assert all(per_endpoint[hook["id"]] <= 1 for hook in failing)
    # A second claim while those leases live adds nothing for failing endpoints.
    again = Counter(row["webhook_id"] for row in client.blocking_portal.call(claim))
    assert sum(again[hook["id"]] for hook in failing) == 0


@pytest.fixture
def slow_pool_config(config):
    config["webhooks"].update(max_concurrency=1, slow_send_seconds=0.05, timeout_seconds=3.0)
    return config


def test_a_send_that_hangs_hands_its_slot_on_and_its_endpoint_gets_one_at_a_time(
    slow_pool_config, client, ctx, pro, subscribe, emit, sql
):
    """With one slot, held by a send that will hang to the deadline: the healthy endpoint's
    deliveries go out long before that deadline, and the hanging endpoint gets no second send
    while its first is unanswered (it is a suspect, claimed like an endpoint on a streak)."""
    with Receiver(delay=30.0) as hanging, Receiver() as healthy:
        hanging_hook = subscribe(pro, hanging.url)
        emit(pro.id)
        hanging.wait_for(1, timeout=5)
        healthy_hook = subscribe(pro, healthy.url)
        for _ in range(3):
            emit(pro.id)  # three more deliveries for each endpoint
        # All three recorded before the 3 s deadline of the hung send, which is still on the wire.
        wait_until(
            lambda: (
                sql("SELECT count(*) FROM delivery_attempts WHERE outcome = 'succeeded'")[0][0] == 3
            ),
            2.5,
            "the healthy endpoint's three deliveries",
        )
        assert len(hanging.requests) == 1
        outcomes = Counter(
            (row["webhook_id"], row["outcome"])
            for row in sql("SELECT webhook_id, outcome FROM delivery_attempts")
        )
        assert outcomes == {
            (hanging_hook["id"], "sending"): 1,
            (healthy_hook["id"], "succeeded"): 3,
        }


def test_slow_means_slow_for_that_endpoint():
    """A receiver that always takes 300 ms is slow at 1.2 s, not at the 0.25 s floor."""
    from qrstudio_box.webhooks import policy

    assert policy.slow_after(0.25, None, 5.0) == 0.25  # never answered: the floor
    assert policy.slow_after(0.25, 0.002, 5.0) == 0.25  # a fast endpoint: the floor
    assert policy.slow_after(0.25, 0.3, 5.0) == pytest.approx(1.2)
    assert policy.slow_after(0.25, 4.0, 5.0) == 2.5  # drifting towards the deadline: half of it
    usual = None
    for seconds in (0.3, 0.3, 0.3):
        usual = policy.usual_answer_time(usual, seconds)
    assert usual == pytest.approx(0.3)
    assert policy.usual_answer_time(0.3, 1.3) == pytest.approx(
        0.5
    )  # one long answer moves it by a fifth


@pytest.fixture
def slow_receiver_config(config):
    config["webhooks"].update(
        max_concurrency=8, max_per_endpoint=8, slow_send_seconds=0.05, timeout_seconds=3.0
    )
    return config


def test_an_endpoint_that_is_always_slow_keeps_its_concurrency(
    slow_receiver_config, client, pro, subscribe, emit, sql
):
    """Its usual answer time (0.3 s) puts its threshold at 1.2 s: four sends unanswered for 0.2 s
    (past the 0.05 s floor) do not make it a suspect, so four more are claimed and join them on
    the wire. Were it a suspect, nothing more would go out until those four answered (at 1 s)."""
    with Receiver(delay=0.3) as receiver:
        subscribe(pro, receiver.url)
        emit(pro.id)
        wait_until(
            lambda: sql("SELECT count(*) FROM deliveries WHERE status = 'succeeded'")[0][0] == 1,
            5,
            "the first answer",
        )
        receiver.reply = Reply(delay=1.0)
        for _ in range(4):
            emit(pro.id)
        wait_until(lambda: receiver.in_flight == 4, 5, "four on the wire")
        time.sleep(0.2)  # real time on the wire is the subject: four times the floor
        for _ in range(4):
            emit(pro.id)
        wait_until(
            lambda: sql("SELECT count(*) FROM deliveries WHERE status = 'succeeded'")[0][0] == 9,
            10,
            "all nine answers",
        )
        assert receiver.max_in_flight == 8


def test_slow_sends_on_the_wire_are_at_most_twice_max_concurrency(
    slow_pool_config, client, pro, subscribe, emit
):
    """One slot and a slow pool of one: of three endpoints that hang, two have a send on the
    wire; the third waits (the second slow send kept its slot, the pool being full)."""
    with Receiver(delay=30.0) as hanging:
        for n in range(3):
            subscribe(pro, f"{hanging.url}/{n}")
        emit(pro.id)
        hanging.wait_for(2, timeout=5)
        time.sleep(0.3)  # six times the 0.05 s floor: a third send would be out by now
        assert len(hanging.requests) == 2
        assert hanging.max_in_flight == 2


@pytest.fixture
def prefetch_config(config):
    config["webhooks"].update(
        max_concurrency=4, max_per_endpoint=1, slow_send_seconds=5.0, timeout_seconds=3.0
    )
    return config


def test_jobs_waiting_at_a_busy_endpoints_gate_leave_the_free_slots_to_others(
    prefetch_config, client, pro, subscribe, emit, ctx
):
    """Two busy endpoints (0.2 s answers, ten deliveries each, one on the wire each, one more
    claimed behind it): two slots stay free, and a third endpoint's delivery takes one at once
    instead of waiting ~2 s for both backlogs to drain."""
    with Receiver(delay=0.2) as busy, Receiver() as other:
        subscribe(pro, f"{busy.url}/a")
        subscribe(pro, f"{busy.url}/b")
        for _ in range(10):
            emit(pro.id)
        busy.wait_for(2, timeout=5)
        subscribe(pro, other.url)
        started = time.monotonic()
        emit(pro.id)
        other.wait_for(1, timeout=5)
        assert time.monotonic() - started < 1.0
        assert len(busy.requests) < 15  # the busy backlogs (22 sends) were still draining
        wait_until(lambda: len(busy.requests) == 22, 10, "the busy endpoints' backlog")
        dispatcher = ctx.webhooks.dispatcher
        wait_until(lambda: not dispatcher._in_flight, 5, "every send recorded")
        # The counters are back where they started.
        assert (dispatcher._slow_sends, dispatcher._at_gates, dict(dispatcher._suspects)) == (
            0,
            0,
            {},
        )
        assert dispatcher._slots._value == 4
