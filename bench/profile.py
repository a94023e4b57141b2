"""Profile the appliance under a bench's load with py-spy, and say where the time goes.

    python -m bench.profile redirect   [--seconds 10]   # wrk at 64 connections on GET /r/{id}
    python -m bench.profile delivery   [--events 20000] # the dispatcher draining a backlog
    python -m bench.profile stats      [--scans 200000] # the stats endpoint over many scans
    python -m bench.profile scan_to_webhook [--rate 500] # paced scans, each delivered to a receiver

py-spy (pip install py-spy; not an appliance dependency) samples the server process, all
threads, without slowing it much. The raw collapsed stacks go to bench/results/profile-<name>.txt
(load them into speedscope.app or flamegraph.pl) and the top functions, by own time and by
time including callees, are printed per thread.
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import harness as h


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: pip install py-spy")
    return found


NATIVE = "--native" in sys.argv  # also sample C frames (SQLite, uvloop): slower, more exact


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "250",
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "--threads",
            "--nonblocking",
            *(["--native"] if NATIVE else []),
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


# Leaf frames where a thread waits rather than works: the event loop's poll (uvloop is C code,
# so py-spy shows the Python frame that entered it) and aiosqlite's worker waiting on its queue.
IDLE_LEAVES = ("Runner.run (asyncio/runners.py", "_connection_worker_thread (aiosqlite/core.py:59)")


def summarize(raw: Path, top: int = 25) -> str:
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    threads: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        if frames[-1].startswith(IDLE_LEAVES):
            continue
        total += n
        threads[frames[0]] += n
        own[frames[-1]] += n
        for frame in set(frames[1:]):
            inclusive[frame] += n
    if not total:
        return "no samples"
    out = [f"{total} busy samples (waiting in the event loop's poll or a worker's queue left out)"]
    out += [f"{n / total:6.1%}  {name}" for name, n in threads.most_common(6)]
    out.append("\nown time")
    out += [f"{n / total:6.1%}  {name}" for name, n in own.most_common(top)]
    out.append("\nincluding callees (our code and the libraries it calls)")
    skip = ("runpy", "asyncio/", "threading.py", "uvicorn/server.py", "__main__", "cli.py")
    out += [
        f"{n / total:6.1%}  {name}"
        for name, n in inclusive.most_common(top * 4)
        if not any(s in name for s in skip)
    ][:top]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("scenario", choices=["redirect", "delivery", "stats", "scan_to_webhook"])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--events", type=int, default=20_000)
    p.add_argument("--scans", type=int, default=200_000)
    p.add_argument("--rate", type=float, default=500.0)
    p.add_argument("--native", action="store_true", help="sample C frames too (py-spy --native)")
    args = p.parse_args(argv)
    out = Path(args.results_dir) / f"profile-{args.scenario}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    config = h.WEBHOOK_TEST_CONFIG if args.scenario in ("delivery", "scan_to_webhook") else {}
    if args.scenario == "delivery":
        config = h.merge(config, {"webhooks": {"max_concurrency": 16, "max_per_endpoint": 16}})
    with h.Receiver() as receiver:
        app = h.AppServer(config=config, keep=args.keep)
        try:
            app.start()
            if args.scenario == "redirect":
                url = f"{app.base_url}/r/{app.create_qr()}"
                h.load(url, 64, 2)
                spy = record(app.pid, args.seconds + 1, out)
                time.sleep(0.5)
                print(h.load(url, 64, args.seconds))
            elif args.scenario == "delivery":
                from .delivery import emit_events

                app.create_webhook(f"{receiver.base_url}/hook/1")
                owner = app.sql("SELECT id FROM users ORDER BY id LIMIT 1")[0][0]
                spy = record(app.pid, args.seconds, out)
                time.sleep(0.5)
                emit_events(app.database_path, owner, args.events)
                spy.wait()
                stats = receiver.stats()
                print(f"{stats['count']} deliveries arrived while profiling")
            elif args.scenario == "scan_to_webhook":
                url = f"{app.base_url}/r/{app.create_qr()}"
                app.create_webhook(f"{receiver.base_url}/hook/1")
                h.paced([url], args.rate, 2, 32)
                spy = record(app.pid, args.seconds, out)
                time.sleep(0.5)
                load = h.paced([url], args.rate, args.seconds - 1, 32)
                spy.wait()
                print(
                    f"{load['status_302']} scans answered, "
                    f"{receiver.stats()['count']} deliveries arrived"
                )
            else:
                from .stats import load_scans

                short_id = app.create_qr()
                qr_id = app.sql("SELECT id FROM dynamic_qrs WHERE short_id = ?", (short_id,))[0][0]
                now_ms = int(time.time() * 1000)
                load_scans(
                    app.database_path, qr_id, args.scans, now_ms - 90 * 86_400_000, 90 * 86_400_000
                )
                url = f"{app.base_url}/api/v1/dynamic-qrs/{short_id}/stats/"
                first = time.strftime("%Y-%m-%d", time.gmtime(now_ms / 1000 - 89 * 86400))
                spy = record(app.pid, args.seconds, out)
                deadline = time.monotonic() + args.seconds - 0.5
                calls = 0
                while time.monotonic() < deadline:
                    h.httpx.get(
                        url, params={"from": first}, headers=app.token(), timeout=60
                    ).raise_for_status()
                    calls += 1
                print(f"{calls} stats calls while profiling")
            spy.wait()
        finally:
            app.close()
    print(summarize(out))
    print(f"\nraw stacks: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
