"""A dynamic QR on a branded domain (issue 17.2) and its chosen short id (17.5), over the API:
short_url, `domain`, every image of it decoded with zxing-cpp, and each refusal."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.clock import FakeClock
from qrstudio_box.config import settings_from_mapping
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD, login
from tests.links.helpers import QR_CREATED_FIELDS, assert_exact_fields, stored_events
from tests.qr.qr_images import decode_png

BASE = "/api/v1/dynamic-qrs/"


@dataclass
class World:
    client: TestClient
    conn: sqlite3.Connection
    admin: dict[str, str]
    a: dict[str, str]  # owner of workspace A: go.a.test (active), wait.a.test (pending)
    b: dict[str, str]  # owner of workspace B: go.b.test (active)

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(statement, params).fetchall()

    def qr_count(self) -> int:
        return self.sql("SELECT count(*) FROM dynamic_qrs")[0][0]

    def create(self, headers: dict[str, str], **body: Any):
        body.setdefault("destination_url", "https://example.com/menu")
        return self.client.post(BASE, headers=headers, json=body)


def add_domain(client, headers, admin, hostname: str, approve: bool = True) -> int:
    response = client.post("/api/v1/domains/", headers=headers, json={"hostname": hostname})
    assert response.status_code in (200, 201), response.text
    domain_id = response.json()["id"]
    if approve:
        approved = client.post(f"/api/v1/admin/domains/{domain_id}/approve/", headers=admin)
        assert approved.status_code == 200, approved.text
    return domain_id


def member(client, admin, email: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/admin/users/",
        headers=admin,
        json={"email": email, "password": MEMBER_PASSWORD, "plan": "business"},
    )
    assert response.status_code == 201, response.text
    return login(client, email, MEMBER_PASSWORD)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    settings = settings_from_mapping(
        {
            "storage": {"data_dir": str(tmp_path_factory.mktemp("qr-domains") / "data")},
            "server": {"public_url": "https://qr.example.test"},
            "domains": {"require_approval": True},
        }
    )
    app = create_app(
        settings,
        clock=FakeClock(datetime(2026, 5, 9, 14, 0, tzinfo=UTC)),
        env={"QRSTUDIO_ADMIN_EMAIL": ADMIN_EMAIL, "QRSTUDIO_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    with TestClient(app, base_url="http://testserver.local") as client:
        admin = login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
        a = member(client, admin, "owner-a@example.com")
        b = member(client, admin, "owner-b@example.com")
        add_domain(client, a, admin, "go.a.test")
        add_domain(client, a, admin, "wait.a.test", approve=False)
        add_domain(client, b, admin, "go.b.test")
        conn = sqlite3.connect(settings.database_path)
        conn.row_factory = sqlite3.Row
        yield World(client, conn, admin, a, b)
        conn.close()


def test_a_qr_on_a_branded_domain_prints_its_url(world):
    response = world.create(world.a, name="Menu", domain="Go.A.test", short_id="menu")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["short_id"], body["domain"], body["short_url"]) == (
        "menu",
        "go.a.test",
        "https://go.a.test/menu",
    )
    assert response.headers["location"] == "/api/v1/dynamic-qrs/menu/"
    # The chosen id addresses it in the API like a generated one.
    got = world.client.get(f"{BASE}menu/", headers=world.a)
    assert got.status_code == 200
    assert (got.json()["short_url"], got.json()["domain"]) == (
        "https://go.a.test/menu",
        "go.a.test",
    )
    listed = world.client.get(BASE, headers=world.a).json()["results"]
    assert [q["short_url"] for q in listed if q["short_id"] == "menu"] == ["https://go.a.test/menu"]
    # dynamic_qr.created keeps exactly its four documented fields.
    created = [
        e for e in stored_events(world.sql, "dynamic_qr.created") if e["data"]["short_id"] == "menu"
    ]
    assert len(created) == 1
    assert_exact_fields(created[0]["data"], QR_CREATED_FIELDS)

    generated = world.create(world.a, domain="go.a.test").json()
    assert len(generated["short_id"]) == 8
    assert generated["short_url"] == f"https://go.a.test/{generated['short_id']}"
    plain = world.create(world.a).json()
    assert (plain["domain"], plain["short_url"]) == (
        None,
        f"https://qr.example.test/r/{plain['short_id']}",
    )


def test_every_image_encodes_the_branded_url(world):
    qr = world.create(world.a, domain="go.a.test", short_id="poster").json()
    image = world.client.get(f"{BASE}poster/image", headers=world.a)
    assert image.status_code == 200
    assert decode_png(image.content) == "https://go.a.test/poster" == qr["short_url"]

    as_png = world.client.post(
        "/api/v1/generate/",
        headers=world.a,
        json={
            "data": "https://example.com/flyer",
            "data_type": "dynamic",
            "domain": "go.a.test",
            "short_id": "flyer",
        },
    )
    assert as_png.status_code == 201, as_png.text
    assert decode_png(as_png.content) == "https://go.a.test/flyer"
    assert as_png.headers["location"] == "https://go.a.test/flyer"
    assert as_png.headers["x-qrstudio-short-id"] == "flyer"

    as_json = world.client.post(
        "/api/v1/generate/",
        headers={**world.a, "Accept": "application/json"},
        json={"data": "https://example.com/card", "data_type": "dynamic", "domain": "go.a.test"},
    )
    assert as_json.status_code == 201, as_json.text
    body = as_json.json()
    assert body["short_url"] == body["data"] == f"https://go.a.test/{body['short_id']}"
    png = base64.b64decode(body["data_uri"].split(",", 1)[1])
    assert decode_png(png) == body["short_url"]
    # The QR's own record says the same.
    stored = world.client.get(f"{BASE}{body['short_id']}/", headers=world.a).json()
    assert stored["domain"] == "go.a.test"


@pytest.mark.parametrize(
    ("who", "body", "status", "field", "detail"),
    [
        (
            "b",
            {"domain": "go.a.test"},
            400,
            "domain",
            "domain: go.a.test is not a domain of this workspace; add it under /api/v1/domains/"
            " first",
        ),
        (
            "a",
            {"domain": "nowhere.test"},
            400,
            "domain",
            "domain: nowhere.test is not a domain of this workspace; add it under /api/v1/domains/"
            " first",
        ),
        (
            "a",
            {"domain": "wait.a.test"},
            400,
            "domain",
            "domain: wait.a.test is pending: it serves codes once an instance admin approves it",
        ),
        (
            "a",
            {"short_id": "mine"},
            400,
            "short_id",
            "short_id: choose a short id only on a branded domain (give domain too)",
        ),
        (
            "a",
            {"domain": "go.a.test", "short_id": "admin"},
            400,
            "short_id",
            "short_id: 'admin' is reserved; choose another",
        ),
        (
            "a",
            {"domain": "go.a.test", "short_id": "a b"},
            400,
            "short_id",
            "short_id: must be 3 to 64 letters, digits, '_' or '-'",
        ),
        (
            "a",
            {"domain": "go.a.test", "short_id": "x" * 65},
            400,
            "short_id",
            "short_id: must be 3 to 64 letters, digits, '_' or '-'",
        ),
    ],
)
def test_refusals_name_the_field_and_write_nothing(world, who, body, status, field, detail):
    before = world.qr_count()
    response = world.create(getattr(world, who), **body)
    assert response.status_code == status, response.text
    error = response.json()
    assert (error["field"], error["detail"]) == (field, detail)
    assert world.qr_count() == before


def test_a_chosen_short_id_is_unique_on_its_domain_and_in_its_workspace(world):
    assert world.create(world.a, domain="go.a.test", short_id="spring").status_code == 201
    before = world.qr_count()
    again = world.create(world.a, domain="go.a.test", short_id="spring")
    assert again.status_code == 409
    assert (again.json()["field"], again.json()["detail"]) == (
        "short_id",
        "short_id: spring is taken on go.a.test",
    )
    # Another workspace may have the same word on its own domain.
    other = world.create(world.b, domain="go.b.test", short_id="spring")
    assert other.status_code == 201
    assert other.json()["short_url"] == "https://go.b.test/spring"
    # A's default-host code's id cannot be chosen on A's domain: /dynamic-qrs/{id}/ names one.
    plain = world.create(world.a).json()["short_id"]
    clash = world.create(world.a, domain="go.a.test", short_id=plain)
    assert clash.status_code == 409
    assert clash.json()["field"] == "short_id"
    assert "already a code of this workspace" in clash.json()["detail"]
    # A deleted code's id stays taken on its domain (its printed link keeps answering as gone).
    assert world.create(world.a, domain="go.a.test", short_id="retired").status_code == 201
    assert world.client.delete(f"{BASE}retired/", headers=world.a).status_code == 204
    reused = world.create(world.a, domain="go.a.test", short_id="retired")
    assert reused.status_code == 409
    assert world.qr_count() == before + 3  # B's spring, A's plain code and retired (deleted)


def test_the_domain_and_short_id_are_set_at_creation_only(world):
    world.create(world.a, domain="go.a.test", short_id="fixed")
    for field, value in (("domain", "go.b.test"), ("short_id", "moved")):
        response = world.client.patch(f"{BASE}fixed/", headers=world.a, json={field: value})
        assert response.status_code == 400, response.text
        assert response.json()["field"] == field
    assert world.client.get(f"{BASE}fixed/", headers=world.a).json()["short_url"] == (
        "https://go.a.test/fixed"
    )
