"""Invitations by email (issue 16.5) through the API, with a real SMTP server in this process:
the mail that arrived carries the link; it signs up a new account or adds the workspace to an
existing one, with the role; once, for 7 days (the FakeClock is stepped), until withdrawn."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import pytest
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.config import settings_from_mapping

from ..admin.helpers import ui_login
from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD, login

INVITEE = "ana@bistro.test"


@pytest.fixture
def config(config, smtp_server):
    return {**config, "mail": smtp_server.mail_config()}


@pytest.fixture
def bistro(client, admin_headers) -> int:
    made = client.post("/api/v1/workspaces/", headers=admin_headers, json={"name": "Bistro"})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def invite(client, headers, workspace_id: int, email: str = INVITEE, role: str = "editor"):
    return client.post(
        f"/api/v1/workspaces/{workspace_id}/invitations/",
        headers=headers,
        json={"email": email, "role": role},
    )


def accept(client, token: str, password: str = "ana-password-1"):
    return client.post("/api/v1/invitations/accept/", json={"token": token, "password": password})


def token_of(mail) -> str:
    return mail.link("/admin/invite/").rsplit("/", 1)[1]


def workspaces_of(client, headers) -> list[tuple[str, str]]:
    listed = client.get("/api/v1/workspaces/", headers=headers)
    assert listed.status_code == 200, listed.text
    return sorted((w["name"], w["role"]) for w in listed.json()["results"])


def test_an_invitation_mails_a_link_that_signs_up_a_member_once(
    client, admin_headers, bistro, smtp_server, sql
):
    made = invite(client, admin_headers, bistro, "Ana@Bistro.test")
    assert made.status_code == 201, made.text
    body = made.json()
    assert body == {
        "id": body["id"],
        "email": INVITEE,
        "role": "editor",
        "invited_by": 1,
        "created_at": "2026-05-09T14:00:00Z",
        "expires_at": "2026-05-16T14:00:00Z",
        "mailed": True,
    }  # no link: it went by mail
    [mail] = smtp_server.to(INVITEE)  # sent before the answer
    assert mail.message["Subject"] == f"{ADMIN_EMAIL} invited you to Bistro on QRStudio Box"
    assert "as editor" in mail.body and "2026-05-16 14:00 UTC" in mail.body
    link = mail.link("/admin/invite/")
    assert link.startswith("http://127.0.0.1:8080/admin/invite/")
    token = token_of(mail)
    [row] = sql("SELECT token_hash FROM invitations")
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()

    pending = client.get(f"/api/v1/workspaces/{bistro}/invitations/", headers=admin_headers)
    assert pending.status_code == 200
    assert pending.json() == {"results": [{k: v for k, v in body.items() if k != "mailed"}]}

    accepted = accept(client, token)
    assert accepted.status_code == 200, accepted.text
    answer = accepted.json()
    assert (answer["workspace_id"], answer["role"], answer["new_account"]) == (
        bistro,
        "editor",
        True,
    )
    ana = {"Authorization": f"Bearer {answer['access_token']}"}
    assert workspaces_of(client, ana) == [("Bistro", "editor")]  # no personal workspace
    assert client.get("/api/v1/me/", headers=ana).json()["email"] == INVITEE
    assert login(client, INVITEE, "ana-password-1")
    members = client.get(f"/api/v1/workspaces/{bistro}/members/", headers=admin_headers).json()
    assert [(m["email"], m["role"]) for m in members["results"]] == [(INVITEE, "editor")]

    again = accept(client, token, "other-password-2")
    assert again.status_code == 400
    assert again.json()["detail"] == "token: this invitation was already used"
    assert again.json()["field"] == "token"
    listed = client.get(f"/api/v1/workspaces/{bistro}/invitations/", headers=admin_headers)
    assert listed.json() == {"results": []}
    [used] = sql("SELECT accepted_at, accepted_by FROM invitations")
    assert used["accepted_at"] == "2026-05-09T14:00:00Z"
    assert used["accepted_by"] == answer["user_id"]


def test_an_existing_user_joins_with_their_password(
    client, admin_headers, bistro, make_user, smtp_server
):
    user = make_user()
    invite(client, admin_headers, bistro, user.email.upper(), "viewer")
    token = token_of(smtp_server.to(user.email)[0])
    wrong = accept(client, token, "not-the-password")
    assert wrong.status_code == 401
    joined = accept(client, token, MEMBER_PASSWORD)
    assert joined.status_code == 200, joined.text
    assert (joined.json()["new_account"], joined.json()["role"]) == (False, "viewer")
    assert workspaces_of(client, user.headers) == [("Bistro", "viewer"), (user.email, "owner")]
    # Their calls without X-QRStudio-Workspace still act on their own workspace.
    mine = client.post(
        "/api/v1/dynamic-qrs/",
        headers=user.headers,
        json={"destination_url": "https://example.com/", "name": "mine"},
    )
    assert mine.status_code == 201, mine.text
    in_bistro = {**user.headers, "X-QRStudio-Workspace": str(bistro)}
    assert client.get("/api/v1/dynamic-qrs/", headers=in_bistro).json()["results"] == []
    # A member already: inviting them again is refused, naming the email.
    again = invite(client, admin_headers, bistro, user.email)
    assert again.status_code == 409
    assert again.json() == {
        "status_code": 409,
        "error": "conflict",
        "detail": "email: this user is a member already",
        "field": "email",
    }


def test_a_link_ends_after_seven_days_or_when_withdrawn_or_replaced(
    client, admin_headers, bistro, smtp_server, fake_clock, sql
):
    invite(client, admin_headers, bistro, "old@bistro.test")
    expiring = token_of(smtp_server.to("old@bistro.test")[0])
    fake_clock.advance(days=7, seconds=-1)
    assert client.get(f"/admin/invite/{expiring}").status_code == 200
    fake_clock.advance(seconds=1)
    assert accept(client, expiring).json()["detail"] == "token: this invitation has expired"
    closed = client.get(f"/admin/invite/{expiring}")
    assert closed.status_code == 410 and "This invitation has expired." in closed.text
    listed = client.get(f"/api/v1/workspaces/{bistro}/invitations/", headers=admin_headers)
    assert listed.json()["results"] == []

    first = invite(client, admin_headers, bistro).json()
    second = invite(client, admin_headers, bistro, role="owner").json()  # replaces the first
    first_token, second_token = (token_of(m) for m in smtp_server.to(INVITEE))
    assert accept(client, first_token).json()["detail"] == "token: this invitation was withdrawn"
    pending = client.get(f"/api/v1/workspaces/{bistro}/invitations/", headers=admin_headers)
    assert [i["id"] for i in pending.json()["results"]] == [second["id"]]

    url = f"/api/v1/workspaces/{bistro}/invitations/{second['id']}/"
    assert client.delete(url, headers=admin_headers).status_code == 204
    assert accept(client, second_token).json()["detail"] == "token: this invitation was withdrawn"
    assert client.delete(url, headers=admin_headers).status_code == 404
    gone = f"/api/v1/workspaces/{bistro}/invitations/{first['id']}/"
    assert client.delete(gone, headers=admin_headers).status_code == 404
    assert accept(client, "no-such-token").json()["detail"] == (
        "token: this invitation is not valid: check that it was copied whole"
    )
    assert sql("SELECT count(*) FROM users WHERE email = ?", (INVITEE,))[0][0] == 0


def test_a_failed_send_answers_the_link_instead(client, admin_headers, bistro, smtp_server):
    smtp_server.refuse = True
    made = invite(client, admin_headers, bistro)
    assert made.status_code == 201
    assert made.json()["mailed"] is False
    link = made.json()["link"]
    assert link.startswith("http://127.0.0.1:8080/admin/invite/")
    assert accept(client, link.rsplit("/", 1)[1]).status_code == 200


def test_only_owners_invite_and_fields_are_checked(client, admin_headers, bistro, make_user):
    owner, editor = make_user(), make_user()
    for person, role in ((owner, "owner"), (editor, "editor")):
        added = client.post(
            f"/api/v1/workspaces/{bistro}/members/",
            headers=admin_headers,
            json={"email": person.email, "role": role},
        )
        assert added.status_code == 201
    refused = invite(client, editor.headers, bistro)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This needs the owner role in this workspace"
    listing = client.get(f"/api/v1/workspaces/{bistro}/invitations/", headers=editor.headers)
    assert listing.status_code == 403
    assert invite(client, owner.headers, bistro).status_code == 201
    stranger = make_user()
    assert invite(client, stranger.headers, bistro).status_code == 404
    bad = invite(client, owner.headers, bistro, "not an email")
    assert (bad.status_code, bad.json()["field"]) == (400, "email")
    bad_role = invite(client, owner.headers, bistro, role="admin")
    assert (bad_role.status_code, bad_role.json()["field"]) == (400, "role")


def test_with_mail_off_the_answer_and_the_page_carry_the_link(tmp_path: Path):
    settings = settings_from_mapping({"storage": {"data_dir": str(tmp_path / "off")}})
    env = {"QRSTUDIO_ADMIN_EMAIL": ADMIN_EMAIL, "QRSTUDIO_ADMIN_PASSWORD": ADMIN_PASSWORD}
    with TestClient(create_app(settings, env=env)) as client:
        admin = login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
        made = invite(client, admin, 1, "bo@example.com", "viewer")
        assert made.status_code == 201, made.text
        assert made.json()["mailed"] is False
        assert made.json()["link"].startswith("http://127.0.0.1:8080/admin/invite/")
        cookies = ui_login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
        in_ui = client.post(
            "/admin/invitations",
            data={
                "email": "cy@example.com",
                "role": "editor",
                "csrf_token": cookies["qrstudio_csrf"],
            },
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
        )
        assert in_ui.status_code == 200
        assert "Mail is off on this box</strong>: pass this link on to" in in_ui.text
        assert re.search(r'value="http://127\.0\.0\.1:8080/admin/invite/[\w-]{43}"', in_ui.text)
    with sqlite3.connect(settings.database_path) as conn:
        stored = [row[0] for row in conn.execute("SELECT token_hash FROM invitations")]
    token = made.json()["link"].rsplit("/", 1)[1]
    assert len(stored) == 2 and hashlib.sha256(token.encode()).hexdigest() in stored
