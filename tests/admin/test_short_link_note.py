"""Issue 15.1 without a browser: the "these codes point at ..." banner follows [server]
public_url on every page that shows or hands out a code (the browser test looks at it)."""

from __future__ import annotations

import re

import pytest

from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from .helpers import ui_login


@pytest.fixture
def public_url(request, config):
    config["server"] = {"public_url": request.param}
    return request.param


@pytest.mark.parametrize(
    "public_url, kind, base",
    [
        ("", "local", "http://127.0.0.1:8080"),
        ("http://192.168.1.20:8080", "local", "http://192.168.1.20:8080"),
        ("http://qr.example.com", "plain_http", "http://qr.example.com"),
        ("https://qr.example.com", None, None),
    ],
    indirect=["public_url"],
)
def test_banner_on_dashboard_qr_page_and_download(public_url, kind, base, client, admin_headers):
    # public_url comes first: it sets the config before the app is built
    created = client.post(
        "/api/v1/dynamic-qrs/", headers=admin_headers, json={"destination_url": "https://a.test/"}
    )
    assert created.status_code == 201, created.text
    short_id = created.json()["short_id"]
    # with an https public_url the cookies are Secure and the test client speaks http:
    # they go in a Cookie header
    session = ui_login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    cookies = {"Cookie": "; ".join(f"{name}={value}" for name, value in session.items())}
    for path in ("/admin/", f"/admin/qrs/{short_id}"):
        html = client.get(path, headers=cookies).text
        notes = re.findall(r'data-short-link-note="(\w+)"', html)
        assert notes == ([kind] if kind else []), path
        if kind:
            assert f"These codes point at {base}" in html and "[server] public_url" in html
    # before the download buttons too
    html = client.get(f"/admin/qrs/{short_id}", headers=cookies).text
    assert re.findall(r'data-download-note="(\w+)"', html) == ([kind] if kind else [])
