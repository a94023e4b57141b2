"""Requests routed by Host (issue 17.3), through the real `qrstudio-box run` process (the fast
path is an ASGI layer in front of Litestar, so only the real server shows what it answers):
one server for the module, every case with its own Host header.

Workspace A: go.a.test (active, with a fallback), links.a.test (active, no fallback),
wait.a.test (pending), gone.a.test (deleted). Workspace B: go.b.test (active)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import new_server
from tests.links.helpers import IPHONE_SAFARI, SCAN_CREATED_FIELDS, assert_exact_fields

FALLBACK = "https://a.example/home"
# What the appliance's own pages carry and a branded host's page must not.
BRANDING = ("QRStudio", "qrstudio", "/admin", "/static/", "Sign in")


@dataclass
class Box:
    base_url: str
    database_path: Any
    admin: dict[str, str]
    a: dict[str, str]
    b: dict[str, str]
    codes: dict[str, str] = field(default_factory=dict)  # name -> short id

    def get(self, host: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", host, path, **kwargs)

    def request(self, method: str, host: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Host": host, "User-Agent": IPHONE_SAFARI, **kwargs.pop("headers", {})}
        return httpx.request(
            method, f"{self.base_url}{path}", headers=headers, follow_redirects=False, **kwargs
        )

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        conn = sqlite3.connect(self.database_path)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(statement, params).fetchall()
        finally:
            conn.close()

    def scans(self) -> int:
        return self.sql("SELECT count(*) FROM scans")[0][0]

    def scans_of(self, short_id: str, domain: str | None) -> int:
        return self.sql(
            "SELECT count(*) FROM scans JOIN dynamic_qrs ON dynamic_qrs.id = scans.qr_id"
            " LEFT JOIN domains ON domains.id = dynamic_qrs.domain_id"
            " WHERE short_id = ? AND domains.hostname IS ?",
            (short_id, domain),
        )[0][0]

    def scan_events(self) -> list[dict[str, Any]]:
        rows = self.sql("SELECT body FROM events WHERE type = 'scan.created' ORDER BY seq")
        return [json.loads(row["body"]) for row in rows]


def _api(box_url: str, method: str, path: str, headers: dict[str, str], **kwargs: Any):
    response = httpx.request(method, f"{box_url}{path}", headers=headers, timeout=30, **kwargs)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


@pytest.fixture(scope="module")
def box(tmp_path_factory) -> Iterator[Box]:
    server = new_server(
        tmp_path_factory.mktemp("branded-hosts"),
        {"domains": {"require_approval": True}},
    ).start()
    try:
        url = server.base_url
        admin = server.token()
        a = server.member("host-a@example.com", "business")
        b = server.member("host-b@example.com", "business")

        def domain(headers, hostname, fallback="", approve=True) -> int:
            body = {"hostname": hostname, "fallback_url": fallback}
            domain_id = _api(url, "POST", "/api/v1/domains/", headers, json=body)["id"]
            if approve:
                _api(url, "POST", f"/api/v1/admin/domains/{domain_id}/approve/", admin)
            return domain_id

        domain(a, "go.a.test", FALLBACK)
        domain(a, "links.a.test")
        domain(a, "wait.a.test", FALLBACK, approve=False)
        gone = domain(a, "gone.a.test", FALLBACK)
        _api(url, "DELETE", f"/api/v1/domains/{gone}/", a)
        domain(b, "go.b.test")

        def qr(headers, destination, **body) -> str:
            body["destination_url"] = destination
            return _api(url, "POST", "/api/v1/dynamic-qrs/", headers, json=body)["short_id"]

        box = Box(url, server.database_path, admin, a, b)
        box.codes = {
            "a_menu": qr(a, "https://a.example/menu", domain="go.a.test", short_id="menu"),
            "a_generated": qr(a, "https://a.example/generated", domain="go.a.test"),
            "a_links": qr(a, "https://a.example/links", domain="links.a.test", short_id="deal"),
            "a_off": qr(a, "https://a.example/off", domain="links.a.test", short_id="off"),
            "a_off_go": qr(a, "https://a.example/off2", domain="go.a.test", short_id="paused"),
            "a_default": qr(a, "https://a.example/default"),
            "b_menu": qr(b, "https://b.example/menu", domain="go.b.test", short_id="bmenu"),
        }
        for code in ("off", "paused"):
            _api(url, "PATCH", f"/api/v1/dynamic-qrs/{code}/", a, json={"is_active": False})
        yield box
    finally:
        server.kill()


def assert_neutral(response: httpx.Response, status: int = 404) -> None:
    """The neutral page: no product, no link anywhere, no cookie, the security headers."""
    assert response.status_code == status, (response.status_code, response.text[:200])
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    text = response.text
    assert "<h1>" in text
    assert "href" not in text and "<link" not in text and "<script" not in text
    for mark in BRANDING:
        assert mark not in text, mark


def assert_scan_redirect(response: httpx.Response, location: str) -> None:
    """The 302 the default host's redirect sends, header for header."""
    assert response.status_code == 302, (response.status_code, response.text[:200])
    assert response.headers["location"] == location
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "0"
    assert "set-cookie" not in response.headers


