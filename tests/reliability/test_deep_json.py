"""JSON nested ~1,000 deep is a 400 naming the problem on every route that reads a JSON body,
and the real process logs no traceback for it (issue 14.9). Before: msgspec's RecursionError
reached the crash handler, a 500 and a traceback per request."""

import re

import httpx
import pytest
from litestar.routes import HTTPRoute

from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD

DEEP_BODIES = {
    "arrays": b"[" * 1000,
    "objects": b'{"a":' * 1000,
    "closed": b"[" * 5000 + b"]" * 5000,
}
EXPECTED = {"status_code": 400, "error": "bad_request", "detail": "body: JSON is nested too deeply"}


def json_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route whose handler takes a body (`data`), ids filled in."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "data" not in handler.parsed_fn_signature.parameters:
                continue
            for method in sorted(handler.http_methods):
                found.append((method, re.sub(r"\{[^}]+\}", "1", route.path)))
    return sorted(set(found))


def test_every_json_route_answers_400_to_deep_nesting_and_changes_nothing(
    client, app, admin_headers, sql
):
    routes = json_routes(app)
    paths = {path for _, path in routes}
    assert "/api/v1/auth/token" in paths and "/api/v1/dynamic-qrs" in paths
    assert len(routes) >= 10
    before = sql("SELECT count(*) FROM users")[0][0], sql("SELECT count(*) FROM events")[0][0]
    for method, path in routes:
        for name, body in DEEP_BODIES.items():
            response = client.request(
                method,
                path + "/",
                content=body,
                headers={**admin_headers, "Content-Type": "application/json"},
            )
            assert (response.status_code, response.json()) == (400, EXPECTED), (method, path, name)
    after = sql("SELECT count(*) FROM users")[0][0], sql("SELECT count(*) FROM events")[0][0]
    assert after == before


def test_the_real_process_answers_400_and_logs_no_traceback(server):
    token = server.token()
    for path, headers in [
        ("/api/v1/auth/token/", {}),
        ("/api/v1/dynamic-qrs/", token),
        ("/api/v1/generate/", token),
    ]:
        for body in DEEP_BODIES.values():
            response = httpx.post(
                f"{server.base_url}{path}",
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
            assert response.status_code == 400, (path, response.text)
            assert response.json() == EXPECTED
    # still serving, and signing in still works
    assert server.token(ADMIN_EMAIL, ADMIN_PASSWORD)
    assert server.stop() == 0
    output = server.output()
    assert "Traceback" not in output
    assert "RecursionError" not in output


@pytest.mark.parametrize("depth", [10, 200])
def test_ordinary_nesting_is_judged_on_its_content(client, admin_headers, depth):
    body = b'{"email": "a@example.com", "password": ' + b"[" * depth + b"]" * depth + b"}"
    response = client.post(
        "/api/v1/auth/token/", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"] != EXPECTED["detail"]
