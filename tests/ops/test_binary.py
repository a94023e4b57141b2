"""`make dist` builds ONE executable that serves the appliance with no Python packages around.

The build takes a minute or two, so the test can be skipped locally with
QRSTUDIO_SKIP_BINARY_TEST=1; CI runs it. The binary runs with an empty environment (no
PYTHONPATH, no virtualenv, cwd outside the source tree), so everything it needs (the
static files, the migrations, the templates, the third-party data) must be inside it.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import importlib.util
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from qrstudio_box import __version__
from qrstudio_box.db import known_migrations
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, free_port

ROOT = Path(__file__).resolve().parents[2]
HAS_WEBHOOKS = importlib.util.find_spec("qrstudio_box.webhooks.domain") is not None
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("QRSTUDIO_SKIP_BINARY_TEST") == "1", reason="QRSTUDIO_SKIP_BINARY_TEST=1"
    ),
    pytest.mark.timeout(1500),
]


@pytest.fixture(scope="module")
def binary(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    started = time.monotonic()
    # The interpreter running the tests already has PyInstaller (the test extra): no install.
    result = subprocess.run(
        ["make", "dist", f"PY={sys.executable}", "DIST_INSTALL=", f"DISTDIR={dist}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1400,
        check=False,
    )
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-4000:])
    executable = dist / "qrstudio-box"
    assert executable.is_file() and os.access(executable, os.X_OK)
    print(
        f"\nmake dist: {time.monotonic() - started:.0f} s, {executable.stat().st_size / 1e6:.1f} MB"
    )
    return executable


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def bare_env(home: Path, **extra: str) -> dict[str, str]:
    """What a fresh Linux box gives a service: no Python variables at all."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **extra}


def test_version_and_migrate_without_python(binary, tmp_path):
    version = subprocess.run(
        [str(binary), "--version"],
        env=bare_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"qrstudio-box {__version__}"

    data_dir = tmp_path / "data"
    migrate = subprocess.run(
        [str(binary), "migrate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=bare_env(tmp_path, QRSTUDIO_STORAGE_DATA_DIR=str(data_dir)),
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    conn = sqlite3.connect(data_dir / "qrstudio.db")
    applied = [
        row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")
    ]
    conn.close()
    assert applied == [version for version, _name, _sql in known_migrations()]


def test_binary_serves_healthz_login_static_and_stops_cleanly(binary, tmp_path):
    port = free_port()
    data_dir = tmp_path / "data"
    env = bare_env(
        tmp_path,
        QRSTUDIO_STORAGE_DATA_DIR=str(data_dir),
        QRSTUDIO_SERVER_PORT=str(port),
        QRSTUDIO_ADMIN_EMAIL=ADMIN_EMAIL,
        QRSTUDIO_ADMIN_PASSWORD=ADMIN_PASSWORD,
        # The receiver is plain http on loopback; the admin's (free) plan may subscribe.
        QRSTUDIO_WEBHOOKS_ALLOW_HTTP="true",
        QRSTUDIO_WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
        QRSTUDIO_PLANS_FREE_WEBHOOKS="true",
        QRSTUDIO_PLANS_FREE_MAX_WEBHOOKS="1",
    )
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(binary), "run"], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # first start unpacks the archive
        health = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert health is not None, log.read_text()
        assert health.status_code == 200
        assert health.json() == {
            "status": "ok",
            "database": "ok",
            "scheduler": "running",
            "version": __version__,
        }

        token = httpx.post(
            f"{base}/api/v1/auth/token/",
            json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            timeout=10,
        )
        assert token.status_code == 200, token.text
        assert token.json()["token_type"] == "bearer"
        me = httpx.get(
            f"{base}/api/v1/me/",
            timeout=10,
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert me.status_code == 200 and me.json()["email"] == ADMIN_EMAIL

        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        # A dynamic QR and a scan: the redirect path with ua-parser's packaged matchers.
        qr = httpx.post(
            f"{base}/api/v1/dynamic-qrs/",
            headers=admin,
            timeout=10,
            json={"name": "binary", "destination_url": "https://example.com/x"},
        )
        assert qr.status_code == 201, qr.text
        scan = httpx.get(
            f"{base}/r/{qr.json()['short_id']}", timeout=10, headers={"User-Agent": IPHONE}
        )
        assert scan.status_code == 302 and scan.headers["location"] == "https://example.com/x"
        png = httpx.post(
            f"{base}/api/v1/generate/",
            headers=admin,
            timeout=10,
            json={"data": "hello", "data_type": "text", "format": "png"},
        )
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG"), png.text[:200]

        if HAS_WEBHOOKS:
            _signed_delivery_reaches_a_receiver(base, admin, qr.json()["short_id"])

        css = httpx.get(f"{base}/static/css/app.css", timeout=10)
        assert css.status_code == 200
        assert css.content == (ROOT / "static" / "css" / "app.css").read_bytes()
        schema = httpx.get(f"{base}/schema/openapi.json", timeout=10)
        assert schema.status_code == 200
        assert any(path.startswith("/api/v1/auth/token") for path in schema.json()["paths"])
        # The HTML error page comes from the packaged Jinja templates.
        missing = httpx.get(f"{base}/no-such-page", headers={"Accept": "text/html"}, timeout=10)
        assert missing.status_code == 404 and missing.text.lstrip().lower().startswith(
            "<!doctype html>"
        )

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text()
    conn = sqlite3.connect(data_dir / "qrstudio.db")
    first_scan = conn.execute(
        "SELECT device_family, os_family, browser_family FROM scans ORDER BY id LIMIT 1"
    ).fetchone()
    conn.close()
    assert first_scan == ("iPhone", "iOS", "Mobile Safari")  # ua-parser's matchers are inside


def _signed_delivery_reaches_a_receiver(base: str, admin: dict, short_id: str) -> None:
    """Sealed secrets (cryptography), the vetting transport (httpcore), signing: all frozen."""
    handler = type("Receiver", (_Receiver,), {"received": []})
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        created = httpx.post(
            f"{base}/api/v1/webhooks/",
            headers=admin,
            timeout=10,
            json={"url": url, "events": ["scan.created"]},
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        assert httpx.get(f"{base}/r/{short_id}", timeout=10).status_code == 302
        deadline = time.monotonic() + 30
        while not handler.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert handler.received, "no delivery arrived"
        headers, body = handler.received[0]
        timestamp, signature = (
            part.split("=", 1)[1] for part in headers["x-qrstudio-signature"].split(",")
        )
        expected = hmac.new(
            secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(signature, expected)
        assert headers["x-qrstudio-event"] == "scan.created"
    finally:
        receiver.shutdown()
        receiver.server_close()
