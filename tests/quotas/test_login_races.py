"""The login throttle against the real server process: parallel guesses, and strangers.

Issue 14.5: an attempt is counted before its password is verified, so of N parallel attempts
at most the limit reach verification (before, 25 parallel wrong passwords gave 25 x 401 with
a limit of 5: each was checked before any was recorded). Issue 14.6: the strict limit is per
(email, client address); a much looser per-email backstop catches guesses spread over many
addresses, so a stranger's guesses do not lock the owner out.

The server trusts 127.0.0.1 as its reverse proxy, so X-Forwarded-For names each client.
"""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

PARALLEL = 25


@pytest.fixture
def box(server_factory):
    return server_factory(
        config={
            "server": {"trusted_proxies": ["127.0.0.1/32"]},
            "ratelimit": {
                "login_failures_per_email_and_ip": 5,
                "login_failures_per_email": 15,
                "login_failures_per_ip": 8,
                "login_window_seconds": 900,
            },
        }
    ).start()


def token(box, email: str, password: str, address: str) -> httpx.Response:
    return httpx.post(
        f"{box.base_url}/api/v1/auth/token/",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": address},
        timeout=60,
    )


def in_parallel(calls) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 180  # 900 s / 5 at most


def test_parallel_wrong_passwords_reach_verification_at_most_the_limit(box):
    address = "203.0.113.10"
    answers = in_parallel(
        [lambda: token(box, ADMIN_EMAIL, "wrong-password", address) for _ in range(PARALLEL)]
    )
    assert Counter(a.status_code for a in answers) == {401: 5, 429: PARALLEL - 5}
    for answer in answers:
        if answer.status_code == 429:
            assert_throttled(answer)
            assert answer.json()["error"] == "too_many_requests"
    # then the right password from that address: still refused, without being looked at
    assert_throttled(token(box, ADMIN_EMAIL, ADMIN_PASSWORD, address))
    # 14.6: the owner, elsewhere, signs in
    assert token(box, ADMIN_EMAIL, ADMIN_PASSWORD, "198.51.100.20").status_code == 200


def test_parallel_guesses_over_many_emails_are_held_per_address(box):
    address = "203.0.113.11"
    answers = in_parallel(
        [
            lambda index=index: token(box, f"nobody{index}@example.com", "guess", address)
            for index in range(PARALLEL)
        ]
    )
    assert Counter(a.status_code for a in answers) == {401: 8, 429: PARALLEL - 8}
    assert token(box, "nobody@example.com", "guess", "203.0.113.12").status_code == 401


def test_parallel_admin_sign_ins_are_held_the_same_way(box):
    with httpx.Client(base_url=box.base_url, timeout=60) as browser:
        form = browser.get("/admin/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
        cookies = dict(browser.cookies)

    def sign_in(password: str, address: str) -> httpx.Response:
        return httpx.post(
            f"{box.base_url}/admin/login",
            data={"email": ADMIN_EMAIL, "password": password, "csrf_token": csrf},
            cookies=cookies,
            headers={"X-Forwarded-For": address},
            timeout=60,
        )

    address = "203.0.113.13"
    answers = in_parallel([lambda: sign_in("wrong-password", address) for _ in range(PARALLEL)])
    # 400: the sign-in page again, "Invalid email or password."
    assert Counter(a.status_code for a in answers) == {400: 5, 429: PARALLEL - 5}
    for answer in answers:
        if answer.status_code == 429:
            assert_throttled(answer)
            assert "Too many failed logins" in answer.text
    assert_throttled(sign_in(ADMIN_PASSWORD, address))
    signed_in = sign_in(ADMIN_PASSWORD, "198.51.100.21")
    assert signed_in.status_code == 303
    assert "qrstudio_session" in signed_in.cookies


def test_a_stranger_cannot_lock_the_owner_out_but_many_addresses_hit_the_backstop(box):
    # A stranger guesses the admin's password again and again from one address...
    stranger = "203.0.113.20"
    statuses = [token(box, ADMIN_EMAIL, "guess", stranger).status_code for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    # ...and the owner signs in from theirs, every time.
    for _ in range(3):
        assert token(box, ADMIN_EMAIL, ADMIN_PASSWORD, "198.51.100.30").status_code == 200
    # Guesses spread over addresses reach the per-email backstop (15 here: 3 addresses of 5,
    # the stranger's among them); past it the email is refused from anywhere, briefly.
    for address in ("203.0.113.21", "203.0.113.22"):
        assert [token(box, ADMIN_EMAIL, "guess", address).status_code for _ in range(5)] == [
            401
        ] * 5
    refused = token(box, ADMIN_EMAIL, ADMIN_PASSWORD, "198.51.100.31")
    assert refused.status_code == 429
    # 900 s / 15: one slot refills each minute (the real clock has moved a little since)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
