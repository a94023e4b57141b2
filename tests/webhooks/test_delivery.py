"""Deliveries end to end in the app: real HTTPS receivers, the guide's verifier, the log."""

import json
import re

import standardwebhooks

from qrstudio_box import __version__, events
from tests.links.helpers import SCAN_CREATED_FIELDS

from .receivers import GuideFlaskReceiver, Receiver, Reply


def test_guide_flask_app_accepts_our_deliveries_and_rejects_after_rotation(
    client, pro, subscribe, emit, run_due, tls, sql
):
    hook = subscribe(pro, "https://receiver.test/placeholder")
    path = f"/api/v1/webhooks/{hook['id']}/"
    with GuideFlaskReceiver(hook["secret"], tls=tls) as guide:
        assert client.patch(path, headers=pro.headers, json={"url": guide.url}).status_code == 200
        emit(pro.id, "scan.created", {"short_id": "aBc12dEf", "country": "CA"})
        run_due()
        assert guide.statuses == [200]
        rotated = client.post(f"/api/v1/webhooks/{hook['id']}/rotate/", headers=pro.headers)
        assert rotated.status_code == 200
        new_secret = rotated.json()["secret"]
        assert new_secret != hook["secret"] and new_secret.startswith("whsec_")
        emit(pro.id, "scan.created", {"short_id": "aBc12dEf", "country": "FR"})
        run_due()
        assert guide.statuses == [200, 401]  # the old secret no longer verifies
    with GuideFlaskReceiver(new_secret, tls=tls) as guide:
        client.patch(path, headers=pro.headers, json={"url": guide.url})
        emit(pro.id, "scan.created", {"short_id": "aBc12dEf", "country": "DE"})
        run_due()
        assert guide.statuses == [200]
    log = client.get(f"{path}deliveries/", headers=pro.headers).json()["results"]
    assert [(r["response_status"], r["error"]) for r in log] == [
        (200, ""),
        (401, "HTTP 401: not a 2xx answer"),
        (200, ""),
    ]


def test_headers_body_and_standard_webhooks(client, pro, subscribe, emit, run_due, tls, sql):
    with Receiver(tls=tls) as receiver:
        hook = subscribe(pro, receiver.url_for("receiver.test"))
        event = emit(pro.id, "scan.created", {"short_id": "aBc12dEf", "name": "Menu \u2615"})
        run_due()
        [request] = receiver.requests
        delivery_id = sql("SELECT id FROM deliveries")[0][0]
        assert request.method == "POST" and request.path == "/hook"
        assert request.body == event.body  # the stored bytes, exactly
        h = request.headers
        assert h["content-type"] == "application/json"
        assert h["user-agent"] == f"QRStudio-Webhooks/{__version__}"
        assert h["x-qrstudio-event"] == "scan.created"
        assert h["x-qrstudio-delivery-id"] == str(delivery_id)
        assert h["webhook-id"] == event.id
        assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", h["x-qrstudio-signature"])
        assert h["x-qrstudio-signature"].startswith(f"t={h['webhook-timestamp']},")
        verified = standardwebhooks.Webhook(hook["secret"]).verify(request.body, h)
        assert verified["id"] == event.id and verified["data"]["name"] == "Menu \u2615"


def test_rotation_applies_to_queued_deliveries(client, pro, subscribe, emit, run_due, fake_clock):
    with Receiver(status=503) as receiver:
        hook = subscribe(pro, receiver.url)
        emit(pro.id)
        run_due()
        new_secret = client.post(
            f"/api/v1/webhooks/{hook['id']}/rotate/", headers=pro.headers
        ).json()["secret"]
        receiver.reply = Reply(200)
        fake_clock.advance(minutes=1)
        run_due()
        first, second = receiver.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        standardwebhooks.Webhook(new_secret).verify(second.body, second.headers)
        try:
            standardwebhooks.Webhook(hook["secret"]).verify(second.body, second.headers)
        except standardwebhooks.webhooks.WebhookVerificationError:
            pass
        else:
            raise AssertionError("the rotated-away secret still verifies")


