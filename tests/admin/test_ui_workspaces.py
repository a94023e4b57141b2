"""Workspaces in the admin UI (issue 16): the switcher, role marks, the admins' Workspaces page,
the owners' Members page, and who the pages say changes a plan (point 7).

One server for the module: accounts and workspaces are made through the API once; each test
works in its own workspace or with its own users, so the order of the tests does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD, new_server
from .helpers import MEMBER_PASSWORD, create_qr, csrf_of, make_user, sign_in


@dataclass
class World:
    server: object
    admin: dict[str, str]
    acme: int  # a client workspace: owner@ owns it, reader@ views it
    acme_qr: str
    owner_qr: str  # in owner@'s personal workspace (free plan: no webhooks)


def api(server, method: str, path: str, headers: dict[str, str], **kwargs) -> httpx.Response:
    return httpx.request(method, f"{server.base_url}{path}", headers=headers, **kwargs)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    server = new_server(tmp_path_factory.mktemp("ui-workspaces")).start()
    try:
        admin = server.token()
        for email in ("owner@example.com", "reader@example.com", "helper@example.com"):
            make_user(server, email, plan="free")
        acme = api(server, "POST", "/api/v1/workspaces/", admin, json={"name": "Acme"})
        assert acme.status_code == 201, acme.text
        acme_id = acme.json()["id"]
        for email, role in (("owner@example.com", "owner"), ("reader@example.com", "viewer")):
            added = api(
                server,
                "POST",
                f"/api/v1/workspaces/{acme_id}/members/",
                admin,
                json={"email": email, "role": role},
            )
            assert added.status_code == 201, added.text
        in_acme = {**admin, "X-QRStudio-Workspace": str(acme_id)}
        acme_qr = create_qr(
            server, in_acme, name="Acme poster", destination_url="https://a.example/"
        )
        owner = server.token("owner@example.com", MEMBER_PASSWORD)
        owner_qr = create_qr(server, owner, name="My own", destination_url="https://o.example/")
        yield World(server, admin, acme_id, acme_qr, owner_qr)
    finally:
        server.kill()


def signed_in(world: World, new_context, console_errors, email: str):
    page = new_context("desktop", world.server.base_url).new_page()
    errors = console_errors(page)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, email, ADMIN_PASSWORD if email == ADMIN_EMAIL else MEMBER_PASSWORD)
    return page, errors


def switch_to(page, name: str) -> None:
    """Choose a workspace in the header; app.js submits the form on change."""
    options = page.locator("#f-workspace option").evaluate_all(
        "os => os.map(o => [o.value, o.textContent.trim()])"
    )
    value = next(v for v, text in options if re.fullmatch(rf"{re.escape(name)}( \(\w+\))?", text))
    with page.expect_navigation():
        page.select_option("#f-workspace", value)
    assert page.locator("[data-current-workspace] strong").inner_text() == name


def test_owner_switches_reads_the_plan_note_and_manages_members(
    world, new_context, console_errors, snap
):
    page, errors = signed_in(world, new_context, console_errors, "owner@example.com")
    # Point 7: the personal workspace is on free; the page names who changes the plan.
    note = page.locator("[data-plan-help]")
    assert note.inner_text() == (
        f"An admin of this box ({ADMIN_EMAIL}) changes this workspace's plan."
    )
    assert "administrator" not in page.content().lower()

    page.goto("/admin/qrs/")
    assert page.locator("[data-current-workspace] strong").inner_text() == "owner@example.com"
    body = page.locator("main").inner_text()
    assert "My own" in body and "Acme poster" not in body
    switch_to(page, "Acme")
    assert page.url.endswith("/admin/qrs/")  # the same section, now of Acme
    body = page.locator("main").inner_text()
    assert "Acme poster" in body and "My own" not in body
    assert page.locator("[data-current-role]").inner_text() == "owner"

    page.click("nav a:has-text('Members')")
    rows = page.locator("[data-member]")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.member)")) == [
        "owner@example.com",
        "reader@example.com",
    ]
    # add an existing user, then change their role
    page.fill("#f-email", "nobody@example.com")
    page.click("button:has-text('Add member')")
    assert page.locator("#e-email").inner_text() == "No user has this email; invite them instead"
    page.fill("#f-email", "helper@example.com")
    page.select_option("#f-role", "viewer")
    page.click("button:has-text('Add member')")
    helper = page.locator("[data-member='helper@example.com']")
    assert helper.locator("select").input_value() == "viewer"
    helper.locator("select").select_option("editor")
    helper.locator("button:has-text('Change role')").click()
    assert page.locator(".flash-success").inner_text().strip() == (
        "helper@example.com is now editor."
    )
    assert page.locator("[data-member='helper@example.com'] select").input_value() == "editor"
    snap(page, "workspaces-members")

    # the last owner can neither step down nor leave: the service's 400, next to the row
    me = page.locator("[data-member='owner@example.com']")
    me.locator("button:has-text('Remove')").click()
    assert page.locator("[data-member='owner@example.com'] .field-error").inner_text().strip() == (
        "A workspace must keep at least one owner"
    )
    members = api(world.server, "GET", f"/api/v1/workspaces/{world.acme}/members/", world.admin)
    assert {m["email"]: m["role"] for m in members.json()["results"]} == {
        "owner@example.com": "owner",
        "reader@example.com": "viewer",
        "helper@example.com": "editor",
    }
    assert errors == []


def test_a_viewer_sees_no_write_buttons_and_is_refused_a_write(world, new_context, console_errors):
    page, errors = signed_in(world, new_context, console_errors, "reader@example.com")
    switch_to(page, "Acme")
    assert page.locator("[data-current-role]").inner_text() == "viewer"
    page.goto("/admin/qrs/")
    assert "Acme poster" in page.locator("main").inner_text()
    assert page.locator("a:has-text('New dynamic QR')").count() == 0
    assert page.locator("nav a:has-text('Generate')").count() == 0
    assert page.locator("nav a:has-text('Members')").count() == 0
    page.goto(f"/admin/qrs/{world.acme_qr}")
    assert page.locator("a:has-text('Edit'), button:has-text('Delete')").count() == 0

    refused = page.goto("/admin/qrs/new")
    assert refused.status == 403
    assert "This needs the editor role in this workspace." in page.locator("main").inner_text()
    posted = page.request.post(
        "/admin/qrs/",
        form={
            "csrf_token": csrf_of(page),
            "name": "sneaky",
            "destination_url": "https://evil.example/",
        },
    )
    assert posted.status == 403
    assert "This needs the editor role in this workspace." in posted.text()
    listed = api(
        world.server,
        "GET",
        "/api/v1/dynamic-qrs/",
        {**world.admin, "X-QRStudio-Workspace": str(world.acme)},
    )
    assert [qr["short_id"] for qr in listed.json()["results"]] == [world.acme_qr]
    assert errors == []


def test_admin_creates_a_workspace_sees_its_usage_and_changes_its_plan(
    world, new_context, console_errors, snap
):
    page, errors = signed_in(world, new_context, console_errors, ADMIN_EMAIL)
    page.click("nav a:has-text('Workspaces')")
    page.fill("#f-name", "Globex")
    page.select_option("#f-plan", "pro")
    page.click("button:has-text('Create workspace')")
    assert page.locator(".flash-success").inner_text().strip() == (
        "Workspace Globex created on the pro plan."
    )
    row = page.locator("[data-workspace='Globex']")
    assert row.locator("[data-plan]").inner_text() == "pro"
    assert row.locator("[data-members]").inner_text() == "0"
    assert row.locator("[data-generations]").inner_text() == "0 / 5,000"
    globex = int(row.get_attribute("id").removeprefix("workspace-"))

    generated = api(
        world.server,
        "POST",
        "/api/v1/generate/",
        {**world.admin, "X-QRStudio-Workspace": str(globex)},
        json={"data": "hello", "data_type": "text", "format": "svg"},
    )
    assert generated.status_code == 200, generated.text
    page.reload()
    row = page.locator("[data-workspace='Globex']")
    assert row.locator("[data-generations]").inner_text() == "1 / 5,000"
    assert row.locator("[data-qrs]").inner_text() == "0"

    row.locator("select[name=plan]").select_option("free")
    row.locator("button:has-text('Save')").click()
    row = page.locator("[data-workspace='Globex']")
    assert row.locator("[data-plan]").inner_text() == "free"
    assert row.locator("[data-generations]").inner_text() == "1 / 100"
    row.locator("[data-credits] input[name=amount]").fill("0")
    row.locator("[data-credits] button").click()
    assert page.locator("[data-workspace='Globex'] .field-error").inner_text().strip() == (
        "Enter a whole number of generations, 1 or more."
    )
    row = page.locator("[data-workspace='Globex']")
    row.locator("[data-credits] input[name=amount]").fill("50")
    row.locator("[data-credits] button").click()
    assert page.locator(".flash-success").inner_text().strip() == (
        "Granted 50 generations for this month."
    )
    row = page.locator("[data-workspace='Globex']")
    assert row.locator("[data-generations]").inner_text() == "1 / 150"
    credits = api(world.server, "GET", f"/api/v1/admin/workspaces/{globex}/credits/", world.admin)
    assert [g["amount"] for g in credits.json()["results"]] == [50]
    snap(page, "workspaces-overview")

    # Point 7 for an admin in a workspace without webhooks: a link to where the plan changes.
    switch_to(page, "Globex")
    assert page.url.endswith("/admin/workspaces/")  # an admin page stays where it was
    page.goto("/admin/")
    note = page.locator("[data-plan-help]")
    assert note.inner_text() == (
        "You are an admin of this box: change this workspace's plan on Workspaces."
    )
    assert note.locator("a").get_attribute("href") == f"/admin/workspaces/#workspace-{globex}"
    page.goto("/admin/webhooks/")
    assert "change this workspace's plan on Workspaces" in page.locator(".empty").inner_text()
    assert "administrator" not in page.content().lower()
    assert errors == []
