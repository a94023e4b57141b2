"""Mail in the browser (issue 16.5): password reset and invitations end to end, through the real
server process, a real SMTP server in this process and Chromium. One server with mail on is
shared by the module (starting one per test would double the module's time)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from ..conftest import ServerProcess, free_port, new_server
from ..smtp import SmtpServer
from .helpers import MEMBER_PASSWORD, make_user, sign_in


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(free_port()) as server:
        yield server


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory, smtp) -> Iterator[ServerProcess]:
    server = new_server(tmp_path_factory.mktemp("mail-ui"), {"mail": smtp.mail_config()})
    server.start()
    yield server
    server.stop()


def test_forgot_password_mails_a_link_that_sets_a_new_one_and_signs_in(
    mail_server, smtp, new_context, snap, console_errors
):
    email = make_user(mail_server, "forgetful@example.com")
    elsewhere = new_context("desktop", mail_server.base_url).new_page()
    sign_in(elsewhere, email, MEMBER_PASSWORD)

    page = new_context("desktop", mail_server.base_url).new_page()
    errors = console_errors(page)
    page.goto("/admin/login")
    page.click("text=Forgot your password?")
    page.wait_for_url(re.compile(r"/admin/password-reset$"))
    snap(page, "password-reset-desktop")
    page.fill("#f-email", "Forgetful@Example.com")
    page.click("form.form button[type=submit]")
    assert page.locator("[data-state=sent]").inner_text().strip() == (
        "If an account has that email, a link to reset its password is on its way. "
        "It works for 60 minutes."
    )

    mail = smtp.wait_for(email)
    link = mail.link("/admin/password-reset/")
    assert link.startswith(f"{mail_server.base_url}/admin/password-reset/")
    page.goto(link)
    assert page.locator("h1").inner_text() == "Choose a new password"
    assert page.locator("[data-email]").inner_text() == email
    page.fill("#f-new_password", "short")
    page.click("form.form button[type=submit]")
    assert page.locator("#e-new_password").inner_text().strip() == (
        "New password must be at least 8 characters"
    )
    page.fill("#f-new_password", "a-brand-new-password")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    assert page.locator("h1").inner_text() == "Dashboard"
    assert "Your password is changed" in page.locator(".flash-success").inner_text()

    elsewhere.goto("/admin/")  # the session from before the reset has ended
    assert re.search(r"/admin/login\?next=", elsewhere.url)
    assert mail_server.token(email, "a-brand-new-password")

    response = page.goto(link)  # once only
    assert response.status == 410
    assert page.locator("[data-problem]").inner_text() == "This link was already used."
    snap(page, "password-reset-used-desktop")
    assert errors == []


def test_an_unknown_email_gets_the_same_page_and_no_mail(mail_server, smtp, new_context):
    page = new_context("phone", mail_server.base_url).new_page()
    page.goto("/admin/password-reset")
    page.fill("#f-email", "stranger@example.com")
    page.click("form.form button[type=submit]")
    assert page.locator("[data-state=sent]").count() == 1
    known = make_user(mail_server, "known@example.com")
    answer = httpx.post(
        f"{mail_server.base_url}/api/v1/auth/password-reset/", json={"email": known}
    )
    assert answer.status_code == 202
    smtp.wait_for(known)
    assert smtp.to("stranger@example.com") == []


def _invite(server: ServerProcess, email: str, role: str, name: str = "Bistro") -> dict:
    admin = server.token()
    made = httpx.post(f"{server.base_url}/api/v1/workspaces/", headers=admin, json={"name": name})
    assert made.status_code == 201, made.text
    workspace_id = made.json()["id"]
    invited = httpx.post(
        f"{server.base_url}/api/v1/workspaces/{workspace_id}/invitations/",
        headers=admin,
        json={"email": email, "role": role},
    )
    assert invited.status_code == 201, invited.text
    return {"workspace_id": workspace_id, **invited.json()}


def _workspaces(server: ServerProcess, email: str, password: str) -> list[tuple[str, str]]:
    listed = httpx.get(
        f"{server.base_url}/api/v1/workspaces/", headers=server.token(email, password)
    )
    return sorted((w["name"], w["role"]) for w in listed.json()["results"])


def test_an_invitation_link_signs_up_a_new_member_in_the_browser(
    mail_server, smtp, new_context, snap, console_errors
):
    invited = _invite(mail_server, "newcomer@bistro.test", "editor", "Bistro")
    assert invited["mailed"] is True and "link" not in invited
    link = smtp.wait_for("newcomer@bistro.test").link("/admin/invite/")

    page = new_context("desktop", mail_server.base_url).new_page()
    errors = console_errors(page)
    page.goto(link)
    assert page.locator("[data-workspace]").inner_text() == "Bistro"
    assert page.locator("[data-role]").inner_text() == "editor"
    assert page.locator("[data-account]").inner_text() == "newcomer@bistro.test"
    snap(page, "invite-signup-desktop")
    page.fill("#f-password", "short")
    page.click("form.form button[type=submit]")
    assert page.locator("#e-password").inner_text().strip() == (
        "Password must be at least 8 characters"
    )
    page.fill("#f-password", "newcomer-password-1")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    assert "You joined Bistro as editor." in page.locator(".flash-success").inner_text()
    assert _workspaces(mail_server, "newcomer@bistro.test", "newcomer-password-1") == [
        ("Bistro", "editor")
    ]

    response = page.goto(link)  # once only
    assert response.status == 410
    assert page.locator("[data-problem]").inner_text() == "This invitation was already used."
    assert errors == []


def test_an_existing_user_joins_signed_in_or_by_signing_in_there(
    mail_server, smtp, new_context, snap
):
    email = make_user(mail_server, "regular@example.com")
    first = _invite(mail_server, email, "viewer", "Cafe")
    page = new_context("desktop", mail_server.base_url).new_page()
    sign_in(page, email, MEMBER_PASSWORD)
    page.goto(smtp.wait_for(email, 1).link("/admin/invite/"))
    assert page.locator("[data-account]").inner_text() == email
    snap(page, "invite-join-desktop")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    assert "You joined Cafe as viewer." in page.locator(".flash-success").inner_text()

    second = _invite(mail_server, email, "owner", "Deli")
    stranger = new_context("phone", mail_server.base_url).new_page()
    stranger.goto(smtp.wait_for(email, 2).link("/admin/invite/"))
    assert stranger.input_value("#f-email") == email  # an account has it: sign in
    stranger.fill("#f-password", "wrong-password")
    stranger.click("form.form button[type=submit]")
    assert stranger.locator(".flash-error").inner_text().strip() == "Invalid email or password."
    stranger.fill("#f-password", MEMBER_PASSWORD)
    stranger.click("form.form button[type=submit]")
    stranger.wait_for_url(re.compile(r"/admin/$"))
    assert "You joined Deli as owner." in stranger.locator(".flash-success").inner_text()
    assert _workspaces(mail_server, email, MEMBER_PASSWORD) == [
        ("Cafe", "viewer"),
        ("Deli", "owner"),
        (email, "owner"),
    ]
    assert first["workspace_id"] != second["workspace_id"]


def test_a_withdrawn_invitation_shows_a_plain_page(mail_server, smtp, new_context):
    invited = _invite(mail_server, "late@example.com", "viewer", "Diner")
    link = smtp.wait_for("late@example.com").link("/admin/invite/")
    withdrawn = httpx.delete(
        f"{mail_server.base_url}/api/v1/workspaces/{invited['workspace_id']}"
        f"/invitations/{invited['id']}/",
        headers=mail_server.token(),
    )
    assert withdrawn.status_code == 204
    page = new_context("desktop", mail_server.base_url).new_page()
    response = page.goto(link)
    assert response.status == 410
    assert page.locator("[data-problem]").inner_text() == "This invitation was withdrawn."
    assert page.locator("h1").inner_text() == "This invitation is closed"


def test_an_owner_invites_in_the_ui_and_sees_the_link_when_the_mail_fails(
    mail_server, smtp, new_context, snap, console_errors
):
    page = new_context("desktop", mail_server.base_url).new_page()
    errors = console_errors(page)
    sign_in(page)  # the admin, owner of their own workspace
    page.click("nav.nav a:has-text('Invitations')")
    page.wait_for_url(re.compile(r"/admin/invitations$"))
    page.fill("#f-email", "not an email")
    page.click("form.form button[type=submit]")
    assert page.locator("#e-email").inner_text().strip() == (
        "Email must be an email address like name@example.com"
    )
    page.fill("#f-email", "Guest@Example.com")
    page.select_option("#f-role", "viewer")
    page.click("form.form button[type=submit]")
    assert "Invitation mailed to guest@example.com." in page.locator("[data-made]").inner_text()
    assert page.locator("[data-not-mailed]").count() == 0
    assert smtp.wait_for("guest@example.com").link("/admin/invite/")

    smtp.refuse = True
    try:
        page.fill("#f-email", "other@example.com")
        page.click("form.form button[type=submit]")
        assert (
            page.locator("[data-not-mailed]")
            .inner_text()
            .startswith(
                "The mail could not be sent: pass this link on to other@example.com yourself."
            )
        )
        link = page.input_value("#invite-link")
    finally:
        smtp.refuse = False
    assert link.startswith(f"{mail_server.base_url}/admin/invite/")
    snap(page, "invitations-desktop")
    rows = page.locator("tr[data-invitation]")
    assert rows.count() == 2
    page.once("dialog", lambda dialog: dialog.accept())
    rows.filter(has_text="other@example.com").locator("button:has-text('Withdraw')").click()
    page.wait_for_url(re.compile(r"/admin/invitations$"))
    assert "Invitation withdrawn." in page.locator(".flash-success").inner_text()
    assert page.locator("tr[data-invitation]").count() == 1
    assert page.goto(link).status == 410
    assert errors == []
