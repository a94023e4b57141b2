"""Scan to webhook: from the redirect's answer to the scan.created delivery's arrival.

A steady, open-loop 500 scans/s (bench.loadgen --rate) against the real appliance, each scan
with a unique Referer `https://bench.invalid/m/<n>`; the keep-alive receiver finds n in the
delivered body and notes its arrival. Both sides read CLOCK_MONOTONIC, which all processes of
the machine share, so latency = arrival - answer for each n. A delivery may even arrive
before the 302 has reached the load generator (the dispatcher is woken at the commit, the
same instant the redirect is released): such latencies are small negatives and are kept.

    python -m bench.scan_to_webhook [--rate 500] [--duration 20] [--quick]
"""

from __future__ import annotations

import sys
import time

from . import harness as h

NAME = "scan_to_webhook"


def _default_per_endpoint() -> int:
    # The harness has already imported this checkout's qrstudio_box (for its config writer), so
    # this is this checkout's default even when BENCH_APP_ROOT measures another one.
    from qrstudio_box.config import WebhooksSettings

    return WebhooksSettings().max_per_endpoint


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=500.0, help="scans per second")
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument(
        "--max-per-endpoint",
        type=int,
        default=0,
        help="[webhooks] max_per_endpoint for this run (0: the appliance's default)",
    )
    args = p.parse_args(argv)
    rate = 100.0 if args.quick else args.rate
    duration = 1.0 if args.quick else args.duration

    with h.Receiver() as receiver:
        config = h.WEBHOOK_TEST_CONFIG
        if args.max_per_endpoint:
            config = h.merge(
                config,
                {
                    "webhooks": {
                        "max_per_endpoint": args.max_per_endpoint,
                        "max_concurrency": max(32, args.max_per_endpoint),
                    }
                },
            )
        app = h.AppServer(config=config, keep=args.keep)
        try:
            app.start()
            short_id = app.create_qr()
            app.create_webhook(f"{receiver.base_url}/hook/1")
            url = f"{app.base_url}/r/{short_id}"
            # Warm up (imports, caches, connections), let it drain, then start from zero.
            warmup = 0.5 if args.quick else 2.0
            h.paced([url], rate, warmup, args.connections)
            receiver.wait_for(int(rate * warmup * 0.9), 30)
            time.sleep(0.2 if args.quick else 0.5)
            receiver.reset()
            load = h.paced([url], rate, duration, args.connections, mark_referer=True)
            answered = load["status_302"]
            stats = receiver.wait_for(answered, 60)
            deadline = time.monotonic() + 60
            while stats["markers_seen"] < answered and time.monotonic() < deadline:
                time.sleep(0.2)
                stats = receiver.stats()
            detail = receiver.stats(detail=True)
            memory = h.rss_mb(app.pid)
            # The dispatcher's own view: how long each attempt took on the wire, and the cap.
            attempt_ms = [
                row[0]
                for row in app.sql(
                    "SELECT duration_ms FROM delivery_attempts WHERE duration_ms IS NOT NULL"
                )
            ]
            per_endpoint = args.max_per_endpoint or _default_per_endpoint()
        finally:
            app.close()

    answers, markers = load["answers"], detail["markers"]
    latencies = [(markers[n] - t) * 1000 for n, t in answers.items() if n in markers]
    missing = sum(1 for n in answers if n not in markers)
    summary = h.summarize_ms(latencies)
    rows = [
        {"figure": "scans/s asked (open loop)", "value": rate},
        {"figure": "scans/s achieved", "value": load["rps"]},
        {"figure": "302s answered", "value": answered},
        {"figure": "errors / non-302", "value": load["errors"] + load["status_other"]},
        {"figure": "redirect p50 ms (from due time)", "value": load["p50_ms"]},
        {"figure": "redirect p99 ms (from due time)", "value": load["p99_ms"]},
        {"figure": "deliveries matched", "value": summary["count"]},
        {"figure": "deliveries missing", "value": missing},
        {"figure": "scan->webhook p50 ms", "value": summary["p50_ms"]},
        {"figure": "scan->webhook p99 ms", "value": summary["p99_ms"]},
        {"figure": "scan->webhook max ms", "value": summary["max_ms"]},
        {
            "figure": "scan->webhook min ms",
            "value": round(min(latencies), 2) if latencies else None,
        },
        {
            "figure": "attempt duration p50 ms (dispatcher log)",
            "value": h.percentile(attempt_ms, 50),
        },
        {
            "figure": "attempt duration p99 ms (dispatcher log)",
            "value": h.percentile(attempt_ms, 99),
        },
        {"figure": "max_per_endpoint (on the wire to one URL)", "value": per_endpoint},
    ]
    print(h.table(f"Scan to webhook ({rate:g} scans/s for {duration:g} s, one receiver)", rows))
    targets = [
        h.check("scan->webhook p50 ms", summary["p50_ms"], 25, at_least=False),
        h.check("scan->webhook p99 ms", summary["p99_ms"], 150, at_least=False),
        {
            "target": "every scan delivered",
            "value": missing,
            "limit": "0 missing",
            "met": missing == 0,
        },
    ]
    h.print_targets(targets)
    h.write_result(
        args,
        NAME,
        {
            "rows": rows,
            "rate": rate,
            "duration_s": duration,
            "latency": summary,
            "missing": missing,
            "redirect": {k: v for k, v in load.items() if k != "answers"},
            "server_memory": memory,
            "max_per_endpoint": per_endpoint,
            "targets": targets,
        },
    )
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
