"""Dynamic QR pages and the static generator, through the real server and browser."""

from __future__ import annotations

import base64
import csv
import io
import re

import httpx
from playwright.sync_api import expect

from tests.qr.qr_images import decode_png

from .helpers import MEMBER_PASSWORD, make_user, sign_in

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_create_dynamic_qr_preview_download_and_stats(server, new_context, snap, console_errors):
    email = make_user(server, "designer@example.com", plan="pro")
    page = new_context("desktop", server.base_url).new_page()
    errors = console_errors(page)
    sign_in(page, email, MEMBER_PASSWORD)

    page.goto("/admin/qrs/")
    assert page.locator(".empty h3").inner_text() == "No dynamic QRs yet"
    snap(page, "qrs-empty-desktop")

    page.click("text=New dynamic QR >> nth=0")
    page.wait_for_url(re.compile(r"/admin/qrs/new$"))
    # a bad destination comes back with the message next to its field, and nothing is created
    page.fill("#f-name", "Spring poster")
    page.fill("#f-destination_url", "ftp://files.example/menu")
    page.click("button[type=submit]:has-text('Create QR')")
    assert (
        page.locator("#e-destination_url").inner_text().strip()
        == "Destination URL must be an http(s) URL"
    )
    assert page.input_value("#f-name") == "Spring poster"
    snap(page, "qr-form-error-desktop")

    page.fill("#f-destination_url", "https://example.com/spring")
    page.fill("#variants .variant-row >> nth=0 >> input[name=variant_label]", "A")
    page.fill("#variants .variant-row >> nth=0 >> input[name=variant_url]", "https://example.com/a")
    page.fill("#variants .variant-row >> nth=0 >> input[name=variant_weight]", "3")
    page.click("[data-add-variant]")  # hand-written JS adds a row from the <template>
    page.fill("#variants .variant-row >> nth=1 >> input[name=variant_label]", "B")
    page.fill("#variants .variant-row >> nth=1 >> input[name=variant_url]", "https://example.com/b")
    snap(page, "qr-form-desktop")
    page.click("button[type=submit]:has-text('Create QR')")
    page.wait_for_url(re.compile(r"/admin/qrs/[0-9A-Za-z]{8}$"))
    short_id = page.url.rsplit("/", 1)[1]
    assert "Dynamic QR created" in page.locator(".flash-success").inner_text()
    assert page.locator("h1").inner_text() == "Spring poster"
    short_url = page.input_value("#short-link")
    assert short_url == f"{server.base_url}/r/{short_id}"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    page.click(".copy-row button[data-copy]")
    # The label flips once the async clipboard write resolves: wait for it, do not race it.
    expect(page.locator(".copy-row button[data-copy] span")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == short_url

    # the preview image really loaded
    preview = page.locator("img[data-qr-preview]")
    preview.wait_for()
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")

    # download the PNG with options and decode it with a real decoder
    page.select_option("#d-size", "1024")
    page.fill("#d-dark", "#1e3a8a")
    with page.expect_download() as info:
        page.click("[data-download=png]")
    download = info.value
    assert re.fullmatch(rf"qr-{short_id}-\d+px\.png", download.suggested_filename)
    content = open(download.path(), "rb").read()
    assert decode_png(content) == short_url

    with page.expect_download() as info:
        page.click("[data-download=svg]")
    assert info.value.suggested_filename.endswith(".svg")
    assert b"<svg" in open(info.value.path(), "rb").read()[:400]

    # scans (one person, one bot) show up in the stats; bots are excluded by default
    httpx.get(f"{server.base_url}/r/{short_id}", headers={"User-Agent": IPHONE})
    httpx.get(f"{server.base_url}/r/{short_id}", headers={"User-Agent": GOOGLEBOT})
    page.reload()
    assert page.locator("[data-stat=scans]").inner_text() == "1"
    page.select_option("select[name=bots]", "include")  # auto-submits (JS)
    page.wait_for_url(re.compile(r"bots=include"))
    assert page.locator("[data-stat=scans]").inner_text() == "2"
    page.select_option("select[name=bots]", "exclude")
    page.wait_for_url(re.compile(r"bots=exclude"))
    snap(page, "qr-detail-desktop")

    with page.expect_download() as info:
        page.click("a:has-text('CSV')")
    rows = list(csv.DictReader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    assert len(rows) == 1 and rows[0]["os_family"] == "iOS" and rows[0]["is_bot"] == "false"

    # the list shows it; search finds it
    page.goto("/admin/qrs/?q=spring")
    assert page.locator("td.primary a").all_inner_texts() == ["Spring poster"]
    snap(page, "qrs-list-desktop")
    page.goto("/admin/qrs/?q=nothing-like-this")
    assert page.locator(".empty h3").inner_text() == "Nothing matches"

    # phone views of the detail page
    phone = new_context("phone", server.base_url).new_page()
    sign_in(phone, email, MEMBER_PASSWORD)
    phone.goto(f"/admin/qrs/{short_id}")
    snap(phone, "qr-detail-phone")
    phone.goto("/admin/qrs/")
    snap(phone, "qrs-list-phone")
    assert errors == []


def test_edit_deactivate_and_delete(server, new_context):
    email = make_user(server, "editor@example.com", plan="pro")
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page, email, MEMBER_PASSWORD)
    page.goto("/admin/qrs/new")
    page.fill("#f-name", "Menu")
    page.fill("#f-destination_url", "https://restaurant.example/menu")
    page.click("button[type=submit]:has-text('Create QR')")
    page.wait_for_url(re.compile(r"/admin/qrs/[0-9A-Za-z]{8}$"))
    short_id = page.url.rsplit("/", 1)[1]

    page.click("a:has-text('Edit')")
    # two variants with one label: the links rules say which variant is wrong, next to the variants
    page.fill("#variants .variant-row >> nth=0 >> input[name=variant_label]", "A")
    page.fill(
        "#variants .variant-row >> nth=0 >> input[name=variant_url]", "https://restaurant.example/a"
    )
    page.click("[data-add-variant]")
    page.fill("#variants .variant-row >> nth=1 >> input[name=variant_label]", "A")
    page.fill(
        "#variants .variant-row >> nth=1 >> input[name=variant_url]", "https://restaurant.example/b"
    )
    page.click("button[type=submit]:has-text('Save changes')")
    assert (
        page.locator("#e-variants").inner_text().strip() == "Variant 2's label: 'A' is used twice"
    )
    assert page.locator("#variants .variant-row").count() == 2  # what was typed is kept
    page.click("#variants .variant-row >> nth=1 >> [data-remove-variant]")
    page.click("#variants .variant-row >> nth=0 >> [data-remove-variant]")
    page.fill("#f-destination_url", "https://restaurant.example/winter-menu")
    page.click("button[type=submit]:has-text('Save changes')")
    page.wait_for_url(re.compile(rf"/admin/qrs/{short_id}$"))
    assert "Changes saved." in page.locator(".flash-success").inner_text()
    response = httpx.get(f"{server.base_url}/r/{short_id}")
    assert response.status_code == 302
    assert response.headers["location"] == "https://restaurant.example/winter-menu"

    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() before deactivating
    page.click("button:has-text('Deactivate')")
    page.wait_for_load_state()
    assert "deactivated" in page.locator(".flash-success").inner_text()
    gone = httpx.get(f"{server.base_url}/r/{short_id}", headers={"Accept": "text/html"})
    assert gone.status_code == 410

    page.click("button:has-text('Delete')")
    page.wait_for_url(re.compile(r"/admin/qrs/$"))
    assert "deleted" in page.locator(".flash-success").inner_text()
    assert page.goto(f"/admin/qrs/{short_id}").status == 404


def test_another_owners_qr_is_a_404(server, new_context):
    owner = make_user(server, "owner@example.com")
    other = make_user(server, "other@example.com")
    token = httpx.post(
        f"{server.base_url}/api/v1/auth/token/", json={"email": owner, "password": MEMBER_PASSWORD}
    ).json()["access_token"]
    created = httpx.post(
        f"{server.base_url}/api/v1/dynamic-qrs/",
        headers={"Authorization": f"Bearer {token}"},
        json={"name": "Private", "destination_url": "https://example.com/"},
    ).json()
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page, other, MEMBER_PASSWORD)
    for path in ("", "/edit", "/image.svg", "/download?format=png", "/scans.csv"):
        assert page.goto(f"/admin/qrs/{created['short_id']}{path}").status == 404, path


