"""`qrstudio-box users set-role` (issue 14.4) and CLI changes reaching a running server (14.1)."""

from __future__ import annotations

import sqlite3

import httpx

from ..conftest import wait_until


def test_set_role_recovers_an_admin_and_never_removes_the_last(server_factory):
    server = server_factory()
    server.write_config()
    server.cli("migrate")
    server.cli("users", "create", "--email", "boss@example.com", "--admin")
    server.cli("users", "create", "--email", "mia@example.com")

    demote = server.cli("users", "set-role", "--email", "boss@example.com", "member", check=False)
    assert demote.returncode == 1
    assert demote.stderr.strip() == (
        "qrstudio-box: role: the last active admin cannot become a member; make another admin first"
    )
    deactivate = server.cli("users", "set-active", "--email", "boss@example.com", "no", check=False)
    assert deactivate.returncode == 1
    assert deactivate.stderr.strip() == (
        "qrstudio-box: is_active: the last active admin cannot be deactivated; "
        "make another admin first"
    )

    promoted = server.cli("users", "set-role", "--email", "Mia@Example.com", "admin")
    assert promoted.stdout.strip() == "Mia@Example.com: role admin"
    server.cli("users", "set-role", "--email", "boss@example.com", "member")
    with sqlite3.connect(server.database_path) as conn:
        rows = conn.execute("SELECT email, role, token_epoch FROM users ORDER BY id").fetchall()
    assert rows == [("boss@example.com", "member", 1), ("mia@example.com", "admin", 1)]

    unknown = server.cli("users", "set-role", "--email", "ghost@example.com", "admin", check=False)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "qrstudio-box: no user with email ghost@example.com"


def test_a_password_set_at_the_cli_ends_tokens_on_the_running_server(server):
    headers = server.token()
    me = f"{server.base_url}/api/v1/me/"
    assert httpx.get(me, headers=headers).status_code == 200
    server.cli(
        "users",
        "set-password",
        "--email",
        "admin@example.com",
        "--password-stdin",
        stdin="a-recovered-password-1\n",
    )
    # The server rereads the epochs every EPOCH_REFRESH_SECONDS (10 s).
    wait_until(lambda: httpx.get(me, headers=headers).status_code == 401, timeout=30)
    fresh = server.token("admin@example.com", "a-recovered-password-1")
    assert httpx.get(me, headers=fresh).status_code == 200
