"""Tokens end when they should (issue 14.1-14.3): API tokens and UI sessions, from the outside."""

from __future__ import annotations

import sqlite3

import pytest

from qrstudio_box.accounts.tokens import UI_AUDIENCE

from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD, login

NEW_PASSWORD = "a-brand-new-password-7"


def ui_sign_in(client, email: str, password: str) -> str:
    """Sign in through the UI's form (CSRF and all); the session cookie's value."""
    client.cookies.clear()
    client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": client.cookies["qrstudio_csrf"]},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    session = response.cookies["qrstudio_session"]
    client.cookies.clear()
    return session


def ui_page(client, session: str):
    """GET /admin/account with only this session cookie; 200 if it signs someone in."""
    client.cookies.clear()
    return client.get(
        "/admin/account", headers={"Cookie": f"qrstudio_session={session}"}, follow_redirects=False
    )


def signed_in(client, session: str) -> bool:
    response = ui_page(client, session)
    if response.status_code == 303:
        assert response.headers["location"].startswith("/admin/login?next=")
        return False
    assert response.status_code == 200, response.text
    return True


def me(client, headers) -> int:
    return client.get("/api/v1/me/", headers=headers).status_code


CHANGES = {
    "admin sets the password": ("PATCH", "/api/v1/admin/users/{id}/", {"password": NEW_PASSWORD}),
    "admin changes the role": ("PATCH", "/api/v1/admin/users/{id}/", {"role": "admin"}),
    "admin deactivates": ("PATCH", "/api/v1/admin/users/{id}/", {"is_active": False}),
    "admin signs them out everywhere": (
        "POST",
        "/api/v1/admin/users/{id}/sign-out-everywhere/",
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(CHANGES))
def test_an_admin_change_ends_every_token_and_session(client, make_user, admin_headers, case):
    user = make_user()
    other_token = login(client, user.email, user.password)
    session = ui_sign_in(client, user.email, user.password)
    assert me(client, user.headers) == 200 and signed_in(client, session)

    method, path, body = CHANGES[case]
    response = client.request(method, path.format(id=user.id), headers=admin_headers, json=body)
    assert response.status_code in (200, 204), response.text

    assert me(client, user.headers) == 401
    assert me(client, other_token) == 401
    assert not signed_in(client, session)
    assert me(client, admin_headers) == 200  # the admin's own token is untouched


def test_signing_out_everywhere_ends_the_callers_tokens_and_sessions_too(client, make_user):
    user = make_user()
    other_token = login(client, user.email, user.password)
    session = ui_sign_in(client, user.email, user.password)
    response = client.post("/api/v1/me/sign-out-everywhere/", headers=user.headers)
    assert response.status_code == 204
    assert (me(client, user.headers), me(client, other_token)) == (401, 401)
    assert not signed_in(client, session)
    fresh = login(client, user.email, user.password)  # signing in again works
    assert me(client, fresh) == 200


def test_admin_sign_out_everywhere_of_an_unknown_user_is_a_404(client, admin_headers):
    response = client.post("/api/v1/admin/users/999/sign-out-everywhere/", headers=admin_headers)
    assert response.status_code == 404 and response.json()["detail"] == "No user with that id"


def test_reactivating_does_not_bring_old_tokens_back(client, make_user, admin_headers):
    user = make_user()
    session = ui_sign_in(client, user.email, user.password)
    path = f"/api/v1/admin/users/{user.id}/"
    assert client.patch(path, headers=admin_headers, json={"is_active": False}).status_code == 200
    assert client.patch(path, headers=admin_headers, json={"is_active": True}).status_code == 200
    assert me(client, user.headers) == 401
    assert not signed_in(client, session)
    assert me(client, login(client, user.email, user.password)) == 200


@pytest.mark.parametrize(
    "body", [{"plan": "business"}, {"role": "member"}, {"is_active": True}, {}]
)
def test_changes_that_take_nothing_away_keep_tokens(client, make_user, admin_headers, body):
    user = make_user()
    response = client.patch(f"/api/v1/admin/users/{user.id}/", headers=admin_headers, json=body)
    assert response.status_code == 200
    assert me(client, user.headers) == 200


def test_epochs_are_checked_in_memory_and_reread_for_the_cli(client, ctx, settings, make_user):
    """A token is judged by the epoch in memory, not by a row read per request; a change made
    by another process (the CLI) is picked up by the periodic reread (tokens.load)."""
    user = make_user()
    with sqlite3.connect(settings.database_path) as conn:  # as `qrstudio-box users ...` would
        conn.execute("UPDATE users SET token_epoch = token_epoch + 1 WHERE id = ?", (user.id,))
    assert me(client, user.headers) == 200  # memory has not heard of it yet
    client.blocking_portal.call(ctx.db.read, ctx.tokens.load)
    assert me(client, user.headers) == 401


def test_signing_in_right_after_a_cli_change_survives_the_next_reread(
    client, ctx, settings, make_user
):
    """A sign-in between a CLI change and the server's next reread gets a token at the new
    epoch (read with the login row), so that reread does not end it seconds later."""
    user = make_user()
    with sqlite3.connect(settings.database_path) as conn:  # as `users set-password` would
        conn.execute("UPDATE users SET token_epoch = token_epoch + 1 WHERE id = ?", (user.id,))
    fresh = login(client, user.email, user.password)
    session = ui_sign_in(client, user.email, user.password)
    client.blocking_portal.call(ctx.db.read, ctx.tokens.load)
    assert me(client, fresh) == 200
    assert signed_in(client, session)
    assert me(client, user.headers) == 401  # the token from before the change did end


# -- 14.2: a session is no bearer token, a bearer token is no session --------------------------


def test_a_session_cookie_is_refused_as_a_bearer_token(client):
    session = ui_sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert signed_in(client, session)
    response = client.get("/api/v1/me/", headers={"Authorization": f"Bearer {session}"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_an_api_token_is_refused_as_a_session_cookie(client, admin_headers, ctx):
    api_token = admin_headers["Authorization"].removeprefix("Bearer ")
    assert not signed_in(client, api_token)
    assert signed_in(client, ctx.tokens.issue(1, UI_AUDIENCE))  # the same user, the right kind


# -- 14.1: the UI's Sign out ends that session on the server -----------------------------------


def test_a_signed_out_session_cookie_stays_dead_across_a_restart(client, app, settings):
    from litestar.testing import TestClient

    from qrstudio_box.app import create_app

    session = ui_sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    kept = ui_sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)  # another browser, signed in too
    client.cookies.clear()
    client.get("/admin/account", headers={"Cookie": f"qrstudio_session={session}"})
    csrf = client.cookies["qrstudio_csrf"]
    response = client.post(
        "/admin/logout",
        headers={"Cookie": f"qrstudio_session={session}; qrstudio_csrf={csrf}"},
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    assert not signed_in(client, session)
    assert signed_in(client, kept)  # signing out here is not signing out everywhere

    # The deny-list is a table too: a restarted server still refuses the replayed cookie.
    with TestClient(create_app(settings), base_url="http://testserver.local") as restarted:
        assert not signed_in(restarted, session)
        assert signed_in(restarted, kept)


# -- 14.3: people change their own password ----------------------------------------------------


def test_changing_your_own_password(client, make_user, sql):
    user = make_user()
    other_token = login(client, user.email, user.password)
    session = ui_sign_in(client, user.email, user.password)
    response = client.post(
        "/api/v1/me/password/",
        headers=user.headers,
        json={"current_password": MEMBER_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    fresh = {"Authorization": f"Bearer {body['access_token']}"}
    assert me(client, fresh) == 200  # the caller goes on with the fresh token
    assert me(client, user.headers) == 401 and me(client, other_token) == 401
    assert not signed_in(client, session)
    assert (
        client.post(
            "/api/v1/auth/token/", json={"email": user.email, "password": MEMBER_PASSWORD}
        ).status_code
        == 401
    )
    assert me(client, login(client, user.email, NEW_PASSWORD)) == 200


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        (
            {"current_password": "not-my-password", "new_password": NEW_PASSWORD},
            "current_password",
            "current_password: is not your current password",
        ),
        (
            {"current_password": MEMBER_PASSWORD, "new_password": "short"},
            "new_password",
            "new_password: must be at least 8 characters",
        ),
        (
            {"current_password": MEMBER_PASSWORD, "new_password": "x" * 257},
            "new_password",
            "new_password: must be at most 256 characters",
        ),
        ({"current_password": MEMBER_PASSWORD}, "new_password", "new_password: is required"),
    ],
)
def test_a_refused_password_change_names_the_field_and_changes_nothing(
    client, make_user, sql, body, field, detail
):
    user = make_user()
    before = sql("SELECT password_hash, token_epoch FROM users WHERE id = ?", (user.id,))[0][:]
    response = client.post("/api/v1/me/password/", headers=user.headers, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field and response.json()["detail"] == detail
    after = sql("SELECT password_hash, token_epoch FROM users WHERE id = ?", (user.id,))[0][:]
    assert after == before
    assert me(client, user.headers) == 200


# -- the UI's buttons (the form posts a browser makes, CSRF included) ---------------------------


def ui_post(client, session: str, path: str, data: dict | None = None):
    """POST a UI form as the browser holding `session` would (its CSRF cookie and field)."""
    client.cookies.clear()
    client.get("/admin/account", headers={"Cookie": f"qrstudio_session={session}"})
    csrf = client.cookies["qrstudio_csrf"]
    client.cookies.clear()
    return client.post(
        path,
        headers={"Cookie": f"qrstudio_session={session}; qrstudio_csrf={csrf}"},
        data={"csrf_token": csrf, **(data or {})},
        follow_redirects=False,
    )


def test_sign_out_everywhere_from_your_account_page(client, make_user):
    user = make_user()
    here = ui_sign_in(client, user.email, user.password)
    elsewhere = ui_sign_in(client, user.email, user.password)
    response = ui_post(client, here, "/admin/account/sign-out-everywhere")
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    assert 'qrstudio_session=""' in response.headers.get("set-cookie", "")
    assert not signed_in(client, here) and not signed_in(client, elsewhere)
    assert me(client, user.headers) == 401


def test_an_admin_signs_a_user_out_everywhere_from_the_user_page(client, make_user):
    user = make_user()
    theirs = ui_sign_in(client, user.email, user.password)
    admin = ui_sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    response = ui_post(client, admin, f"/admin/users/{user.id}/sign-out-everywhere")
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users/{user.id}"
    assert not signed_in(client, theirs) and me(client, user.headers) == 401
    assert signed_in(client, admin)


def test_an_admin_resetting_their_own_password_on_the_user_page_stays_signed_in(client):
    admin = ui_sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    elsewhere = ui_sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    response = ui_post(client, admin, "/admin/users/1/password", {"password": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/admin/users/1"
    fresh = response.cookies["qrstudio_session"]
    assert signed_in(client, fresh)
    assert not signed_in(client, admin) and not signed_in(client, elsewhere)


def test_the_deny_list_forgets_a_token_once_it_has_expired(client, settings, sql):
    with sqlite3.connect(settings.database_path) as conn:  # signed out long ago, now expired
        conn.execute("INSERT INTO revoked_tokens (jti, user_id, expires_ms) VALUES ('old', 1, 1)")
    session = ui_sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert ui_post(client, session, "/admin/logout").status_code == 303
    rows = sql("SELECT jti, user_id, expires_ms FROM revoked_tokens")
    assert len(rows) == 1 and rows[0]["jti"] != "old" and rows[0]["user_id"] == 1
    assert rows[0]["expires_ms"] > 1_700_000_000_000
