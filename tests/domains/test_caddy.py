"""contrib/Caddyfile in front of the real appliance: on-demand certificates for active branded
domains only (issue 17.4), with Debian's caddy and its internal CA (no network)."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..conftest import REPO_ROOT, free_port

CADDY = Path("/usr/bin/caddy")
pytestmark = pytest.mark.skipif(
    not CADDY.exists(), reason="/usr/bin/caddy is missing: `.ci/system-packages caddy` installs it"
)
CADDYFILE = REPO_ROOT / "contrib" / "Caddyfile"


def test_the_shipped_caddyfile_is_valid(tmp_path):
    result = subprocess.run(
        [str(CADDY), "adapt", "--config", str(CADDYFILE), "--validate"],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert '"ask":"http://127.0.0.1:8080/internal/tls-ask"' in result.stdout
    assert '"on_demand":true' in result.stdout


class Caddy:
    def __init__(self, root: Path, appliance_port: int) -> None:
        self.root = root
        root.mkdir()
        self.http_port, self.https_port = free_port(), free_port()
        # The shipped file, on this test's ports, with certificates from Caddy's own CA.
        text = CADDYFILE.read_text().replace("127.0.0.1:8080", f"127.0.0.1:{appliance_port}")
        text = text.replace("qr.example.com", "qr.example.test")
        text, found = re.subn(
            r"\A((?:#[^\n]*\n)*)\{\n",
            r"\1{\n"
            "\tadmin off\n"
            "\tlocal_certs\n"
            "\tskip_install_trust\n"
            f"\thttp_port {self.http_port}\n"
            f"\thttps_port {self.https_port}\n",
            text,
        )
        assert found == 1, "the Caddyfile's global options block moved"
        self.config = root / "Caddyfile"
        self.config.write_text(text)
        self.data = root / "xdg-data"
        self.log = root / "caddy.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(self.data),
            "XDG_CONFIG_HOME": str(self.root / "xdg-config"),
            "HOME": str(self.root),
        }
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(CADDY), "run", "--adapter", "caddyfile", "--config", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            if self.root_certificate.exists():
                try:
                    socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError(f"caddy did not start:\n{self.log.read_text()}")

    @property
    def root_certificate(self) -> Path:
        return self.data / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def trust(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.root_certificate))

    def peer_names(self, sni: str) -> list[str]:
        """The DNS names of the certificate Caddy presents for `sni` (verified against its CA)."""
        with socket.create_connection(("127.0.0.1", self.https_port), timeout=10) as raw:
            with self.trust().wrap_socket(raw, server_hostname=sni) as tls:
                return [
                    value for kind, value in tls.getpeercert()["subjectAltName"] if kind == "DNS"
                ]

    def get(self, sni: str, path: str) -> httpx.Response:
        with httpx.Client(verify=self.trust(), timeout=10) as client:
            return client.get(
                f"https://127.0.0.1:{self.https_port}{path}",
                headers={"Host": sni},
                extensions={"sni_hostname": sni},
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def caddy_factory(tmp_path) -> Iterator:
    made: list[Caddy] = []

    def make(appliance_port: int) -> Caddy:
        caddy = Caddy(tmp_path / f"caddy{len(made)}", appliance_port)
        made.append(caddy)
        return caddy

    yield make
    for caddy in made:
        caddy.stop()


def test_an_active_domain_gets_its_certificate_on_first_visit_and_no_other_does(
    server_factory, caddy_factory
):
    server = server_factory(
        config={
            "server": {
                "public_url": "https://qr.example.test",
                "trusted_proxies": ["127.0.0.1/32", "::1/128"],
            },
            "domains": {"require_approval": True},
        }
    ).start()
    api = server.base_url + "/api/v1"
    admin = server.token()
    owner = server.member("agency@example.com", plan="business")
    domains = {}
    for hostname in ("go.example.test", "wait.example.test"):
        answer = httpx.post(f"{api}/domains/", headers=owner, json={"hostname": hostname})
        assert answer.status_code == 201, answer.text
        domains[hostname] = answer.json()
    assert {d["status"] for d in domains.values()} == {"pending"}
    approve = f"{api}/admin/domains/{domains['go.example.test']['id']}/approve/"
    assert httpx.post(approve, headers=admin).status_code == 200
    qr = httpx.post(
        f"{api}/dynamic-qrs/",
        headers=owner,
        json={
            "name": "menu",
            "destination_url": "https://bistro.example/menu",
            "domain": "go.example.test",
            "short_id": "menu",
        },
    )
    assert qr.status_code == 201, qr.text
    assert qr.json()["short_url"] == "https://go.example.test/menu"

    caddy = caddy_factory(server.port)
    caddy.start()
    assert caddy.peer_names("go.example.test") == ["go.example.test"]
    scan = caddy.get("go.example.test", "/menu")  # the printed URL, through Caddy
    assert scan.status_code == 302, scan.text
    assert scan.headers["location"] == "https://bistro.example/menu"
    # A pending domain and a name the box does not know get no certificate: the handshake fails.
    for refused in ("wait.example.test", "unknown.example.test"):
        with pytest.raises(ssl.SSLError):
            caddy.peer_names(refused)
    # The ask endpoint is not for visitors: Caddy's own sites answer 404 there.
    ask = caddy.get("go.example.test", "/internal/tls-ask?domain=go.example.test")
    assert ask.status_code == 404
    # It was the appliance's answer that refused it: once approved, the name gets its own.
    approve = f"{api}/admin/domains/{domains['wait.example.test']['id']}/approve/"
    assert httpx.post(approve, headers=admin).status_code == 200
    assert caddy.peer_names("wait.example.test") == ["wait.example.test"]
