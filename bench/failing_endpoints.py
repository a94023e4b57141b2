"""Failing endpoints don't hurt scans: redirect p99 with 100 endpoints of which half time out.

100 owners, each with one dynamic QR and one webhook (scan.created) on a local receiver. A
steady open-loop load (default 200 scans/s, spread evenly over the 100 QRs) runs twice on
the same appliance: first with every endpoint answering 200 at once, then after PATCHing
half of the webhooks to a receiver that never answers (each of those attempts runs into the
5 s delivery deadline). Reported: redirect p50/p99 of both runs (latency from each request's
due time), and how the healthy endpoints fared meanwhile (deliveries that reached them during
the run, and how far behind they were). Then a timeline of the failing run by half seconds:
sends started to healthy and to failing endpoints, attempts that ended unanswered, and scans
slower than 15 ms, so a stall of the scans can be lined up with what the dispatcher did.

200 scans/s, not 500: the comparison only means something when the run without failures is
itself sustainable (its deliveries keep up); scan_to_webhook measures the 500/s case.

    python -m bench.failing_endpoints [--endpoints 100] [--rate 200] [--duration 20] [--quick]
"""

from __future__ import annotations

import sys
import time

from . import harness as h

NAME = "failing_endpoints"


def attempts_by_target(app: h.AppServer, since_ms: int, failing_ids: set[int]) -> dict[str, int]:
    """Attempts the dispatcher started since the run began, to healthy and to failing webhooks
    (from its own delivery log), so starvation of the healthy ones shows in the table."""
    counts = {"attempts healthy": 0, "attempts failing": 0}
    for webhook_id, n in app.sql(
        "SELECT webhook_id, count(*) FROM delivery_attempts WHERE started_ms >= ? "
        "GROUP BY webhook_id",
        (since_ms,),
    ):
        counts["attempts failing" if webhook_id in failing_ids else "attempts healthy"] += n
    return counts


