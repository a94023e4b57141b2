"""Redirect: GET /r/{short_id} of the real appliance against a bare Litestar 302, side by side.

Both run under the same uvicorn settings, each in its own process, driven by wrk (or
bench.loadgen) from another process at 16 and 64 keep-alive connections. Afterwards every
302 the load tool counted must be a stored scan: the tool's count can trail the store only
by requests in flight when it stopped (at most one per connection per run).

The same server also answers a QR on a branded domain (issue 17.3): `GET /{short_id}` with
`Host: go.bench.test`, run right after the default host's at each level, so the Host routing's
cost shows beside the default path (target: within 10 %).

    python -m bench.redirect [--duration 10] [--quick] [--branded-host ""]
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
    label: str,
    url: str,
    connections: int,
    duration: float,
    pid: int,
    headers: dict[str, str] | None = None,
) -> tuple[h.LoadResult, dict]:
    cpu_before = h.cpu_seconds(pid)
    result = h.load(url, connections, duration, headers=headers)
    cpu_used = h.cpu_seconds(pid) - cpu_before
    # CPU per request says what a request costs the server, even when a busy machine denies
    # it a whole core (then req/s drops but this figure barely moves).
    row = result.row(label) | {
        "server cpu %": round(cpu_used * 100 / max(result.duration_s, 1e-9), 1),
        "cpu us/req": round(cpu_used * 1e6 / max(result.requests, 1)),
    }
    return result, row


def median_run(results: list[dict]) -> dict:
    """The run with the median req/s of several (the whole run: its latencies and CPU)."""
    ordered = sorted(results, key=lambda r: r["rps"])
    return ordered[(len(ordered) - 1) // 2] | {"rps_all": [r["rps"] for r in results]}


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
    p.add_argument(
        "--branded-host",
        default="go.bench.test",
        help="also measure a QR on this branded domain (Host header); '' skips it (a revision"
        " without branded domains)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="runs per host and level, alternating which host goes first; medians are compared",
    )
    args = p.parse_args(argv)
    duration = 0.5 if args.quick else args.duration  # wrk rounds up to whole seconds
    warmup = 0.5 if args.quick else 3.0
    levels = [int(c) for c in args.connections.split(",")]
    rows, runs = [], {"bare": {}, "app": {}, "branded": {}, "rules": {}}
    rounds: dict[str, dict[int, list[dict]]] = {"app": {}, "branded": {}}
    host = args.branded_host

    with h.bare_app() as bare:
        url = f"{bare.base_url}/r/AbCdEf12"
        h.load(url, max(levels), warmup)
        for conns in levels:
            result, row = run_load("bare litestar 302", url, conns, duration, bare.pid)
            runs["bare"][conns] = result.__dict__
            rows.append(row)

    # A branded domain needs a plan that may have one (the key exists since issue 17).
    config = {"plans": {"business": {"custom_domains": 1}}} if host else {}
    app = h.AppServer(config=config, keep=args.keep)
    try:
        app.start()
        short_id = app.create_qr()
        url = f"{app.base_url}/r/{short_id}"
        answered = in_flight_bound = 0
        warm = h.load(url, max(levels), warmup)
        answered += warm.status_302
        in_flight_bound += warm.connections
        branded_id, branded_headers = "", {"Host": host}
        branded_answered = branded_bound = 0
        if host:
            app.api("POST", "/api/v1/domains/", json={"hostname": host}).raise_for_status()
            branded_id = app.create_qr(name="bench branded", domain=host)
            branded_url = f"{app.base_url}/{branded_id}"
            warm = h.load(branded_url, max(levels), warmup, headers=branded_headers)
            branded_answered += warm.status_302
            branded_bound += warm.connections
        for conns in levels:
            # Each round runs both hosts; every other round the branded host goes first, so
            # what drifts during a run (the growing database, a neighbour's load) is shared.
            for round_no in range(args.rounds):
                sides = ["app", "branded"] if host else ["app"]
                if round_no % 2:
                    sides.reverse()
                for side in sides:
                    if side == "app":
                        result, row = run_load("qrstudio /r/{id}", url, conns, duration, app.pid)
                        answered += result.status_302
                        in_flight_bound += conns
                    else:
                        label = f"qrstudio {host}/{{id}}"
                        result, row = run_load(
                            label, branded_url, conns, duration, app.pid, branded_headers
                        )
                        branded_answered += result.status_302
                        branded_bound += conns
                    rounds[side].setdefault(conns, []).append(result.__dict__ | row)
                    rows.append(row)
            for side in ("app", "branded"):
                if conns in rounds[side]:
                    runs[side][conns] = median_run(rounds[side][conns])
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
        branded_stored = (
            app.sql(
                "SELECT count(*) FROM scans JOIN dynamic_qrs ON dynamic_qrs.id = scans.qr_id "
                "WHERE short_id = ?",
                (branded_id,),
            )[0][0]
            if branded_id
            else 0
        )
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
    if branded_id:
        durability["branded: 302s answered"] = branded_answered
        durability["branded: scans stored"] = branded_stored
    durable_ok = answered <= stored <= answered + in_flight_bound and scan_count == stored
    durable_ok = durable_ok and (
        branded_answered <= branded_stored <= branded_answered + branded_bound
    )
    print()
    print(h.table("Durability", [{"figure": k, "value": v} for k, v in durability.items()]))
    print(
        f"server RSS after: {memory['rss_mb']} MiB (peak {memory['peak_rss_mb']} MiB); "
        f"database {database_bytes / 1e6:.1f} MB"
    )

    top = max(levels)
    app_top, bare_top = runs["app"].get(top, {}), runs["bare"].get(top, {})
    ratio = app_top.get("rps", 0) / bare_top["rps"] if bare_top.get("rps") else None
    branded_top = runs["branded"].get(top, {})
    branded_ratio = (
        branded_top["rps"] / app_top["rps"] if branded_top and app_top.get("rps") else None
    )
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
    if branded_ratio is not None:
        targets.append(
            h.check(
                f"branded host req/s vs default at {top} conns", branded_ratio, 0.9, at_least=True
            )
        )
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
            "branded_ratio_at_top": branded_ratio,
            "rounds": rounds,
            "targets": targets,
            "duration_s": duration,
        },
    )
    return 0 if durable_ok else 1


if __name__ == "__main__":
    sys.exit(main())