def test_own_code_is_the_scan_exactly_as_today(box):
    default_code = box.codes["a_default"]
    # Today's redirect on the default host, for comparison.
    before = box.scans()
    today = box.get("127.0.0.1", f"/r/{default_code}")
    assert_scan_redirect(today, "https://a.example/default")

    for path in ("/menu", "/r/menu"):
        response = box.get("go.a.test", path, headers={"Referer": "https://news.example/a"})
        assert_scan_redirect(response, "https://a.example/menu")
        assert sorted(response.headers) == sorted(today.headers)  # the same header names
    assert box.scans() == before + 3
    assert box.scans_of("menu", "go.a.test") == 2
    rows = box.sql(
        "SELECT scans.destination_url, variant_label, device_family, referer, is_bot FROM scans"
        " JOIN dynamic_qrs ON dynamic_qrs.id = scans.qr_id WHERE short_id = 'menu'"
        " AND dynamic_qrs.domain_id IS NOT NULL ORDER BY scans.id"
    )
    assert [tuple(row) for row in rows] == [
        ("https://a.example/menu", "(default)", "iPhone", "https://news.example/a", 0)
    ] * 2
    events = [e for e in box.scan_events() if e["data"]["short_id"] == "menu"]
    assert len(events) == 2
    for event in events:
        assert_exact_fields(event["data"], SCAN_CREATED_FIELDS)
        assert event["data"]["destination_url"] == "https://a.example/menu"
    # The generated id of a code on the domain, with a port and upper case in the Host.
    generated = box.codes["a_generated"]
    response = box.get("GO.A.test:8443", f"/{generated}")
    assert_scan_redirect(response, "https://a.example/generated")
    # HEAD says where it would go and records nothing.
    before = box.scans()
    head = box.request("HEAD", "go.a.test", "/menu")
    assert (head.status_code, head.headers["location"]) == (302, "https://a.example/menu")
    assert box.scans() == before


@pytest.mark.parametrize(
    ("host", "path", "why"),
    [
        ("links.a.test", "/menu", "a code of another domain of the same workspace"),
        ("links.a.test", "/r/menu", "a code of another domain, by /r/"),
        ("links.a.test", "/bmenu", "another workspace's code"),
        ("links.a.test", "/{a_default}", "a code of the default host"),
        ("links.a.test", "/r/{a_default}", "a code of the default host, by /r/"),
        ("links.a.test", "/nothing-here", "an unknown code"),
        ("links.a.test", "/", "the root"),
        ("links.a.test", "/deal/", "a trailing slash"),
        ("go.b.test", "/menu", "A's code on B's domain"),
    ],
)
def test_what_is_not_the_domains_own_is_a_neutral_404(box, host, path, why):
    before = box.scans()
    response = box.get(host, path.format(**box.codes))
    assert_neutral(response, 404)
    assert box.scans() == before, why


@pytest.mark.parametrize(
    "path", ["/", "/nothing-here", "/bmenu", "/r/bmenu", "/{a_default}", "/deal", "/a/b"]
)
def test_with_a_fallback_root_and_unknown_codes_go_there_unrecorded(box, path):
    before = box.scans()
    response = box.get("go.a.test", path.format(**box.codes))
    assert response.status_code == 302
    assert response.headers["location"] == FALLBACK
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers
    assert box.scans() == before


def test_an_own_code_switched_off(box):
    before = box.scans()
    assert_neutral(box.get("links.a.test", "/off"), 410)  # no fallback: gone
    fallback = box.get("go.a.test", "/paused")
    assert (fallback.status_code, fallback.headers["location"]) == (302, FALLBACK)
    assert box.scans() == before


@pytest.mark.parametrize("host", ["wait.a.test", "gone.a.test"])
@pytest.mark.parametrize("path", ["/", "/menu", "/admin/", "/api/v1/domains/", "/nothing"])
def test_pending_and_deleted_domains_serve_nothing(box, host, path):
    assert_neutral(box.get(host, path, headers=box.a), 404)


REFUSED = [
    ("GET", "/api/v1/dynamic-qrs/"),
    ("GET", "/api/v1/domains/"),
    ("POST", "/api/v1/auth/token/"),
    ("GET", "/admin/"),
    ("GET", "/admin/login"),
    ("POST", "/admin/login"),
    ("GET", "/schema"),
    ("GET", "/schema/openapi.json"),
    ("GET", "/static/css/app.css"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/internal/tls-ask?domain=go.a.test"),
    ("GET", "/robots.txt"),
    ("GET", "/favicon.ico"),
    ("POST", "/menu"),
    ("DELETE", "/menu"),
]


@pytest.mark.parametrize(("method", "path"), REFUSED)
def test_a_branded_host_serves_nothing_of_the_appliance(box, method, path):
    # Even signed in, even where a fallback is set: the neutral 404, no cookie.
    response = box.request(method, "go.a.test", path, headers=box.a)
    assert_neutral(response, 404)
    # The same request on the default host is served (or refused) as it always was.
    if method == "GET" and path in (
        "/admin/login",
        "/healthz",
        "/schema/openapi.json",
        "/static/css/app.css",
    ):
        assert box.request(method, "127.0.0.1", path).status_code == 200


def test_the_default_host_is_unchanged(box):
    login = box.get("127.0.0.1", "/admin/login")
    assert login.status_code == 200 and "QRStudio" in login.text
    assert box.get("localhost", "/healthz").json()["status"] == "ok"
    api = box.get("127.0.0.1", "/api/v1/dynamic-qrs/", headers=box.a)
    assert api.status_code == 200
    # Codes of a branded domain live only there: their ids are not served on the default host.
    for code in ("menu", box.codes["a_generated"]):
        response = box.get("127.0.0.1", f"/r/{code}")
        assert response.status_code == 404, code
        assert "QRStudio" in response.text  # the appliance's own page, as today
    # A Host that no domain has is the default host (a proxy's name, an IP, none at all).
    assert_scan_redirect(
        box.get("qr.unknown.test", f"/r/{box.codes['a_default']}"), "https://a.example/default"
    )
