"""API keys over HTTP (issue 16.6): create, list, revoke, and `Authorization: Bearer qsb_...`
acting as the key's workspace with its scopes, through the real app on a real database."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from qrstudio_box.clock import iso_ms

KEY_SHAPE = re.compile(r"^qsb_[0-9A-Za-z]{43}$")
FIELDS = ["id", "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at"]


@pytest.fixture
def config(config):
    # A webhook to a local address (nothing is sent: the scope table only creates one).
    config["webhooks"] = {"allow_http": True, "allow_private_targets": True}
    return config


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create_key(client, headers, **body) -> dict:
    body.setdefault("name", "CRM sync")
    body.setdefault("scopes", ["read"])
    answer = client.post("/api/v1/api-keys/", headers=headers, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_create_answers_the_key_once_and_stores_only_its_hash(
    client, make_user, fake_clock, sql, settings
):
    owner = make_user(plan="pro")
    created = create_key(
        client, owner.headers, name="  CRM sync ", scopes=["webhooks", "read", "write"]
    )
    key = created["key"]
    assert KEY_SHAPE.match(key)
    assert list(created) == [*FIELDS, "key"]
    assert created["name"] == "CRM sync"
    assert created["prefix"] == key[:10]
    assert created["scopes"] == ["read", "write", "webhooks"]
    assert created["created_at"] == iso_ms(fake_clock.now())
    assert created["expires_at"] is None and created["last_used_at"] is None

    (row,) = sql("SELECT * FROM api_keys")
    assert row["workspace_id"] == owner.id  # the user's personal workspace has the user's id
    assert row["created_by"] == owner.id
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in [str(value) for value in tuple(row)]
    # Nowhere in the database's files either (the main file and its write-ahead log).
    for path in settings.database_path.parent.glob(settings.database_path.name + "*"):
        assert key.encode() not in path.read_bytes(), path

    listed = client.get("/api/v1/api-keys/", headers=owner.headers)
    assert listed.status_code == 200
    assert listed.json() == {"results": [{name: created[name] for name in FIELDS}]}
    assert key not in listed.text


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        (
            {"name": "x", "scopes": []},
            "scopes",
            "scopes: choose at least one of read, write, webhooks",
        ),
        (
            {"name": "x", "scopes": ["read", "admin"]},
            "scopes",
            "scopes: 'admin' is not a scope (use read, write, webhooks)",
        ),
        ({"name": "", "scopes": ["read"]}, "name", "name: is required"),
        ({"name": "x" * 101, "scopes": ["read"]}, "name", "name: must be at most 100 characters"),
        (
            {"name": "x", "scopes": ["read"], "expires_at": "2026-05-09T13:59:59Z"},
            "expires_at",
            "expires_at: must be in the future",
        ),
        (
            {"name": "x", "scopes": ["read"], "expires_at": "tomorrow"},
            "expires_at",
            "expires_at: must be an ISO 8601 time, like 2027-01-31T00:00:00Z",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_creates_nothing(
    client, make_user, sql, body, field, detail
):
    owner = make_user()
    answer = client.post("/api/v1/api-keys/", headers=owner.headers, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "status_code": 400,
        "error": "bad_request",
        "detail": detail,
        "field": field,
    }
    assert sql("SELECT count(*) FROM api_keys")[0][0] == 0


def test_every_wrong_field_in_one_answer(client, make_user):
    owner = make_user()
    answer = client.post(
        "/api/v1/api-keys/",
        headers=owner.headers,
        json={"name": "", "scopes": [], "expires_at": "2020-01-01T00:00:00Z"},
    )
    assert answer.status_code == 400
    assert [problem["field"] for problem in answer.json()["errors"]] == [
        "name",
        "scopes",
        "expires_at",
    ]


# For each scope: (GET a QR list, create a QR, generate, create a webhook) -> status, and the
# scope a refusal names.
SCOPE_TABLE = {
    "read": [(200, None), (403, "write"), (403, "write"), (403, "webhooks")],
    "write": [(200, None), (201, None), (200, None), (403, "webhooks")],
    "webhooks": [(200, None), (403, "write"), (403, "write"), (201, None)],
}


@pytest.mark.parametrize("scope", list(SCOPE_TABLE))
def test_each_scope_opens_exactly_its_routes(client, make_user, scope, sql):
    owner = make_user(plan="pro")
    key = create_key(client, owner.headers, scopes=[scope])["key"]
    calls = [
        lambda: client.get("/api/v1/dynamic-qrs/", headers=bearer(key)),
        lambda: client.post(
            "/api/v1/dynamic-qrs/",
            headers=bearer(key),
            json={"name": "Menu", "destination_url": "https://example.com/menu"},
        ),
        lambda: client.post(
            "/api/v1/generate/", headers=bearer(key), json={"data": "hello", "format": "svg"}
        ),
        lambda: client.post(
            "/api/v1/webhooks/",
            headers=bearer(key),
            json={"url": "http://127.0.0.1:9/hook", "events": ["scan.created"]},
        ),
    ]
    for call, (status, missing) in zip(calls, SCOPE_TABLE[scope], strict=True):
        answer = call()
        assert answer.status_code == status, answer.text
        if missing:
            assert answer.json()["detail"] == f"This API key lacks the {missing} scope"
    # What the key created belongs to the workspace, as if its owner had made it.
    owners = {
        row[0]
        for row in sql("SELECT owner_id FROM dynamic_qrs UNION SELECT owner_id FROM webhooks")
    }
    assert owners <= {owner.id}


def test_an_api_key_never_manages_keys(client, make_user):
    owner = make_user()
    created = create_key(client, owner.headers, scopes=["read", "write", "webhooks"])
    key = bearer(created["key"])
    for answer in (
        client.get("/api/v1/api-keys/", headers=key),
        client.post("/api/v1/api-keys/", headers=key, json={"name": "more", "scopes": ["read"]}),
        client.delete(f"/api/v1/api-keys/{created['id']}/", headers=key),
    ):
        assert answer.status_code == 403, answer.text
        assert answer.json()["detail"] == "API keys cannot do this; sign in with a user account"
    assert client.get("/api/v1/dynamic-qrs/", headers=key).status_code == 200  # not revoked


def test_revoking_ends_the_key_on_the_next_call_and_only_in_its_workspace(client, make_user):
    owner, other = make_user(), make_user()
    created = create_key(client, owner.headers)
    key = bearer(created["key"])
    assert client.get("/api/v1/dynamic-qrs/", headers=key).status_code == 200

    # Another workspace's owner cannot see or revoke it: 404, and it keeps working.
    foreign = client.delete(f"/api/v1/api-keys/{created['id']}/", headers=other.headers)
    assert foreign.status_code == 404
    assert foreign.json()["detail"] == "No API key with that id"
    assert client.get("/api/v1/api-keys/", headers=other.headers).json() == {"results": []}
    assert client.get("/api/v1/dynamic-qrs/", headers=key).status_code == 200

    assert (
        client.delete(f"/api/v1/api-keys/{created['id']}/", headers=owner.headers).status_code
        == 204
    )
    refused = client.get("/api/v1/dynamic-qrs/", headers=key)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This API key was revoked"
    assert client.get("/api/v1/api-keys/", headers=owner.headers).json() == {"results": []}
    again = client.delete(f"/api/v1/api-keys/{created['id']}/", headers=owner.headers)
    assert again.status_code == 404


def test_an_expired_key_is_refused(client, make_user, fake_clock):
    owner = make_user()
    expires = fake_clock.now() + timedelta(hours=1)
    created = create_key(client, owner.headers, expires_at=expires.isoformat())
    assert created["expires_at"] == iso_ms(expires)
    key = bearer(created["key"])
    fake_clock.advance(minutes=59, seconds=59)
    assert client.get("/api/v1/dynamic-qrs/", headers=key).status_code == 200
    fake_clock.advance(seconds=1)
    refused = client.get("/api/v1/dynamic-qrs/", headers=key)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This API key has expired"
    # The owner still sees it in the list, with the time it expired.
    listed = client.get("/api/v1/api-keys/", headers=owner.headers).json()["results"]
    assert [item["expires_at"] for item in listed] == [iso_ms(expires)]


@pytest.mark.parametrize(
    "credential",
    [
        "qsb_" + "A" * 43,  # the right shape, never issued
        "qsb_short",
        "qsb_" + "A" * 42 + "!",
    ],
)
def test_an_unknown_key_is_a_plain_401(client, make_user, credential):
    make_user()
    refused = client.get("/api/v1/dynamic-qrs/", headers=bearer(credential))
    assert refused.status_code == 401
    assert refused.json() == {
        "status_code": 401,
        "error": "unauthorized",
        "detail": "Unknown API key",
    }


def test_last_used_at_is_written_once_a_minute_at_most(client, make_user, fake_clock, sql):
    owner = make_user()
    created = create_key(client, owner.headers)
    key = bearer(created["key"])

    def last_used() -> str | None:
        return sql("SELECT last_used_at FROM api_keys WHERE id = ?", (created["id"],))[0][0]

    first = fake_clock.now()
    assert client.get("/api/v1/dynamic-qrs/", headers=key).status_code == 200
    assert last_used() == iso_ms(first)
    for _ in range(3):
        fake_clock.advance(seconds=19)
        assert client.get("/api/v1/dynamic-qrs/", headers=key).status_code == 200
    assert last_used() == iso_ms(first)  # 57 s later: still the first write
    fake_clock.advance(seconds=3)
    assert client.get("/api/v1/dynamic-qrs/", headers=key).status_code == 200
    assert last_used() == iso_ms(first + timedelta(seconds=60))
    listed = client.get("/api/v1/api-keys/", headers=owner.headers).json()["results"]
    assert listed[0]["last_used_at"] == iso_ms(first + timedelta(seconds=60))


def test_a_key_acts_on_its_own_workspace_only(client, make_user):
    owner, other = make_user(), make_user()
    key = create_key(client, owner.headers)["key"]
    me = {**bearer(key), "X-QRStudio-Workspace": str(owner.id)}
    assert client.get("/api/v1/dynamic-qrs/", headers=me).status_code == 200
    elsewhere = client.get(
        "/api/v1/dynamic-qrs/", headers={**bearer(key), "X-QRStudio-Workspace": str(other.id)}
    )
    assert elsewhere.status_code == 404
    assert elsewhere.json()["detail"] == "No such workspace"


def test_the_rate_limit_is_the_workspaces_for_its_keys_and_people_alike(client, make_user):
    owner = make_user(plan="free")  # 60 requests a minute per workspace
    key = bearer(create_key(client, owner.headers)["key"])  # the owner's first request
    # The clock stands still: nothing drains. Key and owner take turns on one budget.
    for number in range(59):
        headers = key if number % 2 else owner.headers
        assert client.get("/api/v1/dynamic-qrs/", headers=headers).status_code == 200, number
    for headers in (key, owner.headers):
        refused = client.get("/api/v1/dynamic-qrs/", headers=headers)
        assert refused.status_code == 429
        assert refused.headers["RateLimit-Limit"] == "60"
