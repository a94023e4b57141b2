"""Admin pages: users, plans, access, password resets, credit packs, usage."""

from __future__ import annotations

import re

import httpx

from .helpers import MEMBER_PASSWORD, csrf_of, make_user, sign_in


def api_login(server, email, password):
    return httpx.post(
        f"{server.base_url}/api/v1/auth/token/", json={"email": email, "password": password}
    )


def test_admin_manages_a_user(server, new_context, snap, console_errors):
    page = new_context("desktop", server.base_url).new_page()
    errors = console_errors(page)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page)

    # create with a generated password, shown once
    page.goto("/admin/users/new")
    page.fill("#f-email", "not-an-email")
    page.click("button:has-text('Create user')")
    assert (
        page.locator("#e-email").inner_text().strip()
        == "Email must be an email address like name@example.com"
    )
    page.fill("#f-email", "Jane@Example.com")
    page.select_option("#f-plan", "pro")
    page.click("button:has-text('Create user')")
    password = page.input_value("#one-time-password")
    assert len(password) >= 16
    assert "will not be shown again" in page.locator(".secret-box").inner_text()
    assert api_login(server, "jane@example.com", password).status_code == 200
    page.click("text=Done")
    page.wait_for_url(re.compile(r"/admin/users/\d+$"))
    user_path = page.url.split(server.base_url, 1)[1]
    assert page.locator("h1").inner_text() == "jane@example.com"

    # plan change
    page.select_option("#f-plan", "business")
    page.click("button:has-text('Change plan')")
    assert "Plan changed to business." in page.locator(".flash-success").inner_text()
    assert page.locator(".page-head .tag").inner_text() == "business"

    # credits raise this month's allowance, and the meter shows it
    page.fill("#f-amount", "0")
    page.click("button:has-text('Grant credits')")
    assert "whole number" in page.locator("#e-amount").inner_text()
    page.fill("#f-amount", "250")
    page.fill("#f-note", "Invoice 42")
    page.click("button:has-text('Grant credits')")
    assert "Granted 250 generations" in page.locator(".flash-success").inner_text()
    assert "of 50,250 generations used" in page.locator(".meter-legend").first.inner_text()
    snap(page, "user-detail-desktop")

    # reset the password to one of our choosing
    page.fill("#f-password", "a-new-password-1")
    page.click("button:has-text('Reset password')")
    assert "changed" in page.locator(".flash-success").inner_text()
    assert api_login(server, "jane@example.com", password).status_code == 401
    assert api_login(server, "jane@example.com", "a-new-password-1").status_code == 200

    # deactivate: she can no longer sign in
    page.click("button:has-text('Deactivate')")
    assert "is deactivated" in page.locator(".flash-success").inner_text()
    assert api_login(server, "jane@example.com", "a-new-password-1").status_code == 401

    # an admin cannot lock themselves out
    page.goto("/admin/users/1")
    page.click("button:has-text('Deactivate')")
    assert (
        page.locator("#e-active").inner_text().strip() == "You cannot deactivate your own account"
    )

    page.goto("/admin/users/?q=jane")
    assert page.locator("td.primary a").all_inner_texts() == ["jane@example.com"]
    assert page.locator("td[data-label=Status] .badge").inner_text() == "inactive"
    assert page.locator("td[data-label='This month']").inner_text().strip() == "0 / 50,250"
    snap(page, "users-list-desktop")
    phone = new_context("phone", server.base_url).new_page()
    sign_in(phone)
    phone.goto("/admin/users/")
    snap(phone, "users-list-phone")
    phone.goto(user_path)
    snap(phone, "user-detail-phone")
    assert errors == []


def test_usage_page_counts_generations(server, new_context, snap):
    email = make_user(server, "counted@example.com", plan="free")
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page, email, MEMBER_PASSWORD)
    for _ in range(2):
        page.goto("/admin/generate/")
        page.fill("#f-data", "hello")
        page.check("input[name=data_type][value=text]", force=True)
        page.click("button:has-text('Generate')")
        page.wait_for_selector("img[data-generated]")
    page.goto("/admin/usage/")
    assert page.locator("[data-stat=used]").inner_text() == "2"
    assert "2 of 100 generations used" in page.locator(".meter-legend").first.inner_text()
    snap(page, "usage-desktop")


def test_login_is_throttled_like_the_api(server, new_context):
    page = new_context("desktop", server.base_url).new_page()
    for _ in range(5):
        page.goto("/admin/login")
        page.fill("#f-email", "admin@example.com")
        page.fill("#f-password", "wrong-password")
        page.click("form.form button[type=submit]")
        assert page.locator(".flash-error").inner_text().strip() == "Invalid email or password."
    page.goto("/admin/login")
    page.fill("#f-email", "admin@example.com")
    page.fill("#f-password", "wrong-password")
    with page.expect_response(
        lambda r: r.url.endswith("/admin/login") and r.request.method == "POST"
    ) as info:
        page.click("form.form button[type=submit]")
    assert info.value.status == 429
    assert "Too many failed logins" in page.locator(".flash-error").inner_text()


def test_credits_for_an_unknown_user_are_a_404_that_says_so(server, new_context):
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page)
    response = page.request.post(
        "/admin/users/999999/credits",
        form={"csrf_token": csrf_of(page), "amount": "50", "note": "x"},
        max_redirects=0,
    )
    assert response.status == 404  # it was a 500: the grant's foreign key refused the user
    assert "No user with that id" in response.text()
