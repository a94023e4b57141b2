"""POST /api/v1/generate/ over HTTP: images decoded with zxing-cpp, errors, the quota contract."""

from __future__ import annotations

import base64

import pytest

from qrstudio_box.errors import ApiError
from qrstudio_box.quotas import service as quota
from tests.links.helpers import QR_CREATED_FIELDS, assert_exact_fields, stored_events
from tests.qr.qr_images import decode_png, decode_svg

URL = "/api/v1/generate/"
DECODERS = {"png": decode_png, "svg": decode_svg}
MEDIA = {"png": "image/png", "svg": "image/svg+xml"}


@pytest.fixture
def charges(monkeypatch):
    """Spy on the quota contract (the quotas engineer implements it): who was charged."""
    calls = []
    real = quota.charge_generation

    def spy(tx, caller, settings, now):
        calls.append(caller.owner_id)
        return real(tx, caller, settings, now)

    monkeypatch.setattr(quota, "charge_generation", spy)
    return calls


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize(
    ("data_type", "data"),
    [("text", "Hello, QR! Grüße 🍣"), ("url", "https://example.com/menus/spring-2026?utm=qr")],
)
def test_static_codes_decode_to_their_data(shared, shared_user, charges, fmt, data_type, data):
    response = shared.client.post(
        URL,
        headers=shared_user.headers,
        json={"data": data, "data_type": data_type, "format": fmt, "scale": 6},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(MEDIA[fmt])
    assert DECODERS[fmt](response.content) == data
    assert charges == [shared_user.id]


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_dynamic_code_creates_the_qr_and_encodes_its_short_link(shared, shared_user, charges, fmt):
    events = len(stored_events(shared.sql, "dynamic_qr.created"))
    response = shared.client.post(
        URL,
        headers=shared_user.headers,
        json={
            "data": "https://example.com/menus/spring-2026",
            "data_type": "dynamic",
            "name": "Spring menu",
            "format": fmt,
        },
    )
    assert response.status_code == 201, response.text
    short_id = response.headers["x-qrstudio-short-id"]
    short_url = f"http://127.0.0.1:8080/r/{short_id}"
    assert response.headers["location"] == short_url
    assert DECODERS[fmt](response.content) == short_url
    assert charges == [shared_user.id]  # one generation, not two

    qr = shared.client.get(f"/api/v1/dynamic-qrs/{short_id}/", headers=shared_user.headers).json()
    assert (qr["name"], qr["destination_url"]) == (
        "Spring menu",
        "https://example.com/menus/spring-2026",
    )
    created = stored_events(shared.sql, "dynamic_qr.created")
    assert len(created) == events + 1
    assert_exact_fields(created[-1]["data"], QR_CREATED_FIELDS)
    assert created[-1]["data"]["short_id"] == short_id
    # The redirect knows it at once.
    scan = shared.client.get(f"/r/{short_id}", follow_redirects=False)
    assert (
        scan.status_code == 302
        and scan.headers["location"] == "https://example.com/menus/spring-2026"
    )


def test_json_answer_carries_a_data_uri_and_metadata(shared, shared_user):
    response = shared.client.post(
        URL,
        headers={**shared_user.headers, "Accept": "application/json"},
        json={
            "data": "https://example.com/x",
            "data_type": "dynamic",
            "size": 300,
            "error_correction": "Q",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["media_type"] == "image/png" and body["format"] == "png"
    assert body["data_uri"].startswith("data:image/png;base64,")
    png = base64.b64decode(body["data_uri"].split(",", 1)[1])
    assert decode_png(png) == body["short_url"] == body["data"]
    assert body["short_url"] == f"http://127.0.0.1:8080/r/{body['short_id']}"
    assert body["data_type"] == "dynamic"
    assert body["width"] == body["height"] <= 300
    assert body["error_correction"] in ("Q", "H") and isinstance(body["version"], int)

    static = shared.client.post(
        URL,
        headers={**shared_user.headers, "Accept": "application/json"},
        json={"data": "plain text", "format": "svg"},
    ).json()
    assert static["short_id"] is None and static["short_url"] is None
    assert static["data_uri"].startswith("data:image/svg+xml;base64,")


def test_same_parameters_are_not_rendered_twice(shared, shared_user):
    body = {"data": "render me once", "scale": 7, "dark": "#123456"}
    cache = shared.client.app.state.ctx.renders.cache
    shared.client.post(URL, headers=shared_user.headers, json=body)
    renders = cache.renders
    again = shared.client.post(URL, headers=shared_user.headers, json=body)
    assert again.status_code == 200
    assert cache.renders == renders
    shared.client.post(URL, headers=shared_user.headers, json={**body, "scale": 8})
    assert cache.renders == renders + 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "data"),
        ({"data": ""}, "data"),
        ({"data": 42}, "data"),
        ({"data": "x" * 4000}, "data"),
        ({"data": "hi", "data_type": "image"}, "data_type"),
        ({"data": "not a url", "data_type": "url"}, "data"),
        ({"data": "ftp://example.com/", "data_type": "dynamic"}, "data"),
        ({"data": "https://example.com/", "data_type": "dynamic", "name": "x" * 300}, "name"),
        ({"data": "hi", "format": "gif"}, "format"),
        ({"data": "hi", "scale": 0}, "scale"),
        ({"data": "hi", "scale": 51}, "scale"),
        ({"data": "hi", "scale": "big"}, "scale"),
        ({"data": "hi", "size": 5}, "size"),
        ({"data": "hi", "size": 10_000}, "size"),
        ({"data": "hi", "scale": 4, "size": 200}, "size"),
        ({"data": "hi", "border": 21}, "border"),
        ({"data": "hi", "border": -1}, "border"),
        ({"data": "hi", "error_correction": "Z"}, "error_correction"),
        ({"data": "hi", "dark": "black"}, "dark"),
        ({"data": "hi", "dark": "#abcd"}, "dark"),
        ({"data": "hi", "light": "none"}, "light"),
        ({"data": "hi", "micro": True}, "micro"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_never_charged(
    shared, shared_user, charges, body, field
):
    qrs, events = shared.count("dynamic_qrs"), shared.count("events")
    response = shared.client.post(URL, headers=shared_user.headers, json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["field"] == field, error
    assert error["detail"].startswith(f"{field}: ")
    # plain words (issue 15.8), never a validator's text like "Expected `int` <= 4096"
    assert "Expected" not in error["detail"] and "`" not in error["detail"], error
    assert charges == []
    assert (shared.count("dynamic_qrs"), shared.count("events")) == (qrs, events)


def test_every_wrong_field_in_one_answer(shared, shared_user, charges):
    """Issue 15.8: three mistakes, three messages; `field` names the first."""
    body = {
        "data": "ftp://example.com/",
        "data_type": "url",
        "size": 5000,
        "border": 25,
        "dark": "x",
    }
    response = shared.client.post(URL, headers=shared_user.headers, json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["errors"] == [
        {"field": "data", "detail": "data: must be an http(s) URL"},
        {"field": "size", "detail": "size: must be at most 4096 pixels"},
        {"field": "border", "detail": "border: must be at most 20 modules"},
        {"field": "dark", "detail": "dark: must be a colour like #rgb or #rrggbb"},
    ]
    assert error["field"] == "data" and error["status_code"] == 400
    assert error["detail"] == "; ".join(item["detail"] for item in error["errors"])
    assert charges == []


def test_malformed_json_is_400(shared, shared_user, charges):
    response = shared.client.post(
        URL, headers={**shared_user.headers, "Content-Type": "application/json"}, content=b"{nope"
    )
    assert response.status_code == 400
    assert charges == []


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (URL, {"data": "hi"}, 200),
        (URL, {"data": "https://example.com/", "data_type": "dynamic"}, 201),
        ("/api/v1/dynamic-qrs/", {"destination_url": "https://example.com/"}, 201),
    ],
)
def test_quota_headers_are_passed_on_and_a_429_creates_nothing(
    shared, shared_user, monkeypatch, path, body, status
):
    monkeypatch.setattr(
        quota,
        "charge_generation",
        lambda tx, user, settings, now: quota.GenerationCharge(
            headers={"RateLimit-Remaining": "7"}
        ),
    )
    response = shared.client.post(path, headers=shared_user.headers, json=body)
    assert response.status_code == status, response.text
    assert response.headers["ratelimit-remaining"] == "7"

    def refuse(tx, user, settings, now):
        raise ApiError(429, "Monthly quota reached", headers={"Retry-After": "3600"})

    monkeypatch.setattr(quota, "charge_generation", refuse)
    qrs, events = shared.count("dynamic_qrs"), shared.count("events")
    response = shared.client.post(path, headers=shared_user.headers, json=body)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3600"
    assert (shared.count("dynamic_qrs"), shared.count("events")) == (qrs, events)


def test_dynamic_qr_limit_is_checked_before_creating(shared, shared_user, monkeypatch, charges):
    def full(user, settings, owned):
        raise ApiError(403, "Your plan allows 10 dynamic QRs")

    monkeypatch.setattr(quota, "check_dynamic_qr_limit", full)
    qrs = shared.count("dynamic_qrs")
    for path, body in [
        ("/api/v1/dynamic-qrs/", {"destination_url": "https://example.com/"}),
        (URL, {"data": "https://example.com/", "data_type": "dynamic"}),
    ]:
        response = shared.client.post(path, headers=shared_user.headers, json=body)
        assert response.status_code == 403
    assert shared.count("dynamic_qrs") == qrs
    assert charges == []
