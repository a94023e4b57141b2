"""Isolation, table-driven over every route the app serves.

Every (method, path) of `app.routes` must be in exactly one class below, or
`test_every_route_is_classified` fails: a new route cannot escape these checks.

* OWNER_API / OWNER_UI: owner-scoped by an id in the path. Owner B with owner A's ids -> 404, and
  A's rows are unchanged afterwards (no PATCH, DELETE, rotate... took effect).
* ADMIN_API / ADMIN_UI: a member -> 403, nothing changed.
* SELF_*: scoped to the caller with no id in the path (lists, creates, /me); B's lists hold none
  of A's ids.
* PUBLIC: no account needed (health, static files, the token endpoint, redirects, schema...).

And for every GET route, walked as owner A, member B and the admin (each with their own ids),
plus every create/patch/rotate answer made here: no body carries a password hash (`$argon2`),
and no body but webhook create and rotate carries a webhook secret (`whsec_`), and none but an
API key's create carries an API key (`qsb_` + 43 characters; lists show only its prefix).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.config import settings_from_mapping

from ..admin.helpers import ui_login
from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD
from ..webhooks.receivers import Receiver

SINCE = {"since": "2020-01-01T00:00:00Z"}

# (method, path as Litestar lists it) -> the body sent (None: no body).
OWNER_API: dict[tuple[str, str], Any] = {
    ("GET", "/api/v1/dynamic-qrs/{short_id:str}"): None,
    ("PATCH", "/api/v1/dynamic-qrs/{short_id:str}"): {
        "name": "stolen",
        "destination_url": "https://evil.example/",
    },
    ("DELETE", "/api/v1/dynamic-qrs/{short_id:str}"): None,
    ("GET", "/api/v1/dynamic-qrs/{short_id:str}/image"): None,
    ("GET", "/api/v1/dynamic-qrs/{short_id:str}/scans"): None,
    ("GET", "/api/v1/dynamic-qrs/{short_id:str}/scans.csv"): None,
    ("GET", "/api/v1/dynamic-qrs/{short_id:str}/stats"): None,
    ("GET", "/api/v1/dynamic-qrs/{short_id:str}/preview"): None,
    ("GET", "/api/v1/webhooks/{webhook_id:int}"): None,
    ("PATCH", "/api/v1/webhooks/{webhook_id:int}"): {"description": "stolen", "status": "disabled"},
    ("DELETE", "/api/v1/webhooks/{webhook_id:int}"): None,
    ("GET", "/api/v1/webhooks/{webhook_id:int}/deliveries"): None,
    ("GET", "/api/v1/webhooks/{webhook_id:int}/deliveries/{attempt_id:int}"): None,
    ("POST", "/api/v1/webhooks/{webhook_id:int}/deliveries/{attempt_id:int}/redeliver"): None,
    ("POST", "/api/v1/webhooks/{webhook_id:int}/recover"): SINCE,
    ("POST", "/api/v1/webhooks/{webhook_id:int}/rotate"): None,
    ("POST", "/api/v1/webhooks/{webhook_id:int}/test"): None,
    # A's personal workspace, by its id in the path (B is no member: 404).
    ("GET", "/api/v1/workspaces/{workspace_id:int}"): None,
    ("PATCH", "/api/v1/workspaces/{workspace_id:int}"): {"name": "stolen"},
    ("GET", "/api/v1/workspaces/{workspace_id:int}/members"): None,
    ("POST", "/api/v1/workspaces/{workspace_id:int}/members"): {
        "email": "owner-b@example.com",
        "role": "owner",
    },
    ("PATCH", "/api/v1/workspaces/{workspace_id:int}/members/{user_id:int}"): {"role": "viewer"},
    ("DELETE", "/api/v1/workspaces/{workspace_id:int}/members/{user_id:int}"): None,
    ("GET", "/api/v1/domains/{domain_id:int}"): None,
    ("PATCH", "/api/v1/domains/{domain_id:int}"): {"fallback_url": "https://evil.example/"},
    ("DELETE", "/api/v1/domains/{domain_id:int}"): None,
    ("GET", "/api/v1/workspaces/{workspace_id:int}/invitations"): None,
    ("POST", "/api/v1/workspaces/{workspace_id:int}/invitations"): {
        "email": "sneaky-invite@example.com",
        "role": "owner",
    },
    ("DELETE", "/api/v1/workspaces/{workspace_id:int}/invitations/{invitation_id:int}"): None,
    ("DELETE", "/api/v1/api-keys/{key_id:int}"): None,
}
ADMIN_API: dict[tuple[str, str], Any] = {
    ("GET", "/api/v1/admin/users"): None,
    ("POST", "/api/v1/admin/users"): {
        "email": "sneaky@example.com",
        "password": "sneaky-password-1",
        "role": "admin",
    },
    ("GET", "/api/v1/admin/users/{user_id:int}"): None,
    ("PATCH", "/api/v1/admin/users/{user_id:int}"): {"role": "admin", "plan": "business"},
    ("GET", "/api/v1/admin/users/{user_id:int}/credits"): None,
    ("POST", "/api/v1/admin/users/{user_id:int}/credits"): {"amount": 1000, "note": "free stuff"},
    ("GET", "/api/v1/admin/users/{user_id:int}/usage"): None,
    ("POST", "/api/v1/admin/users/{user_id:int}/sign-out-everywhere"): None,
    ("POST", "/api/v1/workspaces"): {"name": "sneaky", "plan": "business"},
    ("GET", "/api/v1/admin/workspaces/{workspace_id:int}/usage"): None,
    ("GET", "/api/v1/admin/workspaces/{workspace_id:int}/credits"): None,
    ("POST", "/api/v1/admin/workspaces/{workspace_id:int}/credits"): {"amount": 1000},
    ("GET", "/api/v1/admin/domains"): None,
    ("POST", "/api/v1/admin/domains/{domain_id:int}/approve"): None,
}
SELF_API = {
    ("GET", "/api/v1/me"),
    ("POST", "/api/v1/me/password"),
    ("POST", "/api/v1/me/sign-out-everywhere"),
    ("GET", "/api/v1/settings/utm"),
    ("PUT", "/api/v1/settings/utm"),
    ("GET", "/api/v1/usage"),
    ("GET", "/api/v1/dynamic-qrs"),
    ("POST", "/api/v1/dynamic-qrs"),
    ("POST", "/api/v1/generate"),
    ("GET", "/api/v1/webhooks"),
    ("POST", "/api/v1/webhooks"),
    ("GET", "/api/v1/workspaces"),
    ("GET", "/api/v1/domains"),
    ("POST", "/api/v1/domains"),
    ("GET", "/api/v1/api-keys"),
    ("POST", "/api/v1/api-keys"),
}
# UI forms: the body is form fields (the CSRF token is added).
OWNER_UI: dict[tuple[str, str], dict[str, str] | None] = {
    ("GET", "/admin/qrs/{short_id:str}"): None,
    ("GET", "/admin/qrs/{short_id:str}/download"): None,
    ("GET", "/admin/qrs/{short_id:str}/edit"): None,
    ("GET", "/admin/qrs/{short_id:str}/routing"): None,
    ("POST", "/admin/qrs/{short_id:str}/routing"): {
        "rule_key": "0",
        "rule_position": "1",
        "rule_label": "stolen",
        "rule_url": "https://example.com/stolen",
    },
    ("POST", "/admin/qrs/{short_id:str}/edit"): {
        "name": "stolen",
        "destination_url": "https://evil.example/",
    },
    ("GET", "/admin/qrs/{short_id:str}/image.svg"): None,
    ("GET", "/admin/qrs/{short_id:str}/scans.csv"): None,
    ("POST", "/admin/qrs/{short_id:str}/active"): {"is_active": "0"},
    ("POST", "/admin/qrs/{short_id:str}/delete"): {},
    ("GET", "/admin/webhooks/{webhook_id:int}"): None,
    ("GET", "/admin/webhooks/{webhook_id:int}/edit"): None,
    ("POST", "/admin/webhooks/{webhook_id:int}/edit"): {
        "url": "http://127.0.0.1:9/x",
        "events": "scan.created",
    },
    ("POST", "/admin/webhooks/{webhook_id:int}/delete"): {},
    ("POST", "/admin/webhooks/{webhook_id:int}/disable"): {},
    ("POST", "/admin/webhooks/{webhook_id:int}/reenable"): {},
    ("POST", "/admin/webhooks/{webhook_id:int}/recover"): {"since": "2020-01-01T00:00"},
    ("POST", "/admin/webhooks/{webhook_id:int}/rotate"): {},
    ("POST", "/admin/webhooks/{webhook_id:int}/test"): {},
    ("POST", "/admin/webhooks/{webhook_id:int}/attempts/{attempt_id:int}/redeliver"): {},
    ("POST", "/admin/invitations/{invitation_id:int}/withdraw"): {},
    # Members of the current workspace: A's user id is no member of B's workspace.
    ("POST", "/admin/members/{user_id:int}/role"): {"role": "viewer"},
    ("POST", "/admin/members/{user_id:int}/remove"): {},
    ("POST", "/admin/domains/{domain_id:int}/fallback"): {"fallback_url": "https://evil.example/"},
    ("POST", "/admin/domains/{domain_id:int}/delete"): {},
    ("POST", "/admin/api-keys/{key_id:int}/revoke"): {},
}
ADMIN_UI: dict[tuple[str, str], dict[str, str] | None] = {
    ("GET", "/admin/users"): None,
    ("POST", "/admin/users"): {"email": "sneaky-ui@example.com", "role": "admin", "plan": "pro"},
    ("GET", "/admin/users/new"): None,
    ("GET", "/admin/users/{user_id:int}"): None,
    ("POST", "/admin/users/{user_id:int}/credits"): {"amount": "1000", "note": "free"},
    ("POST", "/admin/users/{user_id:int}/password"): {"password": "hijacked-password-1"},
    ("POST", "/admin/users/{user_id:int}/active"): {"is_active": "0"},
    ("POST", "/admin/users/{user_id:int}/plan"): {"plan": "business"},
    ("POST", "/admin/users/{user_id:int}/role"): {"role": "admin"},
    ("POST", "/admin/users/{user_id:int}/sign-out-everywhere"): {},
    ("GET", "/admin/workspaces"): None,
    ("POST", "/admin/workspaces"): {"name": "sneaky", "plan": "business"},
    ("POST", "/admin/workspaces/{workspace_id:int}"): {"name": "stolen", "plan": "business"},
    ("POST", "/admin/workspaces/{workspace_id:int}/credits"): {"amount": "1000", "note": "free"},
    ("POST", "/admin/domains/{domain_id:int}/approve"): {},
}
SELF_UI = {
    ("GET", "/admin/domains"),
    ("POST", "/admin/domains"),
    ("GET", "/admin/invitations"),
    ("POST", "/admin/invitations"),
    ("GET", "/admin"),
    ("POST", "/admin/workspace"),  # the switcher (test_the_switcher_enters_no_foreign_workspace)
    ("GET", "/admin/members"),
    ("POST", "/admin/members"),
    ("GET", "/admin/account"),
    ("POST", "/admin/account/password"),
    ("POST", "/admin/account/sign-out-everywhere"),
    ("GET", "/admin/settings/utm"),
    ("POST", "/admin/settings/utm"),
    ("POST", "/admin/logout"),
    ("GET", "/admin/usage"),
    ("GET", "/admin/qrs"),
    ("POST", "/admin/qrs"),
    ("GET", "/admin/qrs/new"),
    ("GET", "/admin/generate"),
    ("POST", "/admin/generate"),
    ("GET", "/admin/webhooks"),
    ("POST", "/admin/webhooks"),
    ("GET", "/admin/webhooks/new"),
    ("GET", "/admin/api-keys"),
    ("POST", "/admin/api-keys"),
}
PUBLIC = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/static/{file_path:path}"),
    ("POST", "/api/v1/auth/token"),
    # Password reset (issue 16.5): by email or by a one-time link's token, no account needed.
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    ("GET", "/admin/password-reset"),
    ("POST", "/admin/password-reset"),
    ("GET", "/admin/password-reset/{token:str}"),
    ("POST", "/admin/password-reset/{token:str}"),
    # Invitations (issue 16.5): the link's page and the scripted accept, by token.
    ("GET", "/admin/invite/{token:str}"),
    ("POST", "/admin/invite/{token:str}"),
    ("POST", "/api/v1/invitations/accept"),
    ("GET", "/r/{short_id:str}"),
    ("GET", "/docs/ip-ranges.json"),
    ("GET", "/metrics"),
    ("GET", "/admin/login"),
    ("POST", "/admin/login"),
    ("GET", "/schema"),
    ("GET", "/schema/openapi.json"),
    ("GET", "/schema/openapi.yaml"),
    ("GET", "/schema/openapi.yml"),
    ("GET", "/schema/{path:str}"),
    ("GET", "/internal/tls-ask"),  # Caddy's ask: loopback and trusted proxies only, no account
}
CLASSES = [set(OWNER_API), set(ADMIN_API), SELF_API, set(OWNER_UI), set(ADMIN_UI), SELF_UI, PUBLIC]
# Answers allowed to carry a webhook secret.
SECRET_ANSWERS = {
    ("POST", "/api/v1/webhooks"),
    ("POST", "/api/v1/webhooks/{webhook_id:int}/rotate"),
    ("POST", "/admin/webhooks"),
    ("POST", "/admin/webhooks/{webhook_id:int}/rotate"),
}
# Answers allowed to carry an API key (its create, in the API and the UI).
KEY_ANSWERS = {("POST", "/api/v1/api-keys"), ("POST", "/admin/api-keys")}
API_KEY = re.compile(rb"qsb_[0-9A-Za-z]{43}")


def app_routes(app) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app.routes
        for method in getattr(route, "methods", ())
        if method not in ("HEAD", "OPTIONS")
    }


@dataclass
class Identity:
    id: int
    email: str
    password: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)  # UI session + CSRF cookie
    ids: dict[str, Any] = field(default_factory=dict)  # path parameter -> this identity's value


@dataclass
class World:
    client: TestClient
    db: Path
    admin: Identity
    a: Identity
    b: Identity
    receiver: Receiver
    routes: set[tuple[str, str]]
    answers: list[tuple[str, str, str, int, bytes]] = field(
        default_factory=list
    )  # who, method, route, status, body

    def url(self, route: str, ids: dict[str, Any]) -> str:
        return re.sub(r"\{(\w+):\w+\}", lambda m: str(ids[m.group(1)]), route)

    def api(
        self,
        who: Identity,
        method: str,
        route: str,
        body: Any = None,
        ids: dict | None = None,
        **params,
    ):
        url = self.url(route, ids if ids is not None else who.ids)
        response = self.client.request(
            method,
            url,
            headers=who.headers,
            json=body,
            params=params or None,
            follow_redirects=False,
        )
        self.answers.append((who.email, method, route, response.status_code, response.content))
        return response

    def ui(
        self,
        who: Identity,
        method: str,
        route: str,
        form: dict | None = None,
        ids: dict | None = None,
    ):
        url = self.url(route, ids if ids is not None else who.ids)
        self.client.cookies.clear()
        cookie = "; ".join(f"{k}={v}" for k, v in who.cookies.items())
        data = (
            None
            if method == "GET"
            else {**(form or {}), "csrf_token": who.cookies["qrstudio_csrf"]}
        )
        response = self.client.request(
            method, url, headers={"Cookie": cookie}, data=data, follow_redirects=False
        )
        self.client.cookies.clear()
        self.answers.append((who.email, method, route, response.status_code, response.content))
        return response

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row that says what A owns and who may do what: compared before and after."""
        with sqlite3.connect(self.db) as conn:
            return {
                "users": conn.execute(
                    "SELECT id, email, password_hash, role, is_active FROM users ORDER BY id"
                ).fetchall(),
                "qrs": conn.execute("SELECT * FROM dynamic_qrs ORDER BY id").fetchall(),
                "variants": conn.execute("SELECT * FROM variants ORDER BY id").fetchall(),
                "webhooks": conn.execute("SELECT * FROM webhooks ORDER BY id").fetchall(),
                "deliveries": conn.execute(
                    "SELECT id, webhook_id, status, kind FROM deliveries ORDER BY id"
                ).fetchall(),
                "credits": conn.execute("SELECT * FROM credit_grants ORDER BY id").fetchall(),
                "workspaces": conn.execute("SELECT * FROM workspaces ORDER BY id").fetchall(),
                "members": conn.execute("SELECT * FROM workspace_members ORDER BY 1, 2").fetchall(),
                "domains": conn.execute("SELECT * FROM domains ORDER BY id").fetchall(),
                "invitations": conn.execute("SELECT * FROM invitations ORDER BY id").fetchall(),
                "api_keys": conn.execute("SELECT * FROM api_keys ORDER BY id").fetchall(),
            }


