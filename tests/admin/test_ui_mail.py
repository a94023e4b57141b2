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
