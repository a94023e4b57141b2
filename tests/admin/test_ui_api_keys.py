"""The API keys page (issue 16.6) through the real server and browser: an owner creates a key
(shown once), the key works over HTTP, the list shows its prefix and last use, and revoking it
(after a confirm) ends it on the next call. Members below owner see no such page."""

from __future__ import annotations

import re

import httpx
import pytest

from ..conftest import new_server
from .helpers import MEMBER_PASSWORD, make_user, sign_in

KEY = re.compile(r"^qsb_[0-9A-Za-z]{43}$")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for this module's tests (each test signs in its own users)."""
    server = new_server(tmp_path_factory.mktemp("ui-api-keys")).start()
    yield server
    server.stop()


def test_an_owner_creates_uses_and_revokes_a_key(server, new_context, snap, console_errors):
    email = make_user(server, "agency@example.com", plan="pro")
    page = new_context("desktop", server.base_url).new_page()
    errors = console_errors(page)
    confirms: list[str] = []
    page.on("dialog", lambda dialog: (confirms.append(dialog.message), dialog.accept()))
    sign_in(page, email, MEMBER_PASSWORD)

    page.click("nav >> text=API keys")
    page.wait_for_url(re.compile(r"/admin/api-keys/$"))
    assert page.locator(".empty h3").inner_text() == "No API keys yet"

    # A wrong form says what is wrong next to the field, and keeps what was typed.
    page.fill("#f-name", "CRM sync")
    page.uncheck("input[name=scopes][value=read]")
    page.click("button:has-text('Create key')")
    assert page.locator("#e-scopes").inner_text().strip() == (
        "Choose at least one of read, write, webhooks"
    )
    assert page.input_value("#f-name") == "CRM sync"

    page.check("input[name=scopes][value=read]")
    page.check("input[name=scopes][value=write]")
    snap(page, "api-keys-form-desktop")
    page.click("button:has-text('Create key')")

    # The key, once, with a copy button and a plain warning.
    key = page.input_value("#api-key")
    assert KEY.match(key)
    assert "shown only once" in page.locator(".secret-box .warning").inner_text()
    assert page.locator("button[data-copy]").get_attribute("data-copy") == key
    snap(page, "api-key-created-desktop")
    page.click("text=I have stored it")
    page.wait_for_url(re.compile(r"/admin/api-keys/$"))
    assert key not in page.content()

    # The key works over HTTP, as the workspace, with its scopes.
    bearer = {"Authorization": f"Bearer {key}"}
    created = httpx.post(
        f"{server.base_url}/api/v1/dynamic-qrs/",
        headers=bearer,
        json={"name": "From the CRM", "destination_url": "https://example.com/crm"},
    )
    assert created.status_code == 201, created.text
    hook = httpx.post(
        f"{server.base_url}/api/v1/webhooks/",
        headers=bearer,
        json={"url": "https://crm.example.com/hook", "events": ["scan.created"]},
    )
    assert hook.status_code == 403
    assert hook.json()["detail"] == "This API key lacks the webhooks scope"

    page.reload()
    row = page.locator("[data-api-keys] tbody tr")
    assert row.count() == 1
    assert row.locator("td[data-label=Name]").inner_text() == "CRM sync"
    assert row.locator("td[data-label=Key]").inner_text() == key[:10] + "…"
    assert row.locator("td[data-label=Scopes] .tag").all_inner_texts() == ["read", "write"]
    assert row.locator("td[data-label=Expires]").inner_text().strip() == "never"
    assert row.locator("td[data-label='Last used']").inner_text().strip() == "just now"
    snap(page, "api-keys-list-desktop")

    # Revoke, after a confirm: the next call with the key is refused.
    row.locator("button:has-text('Revoke')").click()
    page.wait_for_url(re.compile(r"/admin/api-keys/$"))
    assert confirms == ["Revoke the key “CRM sync”? Every call made with it fails from now on."]
    assert page.locator(".flash-success").inner_text().strip() == "API key revoked."
    assert page.locator(".empty h3").inner_text() == "No API keys yet"
    refused = httpx.get(f"{server.base_url}/api/v1/dynamic-qrs/", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This API key was revoked"
    assert errors == []


def test_a_key_with_an_expiry_and_the_page_on_a_phone(server, new_context, snap, console_errors):
    email = make_user(server, "phone@example.com", plan="pro")
    page = new_context("phone", server.base_url).new_page()
    errors = console_errors(page)
    sign_in(page, email, MEMBER_PASSWORD)
    page.goto("/admin/api-keys/")
    page.fill("#f-name", "CI")
    page.fill("#f-expires_at", "2099-01-31")
    page.click("button:has-text('Create key')")
    key = page.input_value("#api-key")
    assert (
        httpx.get(
            f"{server.base_url}/api/v1/dynamic-qrs/", headers={"Authorization": f"Bearer {key}"}
        ).status_code
        == 200
    )
    page.goto("/admin/api-keys/")
    row = page.locator("[data-api-keys] tbody tr")
    assert row.locator("td[data-label=Expires]").inner_text().strip() == "2099-01-31 00:00 UTC"
    snap(page, "api-keys-list-phone")
    assert errors == []


def test_members_below_owner_have_no_keys_page(server, new_context, console_errors):
    admin = server.token()
    make_user(server, "editor@example.com", plan="pro")
    owner_email = make_user(server, "boss@example.com", plan="pro")
    workspaces = httpx.get(
        f"{server.base_url}/api/v1/workspaces/", headers=server.token(owner_email, MEMBER_PASSWORD)
    ).json()["results"]
    (boss_ws,) = [w["id"] for w in workspaces]
    added = httpx.post(
        f"{server.base_url}/api/v1/workspaces/{boss_ws}/members/",
        headers=admin,
        json={"email": "editor@example.com", "role": "editor"},
    )
    assert added.status_code == 201, added.text
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page, "editor@example.com", MEMBER_PASSWORD)
    # Their own workspace: they own it, so the page is there.
    assert page.locator("nav >> text=API keys").count() == 1
    # The boss's workspace, where they are an editor: no link, and the page refuses.
    page.context.add_cookies(
        [{"name": "qrstudio_workspace", "value": str(boss_ws), "url": server.base_url + "/admin"}]
    )
    page.goto("/admin/")
    assert page.locator("nav >> text=API keys").count() == 0
    answer = page.goto("/admin/api-keys/")
    assert answer.status == 403
    assert "This needs the owner role in this workspace" in page.content()
