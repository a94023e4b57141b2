"""Helpers shared by the UI tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import re

import httpx

from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD


def sign_in(page, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    page.goto("/admin/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


def make_user(server, email: str, plan: str = "pro", role: str = "member") -> str:
    response = httpx.post(
        f"{server.base_url}/api/v1/admin/users/",
        headers=server.token(),
        json={"email": email, "password": MEMBER_PASSWORD, "plan": plan, "role": role},
    )
    assert response.status_code == 201, response.text
    return email


def csrf_of(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "qrstudio_csrf")


def ui_login(client, email: str, password: str) -> dict[str, str]:
    """Sign in through the form over a TestClient (no browser): the cookies of the session."""
    client.cookies.clear()
    form = client.get("/admin/login")
    csrf = form.cookies.get("qrstudio_csrf")
    assert form.status_code == 200 and csrf
    response = client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": csrf},
        headers={"Cookie": f"qrstudio_csrf={csrf}"},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    cookies = {"qrstudio_csrf": csrf, **dict(response.cookies)}
    assert "qrstudio_session" in cookies
    client.cookies.clear()
    return cookies


def create_qr(server, headers: dict[str, str], **body) -> str:
    """A dynamic QR through the API; its short id."""
    created = httpx.post(f"{server.base_url}/api/v1/dynamic-qrs/", headers=headers, json=body)
    assert created.status_code == 201, created.text
    return created.json()["short_id"]


def signed_in_page(server, new_context, console_errors, email: str, kind: str = "desktop"):
    """(page signed in as `email` with the member password, its console errors list)."""
    page = new_context(kind, server.base_url).new_page()
    errors = console_errors(page)
    sign_in(page, email, MEMBER_PASSWORD)
    return page, errors
