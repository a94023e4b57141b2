"""Run every benchmark, each in its own process with a time bound, then print all targets.

    python -m bench.run_all [--quick] [--only redirect,stats]

Results: one JSON per bench under bench/results/ and summary.json beside them. The exit status
is 1 when a bench crashed or ran out of time; a missed target is a finding, not a failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import harness as h

# (module, time bound in seconds for a full run). The bounds are generous for a busy 2-core box.
BENCHES = [
    ("redirect", 240),
    ("delivery", 420),
    ("scan_to_webhook", 240),
    ("failing_endpoints", 420),
    ("render", 180),
    ("renders_vs_redirect", 240),
    ("stats", 1200),
]


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--only", default="", help="comma-separated bench names")
    args = p.parse_args(argv)
    chosen = [b for b in BENCHES if not args.only or b[0] in args.only.split(",")]
    info = h.machine()
    print(
        f"machine: {info['cpus']} cpus, load average {info['loadavg_1_5_15']}, "
        f"python {info['python']}"
    )
    if h.WRK:
        print(f"load tool: wrk ({h.WRK})")
    else:
        print(
            "load tool: wrk is NOT installed (apt-get install wrk); "
            "falling back to bench.loadgen, a Python load generator, "
            "which costs more CPU per request: req/s figures will be lower than with wrk"
        )
    outcome = {}
    for name, bound in chosen:
        bound = 120 if args.quick else bound
        print(f"\n=== {name} (bound {bound} s) ===", flush=True)
        cmd = [sys.executable, "-m", f"bench.{name}", "--results-dir", args.results_dir]
        cmd += ["--quick"] if args.quick else []
        cmd += ["--keep"] if args.keep else []
        started = time.monotonic()
        # Its own process group, so a bench that runs out of time takes every process it started.
        proc = subprocess.Popen(cmd, cwd=h.REPO_ROOT, env=h.child_env(), start_new_session=True)
        try:
            code = proc.wait(timeout=bound)
            outcome[name] = "ok" if code == 0 else f"exit {code}"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            outcome[name] = f"timed out after {bound} s"
        print(f"--- {name}: {outcome[name]} in {time.monotonic() - started:.0f} s", flush=True)

    targets = []
    for name, _ in chosen:
        path = Path(args.results_dir) / f"{name}.json"
        if outcome[name] in ("ok", "exit 1") and path.exists():
            for target in json.loads(path.read_text()).get("targets", []):
                targets.append({"bench": name, **target})
    print()
    print(h.table("All targets", targets, ["bench", "target", "value", "limit", "met"]))
    print(h.table("\nBenches", [{"bench": k, "outcome": v} for k, v in outcome.items()]))
    h.write_result(args, "summary", {"outcome": outcome, "targets": targets})
    return 0 if all(v == "ok" for v in outcome.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
