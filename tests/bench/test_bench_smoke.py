"""Every bench script runs end to end in --quick mode, so the benches cannot rot.

The scripts run concurrently (each starts its own appliance, receivers and load on free
ports) to keep this under a minute. Nothing here asserts a speed: only that each script
finishes, writes its JSON, and that the correctness checks inside the benches hold (every
302 is a stored scan, every scan reaches the webhook, every loaded scan is stored).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [
    "redirect",
    "delivery",
    "scan_to_webhook",
    "failing_endpoints",
    "render",
    "renders_vs_redirect",
    "stats",
]
FALLBACK = "redirect on bench.loadgen"


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory) -> dict[str, tuple[int, str, dict]]:
    results = tmp_path_factory.mktemp("bench-results")
    # BENCH_APP_ROOT passes through: a developer may point the benches at another checkout.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("QRSTUDIO_") and key != "BENCH_RESULTS_DIR"
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    procs = {}
    # The redirect bench runs twice: with wrk (when installed) and on the Python load generator,
    # as on a machine without wrk.
    for run in [*SCRIPTS, FALLBACK]:
        name, script_env, out = run, env, results
        if run == FALLBACK:
            name, script_env, out = "redirect", {**env, "BENCH_NO_WRK": "1"}, results / "fallback"
        procs[run] = subprocess.Popen(
            [sys.executable, "-m", f"bench.{name}", "--quick", "--results-dir", str(out)],
            cwd=REPO_ROOT,
            env=script_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    runs = {}
    for name, proc in procs.items():
        try:
            output, _ = proc.communicate(timeout=150)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
        path = (
            results / "fallback" / "redirect.json" if name == FALLBACK else results / f"{name}.json"
        )
        runs[name] = (
            proc.returncode,
            output,
            json.loads(path.read_text()) if path.exists() else {},
        )
    return runs


@pytest.mark.timeout(200)
@pytest.mark.parametrize("name", [*SCRIPTS, FALLBACK])
def test_bench_script_runs_in_quick_mode(quick_runs, name: str) -> None:
    code, output, result = quick_runs[name]
    assert code == 0, output
    assert result["bench"] == ("redirect" if name == FALLBACK else name)
    assert result["quick"] is True
    assert result["rows"], output
    assert "loadavg_1_5_15" in result["machine"]
    for target in result.get("targets", []):
        assert set(target) == {"target", "value", "limit", "met"}


@pytest.mark.parametrize("run", ["redirect", FALLBACK])
def test_redirect_stores_every_answered_scan(quick_runs, run: str) -> None:
    code, output, result = quick_runs[run]
    assert code == 0, output
    figures = result["durability"]
    answered = figures["302s answered (as counted by the load tool)"]
    assert answered > 0
    assert (
        answered <= figures["scans stored"] <= answered + figures["allowed (in flight at a stop)"]
    ), output
    assert figures["dynamic_qrs.scan_count"] == figures["scans stored"]
    tools = {r["tool"] for side in ("app", "bare") for r in result["runs"][side].values()}
    assert tools == ({"bench.loadgen"} if run == FALLBACK or not shutil.which("wrk") else {"wrk"})


def test_every_scan_reaches_the_webhook(quick_runs) -> None:
    code, output, result = quick_runs["scan_to_webhook"]
    assert code == 0, output
    assert result["missing"] == 0, output
    assert result["latency"]["count"] == result["redirect"]["status_302"] == 100


def test_delivery_delivers_every_event(quick_runs) -> None:
    code, output, result = quick_runs["delivery"]
    assert code == 0, output
    assert [row["delivered"] for row in result["rows"]] == [300, 300], output


def test_stats_counts_every_loaded_scan(quick_runs) -> None:
    code, output, result = quick_runs["stats"]
    assert code == 0, output
    assert result["scans"] == 5000
    included = next(answer for label, answer in result["answers"].items() if "included" in label)
    assert included["scans"] == 5000, output
