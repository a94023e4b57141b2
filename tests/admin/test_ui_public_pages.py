"""The public error pages (unknown and inactive short links, unknown pages) in the app's style,
served by the real server, plus list pagination."""

from __future__ import annotations

import httpx

from .helpers import MEMBER_PASSWORD, make_user, sign_in


def test_error_pages_from_the_real_server(server, new_context, snap, console_errors):
    token = server.token()
    qr = httpx.post(
        f"{server.base_url}/api/v1/dynamic-qrs/",
        headers=token,
        json={"name": "Old flyer", "destination_url": "https://example.com/"},
    ).json()
    httpx.patch(
        f"{server.base_url}/api/v1/dynamic-qrs/{qr['short_id']}/",
        headers=token,
        json={"is_active": False},
    )
    for kind in ("desktop", "phone"):
        page = new_context(kind, server.base_url).new_page()
        errors = console_errors(page)
        for path, status in (
            (f"/r/{qr['short_id']}", 410),
            ("/r/Zz9Zz9Zz", 404),
            ("/no/such/page", 404),
        ):
            response = page.goto(path)
            assert response.status == status, path
            assert page.locator(".error-code").inner_text() == str(status)
            # styled by our stylesheet (not a bare browser page)
            assert (
                page.locator(".error-code").evaluate(
                    "e => parseFloat(getComputedStyle(e).fontSize)"
                )
                >= 70
            )
            snap(page, f"public-{status}-{path.split('/')[1]}-{kind}")
        assert errors == []


def test_an_error_page_leads_back(server, new_context):
    page = new_context("phone", server.base_url).new_page()
    page.goto("/admin/login")
    page.goto("/r/Zz9Zz9Zz")
    back = page.get_by_role("link", name="Go back")
    assert back.is_visible()
    back.click()  # the previous page, through history (static/js/app.js)
    page.wait_for_url("**/admin/login*")
    fresh = new_context("desktop", server.base_url).new_page()
    fresh.goto("/r/Zz9Zz9Zz")  # without JavaScript or history: the start page
    assert fresh.get_by_role("link", name="Go back").get_attribute("href") == "/"
    fresh.goto("/admin/no/such/page")
    fresh.get_by_role("link", name="Back to the dashboard").click()
    fresh.wait_for_url("**/admin/login*")  # signed out: the dashboard asks for a sign-in


def test_qr_list_paginates(server, new_context):
    email = make_user(server, "many@example.com", plan="business")
    token = httpx.post(
        f"{server.base_url}/api/v1/auth/token/", json={"email": email, "password": MEMBER_PASSWORD}
    ).json()["access_token"]
    for i in range(23):
        response = httpx.post(
            f"{server.base_url}/api/v1/dynamic-qrs/",
            headers={"Authorization": f"Bearer {token}"},
            json={"name": f"QR {i:02d}", "destination_url": f"https://example.com/{i}"},
        )
        assert response.status_code == 201
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page, email, MEMBER_PASSWORD)
    page.goto("/admin/qrs/")
    first = page.locator("td.primary a").all_inner_texts()
    assert len(first) == 20 and first[0] == "QR 22"
    assert page.locator("a[rel=prev]").count() == 0
    page.click("a[rel=next]")
    second = page.locator("td.primary a").all_inner_texts()
    assert second == ["QR 02", "QR 01", "QR 00"]
    assert page.locator("a[rel=next]").count() == 0
    page.click("a[rel=prev]")
    assert page.locator("td.primary a").all_inner_texts() == first
