"""Redirect: GET /r/{short_id} of the real appliance against a bare Litestar 302, side by side.

Both run under the same uvicorn settings, each in its own process, driven by wrk (or
bench.loadgen) from another process at 16 and 64 keep-alive connections. Afterwards every
302 the load tool counted must be a stored scan: the tool's count can trail the store only
by requests in flight when it stopped (at most one per connection per run).

    python -m bench.redirect [--duration 10] [--quick]
"""

from __future__ import annotations

import sys
import time

from . import harness as h

NAME = "redirect"
# Ten rules that a load tool's scan (no user agent: a bot; no Accept-Language; no GeoIP) walks
# through to the end without a match, so every condition kind is evaluated on every scan:
# the worst case of a code with ten rules (issue 18.6).
TEN_RULES = [
    {"label": "ios", "destination_url": "https://apps.example/ios", "when": {"os": ["iOS"]}},
    {
        "label": "android",
        "destination_url": "https://apps.example/android",
        "when": {"os": ["Android"]},
    },
    {"label": "fr", "destination_url": "https://example.com/fr", "when": {"language": ["fr"]}},
    {"label": "ca", "destination_url": "https://example.com/ca", "when": {"country": ["CA"]}},
    {
        "label": "chrome",
        "destination_url": "https://example.com/c",
        "when": {"browser": ["Chrome Mobile", "Chrome"]},
    },
    {"label": "iphone", "destination_url": "https://example.com/i", "when": {"device": ["iPhone"]}},
    {
        "label": "night",
        "destination_url": "https://example.com/night",
        "when": {"hours": {"from": "03:00", "to": "04:00", "tz": "Europe/Paris"}},
    },
    {
        "label": "past",
        "destination_url": "https://example.com/past",
        "when": {"between": {"to": "2020-01-01T00:00:00Z"}},
    },
    {
        "label": "weekday-de",
        "destination_url": "https://example.com/de",
        "when": {"country": ["DE", "AT"], "weekdays": ["mon", "tue", "wed", "thu", "fri"]},
    },
    {"label": "people", "destination_url": "https://example.com/p", "when": {"bots": False}},
]