def test_static_generator_renders_a_decodable_png(server, new_context, snap):
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page)
    page.goto("/admin/generate/")
    snap(page, "generate-desktop")
    page.fill("#f-data", "not a url")
    page.click("button:has-text('Generate')")
    assert page.locator("#e-data").is_visible()
    page.fill("#f-data", "https://example.com/menu")
    page.click("button:has-text('Generate')")
    src = page.get_attribute("img[data-generated]", "src")
    assert src.startswith("data:image/png;base64,")
    assert decode_png(base64.b64decode(src.split(",", 1)[1])) == "https://example.com/menu"
    with page.expect_download() as info:
        page.click("a:has-text('Download PNG')")
    assert info.value.suggested_filename.endswith(".png")
    assert decode_png(open(info.value.path(), "rb").read()) == "https://example.com/menu"
    snap(page, "generate-result-desktop")

    # "Dynamic" makes a dynamic QR and opens its page
    page.check("input[name=data_type][value=dynamic]", force=True)
    page.fill("#f-name", "From the generator")
    page.click("button:has-text('Generate')")
    page.wait_for_url(re.compile(r"/admin/qrs/[0-9A-Za-z]{8}$"))
    assert page.locator("h1").inner_text() == "From the generator"


def test_hostile_names_are_shown_as_text(server, new_context, console_errors):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'"
    qr = httpx.post(
        f"{server.base_url}/api/v1/dynamic-qrs/",
        headers=server.token(),
        json={"name": hostile, "destination_url": "https://example.com/?q=<b>"},
    ).json()
    page = new_context("desktop", server.base_url).new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors = console_errors(page)
    sign_in(page)
    page.goto("/admin/qrs/")
    assert page.locator("td.primary a").inner_text() == hostile
    page.goto(f"/admin/qrs/{qr['short_id']}")
    assert page.locator("h1").inner_text() == hostile
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == [] and errors == []
