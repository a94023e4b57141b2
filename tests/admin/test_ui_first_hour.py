"""Issue 15 in the browser: the newcomer's first hour (the public_url banner, the webhook
testing switches, the recent-scans table, the GeoIP hint, numbers that say how they count)."""

from __future__ import annotations

import re

import httpx

from .helpers import MEMBER_PASSWORD, create_qr, make_user, signed_in_page

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
HTTP_ONLY = {"webhooks": {"allow_http": True}}


def test_banner_scan_table_geoip_hint_and_test_mode(
    server_factory, new_context, snap, console_errors
):
    server = server_factory(HTTP_ONLY).start()
    email = make_user(server, "first-hour@example.com", plan="pro")
    short_id = create_qr(
        server,
        server.token(email, MEMBER_PASSWORD),
        destination_url="https://example.com/menu",
        name="Menu",
    )
    # 27 people (iPhone, then Android) and 3 bots: more than one page of the table (25)
    for n in range(30):
        agent = GOOGLEBOT if n % 10 == 9 else (IPHONE if n < 15 else ANDROID)
        scanned = httpx.get(
            f"{server.base_url}/r/{short_id}",
            headers={"User-Agent": agent, "Referer": f"https://ref{n}.example/"},
        )
        assert scanned.status_code == 302

    page, errors = signed_in_page(server, new_context, console_errors, email)

    # the dashboard: the banner names the key and the address the codes point at
    banner = page.locator("[data-short-link-note=local]")
    assert banner.count() == 1
    text = banner.inner_text()
    assert f"These codes point at http://127.0.0.1:{server.port}" in text
    assert "[server] public_url" in text
    # scans today exclude bots and say so; the all-time column includes them and says so
    assert page.locator("[data-stat=today]").inner_text() == "27"
    assert page.locator("[data-bots=excluded]").inner_text() == "bots excluded"
    assert "bots included" in page.locator("th[data-bots=included]").text_content()
    assert page.locator("td.num").first.inner_text() == "30"
    snap(page, "first-hour-banner-dashboard")

    # the QR page: banner, the note before the download buttons, the recent scans
    page.goto(f"/admin/qrs/{short_id}")
    assert page.locator("[data-short-link-note=local]").count() == 1
    assert "phones" in page.locator("[data-download-note=local]").inner_text() or (
        "only this computer" in page.locator("[data-download-note=local]").inner_text()
    )
    rows = page.locator("table[data-scans] tbody tr")
    assert rows.count() == 25
    first = rows.first.locator("td")
    cells = [first.nth(i).inner_text() for i in range(9)]
    assert cells[4:9] == ["Android", "Chrome Mobile", "https://ref28.example/", "(default)", "no"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", cells[0])
    # the Countries and Cities cards say how to get them, not "Unknown 27"
    hints = page.locator("[data-geoip-hint]")
    assert hints.count() == 2
    assert "[geoip] database" in hints.first.inner_text()
    assert "GeoLite2" in hints.first.inner_text()
    page.locator("#scans").scroll_into_view_if_needed()
    snap(page, "first-hour-scan-table")

    # keyset paging: the older page holds the other 2 people, none seen twice
    seen = set(
        page.locator("table[data-scans] tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.scanId)"
        )
    )
    page.click("#scans a[rel=next]")
    page.wait_for_url(re.compile(r"scans_cursor="))
    older = page.locator("table[data-scans] tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.scanId)"
    )
    assert len(older) == 2 and not seen & set(older)
    assert page.locator("#scans a[rel=next]").count() == 0
    page.click("#scans a[rel=prev]")  # back to the newest
    assert page.locator("table[data-scans] tbody tr").count() == 25

    # bots only: the table and the filter next to the CSV button agree
    page.select_option("select[name=bots]", "only")  # auto-submits
    page.wait_for_url(re.compile(r"bots=only"))
    bot_cells = page.locator("table[data-scans] tbody td[data-label=Bot]").all_inner_texts()
    assert bot_cells == ["bot"] * 3

    # webhooks: the badge while a testing switch is on; the refusal ends with the hint
    page.goto("/admin/webhooks/")
    assert page.locator("[data-test-mode]").inner_text() == "test mode"
    page.goto("/admin/webhooks/new")
    assert page.locator("[data-test-mode]").count() == 1
    page.fill("#f-url", "http://127.0.0.1:9/hook")
    page.click("button[type=submit]:has-text('Create webhook')")
    message = page.locator("#e-url").inner_text()
    assert "127.0.0.1 is a loopback address" in message
    assert "[webhooks] allow_private_targets = true" in message and "never in production" in message
    snap(page, "first-hour-webhook-test-mode")
    assert errors == []


def test_forms_say_every_mistake_at_once_in_words(server, new_context, snap, console_errors):
    """Issue 15.8: three mistakes, three messages next to their fields, in plain language."""
    email = make_user(server, "forms@example.com", plan="pro")
    page, errors = signed_in_page(server, new_context, console_errors, email)

    # the dynamic QR form: a long name, a bad destination, a bad variant URL
    page.goto("/admin/qrs/new")
    page.eval_on_selector("#f-name", "el => el.removeAttribute('maxlength')")
    page.fill("#f-name", "N" * 201)
    page.fill("#f-destination_url", "ftp://files.example/menu")
    page.fill("#variants .variant-row >> nth=0 >> input[name=variant_label]", "A")
    page.fill("#variants .variant-row >> nth=0 >> input[name=variant_url]", "example.com/a")
    page.click("button[type=submit]:has-text('Create QR')")
    assert page.locator(".field-error").all_inner_texts() == [
        "Name must be at most 200 characters",
        "Destination URL must be an http(s) URL",
        "Variant 1's destination URL must be an http(s) URL",
    ]
    assert page.locator("[aria-invalid=true]").count() == 2  # name and destination inputs
    snap(page, "first-hour-form-three-errors")
    assert (
        httpx.get(
            f"{server.base_url}/api/v1/dynamic-qrs/", headers=server.token(email, MEMBER_PASSWORD)
        ).json()["results"]
        == []
    )

    # the webhook form: http://, a long description, no event
    page.goto("/admin/webhooks/new")
    page.fill("#f-url", "http://hooks.example.com/in")
    page.eval_on_selector("#f-description", "el => el.removeAttribute('maxlength')")
    page.fill("#f-description", "d" * 501)
    page.uncheck("input[name=events][value='scan.created']")
    page.click("button[type=submit]:has-text('Create webhook')")
    texts = page.locator(".field-error").all_inner_texts()
    assert len(texts) == 3, texts
    assert texts[0].startswith(
        "Endpoint URL must be an https:// URL (For local testing an operator can set"
    )
    assert texts[1] == "Description must be at most 500 characters"
    assert texts[2].startswith("Choose at least one event")
    snap(page, "first-hour-webhook-form-errors")

    # the generator: a URL that is none, a quiet zone too wide
    page.goto("/admin/generate/")
    page.fill("#f-data", "ftp://files.example/menu")
    page.fill("#f-border", "25")
    page.click("button[type=submit]:has-text('Generate')")
    assert page.locator(".field-error").all_inner_texts() == [
        "Text or URL must be an http(s) URL",
        "Quiet zone must be at most 20 modules",
    ]
    for text in page.locator(".field-error").all_inner_texts():
        assert "Expected" not in text and "`" not in text and "_" not in text
    assert errors == []
