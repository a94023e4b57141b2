"""Retention: the plan (pure) and the pruning job on a real database, time on a FakeClock."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from qrstudio_box.clock import unix_ms
from qrstudio_box.config import RetentionSettings, settings_from_mapping
from qrstudio_box.ops.retention import prune_all, prune_plan

NOW = datetime(2026, 5, 9, 14, 0, tzinfo=UTC)  # the conftest FakeClock's start


@pytest.mark.parametrize(
    ("days", "steps"),
    [
        ({}, ["delivery_attempts", "deliveries", "events"]),  # defaults: scans kept forever
        ({"scans_days": 90}, ["scans", "delivery_attempts", "deliveries", "events"]),
        ({"deliveries_days": 0, "events_days": 0}, []),
        ({"scans_days": 1, "deliveries_days": 0, "events_days": 0}, ["scans"]),
        ({"deliveries_days": 0}, ["events"]),
    ],
)
def test_plan_names_the_steps_in_order(days, steps):
    plan = prune_plan(RetentionSettings(**days), NOW)
    assert [step.name for step in plan] == steps


def test_plan_cutoffs_use_each_tables_time_format():
    plan = {
        step.name: step.cutoff
        for step in prune_plan(
            RetentionSettings(scans_days=90, deliveries_days=7, events_days=30), NOW
        )
    }
    assert plan == {
        "scans": unix_ms(NOW - timedelta(days=90)),
        "delivery_attempts": unix_ms(NOW - timedelta(days=7)),
        "deliveries": unix_ms(NOW - timedelta(days=7)),
        "events": "2026-04-09T14:00:00Z",
    }


def test_config_keys_and_env_override():
    settings = settings_from_mapping(
        {"retention": {"scans_days": 365}}, env={"QRSTUDIO_RETENTION_PRUNE_INTERVAL_MINUTES": "15"}
    )
    assert settings.retention.scans_days == 365
    assert settings.retention.prune_interval_minutes == 15


@pytest.fixture
def config(tmp_path):
    return {
        "storage": {"data_dir": str(tmp_path / "data")},
        "retention": {"scans_days": 90, "deliveries_days": 30, "events_days": 30},
    }


def _ids(sql, table: str, key: str = "id") -> list[int]:
    return [row[0] for row in sql(f"SELECT {key} FROM {table} ORDER BY {key}")]


def test_prune_all_deletes_only_what_is_past_retention(ctx, client, rows, sql, fake_clock):
    now = fake_clock.now()
    old, recent = now - timedelta(days=100), now - timedelta(days=10)
    qr = rows.dynamic_qr(owner_id=1)
    old_scans = [rows.scan(qr, old + timedelta(minutes=i)) for i in range(5)]
    edge_scan = rows.scan(qr, now - timedelta(days=90))  # exactly at the cutoff: kept
    new_scans = [rows.scan(qr, recent) for _ in range(3)]
    scan_count = sql("SELECT scan_count FROM dynamic_qrs WHERE id = ?", (qr,))[0][0]

    hook = rows.webhook(owner_id=1)
    # An old event whose delivery finished long ago: log, delivery and event all go.
    gone_event = rows.event(1, now - timedelta(days=45))
    gone_delivery = rows.delivery(hook, gone_event, now - timedelta(days=45))
    rows.attempt(gone_delivery, now - timedelta(days=45), outcome="failed")
    rows.attempt(gone_delivery, now - timedelta(days=45))
    # An old event still pending (e.g. restored from an old backup): nothing of it goes.
    pending_event = rows.event(1, now - timedelta(days=45))
    pending_delivery = rows.delivery(
        hook, pending_event, now - timedelta(days=45), status="pending", next_attempt=now
    )
    pending_attempt = rows.attempt(pending_delivery, now - timedelta(days=45), outcome="failed")
    # A recent event with its log: kept.
    kept_event = rows.event(1, recent)
    kept_delivery = rows.delivery(hook, kept_event, recent)
    kept_attempt = rows.attempt(kept_delivery, recent)
    # An old event no webhook listened to: goes by age.
    lonely_event = rows.event(1, now - timedelta(days=31))

    deleted = client.blocking_portal.call(prune_all, ctx)

    assert deleted == {"scans": 5, "delivery_attempts": 3, "deliveries": 1, "events": 2}
    assert _ids(sql, "scans") == sorted([edge_scan, *new_scans])
    assert not set(old_scans) & set(_ids(sql, "scans"))
    # The counter and the rollups are history: pruning raw scans leaves them.
    assert sql("SELECT scan_count FROM dynamic_qrs WHERE id = ?", (qr,))[0][0] == scan_count
    assert _ids(sql, "deliveries") == sorted([pending_delivery, kept_delivery])
    assert _ids(sql, "delivery_attempts") == [kept_attempt]
    assert pending_attempt not in _ids(
        sql, "delivery_attempts"
    )  # old log row of a pending delivery
    assert _ids(sql, "events", "seq") == sorted([pending_event, kept_event])
    assert gone_event not in _ids(sql, "events", "seq") and lonely_event not in _ids(
        sql, "events", "seq"
    )

    # Nothing left to do: a second run deletes nothing.
    assert client.blocking_portal.call(prune_all, ctx) == {
        "scans": 0,
        "delivery_attempts": 0,
        "deliveries": 0,
        "events": 0,
    }
    # Time passes: the recent rows age out too (the pending delivery still holds its event).
    fake_clock.advance(days=100)
    again = client.blocking_portal.call(prune_all, ctx)
    assert again == {"scans": 4, "delivery_attempts": 1, "deliveries": 1, "events": 1}
    assert _ids(sql, "events", "seq") == [pending_event]
    assert sql("PRAGMA integrity_check")[0][0] == "ok"
    assert sql("PRAGMA foreign_key_check") == []


def test_a_backlog_is_pruned_in_many_small_transactions(ctx, client, rows, sql, fake_clock):
    now = fake_clock.now()
    qr = rows.dynamic_qr(owner_id=1)
    for i in range(23):
        rows.scan(qr, now - timedelta(days=200, minutes=i))
    rows.scan(qr, now)
    # Count the write transactions by wrapping the real Database.write.
    calls = []
    original = ctx.db.write

    async def counting_write(fn, *args):
        calls.append(fn.__name__)
        return await original(fn, *args)

    ctx.db.write = counting_write
    try:
        deleted = client.blocking_portal.call(prune_all, ctx, 5)
    finally:
        ctx.db.write = original
    assert deleted["scans"] == 23
    # 23 rows in batches of 5: 5+5+5+5+3, the short batch ends the step.
    assert calls.count("prune_scans") == 5
    assert sql("SELECT count(*) FROM scans")[0][0] == 1


def test_the_job_is_on_the_scheduler_at_the_configured_interval(ctx, client):
    job = ctx.scheduler.get_job("ops-retention")
    assert job is not None
    assert job.trigger.interval == timedelta(minutes=60)
    assert job.coalesce is True and job.max_instances == 1


def test_a_failing_prune_is_logged_not_raised(ctx, client, caplog, monkeypatch):
    from qrstudio_box.ops import retention

    async def broken(ctx, batch_size=0):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(retention, "prune_all", broken)
    client.blocking_portal.call(retention.prune_job, ctx)
    assert "retention pruning failed" in caplog.text