def run_load(
    label: str, url: str, connections: int, duration: float, pid: int
) -> tuple[h.LoadResult, dict]:
    cpu_before = h.cpu_seconds(pid)
    result = h.load(url, connections, duration)
    cpu_used = h.cpu_seconds(pid) - cpu_before
    # CPU per request says what a request costs the server, even when a busy machine denies
    # it a whole core (then req/s drops but this figure barely moves).
    row = result.row(label) | {
        "server cpu %": round(cpu_used * 100 / max(result.duration_s, 1e-9), 1),
        "cpu us/req": round(cpu_used * 1e6 / max(result.requests, 1)),
    }
    return result, row


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    p.add_argument("--connections", default="16,64")
    p.add_argument(
        "--rules",
        type=int,
        default=10,
        help="also measure a QR with this many rules (0: skip), max 10",
    )
    args = p.parse_args(argv)
    duration = 0.5 if args.quick else args.duration  # wrk rounds up to whole seconds
    warmup = 0.5 if args.quick else 3.0
    levels = [int(c) for c in args.connections.split(",")]
    rows, runs = [], {"bare": {}, "app": {}, "rules": {}}

    with h.bare_app() as bare:
        url = f"{bare.base_url}/r/AbCdEf12"
        h.load(url, max(levels), warmup)
        for conns in levels:
            result, row = run_load("bare litestar 302", url, conns, duration, bare.pid)
            runs["bare"][conns] = result.__dict__
            rows.append(row)

    app = h.AppServer(keep=args.keep)
    try:
        app.start()
        short_id = app.create_qr()
        url = f"{app.base_url}/r/{short_id}"
        answered = in_flight_bound = 0
        warm = h.load(url, max(levels), warmup)
        answered += warm.status_302
        in_flight_bound += warm.connections
        for conns in levels:
            result, row = run_load("qrstudio /r/{id}", url, conns, duration, app.pid)
            runs["app"][conns] = result.__dict__
            rows.append(row)
            answered += result.status_302
            in_flight_bound += conns
        if args.rules:
            # The same server, a second QR with rules: the routing's cost per scan, side by side.
            ruled = app.create_qr(name="bench rules", rules=TEN_RULES[: args.rules])
            ruled_url = f"{app.base_url}/r/{ruled}"
            h.load(ruled_url, max(levels), warmup)
            for conns in levels:
                label = f"qrstudio {args.rules} rules"
                result, row = run_load(label, ruled_url, conns, duration, app.pid)
                runs["rules"][conns] = result.__dict__
                rows.append(row)
        time.sleep(0.5)  # let the last batch's commit land before we count
        stored = app.sql(
            "SELECT count(*) FROM scans JOIN dynamic_qrs ON dynamic_qrs.id = scans.qr_id "
            "WHERE short_id = ?",
            (short_id,),
        )[0][0]
        scan_count = app.sql("SELECT scan_count FROM dynamic_qrs WHERE short_id = ?", (short_id,))[
            0
        ][0]
        memory = h.rss_mb(app.pid)
        database_bytes = app.database_bytes()
    finally:
        app.close()

    for row in rows:
        bare_rps = runs["bare"].get(row["conns"], {}).get("rps")
        row["vs bare"] = round(row["req/s"] / bare_rps, 2) if bare_rps else None
    tool = "wrk" if h.WRK else "bench.loadgen (python: wrk is not installed)"
    print(h.table(f"Redirect ({tool}, {duration:g} s per run)", rows))

    durability = {
        "302s answered (as counted by the load tool)": answered,
        "scans stored": stored,
        "dynamic_qrs.scan_count": scan_count,
        "stored - answered": stored - answered,
        "allowed (in flight at a stop)": in_flight_bound,
    }
    durable_ok = answered <= stored <= answered + in_flight_bound and scan_count == stored
    print()
    print(h.table("Durability", [{"figure": k, "value": v} for k, v in durability.items()]))
    print(
        f"server RSS after: {memory['rss_mb']} MiB (peak {memory['peak_rss_mb']} MiB); "
        f"database {database_bytes / 1e6:.1f} MB"
    )

    top = max(levels)
    app_top, bare_top = runs["app"].get(top, {}), runs["bare"].get(top, {})
    ratio = app_top.get("rps", 0) / bare_top["rps"] if bare_top.get("rps") else None
    rules_top = runs["rules"].get(top, {})
    rules_ratio = rules_top["rps"] / app_top["rps"] if rules_top and app_top.get("rps") else None
    targets = [
        h.check(f"req/s vs bare at {top} conns", ratio, 0.5, at_least=True),
        h.check(f"durable scans/s at {top} conns", app_top.get("rps"), 4000, at_least=True),
        h.check(f"p99 ms at {top} conns", app_top.get("p99_ms"), 30, at_least=False),
        {
            "target": "stored scans == 302s answered",
            "value": stored - answered,
            "limit": f"0..{in_flight_bound}",
            "met": durable_ok,
        },
    ]
    if rules_ratio is not None:
        targets.append(
            h.check(
                f"{args.rules} rules req/s vs none at {top} conns", rules_ratio, 0.9, at_least=True
            )
        )
    h.print_targets(targets)
    h.write_result(
        args,
        NAME,
        {
            "rows": rows,
            "runs": runs,
            "durability": durability,
            "durable_ok": durable_ok,
            "server_memory": memory,
            "database_bytes": database_bytes,
            "ratio_at_top": ratio,
            "rules_ratio_at_top": rules_ratio,
            "targets": targets,
            "duration_s": duration,
        },
    )
    return 0 if durable_ok else 1


if __name__ == "__main__":
    sys.exit(main())
