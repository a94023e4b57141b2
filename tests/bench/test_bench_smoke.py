"""Every bench script runs end to end in --quick mode, so the benches cannot rot.

The scripts run concurrently (each starts its own appliance, receivers and load on free
ports) to keep this under a minute. Nothing here asserts a speed: only that each script
finishes, writes its JSON, and that the correctness checks inside the benches hold (every
302 is a stored scan, every scan reaches the webhook, every loaded scan is stored).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ["redirect", "delivery", "scan_to_webhook", "failing_endpoints", "render", "stats"]
SKIPPED = 3  # a bench whose endpoint is not in this checkout says so and exits 3


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory) -> dict[str, tuple[int, str, dict]]:
    results = tmp_path_factory.mktemp("bench-results")
    # BENCH_APP_ROOT passes through: a developer may point the benches at another checkout.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("QRSTUDIO_") and key != "BENCH_RESULTS_DIR"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    procs = {}
    for name in SCRIPTS:
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", f"bench.{name}", "--quick", "--results-dir", str(results)],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
    runs = {}
    for name, proc in procs.items():
        try:
            output, _ = proc.communicate(timeout=150)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
        path = results / f"{name}.json"
        runs[name] = (proc.returncode, output, json.loads(path.read_text()) if path.exists() else {})
    return runs


@pytest.mark.timeout(200)
@pytest.mark.parametrize("name", SCRIPTS)
def test_bench_script_runs_in_quick_mode(quick_runs, name: str) -> None:
    code, output, result = quick_runs[name]
    if code == SKIPPED:
        pytest.skip(f"{name}: {result.get('skipped', 'feature missing')}")
    assert code == 0, output
    assert result["bench"] == name
    assert result["quick"] is True
    assert result["rows"], output
    assert "loadavg_1_5_15" in result["machine"]
    for target in result.get("targets", []):
        assert set(target) == {"target", "value", "limit", "met"}


def test_redirect_stores_every_answered_scan(quick_runs) -> None:
    code, output, result = quick_runs["redirect"]
    if code == SKIPPED:
        pytest.skip(result.get("skipped", ""))
    figures = result["durability"]
    answered = figures["302s answered (as counted by the load tool)"]
    assert answered > 0
    assert answered <= figures["scans stored"] <= answered + figures["allowed (in flight at a stop)"], output
    assert figures["dynamic_qrs.scan_count"] == figures["scans stored"]


def test_every_scan_reaches_the_webhook(quick_runs) -> None:
    code, output, result = quick_runs["scan_to_webhook"]
    if code == SKIPPED:
        pytest.skip(result.get("skipped", ""))
    assert result["missing"] == 0, output
    assert result["latency"]["count"] == result["redirect"]["status_302"] == 100


def test_delivery_delivers_every_event(quick_runs) -> None:
    code, output, result = quick_runs["delivery"]
    if code == SKIPPED:
        pytest.skip(result.get("skipped", ""))
    assert [row["delivered"] for row in result["rows"]] == [300, 300], output


def test_stats_counts_every_loaded_scan(quick_runs) -> None:
    code, output, result = quick_runs["stats"]
    if code == SKIPPED:
        pytest.skip(result.get("skipped", ""))
    assert result["scans"] == 5000
    included = next(answer for label, answer in result["answers"].items() if "included" in label)
    assert included["scans"] == 5000, output


def test_wrk_output_is_parsed(tmp_path) -> None:
    """The harness reads wrk's figures from our Lua script's lines (skipped where wrk is missing)."""
    from bench import harness

    if harness.WRK is None:
        pytest.skip("wrk is not installed")
    with harness.bare_app() as bare:
        result = harness.load(f"{bare.base_url}/r/AbCdEf12", 4, 1)
    assert result.tool == "wrk"
    assert result.status_302 == result.requests > 0
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms


def test_python_loadgen_counts_what_it_sends() -> None:
    from bench import harness

    with harness.bare_app() as bare:
        result = harness.load(f"{bare.base_url}/r/AbCdEf12", 4, 1, force_python=True)
    assert result.tool == "bench.loadgen"
    assert result.status_302 == result.requests > 0
    assert result.errors == 0
