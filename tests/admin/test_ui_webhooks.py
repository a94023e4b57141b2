"""Webhook pages through the real server and browser, delivering to a real local receiver."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

import httpx
import pytest

from tests.webhooks.receivers import Receiver

from .helpers import MEMBER_PASSWORD, make_user, sign_in

LOCAL_TARGETS = {"webhooks": {"allow_http": True, "allow_private_targets": True}}


def guide_verify(secret: str, header: str, body: bytes) -> bool:
    """The seed guide's Flask _verify, as written there."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    expected = hmac.new(
        secret.encode(), f"{t}.{body.decode()}".encode(), hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(v1, expected)


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def test_create_test_event_and_rotate(server_factory, receiver, new_context, snap, console_errors):
    server = server_factory(LOCAL_TARGETS).start()
    email = make_user(server, "crm@example.com", plan="pro")
    page = new_context("desktop", server.base_url).new_page()
    errors = console_errors(page)
    page.on("dialog", lambda dialog: dialog.accept())  # confirm() before rotating
    sign_in(page, email, MEMBER_PASSWORD)

    page.goto("/admin/webhooks/")
    assert page.locator(".empty h3").inner_text() == "No webhooks yet"
    page.click("text=Add webhook >> nth=0")
    page.fill("#f-url", receiver.url)
    page.fill("#f-description", "CRM sync")
    page.check("input[name=events][value='dynamic_qr.created']")
    snap(page, "webhook-form-desktop")
    page.click("button:has-text('Create webhook')")

    # the secret, once, with a copy button and a plain warning
    secret = page.input_value("#webhook-secret")
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]{32}", secret)
    assert "shown only once" in page.locator(".secret-box .warning").inner_text()
    assert page.locator("button[data-copy]").get_attribute("data-copy") == secret
    snap(page, "webhook-secret-desktop")
    page.click("text=I have stored it")
    page.wait_for_url(re.compile(r"/admin/webhooks/\d+$"))
    webhook_path = page.url.split(server.base_url, 1)[1]
    assert secret not in page.content()
    assert page.locator(".empty h3").inner_text() == "No deliveries yet"

    # Send test event: the receiver gets a signed scan.created and the log shows the 200
    page.click("button:has-text('Send test event')")
    page.wait_for_url(re.compile(r"\?open=\d+$"))
    assert (
        page.locator(".flash-success").inner_text().strip().startswith("Test event sent: HTTP 200")
    )
    opened = page.locator("details.attempt[open]")
    assert opened.count() == 1
    assert opened.locator("[data-status]").inner_text() == "200"
    assert "scan.created" in opened.locator("pre.body >> nth=0").inner_text()
    (request,) = receiver.wait_for(1)
    assert request.headers["x-qrstudio-event"] == "scan.created"
    assert guide_verify(secret, request.headers["x-qrstudio-signature"], request.body)
    snap(page, "webhook-detail-desktop")

    # Rotate: confirm, the new secret shown once, the old one no longer signs
    page.click("button:has-text('Rotate secret')")
    new_secret = page.input_value("#webhook-secret")
    assert new_secret.startswith("whsec_") and new_secret != secret
    assert "stopped signing" in page.locator(".secret-box").inner_text()
    snap(page, "webhook-rotated-desktop")
    page.goto(webhook_path)
    assert new_secret not in page.content()
    page.click("button:has-text('Send test event')")
    page.wait_for_url(re.compile(r"\?open=\d+$"))
    second = receiver.wait_for(2)[1]
    assert guide_verify(new_secret, second.headers["x-qrstudio-signature"], second.body)
    assert not guide_verify(secret, second.headers["x-qrstudio-signature"], second.body)
    assert page.locator("details.attempt").count() == 2

    # the list shows the webhook with its badge and failure count
    page.goto("/admin/webhooks/")
    assert page.locator("td[data-label=Status] .badge").inner_text() == "active"
    assert page.locator("td[data-label='Failures in a row']").inner_text() == "0"
    snap(page, "webhooks-list-desktop")

    # the dashboard's webhook health counts it
    page.goto("/admin/")
    assert page.locator(".health-row strong").all_inner_texts() == ["1", "0", "0"]

    phone = new_context("phone", server.base_url).new_page()
    sign_in(phone, email, MEMBER_PASSWORD)
    phone.goto(webhook_path + "?open=1")
    snap(phone, "webhook-detail-phone")
    assert errors == []