def test_fan_out_only_to_listening_enabled_subscriptions_of_the_owner(
    client, ctx, make_user, subscribe, emit, sql
):
    alice, bob = make_user(plan="pro"), make_user(plan="pro")
    a = subscribe(alice, "https://receiver.test/a", ["scan.created", "dynamic_qr.updated"])
    subscribe(alice, "https://receiver.test/b", ["dynamic_qr.created"])
    c = subscribe(alice, "https://receiver.test/c", ["scan.created"])
    subscribe(bob, "https://receiver.test/d", ["scan.created"])
    client.patch(f"/api/v1/webhooks/{c['id']}/", headers=alice.headers, json={"status": "disabled"})
    # keep the dispatcher from sending: these URLs go nowhere anyway, we look at rows only
    event = emit(alice.id, "scan.created")
    rows = sql("SELECT webhook_id, event_seq, event_id, event_type FROM deliveries")
    assert [tuple(r) for r in rows] == [(a["id"], event.seq, event.id, "scan.created")]
    emit(alice.id, "quota.threshold_75", {"percent": 75})
    assert sql("SELECT count(*) FROM deliveries")[0][0] == 1

    def failing(tx):  # the change fails after emit: neither event nor deliveries remain
        events.emit(tx, alice.id, "scan.created", {})
        raise RuntimeError("boom")

    async def write():
        try:
            await ctx.db.write(failing)
        except RuntimeError:
            pass

    client.blocking_portal.call(write)
    assert sql("SELECT count(*) FROM deliveries")[0][0] == 1
    assert sql("SELECT count(*) FROM events")[0][0] == 2


def test_deliveries_log_filters_cursor_and_attempt_detail(
    client, pro, subscribe, emit, run_due, fake_clock
):
    with Receiver(status=200, headers={"X-Reply": "yes"}, body=b"k" * 10_000) as receiver:
        hook = subscribe(pro, receiver.url, ["scan.created", "dynamic_qr.created"])
        base = f"/api/v1/webhooks/{hook['id']}/deliveries/"
        emit(pro.id, "scan.created")
        run_due()
        receiver.reply = Reply(500)
        emit(pro.id, "dynamic_qr.created", {"short_id": "x"})
        run_due()
        receiver.reply = Reply(200)
        emit(pro.id, "scan.created")
        run_due()
        everything = client.get(base, headers=pro.headers).json()
        rows = everything["results"]
        assert everything["next"] is None
        assert [(r["event"], r["response_status"], r["outcome"]) for r in rows] == [
            ("scan.created", 200, "succeeded"),
            ("dynamic_qr.created", 500, "failed"),
            ("scan.created", 200, "succeeded"),
        ]
        assert rows[0]["id"] > rows[1]["id"] > rows[2]["id"]
        assert set(rows[0]) >= {
            "id",
            "event",
            "response_status",
            "duration_ms",
            "error",
            "created_at",
        }
        assert all(isinstance(r["duration_ms"], int) for r in rows)

        def ids(query):
            response = client.get(base + query, headers=pro.headers)
            assert response.status_code == 200, response.text
            return [r["id"] for r in response.json()["results"]]

        assert ids("?event=scan.created") == [rows[0]["id"], rows[2]["id"]]
        assert ids("?outcome=failed") == [rows[1]["id"]]
        assert ids("?outcome=succeeded&event=dynamic_qr.created") == []
        page1 = client.get(base + "?limit=2", headers=pro.headers).json()
        assert [r["id"] for r in page1["results"]] == [rows[0]["id"], rows[1]["id"]]
        page2 = client.get(base + f"?limit=2&cursor={page1['next']}", headers=pro.headers).json()
        assert [r["id"] for r in page2["results"]] == [rows[2]["id"]] and page2["next"] is None
        for bad, field in (
            ("?event=nope", "event"),
            ("?outcome=meh", "outcome"),
            ("?cursor=zzz", "cursor"),
            ("?limit=0", "limit"),
        ):
            response = client.get(base + bad, headers=pro.headers)
            assert response.status_code == 400 and response.json()["field"] == field

        detail = client.get(f"{base}{rows[2]['id']}/", headers=pro.headers).json()
        assert detail["attempt"] == 1 and detail["event_id"].startswith("evt_")
        assert detail["request_headers"]["X-QRStudio-Signature"].endswith(",v1=[redacted]")
        assert detail["request_headers"]["webhook-signature"] == "v1,[redacted]"
        assert detail["request_headers"]["webhook-id"] == detail["event_id"]
        assert json.loads(detail["request_body"])["id"] == detail["event_id"]
        assert detail["response_headers"]["x-reply"] == "yes"
        assert detail["response_body"] == "k" * 4096
        assert receiver.requests[0].headers["x-qrstudio-signature"] not in json.dumps(detail)
        assert client.get(f"{base}999999/", headers=pro.headers).status_code == 404


