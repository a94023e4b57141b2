"""What every bench script shares: processes, load generation, tables and JSON results.

Every process the benches talk to is a separate OS process on 127.0.0.1 with a free port:
the real `qrstudio-box run` (with its own temporary data_dir), the bare Litestar app, the
keep-alive receiver and the load generator (wrk, or `bench.loadgen` when wrk is missing).
Nothing here imports the app: the benches measure it from the outside.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

# Only the config writer: the app under test may come from another checkout (BENCH_APP_ROOT).
from qrstudio_box.config import to_toml

REPO_ROOT = Path(__file__).resolve().parent.parent
# The checkout whose appliance is measured: this one, unless BENCH_APP_ROOT names another
# (e.g. to compare two revisions with the same bench code).
APP_ROOT = Path(os.environ.get("BENCH_APP_ROOT") or REPO_ROOT).resolve()
DEFAULT_RESULTS_DIR = REPO_ROOT / "bench" / "results"
ADMIN_EMAIL = "bench@example.com"
ADMIN_PASSWORD = "bench-password-1"
# One realistic phone browser: the app's user-agent parse is LRU-cached, as it is for real
# traffic where a few browsers make most scans.
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
# BENCH_NO_WRK=1 forces the Python load generator (to test the fallback where wrk exists).
WRK = None if os.environ.get("BENCH_NO_WRK") else shutil.which("wrk")


# -- small helpers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    """Our environment without QRSTUDIO_* leaking in, with the repo on PYTHONPATH."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("QRSTUDIO_")}
    roots = [str(APP_ROOT)] + ([str(REPO_ROOT)] if APP_ROOT != REPO_ROOT else [])
    env["PYTHONPATH"] = os.pathsep.join(
        roots + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def wait_http(
    url: str, proc: subprocess.Popen, timeout: float = 30.0, log: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not up after {timeout}s:\n{_tail(log)}")


def _tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def stop_process(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def rss_mb(pid: int) -> dict[str, float]:
    """Resident memory now and at its peak (VmHWM), in MiB, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return {
        "rss_mb": round(values.get("VmRSS", 0.0), 1),
        "peak_rss_mb": round(values.get("VmHWM", 0.0), 1),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (the way wrk and most load tools report them)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


_LOAD_AT_START = [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine already was."""
    return {
        "cpus": os.cpu_count(),
        "loadavg_at_start": _LOAD_AT_START,
        "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_tool": "wrk" if WRK else "bench.loadgen (python; wrk not installed)",
    }


def git_revision() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(APP_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


# -- the command line every script shares --------------------------------------------------


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and durations: proves the script works, measures nothing",
    )
    p.add_argument(
        "--results-dir",
        default=os.environ.get("BENCH_RESULTS_DIR", str(DEFAULT_RESULTS_DIR)),
        help="where the JSON result goes (default bench/results/)",
    )
    p.add_argument(
        "--keep", action="store_true", help="keep the temporary data_dir (its path is printed)"
    )
    return p


# -- tables and results --------------------------------------------------------------------


def fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def table(title: str, rows: Iterable[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    rows = list(rows)
    columns = list(columns or (rows[0].keys() if rows else []))
    cells = [[fmt(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
    line = "  ".join(
        col.ljust(w) if i == 0 else col.rjust(w)
        for i, (col, w) in enumerate(zip(columns, widths, strict=True))
    )
    out = [title, line, "-" * len(line)]
    for r in cells:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(out)


def check(name: str, value: float | None, limit: float, *, at_least: bool) -> dict[str, Any]:
    """One target: the measured value, the limit, and whether it is met."""
    met = value is not None and value == value and (value >= limit if at_least else value <= limit)
    return {
        "target": name,
        "value": value,
        "limit": (">= " if at_least else "<= ") + fmt(limit),
        "met": met,
    }


def write_result(args: argparse.Namespace, name: str, result: dict[str, Any]) -> Path:
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {
        "bench": name,
        "quick": bool(args.quick),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_revision(),
        "machine": machine(),
        **result,
    }
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nresult written to {path}")
    return path


def print_targets(targets: list[dict[str, Any]]) -> None:
    if targets:
        print()
        print(table("Targets", targets, ["target", "value", "limit", "met"]))


# -- the real appliance --------------------------------------------------------------------


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for key, value in extra.items():
        out[key] = (
            merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


# The owner of everything the benches create: an admin on a plan with room for webhooks.
BENCH_CONFIG: dict[str, Any] = {
    "accounts": {"default_plan": "business"},
    "plans": {
        "business": {
            "rank": 20,
            "monthly_quota": 10_000_000,
            "webhooks": True,
            "max_webhooks": 200,
            "max_dynamic_qrs": 100_000,
            "api_rate_limit": 1_000_000,
        }
    },
    "logging": {"level": "warning", "access_log": False},
}


@dataclass
class AppServer:
    """`python -m qrstudio_box run` on a free port with a temporary data_dir."""

    config: dict[str, Any] = field(default_factory=dict)
    keep: bool = False
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="qrstudio-bench-")))
    port: int = 0
    # CPUs to pin the server to with taskset (e.g. "0"), so load tools run beside it and not
    # on its core; empty: unpinned.
    cpus: str = ""
    proc: subprocess.Popen | None = None
    _token: dict[str, str] | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.config = merge(
            merge(
                BENCH_CONFIG,
                {
                    "storage": {"data_dir": str(self.root / "data")},
                    "server": {"host": "127.0.0.1", "port": self.port},
                },
            ),
            self.config,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_path(self) -> Path:
        return Path(self.config["storage"]["data_dir"]) / "qrstudio.db"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def write_config(self) -> Path:
        path = self.root / "qrstudio.toml"
        path.write_text(to_toml(self.config))
        return path

    def start(self) -> AppServer:
        config_path = self.write_config()
        env = child_env(QRSTUDIO_ADMIN_EMAIL=ADMIN_EMAIL, QRSTUDIO_ADMIN_PASSWORD=ADMIN_PASSWORD)
        cmd = [sys.executable, "-m", "qrstudio_box", "run", "--config", str(config_path)]
        if self.cpus:
            cmd = ["taskset", "-c", self.cpus, *cmd]
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.root,
            )
        wait_http(f"{self.base_url}/healthz", self.proc, log=self.log_path)
        return self

    def stop(self) -> None:
        stop_process(self.proc)

    def close(self) -> None:
        self.stop()
        if self.keep:
            print(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def token(self) -> dict[str, str]:
        if self._token is None:
            response = httpx.post(
                f"{self.base_url}/api/v1/auth/token/",
                json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                timeout=30,
            )
            response.raise_for_status()
            self._token = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self._token

    def api(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return httpx.request(
            method, f"{self.base_url}{path}", headers=headers or self.token(), timeout=60, **kwargs
        )

    def create_user(
        self, email: str, password: str = ADMIN_PASSWORD, plan: str = "business"
    ) -> dict[str, str]:
        """Create a member on `plan` and return its bearer headers."""
        response = self.api(
            "POST",
            "/api/v1/admin/users/",
            json={"email": email, "password": password, "plan": plan, "role": "member"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"creating {email}: {response.status_code} {response.text}")
        login = httpx.post(
            f"{self.base_url}/api/v1/auth/token/",
            json={"email": email, "password": password},
            timeout=30,
        )
        login.raise_for_status()
        return {"Authorization": f"Bearer {login.json()['access_token']}"}

    def bulk_users(
        self, count: int, plan: str = "business", prefix: str = "owner"
    ) -> list[dict[str, str]]:
        """`count` members stored at once through the app's own store function (one password
        hash shared by all: argon2 per user would make setup take minutes), each with a bearer
        token minted by the app's own JWT setup from the key in data_dir."""
        import_app()
        from qrstudio_box.accounts import passwords
        from qrstudio_box.accounts.service import NewUser, insert_new_user
        from qrstudio_box.accounts.tokens import API_AUDIENCE, Tokens, load_or_create_key
        from qrstudio_box.db import connect_sync, write_sync

        password_hash = passwords.hash_password(ADMIN_PASSWORD)
        conn = connect_sync(self.database_path)
        try:
            ids = write_sync(
                conn,
                lambda tx: [
                    insert_new_user(
                        tx,
                        NewUser(f"{prefix}{n}@example.com", password_hash, "member", plan, None),
                    ).id
                    for n in range(count)
                ],
            )
        finally:
            conn.close()
        tokens = Tokens(load_or_create_key(self.database_path.parent), timedelta(minutes=60))
        return [
            {"Authorization": f"Bearer {tokens.issue(user_id, API_AUDIENCE)}"} for user_id in ids
        ]

    def create_qr(
        self,
        destination: str = "https://example.com/menu",
        name: str = "bench",
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> str:
        response = self.api(
            "POST",
            "/api/v1/dynamic-qrs/",
            headers=headers,
            json={"name": name, "destination_url": destination, **fields},
        )
        if response.status_code != 201:
            raise SetupFailed(
                f"POST /api/v1/dynamic-qrs/ answered {response.status_code}: {response.text[:200]}"
            )
        return response.json()["short_id"]

    def create_webhook(
        self,
        url: str,
        events: Sequence[str] = ("scan.created",),
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = self.api(
            "POST",
            "/api/v1/webhooks/",
            headers=headers,
            json={"url": url, "description": "bench receiver", "events": list(events)},
        )
        if response.status_code != 201:
            raise SetupFailed(
                f"POST /api/v1/webhooks/ answered {response.status_code}: {response.text[:200]}"
            )
        return response.json()

    def sql(self, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
        """A read on its own plain sqlite3 connection (WAL: it sees what has committed)."""
        conn = sqlite3.connect(self.database_path, timeout=30)
        try:
            return conn.execute(statement, params).fetchall()
        finally:
            conn.close()

    def database_bytes(self) -> int:
        return sum(
            p.stat().st_size for p in self.database_path.parent.glob(self.database_path.name + "*")
        )


WEBHOOK_TEST_CONFIG = {"webhooks": {"allow_http": True, "allow_private_targets": True}}


class SetupFailed(RuntimeError):
    """The appliance refused what a bench needs to start (a QR, a webhook): the bench fails."""


# -- the bare app, the receiver ------------------------------------------------------------


@dataclass
class Helper:
    """A helper process of ours (`python -m bench.<module>`) listening on a free port."""

    module: str
    extra_args: Sequence[str] = ()
    health_path: str = "/healthz"
    port: int = 0
    proc: subprocess.Popen | None = None
    log: Path | None = None

    def start(self) -> Helper:
        self.port = self.port or free_port()
        self.log = Path(tempfile.mkstemp(prefix=f"bench-{self.module}-", suffix=".log")[1])
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    f"bench.{self.module}",
                    "--port",
                    str(self.port),
                    *self.extra_args,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=child_env(),
                cwd=REPO_ROOT,
            )
        wait_http(f"{self.base_url}{self.health_path}", self.proc, log=self.log)
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        stop_process(self.proc)
        if self.log is not None:
            self.log.unlink(missing_ok=True)

    def __enter__(self) -> Helper:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bare_app() -> Helper:
    return Helper("bare_app")


class Receiver(Helper):
    """The keep-alive webhook receiver; /__stats tells what arrived and when."""

    def __init__(self, *extra_args: str) -> None:
        super().__init__("receiver", extra_args, health_path="/__health")

    def stats(self, detail: bool = False) -> dict[str, Any]:
        return httpx.get(
            f"{self.base_url}/__stats", params={"detail": "1" if detail else "0"}, timeout=60
        ).json()

    def reset(self) -> None:
        httpx.post(f"{self.base_url}/__reset", timeout=10).raise_for_status()

    def wait_for(self, count: int, timeout: float, path_prefix: str = "") -> dict[str, Any]:
        """Poll until `count` deliveries arrived (under path_prefix) or the timeout passes."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            got = stats["by_prefix"].get(path_prefix, 0) if path_prefix else stats["count"]
            if got >= count or time.monotonic() > deadline:
                return stats
            time.sleep(0.1)


# -- load --------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- Counts answers by status in every thread, then prints one line per figure for the harness.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) s302 = 0; s2xx = 0; sother = 0 end
function response(status, headers, body)
  if status == 302 then s302 = s302 + 1
  elseif status < 300 then s2xx = s2xx + 1
  else sother = sother + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s302"); b = b + t:get("s2xx"); c = c + t:get("sother")
  end
  io.write(string.format("BENCH status_302 %d\n", a))
  io.write(string.format("BENCH status_2xx %d\n", b))
  io.write(string.format("BENCH status_other %d\n", c))
  io.write(string.format("BENCH requests %d\n", summary.requests))
  io.write(string.format("BENCH duration_us %d\n", summary.duration))
  local e = summary.errors
  io.write(string.format("BENCH errors %d\n", e.connect + e.read + e.write + e.timeout))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("BENCH p%s_us %d\n", tostring(p), latency:percentile(p)))
  end
  io.write(string.format("BENCH max_us %d\n", latency.max))
  io.write(string.format("BENCH mean_us %d\n", math.floor(latency.mean)))
end
"""


def _wrk_script() -> Path:
    path = Path(tempfile.gettempdir()) / "qrstudio-bench-wrk.lua"
    if not path.exists() or path.read_text() != WRK_SCRIPT:
        path.write_text(WRK_SCRIPT)
    return path


@dataclass
class LoadResult:
    tool: str
    connections: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    status_302: int
    status_2xx: int
    status_other: int
    errors: int

    def row(self, label: str) -> dict[str, Any]:
        return {
            "run": label,
            "conns": self.connections,
            "req/s": self.rps,
            "p50 ms": self.p50_ms,
            "p99 ms": self.p99_ms,
            "max ms": self.max_ms,
            "302s": self.status_302,
            "other": self.status_other,
            "errors": self.errors,
        }


def load(
    url: str,
    connections: int,
    duration: float,
    *,
    threads: int = 1,
    headers: dict[str, str] | None = None,
    force_python: bool = False,
) -> LoadResult:
    """Closed-loop load at `connections` keep-alive connections for `duration` seconds."""
    headers = {"User-Agent": PHONE_UA, **(headers or {})}
    if WRK and not force_python:
        return _wrk(url, connections, duration, threads, headers)
    return _python_load(url, connections, duration, headers)


def _wrk(
    url: str, connections: int, duration: float, threads: int, headers: dict[str, str]
) -> LoadResult:
    cmd = [
        WRK,
        "-t",
        str(min(threads, connections)),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(_wrk_script()),
    ]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=duration + 60)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr or out.stdout}")
    figures = dict(
        (m[1], int(m[2])) for m in re.finditer(r"^BENCH (\S+) (-?\d+)$", out.stdout, re.M)
    )
    seconds = figures["duration_us"] / 1e6
    return LoadResult(
        tool="wrk",
        connections=connections,
        duration_s=round(seconds, 2),
        requests=figures["requests"],
        rps=round(figures["requests"] / seconds, 1),
        p50_ms=figures["p50_us"] / 1000,
        p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        status_302=figures["status_302"],
        status_2xx=figures["status_2xx"],
        status_other=figures["status_other"],
        errors=figures["errors"],
    )


def _python_load(
    url: str, connections: int, duration: float, headers: dict[str, str]
) -> LoadResult:
    cmd = [sys.executable, "-m", "bench.loadgen", url, "-c", str(connections), "-d", str(duration)]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=duration + 60, env=child_env(), cwd=REPO_ROOT
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench.loadgen failed: {out.stderr}")
    data = json.loads(out.stdout)
    return LoadResult(
        tool="bench.loadgen", **{k: data[k] for k in LoadResult.__dataclass_fields__ if k != "tool"}
    )


def paced(
    urls: Sequence[str],
    rate: float,
    duration: float,
    connections: int = 32,
    headers: dict[str, str] | None = None,
    mark_referer: bool = False,
) -> dict[str, Any]:
    """Open-loop load: `rate` requests/s for `duration` s (bench.loadgen --rate).

    With mark_referer every request carries a unique Referer `https://bench.invalid/m/<n>` and
    the answer's arrival time (CLOCK_MONOTONIC, which every process on the machine shares) is
    returned per marker, so a webhook receiver's arrival times can be matched to it.
    """
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen",
        *urls,
        "-c",
        str(connections),
        "-d",
        str(duration),
        "--rate",
        str(rate),
    ]
    for key, value in {"User-Agent": PHONE_UA, **(headers or {})}.items():
        cmd += ["-H", f"{key}: {value}"]
    if mark_referer:
        cmd.append("--mark-referer")
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=duration + 90, env=child_env(), cwd=REPO_ROOT
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench.loadgen failed: {out.stderr}")
    return json.loads(out.stdout)


def summarize_ms(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {
            "count": 0,
            "p50_ms": float("nan"),
            "p99_ms": float("nan"),
            "max_ms": float("nan"),
            "mean_ms": float("nan"),
        }
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 50), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(max(values), 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


def import_app() -> None:
    """Make `import qrstudio_box` take the measured checkout (BENCH_APP_ROOT) in this process."""
    if str(APP_ROOT) not in sys.path[:1]:
        sys.path.insert(0, str(APP_ROOT))


def load_urls(
    urls: Sequence[str], connections: int, duration: float, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Closed-loop bench.loadgen over several URLs, used round-robin (one JSON result)."""
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen",
        *urls,
        "-c",
        str(connections),
        "-d",
        str(duration),
    ]
    for key, value in (headers or {}).items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=duration + 60, env=child_env(), cwd=REPO_ROOT
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench.loadgen failed: {out.stderr}")
    return json.loads(out.stdout)
