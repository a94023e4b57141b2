"""Issue 14.7: expensive work is refused before it is done.

The app's render pool gets a RenderCache whose renders wait on a gate the test holds, so a full
pool is a state the test sets up and ends, never a race against sleeps.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.config import settings_from_mapping
from qrstudio_box.qr.pool import RenderPool
from qrstudio_box.qr.render import RenderCache, Rendered, RenderOptions
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

GENERATE = "/api/v1/generate/"
# 2,900 bytes: version 40 at level L, the largest code there is (185 modules with its border).
LARGEST = {"data": "x" * 2900, "error_correction": "L"}


class GatedCache(RenderCache):
    """A RenderCache whose renders start only while `gate` is open. After `hold()`, `entered`
    counts the renders that reached the gate; `renders` counts those that finished."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Semaphore(0)

    def render(self, options: RenderOptions) -> Rendered:
        self.entered.release()
        if not self.gate.wait(30):
            raise TimeoutError("the test never opened the gate")
        return super().render(options)

    def hold(self) -> None:
        self.entered = threading.Semaphore(0)
        self.gate.clear()


@pytest.fixture
def pool(app, settings) -> RenderPool:
    pool = RenderPool(settings.qr.render_concurrency, GatedCache())
    app.state.ctx.renders = pool  # before the app starts: the qr domain keeps it
    return pool


@pytest.fixture
def client(app, pool) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver.local") as test_client:
        yield test_client


def png_width(content: bytes) -> int:
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">I", content[16:20])[0]


def used(client, user) -> int:
    return client.get("/api/v1/usage/", headers=user.headers).json()["used"]


def new_qr(client, user) -> str:
    response = client.post(
        "/api/v1/dynamic-qrs/",
        headers=user.headers,
        json={"destination_url": "https://example.com/menu"},
    )
    assert response.status_code == 201, response.text
    return response.json()["short_id"]


BUSY = {
    "status_code": 503,
    "error": "service_unavailable",
    "detail": "Busy rendering other QR codes (2 at once); retry in 1 second",
}


def test_a_full_pool_answers_503_at_once_and_starts_no_render(client, pool, make_user, sql):
    user = make_user("pro")
    short_id = new_qr(client, user)
    image = f"/api/v1/dynamic-qrs/{short_id}/image"
    assert client.get(image, params={"scale": 3}, headers=user.headers).status_code == 200
    cache: GatedCache = pool.cache  # type: ignore[assignment]
    generations, qrs = used(client, user), sql("SELECT count(*) FROM dynamic_qrs")[0][0]

    cache.hold()
    with ThreadPoolExecutor(2) as requests:
        held = [
            requests.submit(client.get, image, params={"scale": s}, headers=user.headers)
            for s in (4, 5)
        ]
        for _ in held:
            assert cache.entered.acquire(timeout=10), "a render never started"
        assert pool.busy == 2
        renders = cache.renders

        refused = [
            client.get(image, params={"scale": 6}, headers=user.headers),
            client.post(GENERATE, headers=user.headers, json={"data": "static text"}),
            client.post(
                GENERATE,
                headers=user.headers,
                json={"data": "https://example.com/new", "data_type": "dynamic"},
            ),
        ]
        for response in refused:
            assert response.status_code == 503, response.text
            assert response.json() == BUSY
            assert response.headers["retry-after"] == "1"
        # Nothing was rendered, created or charged for them; no render even started.
        assert not cache.entered.acquire(blocking=False)
        assert cache.renders == renders
        assert sql("SELECT count(*) FROM dynamic_qrs")[0][0] == qrs
        assert used(client, user) == generations

        # A cached image needs no worker; scans are answered while both renders run.
        cached = client.get(image, params={"scale": 3}, headers=user.headers)
        assert cached.status_code == 200
        scan = client.get(f"/r/{short_id}", follow_redirects=False)
        assert scan.status_code == 302

        cache.gate.set()
        assert [f.result(timeout=30).status_code for f in held] == [200, 200]
    assert pool.busy == 0
    again = client.get(image, params={"scale": 6}, headers=user.headers)
    assert again.status_code == 200
    assert cache.renders == renders + 3