def test_test_trigger_sends_now_and_returns_the_attempt(client, pro, subscribe, sql):
    with Receiver() as receiver:
        hook = subscribe(pro, receiver.url)
        response = client.post(f"/api/v1/webhooks/{hook['id']}/test/", headers=pro.headers)
        assert response.status_code == 201, response.text
        attempt = response.json()
        assert (
            attempt["outcome"],
            attempt["response_status"],
            attempt["event"],
            attempt["kind"],
        ) == ("succeeded", 200, "scan.created", "test")
        assert re.fullmatch(r"evt_[0-9A-Za-z]{16}", attempt["event_id"])
        [request] = receiver.requests
        payload = request.json()
        assert payload["type"] == "scan.created" and payload["id"] == attempt["event_id"]
        assert set(payload["data"]) == set(SCAN_CREATED_FIELDS)
        assert payload["data"]["owner_id"] == pro.id
        standardwebhooks.Webhook(hook["secret"]).verify(request.body, request.headers)
        again = client.post(f"/api/v1/webhooks/{hook['id']}/test/", headers=pro.headers).json()
        assert again["event_id"] != attempt["event_id"]  # a fresh id every time
        log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/", headers=pro.headers).json()
        assert [r["id"] for r in log["results"]] == [again["id"], attempt["id"]]
        assert sql("SELECT count(*) FROM events")[0][0] == 0  # never reaches other subscribers


def test_failed_test_does_not_touch_health(client, pro, subscribe):
    with Receiver(status=500) as receiver:
        hook = subscribe(pro, receiver.url)
        attempt = client.post(f"/api/v1/webhooks/{hook['id']}/test/", headers=pro.headers).json()
        assert (attempt["outcome"], attempt["response_status"]) == ("failed", 500)
        got = client.get(f"/api/v1/webhooks/{hook['id']}/", headers=pro.headers).json()
        assert (got["status"], got["consecutive_failures"]) == ("active", 0)


def test_redeliver_sends_the_same_event_again(client, pro, subscribe, emit, run_due):
    with Receiver() as receiver:
        hook = subscribe(pro, receiver.url)
        event = emit(pro.id)
        run_due()
        base = f"/api/v1/webhooks/{hook['id']}/deliveries/"
        [first] = client.get(base, headers=pro.headers).json()["results"]
        response = client.post(f"{base}{first['id']}/redeliver/", headers=pro.headers)
        assert response.status_code == 201, response.text
        again = response.json()
        assert (again["event_id"], again["kind"], again["outcome"]) == (
            event.id,
            "redeliver",
            "succeeded",
        )
        assert again["id"] != first["id"]
        assert [r.headers["webhook-id"] for r in receiver.requests] == [event.id, event.id]
        assert receiver.requests[1].body == event.body


def test_recover_requeues_failed_deliveries_since(
    client, pro, subscribe, emit, run_due, fake_clock, sql
):
    with Receiver(status=500) as receiver:
        hook = subscribe(pro, receiver.url)
        started = fake_clock.now()
        emit(pro.id)
        run_due()
        for minutes in (1, 5, 30, 120):
            fake_clock.advance(minutes=minutes)
            run_due()
        assert [tuple(r) for r in sql("SELECT status, attempts FROM deliveries")] == [("failed", 5)]
        receiver.reply = Reply(200)
        path = f"/api/v1/webhooks/{hook['id']}/recover/"
        later = client.post(path, headers=pro.headers, json={"since": "2099-01-01T00:00:00Z"})
        assert (later.status_code, later.json()) == (202, {"requeued": 0})
        bad = client.post(path, headers=pro.headers, json={"since": "yesterday"})
        assert bad.status_code == 400 and bad.json()["field"] == "since"
        response = client.post(path, headers=pro.headers, json={"since": int(started.timestamp())})
        assert (response.status_code, response.json()) == (202, {"requeued": 1})
        run_due()
        assert [tuple(r) for r in sql("SELECT status, attempts FROM deliveries")] == [
            ("succeeded", 1)
        ]
        assert len(receiver.requests) == 6


def test_real_scan_and_qr_events_reach_the_guide_receiver(client, pro, subscribe, run_due, tls):
    hook = subscribe(
        pro,
        "https://receiver.test/placeholder",
        ["scan.created", "dynamic_qr.created", "dynamic_qr.updated"],
    )
    with GuideFlaskReceiver(hook["secret"], tls=tls) as guide, Receiver(tls=tls) as recorder:
        client.patch(
            f"/api/v1/webhooks/{hook['id']}/", headers=pro.headers, json={"url": guide.url}
        )
        second = subscribe(pro, recorder.url_for("receiver.test"), ["scan.created"])
        created = client.post(
            "/api/v1/dynamic-qrs/",
            headers=pro.headers,
            json={
                "name": "Spring 2026 menu",
                "destination_url": "https://example.com/menus/spring-2026",
            },
        )
        assert created.status_code == 201, created.text
        short_id = created.json()["short_id"]
        scan = client.get(
            f"/r/{short_id}",
            follow_redirects=False,
            headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"},
        )
        assert scan.status_code == 302
        run_due()
        assert guide.statuses == [200, 200]  # dynamic_qr.created, scan.created
        [request] = recorder.requests
        payload = standardwebhooks.Webhook(second["secret"]).verify(request.body, request.headers)
        assert payload["type"] == "scan.created"
        assert payload["data"]["short_id"] == short_id
        assert set(payload["data"]) == set(SCAN_CREATED_FIELDS)
