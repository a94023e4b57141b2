"""Login and bearer auth, table-driven over every way a token can be wrong."""

import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from qrstudio_box.accounts.tokens import API_AUDIENCE, KEY_FILE, UI_AUDIENCE

from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD, login

BAD_LOGIN = {"status_code": 401, "error": "unauthorized", "detail": "Invalid email or password"}


def test_token_endpoint_answers_the_documented_shape(client):
    response = client.post(
        "/api/v1/auth/token/", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 720 * 60


def test_email_is_case_insensitive_at_login(client):
    assert login(client, ADMIN_EMAIL.upper(), ADMIN_PASSWORD)


@pytest.mark.parametrize(
    ("case", "email", "password"),
    [
        ("wrong password", ADMIN_EMAIL, "not-the-password"),
        ("unknown user", "nobody@example.com", ADMIN_PASSWORD),
        ("inactive user", "inactive", MEMBER_PASSWORD),
    ],
)
def test_bad_logins_share_one_answer(client, make_user, admin_headers, case, email, password):
    if email == "inactive":
        account = make_user(plan="free")
        assert (
            client.patch(
                f"/api/v1/admin/users/{account.id}/",
                headers=admin_headers,
                json={"is_active": False},
            ).status_code
            == 200
        )
        email = account.email
    response = client.post("/api/v1/auth/token/", json={"email": email, "password": password})
    assert response.status_code == 401
    assert response.json() == BAD_LOGIN


def _token(settings, sub="1", exp_delta=timedelta(hours=1), key=None, alg="HS256", **claims):
    key = key or (settings.data_dir / KEY_FILE).read_text().strip()
    now = datetime.now(UTC)
    payload = {"sub": sub, "iat": now, "exp": now + exp_delta, "aud": API_AUDIENCE}
    payload["extras"] = {"ep": 0}
    payload = {name: value for name, value in (payload | claims).items() if value is not None}
    return jwt.encode(payload, key, algorithm=alg)


@pytest.mark.parametrize(
    "case",
    [
        "good",
        "missing",
        "malformed",
        "not bearer",
        "expired",
        "tampered",
        "other key",
        "unknown user",
        "inactive user",
        "alg none",
        "no audience (as 0.1.0 issued)",
        "ui audience (a session cookie)",
        "no epoch",
        "api key prefix",
    ],
)
def test_bearer_auth_cases(client, settings, make_user, admin_headers, case):
    headers = {}
    if case == "good":
        headers = {"Authorization": f"Bearer {_token(settings)}"}
    elif case == "malformed":
        headers = {"Authorization": "Bearer not.a.jwt"}
    elif case == "not bearer":
        headers = {"Authorization": f"Basic {_token(settings)}"}
    elif case == "expired":
        headers = {"Authorization": f"Bearer {_token(settings, exp_delta=timedelta(seconds=-5))}"}
    elif case == "tampered":
        head, payload, signature = _token(settings).split(".")
        other_payload = _token(settings, sub="2").split(".")[1]
        headers = {"Authorization": f"Bearer {head}.{other_payload}.{signature}"}
    elif case == "other key":
        headers = {
            "Authorization": f"Bearer {_token(settings, key='another-key-entirely-0123456789')}"
        }
    elif case == "unknown user":
        headers = {"Authorization": f"Bearer {_token(settings, sub='999')}"}
    elif case == "inactive user":
        account = make_user()
        client.patch(
            f"/api/v1/admin/users/{account.id}/", headers=admin_headers, json={"is_active": False}
        )
        headers = account.headers
    elif case == "alg none":
        headers = {
            "Authorization": "Bearer "
            + jwt.encode(
                {"sub": "1", "exp": datetime.now(UTC) + timedelta(hours=1)}, None, algorithm="none"
            )
        }
    elif case.startswith("no audience"):
        headers = {"Authorization": f"Bearer {_token(settings, aud=None)}"}
    elif case.startswith("ui audience"):
        headers = {"Authorization": f"Bearer {_token(settings, aud=UI_AUDIENCE)}"}
    elif case == "no epoch":
        headers = {"Authorization": f"Bearer {_token(settings, extras={})}"}
    elif case == "api key prefix":
        headers = {"Authorization": "Bearer qsb_" + "A" * 43}
    response = client.get("/api/v1/me/", headers=headers)
    if case == "good":
        assert response.status_code == 200
        assert response.json()["email"] == ADMIN_EMAIL
    else:
        assert response.status_code == 401, case
        body = response.json()
        assert body["status_code"] == 401 and body["error"] == "unauthorized"


def test_me_never_shows_the_hash(client, admin_headers, sql):
    body = client.get("/api/v1/me/", headers=admin_headers).json()
    assert set(body) == {"id", "email", "role", "plan", "is_active", "created_at"}
    assert body["role"] == "admin" and body["plan"] == "business"  # the first admin: the top plan
    stored = sql("SELECT password_hash FROM users WHERE email = ?", (ADMIN_EMAIL,))[0][0]
    assert stored.startswith("$argon2id$")


def test_every_api_route_needs_a_token(client, app):
    open_paths = {
        "/api/v1/auth/token",
        # A forgotten password and an invitation are used without an account (issue 16.5).
        "/api/v1/auth/password-reset",
        "/api/v1/auth/password-reset/confirm",
        "/api/v1/invitations/accept",
    }
    for route in app.routes:
        path = route.path.rstrip("/")
        if not path.startswith("/api/v1") or path in open_paths:
            continue
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            concrete = re.sub(r"\{[^}]+\}", "1", path)  # every path parameter, any domain
            response = client.request(method, concrete + "/")
            assert response.status_code == 401, (method, concrete)


def test_the_signing_key_is_kept_private_in_data_dir(client, settings):
    path = settings.data_dir / KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(path.read_text().strip()) >= 48
