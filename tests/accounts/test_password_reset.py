"""Password reset by email (issue 16.5) through the API, with a real SMTP server in this
process: the mail that arrived carries the link; the link works once, for one hour (the
FakeClock is stepped), ends every session; unknown emails get the same answer and no mail."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.cli import main as cli_main
from qrstudio_box.config import settings_from_mapping, to_toml

from ..conftest import ADMIN_EMAIL, MEMBER_PASSWORD, login

REQUESTED = {
    "detail": "If an account has that email, a link to reset its password is on its way. "
    "It works for 60 minutes.",
    "mail_enabled": True,
}


@pytest.fixture
def config(config, smtp_server):
    return {**config, "mail": smtp_server.mail_config()}


def ask(client, email: str):
    return client.post("/api/v1/auth/password-reset/", json={"email": email})


def token_in(received) -> str:
    return received.link("/admin/password-reset/").rsplit("/", 1)[1]


def confirm(client, token: str, password: str = "a-new-password-1"):
    return client.post(
        "/api/v1/auth/password-reset/confirm/", json={"token": token, "new_password": password}
    )


def test_the_mailed_link_sets_a_new_password_once_and_ends_every_session(
    client, make_user, smtp_server, sql
):
    user = make_user()
    answer = ask(client, user.email.upper())
    assert answer.status_code == 202 and answer.json() == REQUESTED
    mail = smtp_server.wait_for(user.email)
    assert mail.rcpt_tos == [user.email]
    assert mail.message["Subject"] == "Reset your QRStudio Box password"
    assert mail.message["From"] == "QRStudio Box <qr@box.example>"
    link = mail.link("/admin/password-reset/")
    assert link.startswith("http://127.0.0.1:8080/admin/password-reset/")
    token = token_in(mail)
    assert len(token) >= 43 and f"of {user.email} on" in mail.body

    # Stored hashed, never as it is.
    [row] = sql("SELECT * FROM password_resets")
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert row["user_id"] == user.id and row["used_at"] is None
    assert row["created_at"] == "2026-05-09T14:00:00Z"
    assert row["expires_at"] == "2026-05-09T15:00:00Z"
    assert token not in str([tuple(r) for r in sql("SELECT * FROM password_resets")])

    too_short = confirm(client, token, "short")
    assert too_short.status_code == 400 and too_short.json()["field"] == "new_password"

    done = confirm(client, token)
    assert done.status_code == 200, done.text
    fresh = {"Authorization": f"Bearer {done.json()['access_token']}"}
    assert client.get("/api/v1/me/", headers=fresh).json()["email"] == user.email
    assert client.get("/api/v1/me/", headers=user.headers).status_code == 401  # ended
    assert login(client, user.email, "a-new-password-1")
    old = client.post(
        "/api/v1/auth/token/", json={"email": user.email, "password": MEMBER_PASSWORD}
    )
    assert old.status_code == 401

    again = confirm(client, token, "another-password-2")
    assert again.status_code == 400
    assert again.json()["field"] == "token"
    assert again.json()["detail"] == "token: this link was already used"
    assert login(client, user.email, "a-new-password-1")


def test_a_link_ends_after_an_hour_and_a_new_password_ends_the_others(
    client, make_user, smtp_server, fake_clock
):
    user = make_user()
    ask(client, user.email)
    first = token_in(smtp_server.wait_for(user.email, 1))
    fake_clock.advance(minutes=59)
    ask(client, user.email)
    second = token_in(smtp_server.wait_for(user.email, 2))
    fake_clock.advance(minutes=1)  # the first one is 60 minutes old
    expired = confirm(client, first)
    assert expired.status_code == 400
    assert expired.json()["detail"] == "token: this link has expired"

    ask(client, user.email)
    third = token_in(smtp_server.wait_for(user.email, 3))
    assert confirm(client, second).status_code == 200
    # Using one link ends the user's other links.
    assert confirm(client, third).json()["detail"] == "token: this link was already used"
    assert confirm(client, "not-a-token").json()["detail"] == (
        "token: this link is not valid: check that it was copied whole"
    )


def test_unknown_and_deactivated_emails_get_the_same_answer_and_no_mail(
    client, make_user, admin_headers, smtp_server, sql
):
    gone = make_user()
    off = client.patch(
        f"/api/v1/admin/users/{gone.id}/", headers=admin_headers, json={"is_active": False}
    )
    assert off.status_code == 200
    for email in ("nobody@example.com", gone.email):
        answer = ask(client, email)
        assert (answer.status_code, answer.json()) == (202, REQUESTED)
    known = make_user()
    ask(client, known.email)
    smtp_server.wait_for(known.email)
    assert [m.rcpt_tos for m in smtp_server.messages] == [[known.email]]
    assert len(sql("SELECT * FROM password_resets")) == 1

    bad = ask(client, "not an email")
    assert bad.status_code == 400 and bad.json()["field"] == "email"


def test_requests_are_throttled_whether_the_email_has_an_account_or_not(
    client, make_user, smtp_server, fake_clock
):
    user = make_user()
    for email in (user.email, "nobody@example.com"):
        assert [ask(client, email).status_code for _ in range(4)] == [202, 202, 202, 429]
    refused = ask(client, user.email)
    assert refused.json()["detail"] == ("Too many password-reset requests; try again in 20 minutes")
    assert refused.headers["Retry-After"] == "1200"
    smtp_server.wait_for(user.email, 3)
    fake_clock.advance(minutes=20)
    assert ask(client, user.email).status_code == 202
    smtp_server.wait_for(user.email, 4)


def test_with_mail_off_the_answer_says_so_and_nothing_is_made(tmp_path: Path):
    settings = settings_from_mapping({"storage": {"data_dir": str(tmp_path / "off")}})
    app = create_app(settings, env={"QRSTUDIO_ADMIN_EMAIL": ADMIN_EMAIL})
    with TestClient(app) as client:
        answer = ask(client, ADMIN_EMAIL)
        assert answer.status_code == 202
        assert answer.json() == {
            "detail": "Mail is off on this box: ask an admin for a password-reset link.",
            "mail_enabled": False,
        }
        form = client.get("/admin/password-reset")
        assert form.status_code == 200
        assert "Mail is off on this box: ask an admin for a password-reset link." in form.text
        assert 'name="email"' not in form.text
    with sqlite3.connect(settings.database_path) as conn:
        assert conn.execute("SELECT count(*) FROM password_resets").fetchone() == (0,)


def test_the_cli_makes_a_link_to_pass_on(
    client, make_user, settings, smtp_server, tmp_path: Path, capsys
):
    user = make_user()
    config_path = tmp_path / "cli.toml"
    config_path.write_text(to_toml({"storage": {"data_dir": str(settings.data_dir)}}))
    command = ["users", "reset-link", "--email", user.email.upper(), "--config", str(config_path)]
    assert cli_main(command) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{user.email}: password-reset link (works once, for 60 minutes):"
    assert out[1].startswith("http://127.0.0.1:8080/admin/password-reset/")
    assert confirm(client, out[1].rsplit("/", 1)[1]).status_code == 200
    assert smtp_server.messages == []
    assert cli_main([*command[:3], "ghost@example.com", *command[4:]]) == 1
    assert capsys.readouterr().err == "qrstudio-box: no user with email ghost@example.com\n"
