"""Every /api/v1 route, for each workspace role, an instance admin and a non-member (issue
16.2): each route declares its access rule, a role below it gets 403 naming the role, a
non-member gets 404 for the workspace and for its objects, and nobody reaches another
workspace's objects (404)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.clock import FakeClock
from qrstudio_box.config import settings_from_mapping
from qrstudio_box.workspaces.rules import access_problem
from qrstudio_box.workspaces.schemas import Caller

from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD, login

BODY_METHODS = {"POST", "PUT", "PATCH"}
# Called last by each caller: it ends the caller's own tokens.
ENDS_OWN_SESSION = "/api/v1/me/sign-out-everywhere/"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Any:
    data = tmp_path_factory.mktemp("access")
    settings = settings_from_mapping(
        {
            "storage": {"data_dir": str(data)},
            "webhooks": {"allow_http": True, "allow_private_targets": True},
        }
    )
    env = {"QRSTUDIO_ADMIN_EMAIL": ADMIN_EMAIL, "QRSTUDIO_ADMIN_PASSWORD": ADMIN_PASSWORD}
    app = create_app(settings, clock=FakeClock(), env=env)
    with TestClient(app, base_url="http://testserver.local") as client:
        admin = login(client, ADMIN_EMAIL, ADMIN_PASSWORD)

        def user(email: str) -> tuple[int, dict[str, str]]:
            made = client.post(
                "/api/v1/admin/users/",
                headers=admin,
                json={"email": email, "password": MEMBER_PASSWORD, "plan": "business"},
            )
            assert made.status_code == 201, made.text
            return made.json()["user"]["id"], login(client, email, MEMBER_PASSWORD)

        client_ws = client.post(
            "/api/v1/workspaces/", headers=admin, json={"name": "Bistro", "plan": "business"}
        )
        assert client_ws.status_code == 201, client_ws.text
        ws = client_ws.json()["id"]
        people: dict[str, tuple[int, dict[str, str]]] = {}
        for role in ("viewer", "editor", "owner"):
            people[role] = user(f"{role}@bistro.test")
            added = client.post(
                f"/api/v1/workspaces/{ws}/members/",
                headers=admin,
                json={"email": f"{role}@bistro.test", "role": role},
            )
            assert added.status_code == 201, added.text
        outsider_id, outsider = user("outsider@elsewhere.test")
        throwaway_id, _ = user("throwaway@elsewhere.test")
        # The outsider's own objects, in their personal workspace: nobody else may reach them.
        qr = client.post(
            "/api/v1/dynamic-qrs/",
            headers=outsider,
            json={"destination_url": "https://example.com/", "name": "theirs"},
        )
        assert qr.status_code == 201, qr.text
        hook = client.post(
            "/api/v1/webhooks/",
            headers=outsider,
            json={"url": "http://127.0.0.1:9/hook", "events": ["scan.created"]},
        )
        assert hook.status_code == 201, hook.text
        domain = client.post(
            "/api/v1/domains/", headers=outsider, json={"hostname": "go.elsewhere.test"}
        )
        assert domain.status_code == 201, domain.text
        key = client.post(
            "/api/v1/api-keys/", headers=outsider, json={"name": "theirs", "scopes": ["read"]}
        )
        assert key.status_code == 201, key.text
        yield {
            "app": app,
            "client": client,
            "ws": ws,
            "people": people,
            "admin": admin,
            "outsider": outsider,
            "params": {
                "short_id": qr.json()["short_id"],
                "webhook_id": str(hook.json()["id"]),
                "attempt_id": "1",
                "user_id": str(throwaway_id),
                "workspace_id": str(ws),
                "domain_id": str(domain.json()["id"]),
                "invitation_id": "1",
                "key_id": str(key.json()["id"]),
            },
            "outsider_id": outsider_id,
        }


def api_routes(app) -> list[tuple[str, str, Any]]:
    found = []
    for route in app.routes:
        if not route.path.startswith("/api/v1/"):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                found.append((method, route.path, handler))
    found.sort(key=lambda item: (item[1] == ENDS_OWN_SESSION.rstrip("/"), item[1], item[0]))
    return found


def concrete(path: str, params: dict[str, str]) -> str:
    filled = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: params[m[1]], path)
    return filled if filled.endswith("/") or "." in filled.rsplit("/", 1)[-1] else filled + "/"


def test_every_api_route_declares_its_access(world):
    undeclared = [
        f"{method} {path}"
        for method, path, handler in api_routes(world["app"])
        if "access" not in handler.opt
    ]
    assert undeclared == []


def expected_caller(role: str | None, ws: int, *, admin: bool = False) -> Caller:
    return Caller(1, admin, ws, "Bistro", "business", "owner" if admin else role)


def walk_routes(world, headers: dict[str, str], caller: Caller) -> list[str]:
    """Every /api/v1 route called with `headers`: what differs from the rule's verdict for
    `caller` (the refusal it predicts, else no 401/403, and the outsider's objects 404)."""
    client, params = world["client"], world["params"]
    wrong = []
    for method, path, handler in api_routes(world["app"]):
        access = handler.opt.get("access")
        url = concrete(path, params)
        answer = client.request(
            method, url, headers=headers, json={} if method in BODY_METHODS else None
        )
        problem = access_problem(access, caller)
        if problem is not None:
            if answer.status_code != problem[0] or answer.json()["detail"] != problem[1]:
                wrong.append(
                    f"{method} {path}: {answer.status_code} {answer.text[:120]}, wanted {problem}"
                )
            continue
        if answer.status_code in (401, 403):
            wrong.append(f"{method} {path}: {answer.status_code} {answer.text[:120]}, allowed")
        elif (
            (
                "{short_id" in path
                or "{webhook_id" in path
                or "{key_id" in path
                or path.startswith("/api/v1/domains/{")
            )
            and answer.status_code != 404
            # a body refused before any lookup says nothing of the object
            and not (method in BODY_METHODS and answer.status_code == 400)
        ):
            # The object is the outsider's: another workspace's id is a 404, never its data.
            wrong.append(f"{method} {path}: {answer.status_code}, wanted 404 (another workspace's)")
    return wrong


@pytest.mark.parametrize("who", ["viewer", "editor", "owner", "admin"])
def test_each_role_gets_what_its_route_allows(world, who):
    ws = world["ws"]
    headers = dict(world["admin"] if who == "admin" else world["people"][who][1])
    headers["X-QRStudio-Workspace"] = str(ws)
    caller = expected_caller(None if who == "admin" else who, ws, admin=who == "admin")
    assert walk_routes(world, headers, caller) == []


def test_a_non_member_naming_the_workspace_gets_404_everywhere(world):
    client, ws, params = world["client"], world["ws"], world["params"]
    headers = {**world["outsider"], "X-QRStudio-Workspace": str(ws)}
    wrong = []
    for method, path, handler in api_routes(world["app"]):
        if handler.opt["access"].kind == "public":
            continue
        answer = client.request(
            method,
            concrete(path, params),
            headers=headers,
            json={} if method in BODY_METHODS else None,
        )
        if answer.status_code != 404:
            wrong.append(f"{method} {path}: {answer.status_code} {answer.text[:100]}")
    assert wrong == []


def test_without_the_header_a_member_acts_on_their_default_workspace(world):
    client = world["client"]
    # A fresh sign-in: the role table's walk ended every earlier token (sign-out-everywhere).
    viewer = login(client, "viewer@bistro.test", MEMBER_PASSWORD)
    me = client.get("/api/v1/workspaces/", headers=viewer).json()["results"]
    assert sorted((w["name"], w["role"]) for w in me) == [
        ("Bistro", "viewer"),
        ("viewer@bistro.test", "owner"),
    ]
    # Their own personal workspace by default: they may create there.
    created = client.post(
        "/api/v1/dynamic-qrs/",
        headers=viewer,
        json={"destination_url": "https://example.com/mine", "name": "mine"},
    )
    assert created.status_code == 201
    mine = client.get("/api/v1/dynamic-qrs/", headers=viewer).json()["results"]
    assert [qr["short_id"] for qr in mine] == [created.json()["short_id"]]
    in_bistro = {**viewer, "X-QRStudio-Workspace": str(world["ws"])}
    refused = client.post(
        "/api/v1/dynamic-qrs/",
        headers=in_bistro,
        json={"destination_url": "https://example.com/", "name": "x"},
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This needs the editor role in this workspace"
    listed = client.get("/api/v1/dynamic-qrs/", headers=in_bistro)
    assert listed.status_code == 200 and listed.json()["results"] == []


@pytest.mark.parametrize("scope", ["read", "write", "webhooks"])
def test_each_api_key_scope_gets_what_its_route_allows(world, scope):
    """An API key of the workspace, on every route: the refusal the rule predicts (a missing
    scope named, or "API keys cannot do this"), else no 401/403, and another workspace's
    objects stay 404s."""
    client, ws = world["client"], world["ws"]
    # A fresh sign-in: the role table's walk ended the admin's earlier tokens.
    admin = {**login(client, ADMIN_EMAIL, ADMIN_PASSWORD), "X-QRStudio-Workspace": str(ws)}
    made = client.post("/api/v1/api-keys/", headers=admin, json={"name": scope, "scopes": [scope]})
    assert made.status_code == 201, made.text
    headers = {"Authorization": f"Bearer {made.json()['key']}"}
    caller = Caller(None, False, ws, "Bistro", "business", None, 1, frozenset({scope}))
    assert walk_routes(world, headers, caller) == []
    # The key still works: no route of the walk revoked or ended it.
    assert client.get("/api/v1/dynamic-qrs/", headers=headers).status_code == 200
