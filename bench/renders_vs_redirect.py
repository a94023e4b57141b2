"""Renders against redirects: redirect p99 while 8 worst-case renders run, next to p99 without.

The appliance runs pinned to CPU 0 (taskset), the load tools on the other CPUs, so what moves
the redirect figures is the server's own work. For each render pool size (`[qr]
render_concurrency`, `--pools`; 2 is the default) one server is started and measured twice
with wrk (or bench.loadgen) on GET /r/{id}: alone, then while 8 client threads each post the
most expensive image there is, back to back: POST /api/v1/generate/ with 2,900 bytes (version
40 at level L) at size 4096, PNG, new data each time so the cache never answers. A client
that gets 503 waits its Retry-After, as a well-behaved client does. A pool of 8 lets all 8
render at once, as the appliance did before the pool (asyncio.to_thread: up to 6 threads on 2
cores).

Last, what a refused generation costs: a member whose monthly quota is used up posts the same
worst-case body; the server CPU per refused call (a whole render when the
quota was checked after rendering).

    python -m bench.renders_vs_redirect [--duration 10] [--pools 2,8] [--quick]
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import httpx

from . import harness as h

NAME = "renders_vs_redirect"
RENDER_CLIENTS = 8
SERVER_CPUS = "0"
# 2,900 bytes in byte mode: version 40 at level L, the largest QR code; drawn 4096 px wide.
WORST_DATA = "x" * 2892
WORST = {"error_correction": "L", "size": 4096, "format": "png"}
FREE_PLAN_USED_UP = {"plans": {"free": {"monthly_quota": 0, "api_rate_limit": 1000}}}


@dataclass
class RenderLoad:
    """RENDER_CLIENTS threads posting worst-case images until stopped."""

    url: str
    headers: dict[str, str]
    stop: threading.Event = field(default_factory=threading.Event)
    ok: int = 0
    busy: int = 0
    other: int = 0
    seconds: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _numbers: itertools.count = field(default_factory=itertools.count)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _client(self) -> None:
        with httpx.Client(headers=self.headers, timeout=120) as client:
            while not self.stop.is_set():
                body = {"data": WORST_DATA + f"{next(self._numbers):08d}", **WORST}
                started = time.perf_counter()
                response = client.post(self.url, json=body)
                took = time.perf_counter() - started
                with self._lock:
                    if response.status_code == 200:
                        self.ok += 1
                        self.seconds.append(took)
                    elif response.status_code == 503:
                        self.busy += 1
                    else:
                        self.other += 1
                if response.status_code == 503:
                    self.stop.wait(float(response.headers.get("retry-after", "1")))

    def start(self) -> RenderLoad:
        for n in range(RENDER_CLIENTS):
            thread = threading.Thread(target=self._client, name=f"render-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def finish(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=120)


def pin_self_beside_the_server() -> str:
    """Run this process (and wrk, which inherits it) on every CPU but the server's."""
    cpus = set(range(os.cpu_count() or 1)) - {int(SERVER_CPUS)}
    if not cpus or not hasattr(os, "sched_setaffinity"):
        return "not pinned (one CPU)"
    os.sched_setaffinity(0, cpus)
    return f"server on CPU {SERVER_CPUS}, load tools on CPU {','.join(map(str, sorted(cpus)))}"


def measure_pool(pool: str, connections: int, duration: float, warmup: float) -> list[dict]:
    config = {} if pool == "default" else {"qr": {"render_concurrency": int(pool)}}
    app = h.AppServer(config=config, cpus=SERVER_CPUS)
    rows = []
    try:
        app.start()
        url = f"{app.base_url}/r/{app.create_qr()}"
        h.load(url, connections, warmup)
        for with_renders in (False, True):
            load = None
            if with_renders:
                load = RenderLoad(f"{app.base_url}/api/v1/generate/", app.token()).start()
                time.sleep(warmup)  # every client has a render in flight or a 503 behind it
            cpu_before = h.cpu_seconds(app.pid)
            result = h.load(url, connections, duration)
            cpu = h.cpu_seconds(app.pid) - cpu_before
            if load is not None:
                load.finish()
            rows.append(
                {
                    "render pool": pool,
                    "renders": f"{RENDER_CLIENTS} clients" if with_renders else "none",
                    "conns": connections,
                    "redirect req/s": result.rps,
                    "p50 ms": result.p50_ms,
                    "p99 ms": result.p99_ms,
                    "max ms": result.max_ms,
                    "server cpu %": round(cpu * 100 / max(result.duration_s, 1e-9)),
                    "images": load.ok if load else None,
                    "image p50 s": round(h.percentile(load.seconds, 50), 2)
                    if load and load.seconds
                    else None,
                    "503s": load.busy if load else None,
                    "other": (load.other if load else 0) + result.status_other + result.errors,
                }
            )
    finally:
        app.close()
    return rows


def measure_refusals(calls: int) -> dict:
    app = h.AppServer(config=FREE_PLAN_USED_UP, cpus=SERVER_CPUS)
    try:
        app.start()
        headers = app.create_user("used-up@example.com", plan="free")
        statuses, seconds = [], []
        with httpx.Client(headers=headers, timeout=120) as client:
            url = f"{app.base_url}/api/v1/generate/"
            # New data on every call: a cached image would cost nothing either way.
            bodies = [{"data": WORST_DATA + f"{n:08d}", **WORST} for n in range(calls + 1)]
            client.post(url, json=bodies.pop())  # connection and code paths warm
            cpu_before = h.cpu_seconds(app.pid)
            for body in bodies:
                started = time.perf_counter()
                statuses.append(client.post(url, json=body).status_code)
                seconds.append(time.perf_counter() - started)
            cpu = h.cpu_seconds(app.pid) - cpu_before
    finally:
        app.close()
    return {
        "refused worst-case generations": calls,
        "statuses": sorted(set(statuses)),
        "server cpu ms per call": round(cpu * 1000 / calls, 1),
        "p50 ms": round(h.percentile(seconds, 50) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument(
        "--pools",
        default="2,8",
        help="render_concurrency values to compare; 'default' leaves the key out (old revisions)",
    )
    args = p.parse_args(argv)
    duration = 1.0 if args.quick else args.duration
    warmup = 0.5 if args.quick else 2.0
    pinning = pin_self_beside_the_server()
    rows = []
    for pool in args.pools.split(","):
        rows += measure_pool(pool.strip(), args.connections, duration, warmup)
    refusals = measure_refusals(3 if args.quick else 10)

    tool = "wrk" if h.WRK else "bench.loadgen (python: wrk is not installed)"
    print(f"{pinning}; load tool {tool}, {duration:g} s per run")
    print(h.table("Redirect p99 with and without 8 worst-case renders", rows))
    print()
    print(h.table("A generation refused over quota", [refusals]))

    by = {(r["render pool"], r["renders"]): r for r in rows}
    default = args.pools.split(",")[0].strip()
    alone, loaded = by.get((default, "none")), by.get((default, f"{RENDER_CLIENTS} clients"))
    targets = []
    if alone and loaded:
        targets.append(
            h.check(
                f"redirect p99 ms with {RENDER_CLIENTS} renders (pool {default})",
                loaded["p99 ms"],
                100,
                at_least=False,
            )
        )
    targets.append(
        h.check(
            "server cpu ms per refused generation",
            refusals["server cpu ms per call"],
            50,
            at_least=False,
        )
    )
    h.print_targets(targets)
    h.write_result(
        args,
        NAME,
        {
            "rows": rows,
            "refusals": refusals,
            "pinning": pinning,
            "targets": targets,
            "duration_s": duration,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