def test_render_concurrency_is_read_from_the_config(tmp_path):
    settings = settings_from_mapping(
        {"storage": {"data_dir": str(tmp_path / "data")}, "qr": {"render_concurrency": 3}}
    )
    app = create_app(
        settings,
        env={"QRSTUDIO_ADMIN_EMAIL": ADMIN_EMAIL, "QRSTUDIO_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    with TestClient(app):
        assert app.state.ctx.renders.workers == 3


def test_an_image_past_the_pixel_cap_is_a_400_before_any_render(client, pool, make_user, sql):
    user = make_user("pro")
    cache: GatedCache = pool.cache  # type: ignore[assignment]
    generations, renders = used(client, user), cache.renders
    cache.hold()  # a render would hang this test: none may start
    response = client.post(GENERATE, headers=user.headers, json={**LARGEST, "scale": 50})
    assert response.status_code == 400
    assert response.json() == {
        "status_code": 400,
        "error": "bad_request",
        "detail": "scale: the image would be 9250 pixels wide; at most 4096",
        "field": "scale",
    }
    assert not cache.entered.acquire(blocking=False)
    assert (cache.renders, used(client, user)) == (renders, generations)

    # The largest scale that fits this code renders, 185 modules x 22 px.
    cache.gate.set()
    fits = client.post(GENERATE, headers=user.headers, json={**LARGEST, "scale": 22})
    assert fits.status_code == 200, fits.text
    assert png_width(fits.content) == 4070
    assert used(client, user) == generations + 1


@pytest.fixture
def long_links(config):
    """Short links long enough (and level H) that scale 50 makes an image wider than 4096."""
    config["server"] = {"public_url": "https://qr.example.com/" + "p" * 150}


def test_the_cap_holds_on_every_image_route(long_links, client, pool, make_user, sql):
    user = make_user("pro")
    too_big = {"scale": 50, "border": 20, "error_correction": "H"}
    qrs, generations = sql("SELECT count(*) FROM dynamic_qrs")[0][0], used(client, user)
    dynamic = client.post(
        GENERATE,
        headers=user.headers,
        json={"data": "https://example.com/x", "data_type": "dynamic", **too_big},
    )
    assert dynamic.status_code == 400, dynamic.text
    assert dynamic.json()["field"] == "scale"
    assert dynamic.json()["detail"] == "scale: the image would be 5650 pixels wide; at most 4096"
    # Refused before the QR was created: nothing stored, nothing charged.
    assert sql("SELECT count(*) FROM dynamic_qrs")[0][0] == qrs
    assert used(client, user) == generations

    short_id = new_qr(client, user)
    image = client.get(
        f"/api/v1/dynamic-qrs/{short_id}/image", params=too_big, headers=user.headers
    )
    assert image.status_code == 400
    assert image.json()["detail"] == "scale: the image would be 5650 pixels wide; at most 4096"


@pytest.fixture
def used_up(config):
    """A plan whose monthly quota is 0 (every generation refused) and one allowing 1 request
    per minute."""
    config["plans"] = {
        "free": {},
        "pro": {},
        "empty": {"monthly_quota": 0},
        "trickle": {"api_rate_limit": 1},
    }


QUOTA_REFUSAL = {
    "status_code": 429,
    "error": "quota_exceeded",
    "detail": "Monthly quota reached: 0 of 0 generations used in 2026-05 (plan empty: 0, "
    "credits: 0). It resets at 2026-06-01T00:00:00Z; an admin of this box adds a credit pack "
    "or moves the workspace to a bigger plan.",
}
TO_JUNE = str((22 * 24 + 10) * 3600)  # from the fake clock's 2026-05-09T14:00Z


def test_a_generation_over_quota_is_refused_without_a_render(used_up, client, pool, make_user, sql):
    user = make_user("empty")
    cache: GatedCache = pool.cache  # type: ignore[assignment]
    renders, qrs = cache.renders, sql("SELECT count(*) FROM dynamic_qrs")[0][0]
    cache.hold()  # a render would hang until the gate's timeout: none may start
    for body in (
        {**LARGEST, "size": 4096},
        {"data": "https://example.com/x", "data_type": "dynamic"},
    ):
        refused = client.post(GENERATE, headers=user.headers, json=body)
        assert refused.status_code == 429, refused.text
        assert refused.json() == QUOTA_REFUSAL
        assert refused.headers["retry-after"] == TO_JUNE
        assert refused.headers["ratelimit-limit"] == "0"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert refused.headers["ratelimit-reset"] == TO_JUNE
    assert not cache.entered.acquire(blocking=False)
    assert cache.renders == renders
    assert sql("SELECT count(*) FROM dynamic_qrs")[0][0] == qrs
    assert sql("SELECT count(*) FROM quota_usage WHERE owner_id = ?", (user.id,))[0][0] == 0


def test_a_generation_over_the_rate_limit_is_refused_without_a_render(
    used_up, client, pool, make_user, fake_clock
):
    user = make_user("trickle")
    cache: GatedCache = pool.cache  # type: ignore[assignment]
    assert client.get("/api/v1/me/", headers=user.headers).status_code == 200
    cache.hold()
    refused = client.post(GENERATE, headers=user.headers, json={**LARGEST, "size": 4096})
    assert refused.status_code == 429
    assert refused.json() == {
        "status_code": 429,
        "error": "rate_limited",
        "detail": "Rate limit: your plan (trickle) allows 1 requests per minute; "
        "retry in 60 seconds",
    }
    assert refused.headers["retry-after"] == "60"
    assert refused.headers["ratelimit-limit"] == "1"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert not cache.entered.acquire(blocking=False)
    assert cache.renders == 0
