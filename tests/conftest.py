"""Shared fixtures: real SQLite files in tmp_path, the app over HTTP, the real server process."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.clock import FakeClock
from qrstudio_box.config import Settings, settings_from_mapping, to_toml

from .smtp import SmtpServer

REPO_ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"
MEMBER_PASSWORD = "member-password-1"
_emails = itertools.count(1)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(datetime(2026, 5, 9, 14, 0, tzinfo=UTC))


@pytest.fixture
def config(tmp_path: Path) -> dict[str, Any]:
    """The raw config (qrstudio.toml shape) a test may change before the app is built."""
    return {"storage": {"data_dir": str(tmp_path / "data")}}


@pytest.fixture
def settings(config: dict[str, Any]) -> Settings:
    return settings_from_mapping(config)


@pytest.fixture
def app(settings: Settings, fake_clock: FakeClock):
    return create_app(
        settings,
        clock=fake_clock,
        env={"QRSTUDIO_ADMIN_EMAIL": ADMIN_EMAIL, "QRSTUDIO_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    """The app over HTTP on its own event loop; `client.blocking_portal.call(f)` runs f there."""
    with TestClient(app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
def ctx(client, app):
    return app.state.ctx


def login(client, email: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token/", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def admin_headers(client) -> dict[str, str]:
    return login(client, ADMIN_EMAIL, ADMIN_PASSWORD)


@dataclass
class Account:
    id: int
    email: str
    password: str
    headers: dict[str, str]
    plan: str
    role: str


@pytest.fixture
def make_user(client, admin_headers) -> Callable[..., Account]:
    """Create a user through the admin API and log in as it."""

    def _make(plan: str = "pro", role: str = "member", email: str | None = None) -> Account:
        email = email or f"user{next(_emails)}@example.com"
        response = client.post(
            "/api/v1/admin/users/",
            headers=admin_headers,
            json={"email": email, "password": MEMBER_PASSWORD, "plan": plan, "role": role},
        )
        assert response.status_code == 201, response.text
        user = response.json()["user"]
        return Account(
            user["id"], email, MEMBER_PASSWORD, login(client, email, MEMBER_PASSWORD), plan, role
        )

    return _make


@pytest.fixture
def sql(settings: Settings) -> Iterator[Callable[..., list[sqlite3.Row]]]:
    """Read the database through its own plain sqlite3 connection: sql("SELECT ...", params)."""
    conns: list[sqlite3.Connection] = []

    def query(statement: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        if not conns:
            conn = sqlite3.connect(settings.database_path)
            conn.row_factory = sqlite3.Row
            conns.append(conn)
        return conns[0].execute(statement, params).fetchall()

    yield query
    for conn in conns:
        conn.close()


# -- the real process --------------------------------------------------------------------------


@dataclass
class ServerProcess:
    """`qrstudio-box run` as a subprocess on a free port with its own data_dir."""

    root: Path
    config: dict[str, Any]
    env: dict[str, str]
    port: int = 0
    proc: subprocess.Popen | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return Path(self.config["storage"]["data_dir"])

    @property
    def database_path(self) -> Path:
        return self.data_dir / "qrstudio.db"

    @property
    def config_path(self) -> Path:
        return self.root / "qrstudio.toml"

    def write_config(self) -> None:
        self.config_path.write_text(to_toml(self.config))

    def cli(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "qrstudio_box", *args, "--config", str(self.config_path)],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def start(self, wait: bool = True) -> ServerProcess:
        self._prepare()
        log = self.root / f"server-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "qrstudio_box", "run", "--config", str(self.config_path)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.root,
            )
        if wait:
            self.wait_healthy()
        return self

    def _prepare(self) -> None:
        if not self.port:
            self.port = free_port()
            self.config.setdefault("server", {})["port"] = self.port
        self.write_config()

    def run_until_exit(
        self, timeout: float = 60.0, wrapper: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess:
        """`qrstudio-box run` expected to stop by itself: its exit code, stdout and stderr apart.

        `wrapper` is a command line put in front (e.g. `unshare -m ...`)."""
        self._prepare()
        return subprocess.run(
            [
                *wrapper,
                sys.executable,
                "-m",
                "qrstudio_box",
                "run",
                "--config",
                str(self.config_path),
            ],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.root,
            timeout=timeout,
        )

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not healthy after {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.logs[-1].read_text(errors="replace") if self.logs else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def token(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> dict[str, str]:
        response = httpx.post(
            f"{self.base_url}/api/v1/auth/token/", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def member(self, email: str, plan: str = "pro") -> dict[str, str]:
        """A new member made through the admin API, signed in: their bearer headers."""
        made = httpx.post(
            f"{self.base_url}/api/v1/admin/users/",
            headers=self.token(),
            json={"email": email, "password": MEMBER_PASSWORD, "plan": plan},
        )
        assert made.status_code == 201, made.text
        return self.token(email, MEMBER_PASSWORD)


def new_server(
    root: Path, config: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> ServerProcess:
    """A server process (not started) rooted in `root`, with the test admin's credentials."""
    root.mkdir(parents=True, exist_ok=True)
    full_env = {key: value for key, value in os.environ.items() if not key.startswith("QRSTUDIO_")}
    full_env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "QRSTUDIO_ADMIN_EMAIL": ADMIN_EMAIL,
            "QRSTUDIO_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
    )
    full_env.update(env or {})
    return ServerProcess(
        root, merge({"storage": {"data_dir": str(root / "data")}}, config or {}), full_env
    )


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Make (not start) server processes: factory(config_overrides={}, env_overrides={})."""
    made: list[ServerProcess] = []

    def make(
        config: dict[str, Any] | None = None, env: dict[str, str] | None = None
    ) -> ServerProcess:
        server = new_server(tmp_path / f"server{len(made)}", config, env)
        made.append(server)
        return server

    yield make
    for server in made:
        if server.proc is not None and server.proc.poll() is None:
            server.kill()


@pytest.fixture
def server(server_factory) -> ServerProcess:
    """A started server with default config."""
    return server_factory().start()


def wait_until(predicate, timeout=30.0, what="condition"):
    """Poll until predicate() holds (work another thread or process does); fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (plain, no auth) collecting messages: tests/smtp.py."""
    with SmtpServer(free_port()) as server:
        yield server