def timeline(
    app: h.AppServer,
    since_ms: int,
    duration: float,
    slow: list,
    failing_ids: set[int],
    bin_ms: int = 500,
) -> list[dict]:
    """Per half second of the run: deliveries started to healthy and to failing endpoints,
    attempts that ended without an answer, and scans slower than 15 ms (bench.loadgen "slow"),
    so a stall of the scans can be lined up with what the dispatcher did then."""
    bins = [
        {
            "from s": round(n * bin_ms / 1000, 1),
            "healthy sends": 0,
            "failing sends": 0,
            "unanswered ends": 0,
            "scans > 15 ms": 0,
            "slowest ms": 0.0,
        }
        for n in range(int(duration * 1000 / bin_ms) + 1)
    ]

    def at(ms: int) -> dict | None:
        n = (ms - since_ms) // bin_ms
        return bins[n] if 0 <= n < len(bins) else None

    for webhook_id, started, duration_ms, answered in app.sql(
        "SELECT webhook_id, started_ms, duration_ms, response_status IS NOT NULL "
        "FROM delivery_attempts "
        "WHERE started_ms >= ?",
        (since_ms,),
    ):
        if (row := at(started)) is not None:
            row["failing sends" if webhook_id in failing_ids else "healthy sends"] += 1
        if (
            duration_ms is not None
            and not answered
            and (row := at(started + duration_ms)) is not None
        ):
            row["unanswered ends"] += 1
    for due_ms, latency_ms in slow:
        if (row := at(due_ms)) is not None:
            row["scans > 15 ms"] += 1
            row["slowest ms"] = max(row["slowest ms"], latency_ms)
    return bins


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--endpoints", type=int, default=100)
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--connections", type=int, default=32)
    args = p.parse_args(argv)
    endpoints = 6 if args.quick else args.endpoints
    rate = 100.0 if args.quick else args.rate
    duration = 1.0 if args.quick else args.duration
    failing = endpoints // 2

    with h.Receiver() as ok_receiver, h.Receiver() as hang_receiver:
        app = h.AppServer(config=h.WEBHOOK_TEST_CONFIG, keep=args.keep)
        try:
            app.start()
            owners = []
            setup_started = time.monotonic()
            for n, headers in enumerate(app.bulk_users(endpoints)):
                short_id = app.create_qr(
                    f"https://example.com/o/{n}", name=f"owner {n}", headers=headers
                )
                hook = app.create_webhook(f"{ok_receiver.base_url}/ok/{n}", headers=headers)
                owners.append({"headers": headers, "short_id": short_id, "webhook_id": hook["id"]})
            setup_seconds = time.monotonic() - setup_started
            urls = [f"{app.base_url}/r/{owner['short_id']}" for owner in owners]

            warmup = 0.5 if args.quick else 2.0
            h.paced(urls, rate, warmup, args.connections)
            ok_receiver.wait_for(int(rate * warmup * 0.9), 30)
            runs = {}
            timelines = {}
            for label in ("all endpoints answer", f"{failing} of {endpoints} time out"):
                if label != "all endpoints answer":
                    for n, owner in enumerate(owners[:failing]):
                        response = app.api(
                            "PATCH",
                            f"/api/v1/webhooks/{owner['webhook_id']}/",
                            headers=owner["headers"],
                            json={"url": f"{hang_receiver.base_url}/hang/{n}"},
                        )
                        response.raise_for_status()
                time.sleep(0.2 if args.quick else 1.0)
                ok_receiver.reset()
                hang_receiver.reset()
                cpu_before = h.cpu_seconds(app.pid)
                started_ms = int(time.time() * 1000)
                started = time.monotonic()
                load = h.paced(urls, rate, duration, args.connections)
                elapsed = time.monotonic() - started
                cpu = (h.cpu_seconds(app.pid) - cpu_before) / elapsed
                ok_during = ok_receiver.stats()["count"]
                # The load generator sends request n to QR n % endpoints; the first `failing` QRs'
                # webhooks are the ones that hang in the second run.
                first_healthy = 0 if label == "all endpoints answer" else failing
                failing_ids = {owner["webhook_id"] for owner in owners[:first_healthy]}
                expected_ok = sum(
                    1 for n in range(int(rate * duration)) if n % endpoints >= first_healthy
                )
                after = ok_receiver.wait_for(expected_ok, 10 if args.quick else 60)
                runs[label] = {
                    "run": label,
                    "scans/s": load["rps"],
                    "p50 ms": load["p50_ms"],
                    "p99 ms": load["p99_ms"],
                    "max ms": load["max_ms"],
                    "302s": load["status_302"],
                    "errors": load["errors"] + load["status_other"],
                    "healthy deliveries in run": ok_during,
                    "healthy expected": expected_ok,
                    "healthy drained s after": round(
                        max(0.0, (after["last"] or 0) - (started + elapsed)), 2
                    )
                    if after["count"] >= expected_ok
                    else None,
                    "hung attempts": hang_receiver.stats()["count"],
                    "server cpu %": round(cpu * 100, 1),
                    **attempts_by_target(app, started_ms, failing_ids),
                }
                timelines[label] = timeline(app, started_ms, duration, load["slow"], failing_ids)
                runs[label]["scans > 15 ms"] = len(load["slow"])
            memory = h.rss_mb(app.pid)
        finally:
            app.close()

    rows = list(runs.values())
    print(
        h.table(
            f"Redirect with {endpoints} webhook endpoints ({rate:g} scans/s for {duration:g} s, "
            f"{args.connections} connections)",
            rows,
        )
    )
    failing_label = rows[1]["run"]
    healthy_rate = round(rate * (endpoints - failing) / endpoints * 0.5)  # sends per half second
    # The half seconds where something happened besides the steady healthy flow.
    eventful = {
        "title": f"Timeline of '{failing_label}', the half seconds other than "
        f"{healthy_rate} healthy sends and nothing else",
        "rows": [
            row
            for row in timelines[failing_label]
            if row["failing sends"]
            or row["unanswered ends"]
            or row["scans > 15 ms"]
            or abs(row["healthy sends"] - healthy_rate) > 2
        ],
    }
    print(h.table(eventful["title"], eventful["rows"]))
    print(
        f"setup ({endpoints} owners, QRs, webhooks) took {setup_seconds:.1f} s; "
        f"server RSS {memory['rss_mb']} MiB"
    )
    base, failed = rows[0]["p99 ms"], rows[1]["p99 ms"]
    ratio = round(failed / base, 2) if base else None
    targets = [h.check("p99 with failures / p99 without", ratio, 2.0, at_least=False)]
    h.print_targets(targets)
    h.write_result(
        args,
        NAME,
        {
            "rows": rows,
            "endpoints": endpoints,
            "failing": failing,
            "rate": rate,
            "duration_s": duration,
            "p99_ratio": ratio,
            "server_memory": memory,
            "targets": targets,
            "timeline": eventful,
            "timelines": timelines,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