def test_failures_filters_redeliver_recover_delete(server_factory, new_context):
    server = server_factory(LOCAL_TARGETS).start()
    email = make_user(server, "ops@example.com", plan="pro")
    page = new_context("desktop", server.base_url).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, email, MEMBER_PASSWORD)
    with Receiver(status=500, body=b"boom") as failing:
        page.goto("/admin/webhooks/new")
        page.fill("#f-url", failing.url)
        page.click("button:has-text('Create webhook')")
        page.click("text=I have stored it")
        webhook_path = page.url.split(server.base_url, 1)[1]

        page.click("button:has-text('Send test event')")
        page.wait_for_url(re.compile(r"\?open=\d+$"))
        assert (
            page.locator(".flashes .flash-error")
            .inner_text()
            .strip()
            .startswith("Test event sent: HTTP 500")
        )
        opened = page.locator("details.attempt[open]")
        assert opened.locator("[data-status]").inner_text() == "500"
        assert "boom" in opened.locator("pre.body >> nth=1").inner_text()

        page.select_option("select[name=outcome]", "succeeded")
        page.wait_for_url(re.compile(r"outcome=succeeded"))
        assert page.locator(".empty h3").inner_text() == "No attempts match"
        page.select_option("select[name=outcome]", "failed")
        page.wait_for_url(re.compile(r"outcome=failed"))
        assert page.locator("details.attempt").count() == 1

        page.click("details.attempt summary")
        page.click("details.attempt[open] button:has-text('Redeliver')")
        page.wait_for_url(re.compile(r"\?open=\d+$"))
        assert "Redelivered: HTTP 500" in page.locator(".flashes .flash-error").inner_text()
        assert len(failing.wait_for(2)) == 2

        page.fill("#f-since", "2000-01-01T00:00")
        page.click("button:has-text('Recover')")
        page.wait_for_load_state()
        # test deliveries are diagnostics and never re-queued; nothing else has failed for good
        assert page.locator(".flashes .flash").all_inner_texts() == [
            "No failed deliveries since then."
        ]

    # a missing events choice comes back next to the field
    page.goto("/admin/webhooks/new")
    page.fill("#f-url", "https://example.com/hook")
    page.uncheck("input[name=events][value='scan.created']")
    page.click("button:has-text('Create webhook')")
    assert "at least one event" in page.locator("#e-events").inner_text()

    page.goto(webhook_path + "/edit")
    page.fill("#f-description", "Billing sync")
    page.check("input[name=events][value='quota.threshold_100']")
    page.click("button:has-text('Save')")
    page.wait_for_url(re.compile(r"/admin/webhooks/\d+$"))
    assert "Webhook saved." in page.locator(".flashes .flash-success").inner_text()
    assert "Billing sync" in page.locator(".page-head .sub").inner_text()
    assert page.locator(".page-head .tag").all_inner_texts() == [
        "scan.created",
        "quota.threshold_100",
    ]

    page.click("button:has-text('Delete')")
    page.wait_for_url(re.compile(r"/admin/webhooks/$"))
    assert "deleted" in page.locator(".flash-success").inner_text()
    assert page.goto(webhook_path).status == 404


def test_free_plan_sees_the_plan_message(server, new_context):
    email = make_user(server, "free@example.com", plan="free")
    page = new_context("desktop", server.base_url).new_page()
    sign_in(page, email, MEMBER_PASSWORD)
    page.goto("/admin/webhooks/")
    assert page.locator(".empty h3").inner_text() == "Webhooks require Pro plan or higher"
    assert page.locator("a:has-text('Add webhook')").count() == 0


def test_degraded_webhook_shows_and_re_enables(server_factory, new_context, snap):
    server = server_factory(LOCAL_TARGETS).start()
    email = make_user(server, "flaky@example.com", plan="pro")
    token = httpx.post(
        f"{server.base_url}/api/v1/auth/token/", json={"email": email, "password": MEMBER_PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    with Receiver(status=503) as failing:
        hook = httpx.post(
            f"{server.base_url}/api/v1/webhooks/",
            headers=auth,
            json={"url": failing.url, "events": ["dynamic_qr.created"]},
        ).json()
        for i in range(5):  # five real events, each failing its first attempt
            httpx.post(
                f"{server.base_url}/api/v1/dynamic-qrs/",
                headers=auth,
                json={"name": f"QR {i}", "destination_url": "https://example.com/"},
            )
        failing.wait_for(5)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the attempts are recorded just after the answers
            current = httpx.get(
                f"{server.base_url}/api/v1/webhooks/{hook['id']}/", headers=auth
            ).json()
            if current["consecutive_failures"] >= 5:
                break
            time.sleep(0.1)
        assert current["status"] == "degraded"

        page = new_context("desktop", server.base_url).new_page()
        sign_in(page, email, MEMBER_PASSWORD)
        assert page.locator(".health-row strong").all_inner_texts() == ["0", "1", "0"]
        assert page.locator(".plain-list li").count() == 5  # recent failures on the dashboard
        page.goto(f"/admin/webhooks/{hook['id']}")
        assert page.locator("[data-stat=failures]").inner_text() == "5"
        assert (
            "Degraded: 5 failed attempts in a row."
            in page.locator(".flashes .flash-warning").inner_text()
        )
        snap(page, "webhook-degraded-desktop")
        page.click(".flash-warning button:has-text('Re-enable')")
        assert "re-enabled" in page.locator(".flashes .flash-success").inner_text()
        assert page.locator("[data-stat=failures]").inner_text() == "0"
        assert page.locator(".page-head .badge").first.inner_text() == "active"
