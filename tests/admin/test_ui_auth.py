"""Sign in/out, access rules, CSRF and security headers, through the real server and browser."""

from __future__ import annotations

import re

import httpx
import pytest

from .helpers import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD, csrf_of, make_user, sign_in


def test_sign_in_dashboard_and_sign_out(server, new_context, snap, console_errors):
    page = new_context("desktop", server.base_url).new_page()
    errors = console_errors(page)
    page.goto("/admin/")
    assert re.search(r"/admin/login\?next=", page.url)
    snap(page, "login-desktop")

    page.fill("#f-email", ADMIN_EMAIL)
    page.fill("#f-password", "wrong-password")
    page.click("form.form button[type=submit]")
    assert page.locator(".flash-error").inner_text().strip() == "Invalid email or password."
    assert page.input_value("#f-email") == ADMIN_EMAIL

    page.fill("#f-password", ADMIN_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/?$"))
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("[data-stat=today]").inner_text() == "0"
    snap(page, "dashboard-desktop")
    page.emulate_media(color_scheme="dark")
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(13, 15, 20)"  # the dark tokens apply
    snap(page, "dashboard-dark-desktop")
    page.emulate_media(color_scheme="light")

    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["qrstudio_session"]
    assert session["httpOnly"] and session["path"] == "/admin" and session["sameSite"] == "Lax"
    assert session["value"].count(".") == 2  # a JWT

    page.click("text=Sign out")
    page.wait_for_url(re.compile(r"/admin/login"))
    assert "You are signed out." in page.locator(".flash-success").inner_text()
    page.goto("/admin/")
    assert "/admin/login" in page.url
    assert errors == []

    # Sign-out ends the session on the server: a copy of the old cookie signs nobody in.
    page.context.add_cookies([{k: session[k] for k in ("name", "value", "domain", "path")}])
    page.goto("/admin/")
    assert re.search(r"/admin/login\?next=", page.url)
    assert page.locator("h1").inner_text() == "Sign in"


def test_changing_your_password_in_the_ui_ends_your_other_sessions(server, new_context, snap):
    email = make_user(server, "mia@example.com")
    api_token = server.token(email, MEMBER_PASSWORD)
    elsewhere = new_context("desktop", server.base_url).new_page()
    sign_in(elsewhere, email, MEMBER_PASSWORD)
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page, email, MEMBER_PASSWORD)

    page.click("text=Your account")
    page.wait_for_url(re.compile(r"/admin/account$"))
    page.fill("#f-current_password", "not-my-password")
    page.fill("#f-new_password", "a-new-password-2")
    page.click("button:has-text('Change password')")
    assert (
        page.locator("#e-current_password").inner_text().strip() == "Is not your current password"
    )
    page.fill("#f-current_password", MEMBER_PASSWORD)
    page.fill("#f-new_password", "short")
    page.click("button:has-text('Change password')")
    assert (
        page.locator("#e-new_password").inner_text().strip()
        == "New password must be at least 8 characters"
    )
    snap(page, "account-desktop")
    page.fill("#f-current_password", MEMBER_PASSWORD)
    page.fill("#f-new_password", "a-new-password-2")
    page.click("button:has-text('Change password')")
    assert "Password changed" in page.locator(".flash-success").inner_text()

    page.goto("/admin/")  # this browser stays signed in, on a fresh cookie
    assert page.locator("h1").inner_text() == "Dashboard"
    elsewhere.goto("/admin/")  # the other one is signed out
    assert re.search(r"/admin/login\?next=", elsewhere.url)
    assert httpx.get(f"{server.base_url}/api/v1/me/", headers=api_token).status_code == 401
    assert server.token(email, "a-new-password-2")


def test_dashboard_on_a_phone_uses_the_drawer(server, new_context, snap):
    page = new_context("phone", server.base_url).new_page()
    sign_in(page)
    assert page.locator(".sidebar").bounding_box()["x"] < 0  # off-canvas
    snap(page, "dashboard-phone")
    page.click("label.menu-btn")
    page.wait_for_timeout(300)  # the drawer's CSS transition, not a schedule
    assert page.locator(".sidebar").bounding_box()["x"] == 0
    snap(page, "nav-drawer-phone", full_page=False)  # the drawer is fixed to the viewport


def test_member_cannot_open_admin_pages(server, new_context):
    email = make_user(server, "member@example.com")
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page, email, MEMBER_PASSWORD)
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("nav.nav a[href='/admin/users/']").count() == 0
    for path in ("/admin/users/", "/admin/users/1", "/admin/users/new"):
        response = page.goto(path)
        assert response.status == 403, path
        assert page.locator("h1").inner_text() == "Admins only"
    # and a member's POST to an admin action is refused too, token or not
    token = csrf_of(page)
    response = page.request.post(
        "/admin/users/1/active", form={"csrf_token": token, "active": "no"}
    )
    assert response.status == 403


def test_post_without_csrf_token_is_refused(server, new_context):
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page)
    # the session cookie rides along; only the token is missing or wrong
    for form in ({"plan": "pro"}, {"plan": "pro", "csrf_token": "forged.token"}):
        response = page.request.post("/admin/users/1/plan", form=form, max_redirects=0)
        assert response.status == 403
        assert "This form has expired" in response.text()
    # the admin's plan did not change (the first admin's workspace is on the top plan)
    me = httpx.get(f"{server.base_url}/api/v1/me/", headers=server.token()).json()
    assert me["plan"] == "business"
    # a login POST without the token is refused too
    anon = new_context("desktop", server.base_url).new_page()
    response = anon.request.post(
        "/admin/login", form={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, max_redirects=0
    )
    assert response.status == 403
    assert not any(c["name"] == "qrstudio_session" for c in anon.context.cookies())


@pytest.mark.parametrize("path", ["/admin/login", "/admin/"])
def test_security_headers(server, path):
    response = httpx.get(server.base_url + path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_open_redirect_after_sign_in_is_ignored(server, new_context):
    page = new_context("desktop", server.base_url).new_page()
    page.goto("/admin/login?next=//evil.example/")
    page.fill("#f-email", ADMIN_EMAIL)
    page.fill("#f-password", ADMIN_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"127\.0\.0\.1:\d+/admin/$"))