def _login_api(client: TestClient, email: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token/", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("isolation")
    settings = settings_from_mapping(
        {
            "storage": {"data_dir": str(root / "data")},
            "webhooks": {"allow_http": True, "allow_private_targets": True, "timeout_seconds": 2.0},
            "accounts": {"default_plan": "pro"},
        }
    )
    app = create_app(
        settings,
        env={"QRSTUDIO_ADMIN_EMAIL": ADMIN_EMAIL, "QRSTUDIO_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    with Receiver() as receiver, TestClient(app, base_url="http://testserver.local") as client:
        admin_headers = _login_api(client, ADMIN_EMAIL, ADMIN_PASSWORD)
        me = client.get("/api/v1/me/", headers=admin_headers).json()
        admin = Identity(me["id"], ADMIN_EMAIL, ADMIN_PASSWORD, admin_headers)
        world = World(client, settings.database_path, admin, None, None, receiver, app_routes(app))  # type: ignore[arg-type]
        made = []
        for name in ("owner-a", "owner-b"):
            response = world.api(
                admin,
                "POST",
                "/api/v1/admin/users",
                {"email": f"{name}@example.com", "password": MEMBER_PASSWORD, "plan": "pro"},
            )
            assert response.status_code == 201, response.text
            made.append(
                Identity(response.json()["user"]["id"], f"{name}@example.com", MEMBER_PASSWORD)
            )
        world.a, world.b = made
        for who in (world.admin, world.a, world.b):
            who.headers = who.headers or _login_api(client, who.email, who.password)
            who.cookies = ui_login(client, who.email, who.password)
            qr = world.api(
                who,
                "POST",
                "/api/v1/dynamic-qrs",
                {
                    "name": f"qr of {who.email}",
                    "destination_url": "https://example.com/x",
                    "variants": [
                        {"label": "A", "destination_url": "https://example.com/a", "weight": 1},
                        {"label": "B", "destination_url": "https://example.com/b", "weight": 2},
                    ],
                },
            )
            assert qr.status_code == 201, qr.text
            hook = world.api(
                who,
                "POST",
                "/api/v1/webhooks",
                {
                    "url": receiver.url,
                    "events": ["scan.created", "dynamic_qr.updated"],
                    "description": who.email,
                },
            )
            assert hook.status_code == 201, hook.text
            domain = world.api(
                who,
                "POST",
                "/api/v1/domains",
                {"hostname": f"go.{who.email.split('@')[0]}.example"},
            )
            assert domain.status_code == 201, domain.text
            key = world.api(
                who, "POST", "/api/v1/api-keys", {"name": who.email, "scopes": ["read"]}
            )
            assert key.status_code == 201, key.text
            who.ids = {
                "short_id": qr.json()["short_id"],
                "webhook_id": hook.json()["id"],
                "user_id": who.id,
                "workspace_id": next(
                    w["id"]
                    for w in world.api(who, "GET", "/api/v1/workspaces").json()["results"]
                    if w["personal"]
                ),
                "domain_id": domain.json()["id"],
                "key_id": key.json()["id"],
            }
            client.get(
                f"/r/{who.ids['short_id']}", headers={"User-Agent": "isolation-test"}
            )  # a scan
            invited = world.api(
                who,
                "POST",
                "/api/v1/workspaces/{workspace_id:int}/invitations",
                {"email": f"guest-of-{who.email}", "role": "viewer"},
            )
            assert invited.status_code == 201, invited.text
            who.ids["invitation_id"] = invited.json()["id"]
            test = world.api(who, "POST", "/api/v1/webhooks/{webhook_id:int}/test")
            assert test.status_code == 201, test.text
            who.ids["attempt_id"] = test.json()["id"]
        world.admin.ids["user_id"] = world.a.id  # the admin's user routes look at A
        yield world


def test_every_route_is_classified(world):
    classified = set().union(*CLASSES)
    assert sum(len(c) for c in CLASSES) == len(classified), "a route is in two classes"
    assert sorted(world.routes - classified) == [], (
        "new routes: classify them in this test's tables"
    )
    assert sorted(classified - world.routes) == [], (
        "routes in the tables that the app no longer has"
    )


@pytest.mark.parametrize("method,route", sorted(OWNER_API))
def test_another_owners_ids_are_404_on_the_api(world, method, route):
    before = world.snapshot()
    response = world.api(world.b, method, route, OWNER_API[(method, route)], ids=world.a.ids)
    assert response.status_code == 404, response.text
    assert response.json()["status_code"] == 404
    assert world.snapshot() == before


def test_an_attempt_of_another_owner_is_404_under_ones_own_webhook(world):
    ids = {**world.b.ids, "attempt_id": world.a.ids["attempt_id"]}
    for method in ("GET", "POST"):
        route = (
            "/api/v1/webhooks/{webhook_id:int}/deliveries/{attempt_id:int}"
            if method == "GET"
            else "/api/v1/webhooks/{webhook_id:int}/deliveries/{attempt_id:int}/redeliver"
        )
        before = world.snapshot()
        assert world.api(world.b, method, route, ids=ids).status_code == 404
        assert world.snapshot() == before


@pytest.mark.parametrize("method,route", sorted(ADMIN_API))
def test_a_member_gets_403_on_every_admin_api_route(world, method, route):
    before = world.snapshot()
    response = world.api(world.b, method, route, ADMIN_API[(method, route)], ids=world.a.ids)
    assert response.status_code == 403, response.text
    assert world.snapshot() == before


@pytest.mark.parametrize("method,route", sorted(OWNER_UI))
def test_another_owners_ids_are_404_in_the_ui(world, method, route):
    before = world.snapshot()
    response = world.ui(world.b, method, route, OWNER_UI[(method, route)], ids=world.a.ids)
    assert response.status_code == 404, response.text[:300]
    assert world.snapshot() == before


@pytest.mark.parametrize("method,route", sorted(ADMIN_UI))
def test_a_member_gets_403_on_every_admin_ui_page(world, method, route):
    before = world.snapshot()
    response = world.ui(world.b, method, route, ADMIN_UI[(method, route)], ids=world.a.ids)
    assert response.status_code == 403, response.text[:300]
    assert "Admins only" in response.text  # refused as a member, not for a stale CSRF token
    assert world.snapshot() == before


def test_the_switcher_enters_no_foreign_workspace(world):
    """B names A's workspace in the switcher: no cookie is set, and B's pages stay B's."""
    response = world.ui(
        world.b, "POST", "/admin/workspace", {"workspace_id": str(world.a.ids["workspace_id"])}
    )
    assert response.status_code == 303
    assert "qrstudio_workspace" not in response.headers.get("set-cookie", "")
    world.b.cookies["qrstudio_workspace"] = str(world.a.ids["workspace_id"])  # forged
    try:
        page = world.ui(world.b, "GET", "/admin/qrs").text
    finally:
        del world.b.cookies["qrstudio_workspace"]
    assert world.b.ids["short_id"] in page and world.a.ids["short_id"] not in page


def test_lists_hold_only_ones_own_resources(world):
    qrs = world.api(world.b, "GET", "/api/v1/dynamic-qrs").json()["results"]
    assert [qr["short_id"] for qr in qrs] == [world.b.ids["short_id"]]
    hooks = world.api(world.b, "GET", "/api/v1/webhooks").json()["results"]
    assert [hook["id"] for hook in hooks] == [world.b.ids["webhook_id"]]
    keys = world.api(world.b, "GET", "/api/v1/api-keys").json()["results"]
    assert [key["id"] for key in keys] == [world.b.ids["key_id"]]
    page = world.ui(world.b, "GET", "/admin/qrs").text
    assert world.b.ids["short_id"] in page and world.a.ids["short_id"] not in page


def _walk_gets(world: World) -> None:
    for who in (world.a, world.b, world.admin):
        ids = {**who.ids, "file_path": "css/app.css", "path": "swagger", "token": "no-such-link"}
        for method, route in sorted(world.routes):
            if method != "GET":
                continue
            if route.startswith("/admin"):
                response = world.ui(who, method, route, ids=ids)
            else:
                response = world.api(who, method, route, ids=ids)
            assert response.status_code < 500, (who.email, route, response.text[:300])


def test_no_answer_carries_a_password_hash_or_a_stray_secret(world):
    # Writes that answer with bodies too: a patch, a rotate (its secret is allowed), a user made.
    a = world.a
    assert (
        world.api(a, "PATCH", "/api/v1/dynamic-qrs/{short_id:str}", {"name": "renamed"}).status_code
        == 200
    )
    assert (
        world.api(a, "PATCH", "/api/v1/webhooks/{webhook_id:int}", {"description": "d"}).status_code
        == 200
    )
    assert world.api(a, "POST", "/api/v1/webhooks/{webhook_id:int}/rotate").status_code == 200
    rotated_in_ui = world.ui(a, "POST", "/admin/webhooks/{webhook_id:int}/rotate", {})
    assert rotated_in_ui.status_code == 200 and "whsec_" in rotated_in_ui.text  # shown once, here
    assert (
        world.api(
            world.admin,
            "PATCH",
            "/api/v1/admin/users/{user_id:int}",
            {"password": "a-new-password-1"},
            ids={"user_id": world.b.id},
        ).status_code
        == 200
    )
    made = world.api(world.admin, "POST", "/api/v1/admin/users", {"email": "gen@example.com"})
    assert made.status_code == 201 and made.json()["password"]  # a generated password, shown once
    assert world.api(a, "POST", "/api/v1/generate", {"data": "hello"}).status_code == 200
    made_in_ui = world.ui(a, "POST", "/admin/api-keys", {"name": "ui", "scopes": "read"})
    assert made_in_ui.status_code == 200 and API_KEY.search(made_in_ui.content)  # shown once
    _walk_gets(world)

    hashes = [(who, m, r) for who, m, r, _, body in world.answers if b"$argon2" in body]
    assert hashes == []
    secrets = [
        (who, m, r, s)
        for who, m, r, s, body in world.answers
        if b"whsec_" in body and (m, r) not in SECRET_ANSWERS
    ]
    assert secrets == []
    keys = [
        (who, m, r, s)
        for who, m, r, s, body in world.answers
        if API_KEY.search(body) and (m, r) not in KEY_ANSWERS
    ]
    assert keys == []
    # The walk covered every GET route for all three identities, and the secret answers were seen.
    walked = {(m, r) for _, m, r, _, _ in world.answers}
    assert {(m, r) for m, r in world.routes if m == "GET"} <= walked
    assert sum(1 for *_, r, s, body in world.answers if b"whsec_" in body) >= 5
    assert sum(1 for *_, r, s, body in world.answers if API_KEY.search(body)) >= 4
