"""The Domains page in the browser (issue 17.6): add (errors next to the field), pending and
active, the DNS line, the fallback, delete; an admin approves; a viewer only reads. One real
server with approval required is shared by the module (one start instead of three)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from ..conftest import ServerProcess, new_server
from .helpers import csrf_of, make_user, sign_in, signed_in_page


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    config = {"domains": {"require_approval": True, "scheme": "http"}}
    server = new_server(tmp_path_factory.mktemp("domains-ui"), config)
    server.start()
    yield server
    server.stop()


def personal_workspace(server, headers) -> int:
    listed = httpx.get(f"{server.base_url}/api/v1/workspaces/", headers=headers).json()
    return next(w["id"] for w in listed["results"] if w["personal"])


def public_host(server) -> str:
    return re.sub(r"^https?://|:\d+$", "", server.base_url)


def test_owner_adds_a_domain_sees_it_pending_then_active_sets_the_fallback_and_deletes_it(
    server, new_context, console_errors, snap
):
    make_user(server, "owner@example.com", plan="pro")  # pro: 1 custom domain
    page, errors = signed_in_page(server, new_context, console_errors, "owner@example.com")
    page.goto("/admin/domains")
    assert page.locator("nav [aria-current=page]").inner_text() == "Domains"
    assert page.locator("[data-domain-limit]").inner_text() == "0 of 1 on the pro plan"

    page.fill("#f-hostname", "https://go.bistro.test/")
    page.fill("#f-fallback_url", "ftp://bistro.test/")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("[data-add-domain] button[type=submit]")
    assert answer.value.status == 400
    assert page.locator("#e-hostname").inner_text() == (
        "Host name must be a host name only, without http(s):// or a path"
    )
    assert page.locator("#e-fallback_url").inner_text() == "Fallback URL must be an http(s) URL"
    assert page.locator("#f-fallback_url").input_value() == "ftp://bistro.test/"

    page.fill("#f-hostname", "Go.Bistro.test")
    page.fill("#f-fallback_url", "")
    page.click("[data-add-domain] button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/domains$"))
    assert "go.bistro.test added; it waits for an instance admin's approval." in (
        page.locator(".flash-success").inner_text()
    )
    card = page.locator("[data-domain='go.bistro.test']")
    assert card.locator("[data-status] .badge").inner_text() == "pending"
    assert card.locator("[data-dns]").inner_text() == (
        "At the domain's DNS provider, a CNAME record from go.bistro.test to "
        f"{public_host(server)}."
    )
    assert card.locator("[data-qr-count]").inner_text() == "0"
    assert card.locator("button", has_text="Approve").count() == 0  # owners do not approve
    assert page.locator("[data-domain-limit]").inner_text() == "1 of 1 on the pro plan"
    assert "Only an instance admin can move this workspace to a bigger plan" in (
        page.locator("[data-plan-limit]").inner_text()
    )
    assert page.locator("#f-hostname").count() == 0
    snap(page, "domains-pending-desktop")

    action = card.locator("form[data-fallback-form]").get_attribute("action")
    domain_id = int(re.search(r"/admin/domains/(\d+)/fallback", action).group(1))
    approved = httpx.post(
        f"{server.base_url}/api/v1/admin/domains/{domain_id}/approve/", headers=server.token()
    )
    assert approved.status_code == 200, approved.text
    page.reload()
    assert card.locator("[data-status] .badge").inner_text() == "active"

    card.locator(f"#f-fallback-{domain_id}").fill("javascript:alert(1)")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        card.locator("[data-fallback-form] button").click()
    assert answer.value.status == 400
    assert card.locator(f"#e-fallback-{domain_id}").inner_text().startswith("Fallback")
    assert card.locator("[data-fallback]").inner_text() == "none: a plain 404 page"
    card.locator(f"#f-fallback-{domain_id}").fill("https://bistro.test/menu")
    card.locator("[data-fallback-form] button").click()
    page.wait_for_url(re.compile(r"/admin/domains$"))
    assert page.locator(".flash-success").inner_text() == (
        "go.bistro.test now sends / and unknown codes to https://bistro.test/menu."
    )
    assert card.locator("[data-fallback]").inner_text() == "https://bistro.test/menu"

    page.on("dialog", lambda dialog: dialog.accept())
    card.locator("button", has_text="Delete").click()
    page.wait_for_url(re.compile(r"/admin/domains$"))
    assert page.locator(".flash-success").inner_text() == "go.bistro.test deleted."
    assert card.count() == 0
    assert page.locator(".empty h3").inner_text() == "No branded domains"
    assert errors == []


def test_an_admin_approves_a_pending_domain_and_a_viewer_only_reads(
    server, new_context, console_errors
):
    page = new_context("desktop", server.base_url).new_page()
    errors = console_errors(page)
    sign_in(page)
    page.goto("/admin/domains")
    page.fill("#f-hostname", "go.agency.test")
    page.click("[data-add-domain] button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/domains$"))
    card = page.locator("[data-domain='go.agency.test']")
    assert card.locator("[data-status] .badge").inner_text() == "pending"
    card.locator("button", has_text="Approve").click()
    page.wait_for_url(re.compile(r"/admin/domains$"))
    assert page.locator(".flash-success").inner_text() == (
        "go.agency.test approved: it serves its codes from now on."
    )
    assert card.locator("[data-status] .badge").inner_text() == "active"
    assert card.locator("button", has_text="Approve").count() == 0
    assert errors == []

    # A viewer of a workspace with a domain sees it, its DNS line, and no way to change it.
    owner = server.member("client-owner@example.com")
    made = httpx.post(
        f"{server.base_url}/api/v1/domains/", headers=owner, json={"hostname": "go.client.test"}
    )
    assert made.status_code == 201, made.text
    workspace_id = personal_workspace(server, owner)
    make_user(server, "viewer@example.com", plan="free")
    added = httpx.post(
        f"{server.base_url}/api/v1/workspaces/{workspace_id}/members/",
        headers=owner,
        json={"email": "viewer@example.com", "role": "viewer"},
    )
    assert added.status_code == 201, added.text
    viewer, viewer_errors = signed_in_page(
        server, new_context, console_errors, "viewer@example.com"
    )
    viewer.goto("/admin/domains")
    with viewer.expect_navigation():
        viewer.select_option("#f-workspace", str(workspace_id))
    viewer.goto("/admin/domains")
    card = viewer.locator("[data-domain='go.client.test']")
    assert card.locator("[data-status] .badge").inner_text() == "pending"
    assert "CNAME record from go.client.test" in card.locator("[data-dns]").inner_text()
    assert viewer.locator("[data-add-domain]").count() == 0
    assert viewer.locator("[data-fallback-form]").count() == 0
    assert card.locator("button").count() == 1  # only the copy button
    refused = viewer.request.post(
        f"{server.base_url}/admin/domains",
        form={"hostname": "go.viewer.test", "csrf_token": csrf_of(viewer)},
    )
    assert refused.status == 403
    assert "This needs the owner role in this workspace." in refused.text()
    assert viewer_errors == []


def test_a_qr_on_a_branded_domain_prints_its_url_and_keeps_the_domain(
    server, new_context, console_errors, snap
):
    owner = server.member("menu-owner@example.com")
    made = httpx.post(
        f"{server.base_url}/api/v1/domains/", headers=owner, json={"hostname": "go.menu.test"}
    )
    assert made.status_code == 201, made.text
    approved = httpx.post(
        f"{server.base_url}/api/v1/admin/domains/{made.json()['id']}/approve/",
        headers=server.token(),
    )
    assert approved.status_code == 200, approved.text
    page, errors = signed_in_page(server, new_context, console_errors, "menu-owner@example.com")
    page.goto("/admin/qrs/new")
    options = page.locator("#f-domain option").all_inner_texts()
    assert options == [f"{server.base_url}/r/… (this box)", "go.menu.test"]
    assert not page.locator("#f-short_id").is_visible()  # this box: no chosen short ids
    page.select_option("#f-domain", "go.menu.test")
    assert page.locator("#f-short_id").is_visible()
    page.fill("#f-name", "Menu")
    page.fill("#f-destination_url", "https://bistro.test/menu")
    page.fill("#f-short_id", "sitemap.xml")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("form.form button[type=submit]")
    assert answer.value.status == 400
    assert page.locator("#e-short_id").is_visible()
    assert page.locator("#f-domain").input_value() == "go.menu.test"
    page.fill("#f-short_id", "menu")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/qrs/menu$"))
    assert page.locator("[data-printed-url]").inner_text().strip() == "http://go.menu.test/menu"
    assert page.input_value("#short-link") == "http://go.menu.test/menu"
    snap(page, "qr-on-branded-domain-desktop")

    page.goto("/admin/domains")
    card = page.locator("[data-domain='go.menu.test']")
    assert card.locator("[data-qr-count]").inner_text() == "1"
    page.on("dialog", lambda dialog: dialog.accept())
    card.locator("button", has_text="Delete").click()
    page.wait_for_url(re.compile(r"/admin/domains$"))
    assert page.locator(".flash-error").inner_text() == (
        "1 dynamic QR on go.menu.test is not deleted; its printed codes would stop working. "
        "Delete it first."
    )
    assert card.locator("[data-status] .badge").inner_text() == "active"
    assert errors == []
