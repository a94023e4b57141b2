"""Delivery: N events fanned out to one keep-alive receiver, against a plain httpx loop.

The events are stored through the app's own outbox (`events.emit` in one transaction over a
plain sqlite3 connection, which fans each out to a delivery row exactly as a scan would), while
the real appliance runs; its dispatcher picks them up on its next tick. The dispatcher runs with
`max_concurrency` = `max_per_endpoint` = C, and the baseline is a plain httpx.AsyncClient loop
with C tasks posting the same bodies to the same receiver. Both rates are taken from the
receiver's own arrival times (first to last), so they are measured the same way.

    python -m bench.delivery [--events 10000] [--concurrency 16] [--quick]
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx

from . import harness as h

NAME = "delivery"


def scan_like_data(n: int) -> dict:
    """A scan.created payload of realistic size (the fields of docs/webhooks.md)."""
    return {
        "short_id": "BenchQr1",
        "name": "Spring 2026 menu",
        "owner_id": 1,
        "destination_url": "https://example.com/menus/spring-2026",
        "scanned_at": "2026-05-09T14:01:23.451Z",
        "country": "CA",
        "city": "Montreal",
        "device_family": "iPhone",
        "os_family": "iOS",
        "browser_family": "Mobile Safari",
        "referer": f"https://bench.invalid/d/{n}",
        "user_agent": h.PHONE_UA,
        "is_bot": False,
        "variant_label": "(default)",
    }


def emit_events(database_path, owner_id: int, count: int) -> float:
    """Store `count` scan.created events (and deliveries) in one transaction; seconds taken."""
    h.import_app()
    from qrstudio_box.db import connect_sync, write_sync
    from qrstudio_box.events import Outbox, emit
    from qrstudio_box.webhooks import outbox

    def store_all(tx) -> None:
        for n in range(count):
            emit(tx, owner_id, "scan.created", scan_like_data(n))

    events = Outbox()
    outbox.subscribe(events)  # the deliveries, as the app's fan-out makes them
    conn = connect_sync(database_path)
    started = time.monotonic()
    try:
        write_sync(conn, store_all, outbox=events)
    finally:
        conn.close()
    return time.monotonic() - started


async def httpx_loop(url: str, bodies: list[bytes], concurrency: int) -> float:
    """The baseline: C tasks, one shared keep-alive client, the same bodies, nothing else."""
    queue = iter(bodies)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    started = time.monotonic()
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            for body in queue:
                response = await client.post(
                    url, content=body, headers={"Content-Type": "application/json"}
                )
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.monotonic() - started


def rate(stats: dict) -> float:
    span = (stats["last"] or 0) - (stats["first"] or 0)
    return (
        round((stats["count"] - 1) / span, 1) if stats["count"] > 1 and span > 0 else float("nan")
    )


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument(
        "--timeout", type=float, default=240.0, help="give up waiting for deliveries after this"
    )
    args = p.parse_args(argv)
    count = 300 if args.quick else args.events
    conc = args.concurrency
    config = h.merge(
        h.WEBHOOK_TEST_CONFIG, {"webhooks": {"max_concurrency": conc, "max_per_endpoint": conc}}
    )

    with h.Receiver() as receiver:
        app = h.AppServer(config=config, keep=args.keep)
        try:
            app.start()
            app.create_webhook(f"{receiver.base_url}/hook/1")
            owner_id = app.sql("SELECT id FROM users ORDER BY id LIMIT 1")[0][0]
            receiver.reset()
            cpu_before = h.cpu_seconds(app.pid)
            emit_seconds = emit_events(app.database_path, owner_id, count)
            committed = time.monotonic()
            app_stats = receiver.wait_for(count, args.timeout, "/hook")
            app_cpu = h.cpu_seconds(app.pid) - cpu_before
            drained = (app_stats["last"] or committed) - committed
            pending = app.sql("SELECT count(*) FROM deliveries WHERE status != 'succeeded'")
            memory = h.rss_mb(app.pid)
            bodies = [
                bytes(row[0])
                for row in app.sql(
                    "SELECT body FROM events WHERE type = 'scan.created' ORDER BY seq"
                )
            ]
        finally:
            app.close()

        receiver.reset()
        cpu_before = time.process_time()
        plain_seconds = asyncio.run(httpx_loop(f"{receiver.base_url}/plain/1", bodies, conc))
        plain_cpu = time.process_time() - cpu_before
        plain_stats = receiver.stats()

    app_rate, plain_rate = rate(app_stats), rate(plain_stats)
    ratio = round(app_rate / plain_rate, 2) if plain_rate == plain_rate and plain_rate else None
    rows = [
        {
            "sender": "qrstudio dispatcher",
            "concurrency": conc,
            "events": count,
            "delivered": app_stats["by_prefix"].get("/hook", 0),
            "deliveries/s": app_rate,
            "cpu ms each": round(app_cpu * 1000 / max(count, 1), 2),
            "vs httpx": ratio,
        },
        {
            "sender": "plain httpx loop",
            "concurrency": conc,
            "events": len(bodies),
            "delivered": plain_stats["by_prefix"].get("/plain", 0),
            "deliveries/s": plain_rate,
            "cpu ms each": round(plain_cpu * 1000 / max(len(bodies), 1), 2),
            "vs httpx": 1.0,
        },
    ]
    # cpu ms each: the sender's CPU time per delivery (the whole appliance process for the
    # dispatcher: claim, sign, send, record). Less sensitive than wall time to a busy machine.
    print(h.table(f"Delivery ({count:,} scan.created events, one keep-alive receiver)", rows))
    print(
        f"events + deliveries stored in {emit_seconds:.2f} s; "
        f"last delivery {drained:.2f} s after the commit; "
        f"plain loop {plain_seconds:.2f} s; server RSS {memory['rss_mb']} MiB"
    )
    complete = app_stats["by_prefix"].get("/hook", 0) >= count
    targets = [
        h.check("dispatcher vs plain httpx", ratio, 0.7, at_least=True),
        {
            "target": "every event delivered",
            "value": app_stats["by_prefix"].get("/hook", 0),
            "limit": f">= {count:,}",
            "met": complete,
        },
    ]
    h.print_targets(targets)
    h.write_result(
        args,
        NAME,
        {
            "rows": rows,
            "ratio": ratio,
            "events": count,
            "concurrency": conc,
            "emit_seconds": round(emit_seconds, 3),
            "drain_seconds": round(drained, 3),
            "undelivered_rows": pending[0][0],
            "server_memory": memory,
            "targets": targets,
        },
    )
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
