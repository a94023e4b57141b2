"""Subscriptions over HTTP: docs/webhooks.md's shapes, validation, plans, isolation, secrets
at rest."""

import re

import pytest

from .test_urlsafety import REFUSED

GUIDE_KEYS = [
    "id",
    "url",
    "description",
    "events",
    "secret",
    "status",
    "consecutive_failures",
    "created_at",
]
URL = "https://receiver.test:8443/qrstudio/webhook"


def test_create_answers_like_the_guide(client, pro, subscribe, sql):
    body = subscribe(
        pro,
        URL,
        ["scan.created", "quota.threshold_75", "quota.threshold_100"],
        "Real-time CRM sync",
    )
    assert list(body)[:8] == GUIDE_KEYS
    assert body["url"] == URL
    assert body["description"] == "Real-time CRM sync"
    assert body["events"] == ["scan.created", "quota.threshold_75", "quota.threshold_100"]
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{32}", body["secret"])
    assert (body["status"], body["consecutive_failures"]) == ("active", 0)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])
    rows = sql("SELECT owner_id, url, status FROM webhooks")
    assert [tuple(r) for r in rows] == [(pro.id, URL, "active")]


def test_secret_never_again_after_create(client, pro, subscribe):
    created = subscribe(pro, URL)
    got = client.get(f"/api/v1/webhooks/{created['id']}/", headers=pro.headers)
    listed = client.get("/api/v1/webhooks/", headers=pro.headers)
    patched = client.patch(
        f"/api/v1/webhooks/{created['id']}/", headers=pro.headers, json={"description": "x"}
    )
    for response in (got, listed, patched):
        assert response.status_code == 200
        assert "secret" not in response.text and created["secret"] not in response.text
    assert listed.json()["results"][0]["id"] == created["id"]


def test_secret_is_encrypted_at_rest(client, ctx, pro, subscribe, settings, sql):
    created = subscribe(pro, URL)
    rotated = client.post(f"/api/v1/webhooks/{created['id']}/rotate/", headers=pro.headers).json()
    stored = sql("SELECT secret_sealed FROM webhooks")[0][0]
    assert stored.startswith("aesgcm1:")
    client.blocking_portal.call(ctx.db.maintain)  # fold the WAL into the main file
    for path in settings.data_dir.glob("qrstudio.db*"):
        raw = path.read_bytes()
        for secret in (created["secret"], rotated["secret"]):
            assert secret.encode() not in raw
            assert secret.removeprefix("whsec_").encode() not in raw


@pytest.mark.parametrize(
    "payload, status, field, detail",
    [
        ({"url": URL, "events": []}, 400, "events", "events: choose at least one event"),
        (
            {"url": URL, "events": ["scan.deleted"]},
            400,
            "events",
            "events: unknown event 'scan.deleted'",
        ),
        (
            {"url": URL, "events": ["scan.created", "nope"]},
            400,
            "events",
            "events: unknown event 'nope'",
        ),
        ({"url": URL}, 400, "events", None),
        ({"events": ["scan.created"]}, 400, "url", None),
        (
            {"url": URL, "events": ["scan.created"], "description": "x" * 501},
            400,
            "description",
            "description: must be at most 500 characters",
        ),
        (
            {"url": "ftp://receiver.test/", "events": ["scan.created"]},
            400,
            "url",
            "url: must be an http:// or https:// URL",
        ),
        (
            {"url": "https://nowhere.invalid/", "events": ["scan.created"]},
            400,
            "url",
            "url: host nowhere.invalid does not resolve",
        ),
        ({"url": URL, "events": ["scan.created"], "secret": "mine"}, 400, None, None),
    ],
)
def test_create_validation(client, pro, dns, sql, payload, status, field, detail):
    response = client.post("/api/v1/webhooks/", headers=pro.headers, json=payload)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status_code"] == status
    if field:
        assert body.get("field") == field
    if detail:
        assert body["detail"].startswith(detail)
    assert sql("SELECT count(*) FROM webhooks")[0][0] == 0


