"""The QR page's rule editor and preview, driven in the real browser against the real server."""

from __future__ import annotations

import re

import httpx

from tests.links.helpers import ANDROID_CHROME as ANDROID
from tests.links.helpers import IPHONE_SAFARI as IPHONE

from .helpers import MEMBER_PASSWORD, make_user, sign_in


def test_rule_editor_adds_reorders_removes_and_the_preview_answers(
    server, new_context, snap, console_errors
):
    email = make_user(server, "router@example.com", plan="pro")
    api = server.token(email, MEMBER_PASSWORD)
    created = httpx.post(
        f"{server.base_url}/api/v1/dynamic-qrs/",
        headers=api,
        json={"name": "Menu", "destination_url": "https://example.com/menu"},
    )
    short_id = created.json()["short_id"]
    for agent in (IPHONE, ANDROID):  # the editor offers the values seen in scans
        httpx.get(f"{server.base_url}/r/{short_id}", headers={"User-Agent": agent})

    page = new_context("desktop", server.base_url).new_page()
    errors = console_errors(page)
    sign_in(page, email, MEMBER_PASSWORD)
    page.goto(f"/admin/qrs/{short_id}")
    page.click("[data-edit-routing]")
    page.wait_for_url(re.compile(rf"/admin/qrs/{short_id}/routing$"))
    rows = page.locator("#rules [data-rule-row]")
    assert rows.count() == 1  # the spare row
    assert page.locator(".no-js-only").first.is_hidden()  # JS replaces the remove boxes

    first = rows.nth(0)
    first.locator("input[name=rule_label]").fill("android")
    first.locator("input[name=rule_url]").fill("https://play.example/app")
    first.locator("[data-pick-target]:has(input[name=rule_os]) [data-pick=Android]").click()
    assert first.locator("input[name=rule_os]").input_value() == "Android"

    page.click("[data-add-rule]")
    second = rows.nth(1)
    second.locator("input[name=rule_label]").fill("ios")
    second.locator("input[name=rule_url]").fill("https://apps.example/app")
    second.locator("[data-pick-target]:has(input[name=rule_os]) [data-pick=iOS]").click()
    second.locator("input[name=rule_language]").fill("fr, en")
    page.click("[data-add-rule]")
    rows.nth(2).locator("input[name=rule_label]").fill("doomed")
    rows.nth(2).locator("[data-rule-remove]").click()
    assert rows.count() == 2
    second.locator("[data-rule-up]").click()  # ios first now
    assert rows.nth(0).locator("input[name=rule_label]").input_value() == "ios"
    assert rows.nth(0).locator("[data-rule-number]").inner_text() == "1"
    page.fill("#f-utm-source", "poster")
    snap(page, "qr-routing-desktop")
    page.click("button[type=submit]:has-text('Save routing')")
    page.wait_for_url(re.compile(rf"/admin/qrs/{short_id}$"))
    assert [item.inner_text() for item in page.locator("[data-rules] li strong").all()] == [
        "ios",
        "android",
    ]

    # The API sees the same rules, in that order; a scan follows them.
    qr = httpx.get(f"{server.base_url}/api/v1/dynamic-qrs/{short_id}/", headers=api).json()
    assert [(r["label"], r["when"]) for r in qr["rules"]] == [
        ("ios", {"os": ["iOS"], "language": ["fr", "en"]}),
        ("android", {"os": ["Android"]}),
    ]
    answer = httpx.get(f"{server.base_url}/r/{short_id}", headers={"User-Agent": ANDROID})
    assert answer.headers["location"] == "https://play.example/app?utm_source=poster"

    # The preview on the QR page: an iPhone without a language does not match "ios".
    page.select_option("#p-agent", "iphone")
    page.click("[data-preview-form] button[type=submit]")
    assert page.locator("[data-preview-label]").inner_text() == "(default)"
    page.fill("#p-language", "fr")
    page.click("[data-preview-form] button[type=submit]")
    assert page.locator("[data-preview-label]").inner_text() == "ios"
    assert "rule 1 (ios)" in page.locator("[data-preview-answer]").inner_text()
    snap(page, "qr-routing-preview-desktop")

    # A bad value comes back with the rule named, and nothing changes.
    page.goto(f"/admin/qrs/{short_id}/routing")
    page.locator("#rules [data-rule-row]").nth(0).locator("input[name=rule_country]").fill("XX")
    page.click("button[type=submit]:has-text('Save routing')")
    assert "Rule 1, when.country" in page.locator("[data-routing-error]").inner_text()
    again = page.locator("#rules [data-rule-row]").nth(0)  # the rows come back as typed
    assert again.locator("input[name=rule_country]").input_value() == "XX"
    assert again.locator("input[name=rule_label]").input_value() == "ios"
    after = httpx.get(f"{server.base_url}/api/v1/dynamic-qrs/{short_id}/", headers=api).json()
    assert after["rules"] == qr["rules"]
    scans = httpx.get(f"{server.base_url}/api/v1/dynamic-qrs/{short_id}/scans/", headers=api)
    assert len(scans.json()["results"]) == 3  # the preview recorded nothing
    assert errors == []
