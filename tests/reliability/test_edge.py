"""The outermost layer (qrstudio_box/edge.py): request headers are bounded (issue 14.12), and
every HTML answer carries the security headers with a way back on error pages (issue 14.10)."""

import re

import httpx
import pytest

from qrstudio_box.edge import MAX_HEADER_BYTES
from qrstudio_box.web import CSP

from ..conftest import MEMBER_PASSWORD

HTML = {"Accept": "text/html,application/xhtml+xml"}
SECURITY = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
BACK_TO_DASHBOARD = '<a class="btn" href="/admin/">Back to the dashboard</a>'
GO_BACK = '<a class="btn" href="/" data-history-back>Go back</a>'


def assert_secure_html(response, status: int, back: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    assert back in response.text


def ui_sign_in(client, email: str, password: str) -> None:
    form = client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    signed_in = client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed_in.status_code in (302, 303), signed_in.text[:300]


def test_public_error_pages_carry_the_security_headers_and_a_way_back(client, admin_headers):
    live = client.post(
        "/api/v1/dynamic-qrs/",
        headers=admin_headers,
        json={"destination_url": "https://example.com/"},
    ).json()
    paused = client.post(
        "/api/v1/dynamic-qrs/",
        headers=admin_headers,
        json={"destination_url": "https://example.com/"},
    ).json()
    assert (
        client.patch(
            f"/api/v1/dynamic-qrs/{paused['short_id']}/",
            headers=admin_headers,
            json={"is_active": False},
        ).status_code
        == 200
    )
    assert_secure_html(client.get("/no-such-page", headers=HTML), 404, GO_BACK)
    assert_secure_html(client.post("/healthz", headers=HTML), 405, GO_BACK)
    assert_secure_html(client.get("/r/nosuchcode", headers=HTML), 404, GO_BACK)
    assert_secure_html(client.get(f"/r/{paused['short_id']}", headers=HTML), 410, GO_BACK)
    # The redirect itself is not HTML and stays as it was.
    scan = client.get(f"/r/{live['short_id']}", follow_redirects=False)
    assert scan.status_code == 302 and "content-security-policy" not in scan.headers


def test_admin_error_pages_carry_the_security_headers_and_lead_back_to_the_dashboard(
    client, make_user
):
    # an unknown page under /admin matches no route, so the admin router's own middleware
    # never saw it
    assert_secure_html(client.get("/admin/no-such-page", headers=HTML), 404, BACK_TO_DASHBOARD)
    member = make_user(plan="free")
    ui_sign_in(client, member.email, MEMBER_PASSWORD)
    assert_secure_html(client.get("/admin/users/", headers=HTML), 403, BACK_TO_DASHBOARD)


# -- header size ---------------------------------------------------------------------------


@pytest.fixture
def live_code(server) -> str:
    made = httpx.post(
        f"{server.base_url}/api/v1/dynamic-qrs/",
        headers=server.token(),
        json={"destination_url": "https://example.com/landing"},
    )
    assert made.status_code == 201, made.text
    return made.json()["short_id"]


def scans_of(server, short_id: str) -> int:
    page = httpx.get(
        f"{server.base_url}/api/v1/dynamic-qrs/", headers=server.token(), params={"limit": 200}
    ).json()
    return next(qr["scan_count"] for qr in page["results"] if qr["short_id"] == short_id)


def test_the_real_process_refuses_oversized_headers_with_431_before_anything_reads_them(
    server, live_code
):
    base = server.base_url
    huge_agent = {"User-Agent": "Mozilla/5.0 " + "x" * 1_000_000}
    expected = {
        "status_code": 431,
        "error": "request_header_fields_too_large",
        "detail": "request headers: at most 16 KB in all",
    }
    for path in ("/healthz", f"/r/{live_code}", "/api/v1/auth/token/", "/admin/login"):
        refused = httpx.get(f"{base}{path}", headers=huge_agent, follow_redirects=False)
        assert refused.status_code == 431, path
        assert refused.json() == expected
    # Many small headers count together.
    padding = {f"X-Pad-{i}": "p" * 1000 for i in range(17)}
    assert httpx.get(f"{base}/r/{live_code}", headers=padding).status_code == 431
    # Up to the limit, a request is served as usual.
    fits = {"User-Agent": "a" * (MAX_HEADER_BYTES - 1024)}
    scan = httpx.get(f"{base}/r/{live_code}", headers=fits, follow_redirects=False)
    assert scan.status_code == 302
    # The refused scans were never recorded: the fast path never saw them.
    assert scans_of(server, live_code) == 1
    assert server.stop() == 0
    assert "Traceback" not in server.output()