@pytest.fixture
def strict_config(config):
    config["webhooks"]["allow_http"] = False
    config["webhooks"]["allow_private_targets"] = False
    return config


def test_ssrf_corpus_refused_at_create(strict_config, client, pro, dns, sql):
    # one app for the whole corpus (the unit table in test_urlsafety.py runs each case alone)
    dns.names.update(
        {
            "localhost": ["127.0.0.1", "::1"],
            "internal.test": ["192.168.0.10"],
            "metadata.test": ["169.254.169.254"],
            "mixed.test": ["93.184.216.34", "10.0.0.1"],
            "cgnat.test": ["100.64.12.1"],
            "mapped.test": ["::ffff:10.1.2.3"],
            "example.com": ["93.184.216.34"],
        }
    )
    assert len(REFUSED) >= 30
    for url, message in REFUSED:
        response = client.post(
            "/api/v1/webhooks/", headers=pro.headers, json={"url": url, "events": ["scan.created"]}
        )
        assert response.status_code == 400, (url, response.text)
        body = response.json()
        assert body["field"] == "url" and body["detail"].startswith("url: "), url
        assert message in body["detail"], (url, body["detail"])
    assert sql("SELECT count(*) FROM webhooks")[0][0] == 0


def test_ssrf_rules_apply_on_patch_too(strict_config, client, pro, dns):
    dns.names.update({"hooks.example.com": ["93.184.216.34"], "internal.test": ["10.1.1.1"]})
    created = client.post(
        "/api/v1/webhooks/",
        headers=pro.headers,
        json={"url": "https://hooks.example.com/x", "events": ["scan.created"]},
    )
    assert created.status_code == 201
    webhook_id = created.json()["id"]
    response = client.patch(
        f"/api/v1/webhooks/{webhook_id}/",
        headers=pro.headers,
        json={"url": "https://internal.test/x"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "url: internal.test resolves to a non-public address (a private address); "
        "webhook targets must be public"
        " (For local testing an operator can set [webhooks] allow_private_targets = true to"
        " accept loopback and private addresses; never in production.)"
    )
    got = client.get(f"/api/v1/webhooks/{webhook_id}/", headers=pro.headers).json()
    assert got["url"] == "https://hooks.example.com/x"


def test_patch_fields_and_status(client, pro, subscribe):
    created = subscribe(pro, URL)
    path = f"/api/v1/webhooks/{created['id']}/"
    response = client.patch(
        path,
        headers=pro.headers,
        json={
            "url": "https://receiver.test/other",
            "description": "new",
            "events": ["dynamic_qr.created", "dynamic_qr.updated"],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["url"], body["description"], body["events"]) == (
        "https://receiver.test/other",
        "new",
        ["dynamic_qr.created", "dynamic_qr.updated"],
    )
    assert client.patch(path, headers=pro.headers, json={"events": []}).json()["field"] == "events"
    bad = client.patch(path, headers=pro.headers, json={"status": "degraded"})
    assert bad.status_code == 400 and bad.json()["field"] == "status"
    paused = client.patch(path, headers=pro.headers, json={"status": "disabled"}).json()
    assert paused["status"] == "disabled" and paused["disabled_at"]


def test_reenable_clears_the_streak(client, pro, subscribe, ctx):
    created = subscribe(pro, URL)

    async def break_it():
        await ctx.db.write(
            lambda tx: tx.execute(
                "UPDATE webhooks SET status = 'disabled', consecutive_failures = 12,"
                " failing_since_ms = 1000, disabled_at = '2026-01-01T00:00:00Z'"
            )
        )

    client.blocking_portal.call(break_it)
    path = f"/api/v1/webhooks/{created['id']}/"
    before = client.get(path, headers=pro.headers).json()
    assert (before["status"], before["consecutive_failures"]) == ("disabled", 12)
    assert before["failing_since"] == "1970-01-01T00:00:01Z"
    after = client.patch(path, headers=pro.headers, json={"status": "active"}).json()
    assert (
        after["status"],
        after["consecutive_failures"],
        after["failing_since"],
        after["disabled_at"],
    ) == ("active", 0, None, None)


def test_delete(client, pro, subscribe, sql):
    created = subscribe(pro, URL)
    path = f"/api/v1/webhooks/{created['id']}/"
    assert client.delete(path, headers=pro.headers).status_code == 204
    assert client.get(path, headers=pro.headers).status_code == 404
    assert client.delete(path, headers=pro.headers).status_code == 404
    assert sql("SELECT count(*) FROM webhooks")[0][0] == 0


def test_free_plan_gets_403_everywhere(client, make_user, dns):
    free = make_user(plan="free")
    calls = [
        ("POST", "/api/v1/webhooks/", {"url": URL, "events": ["scan.created"]}),
        ("GET", "/api/v1/webhooks/", None),
        ("GET", "/api/v1/webhooks/1/", None),
        ("PATCH", "/api/v1/webhooks/1/", {"description": "x"}),
        ("DELETE", "/api/v1/webhooks/1/", None),
        ("GET", "/api/v1/webhooks/1/deliveries/", None),
        ("POST", "/api/v1/webhooks/1/test/", None),
        ("POST", "/api/v1/webhooks/1/rotate/", None),
        ("POST", "/api/v1/webhooks/1/recover/", {"since": 0}),
    ]
    for method, path, payload in calls:
        response = client.request(method, path, headers=free.headers, json=payload)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["detail"] == (
            "Webhooks require Pro plan or higher: an admin of this box changes the workspace's plan"
        )


def test_max_webhooks_holds(config, client, make_user, dns, sql):
    pro = make_user(plan="pro")  # max_webhooks = 5 by default
    for n in range(5):
        response = client.post(
            "/api/v1/webhooks/",
            headers=pro.headers,
            json={"url": f"{URL}/{n}", "events": ["scan.created"]},
        )
        assert response.status_code == 201
    sixth = client.post(
        "/api/v1/webhooks/", headers=pro.headers, json={"url": URL, "events": ["scan.created"]}
    )
    assert sixth.status_code == 403
    assert sixth.json()["detail"] == (
        "Your plan (pro) allows at most 5 webhooks; "
        "an admin of this box changes the workspace's plan"
    )
    assert sql("SELECT count(*) FROM webhooks")[0][0] == 5


def test_owner_isolation(client, make_user, subscribe):
    alice, bob = make_user(plan="pro"), make_user(plan="pro")
    hook = subscribe(alice, URL)
    base = f"/api/v1/webhooks/{hook['id']}"
    calls = [
        ("GET", f"{base}/", None),
        ("PATCH", f"{base}/", {"description": "mine now"}),
        ("DELETE", f"{base}/", None),
        ("GET", f"{base}/deliveries/", None),
        ("GET", f"{base}/deliveries/1/", None),
        ("POST", f"{base}/deliveries/1/redeliver/", None),
        ("POST", f"{base}/test/", None),
        ("POST", f"{base}/rotate/", None),
        ("POST", f"{base}/recover/", {"since": 0}),
    ]
    for method, path, payload in calls:
        response = client.request(method, path, headers=bob.headers, json=payload)
        assert response.status_code == 404, (method, path, response.text)
    assert client.get("/api/v1/webhooks/", headers=bob.headers).json() == {"results": []}
    still = client.get(f"{base}/", headers=alice.headers).json()
    assert still["description"] == ""


def test_requires_a_token(client):
    assert client.get("/api/v1/webhooks/").status_code == 401


def test_ip_ranges_document(client):
    response = client.get("/docs/ip-ranges.json")
    assert response.status_code == 200
    body = response.json()
    assert body["webhooks"] == ["203.0.113.0/24", "2001:db8:100::/48"]
    assert body["ipv4"] == ["203.0.113.0/24"]
    assert body["ipv6"] == ["2001:db8:100::/48"]
    assert "firewall" in body["description"]
