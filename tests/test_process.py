"""The real `qrstudio-box run` process, end to end."""

import time

import httpx

from .conftest import ADMIN_EMAIL


def test_run_login_cli_member_and_clean_sigterm(server_factory):
    server = server_factory(env={"QRSTUDIO_ADMIN_PASSWORD": ""})
    server.env.pop("QRSTUDIO_ADMIN_EMAIL")
    server.start()
    health = httpx.get(f"{server.base_url}/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "database": "ok",
        "scheduler": "running",
        "version": "0.3.0",
    }

    # No credentials in the environment: admin@localhost with a password printed once.
    line = next(text for text in server.output().splitlines() if "created admin" in text)
    password = line.split(" with password ")[1].split()[0]
    assert "admin@localhost" in line
    admin = server.token("admin@localhost", password)
    assert httpx.get(f"{server.base_url}/api/v1/me/", headers=admin).json()["role"] == "admin"

    created = server.cli(
        "users",
        "create",
        "--email",
        "member@example.com",
        "--plan",
        "pro",
        "--password-stdin",
        stdin="member-password-9\n",
    )
    assert "created member member@example.com" in created.stdout
    member = server.token("member@example.com", "member-password-9")
    me = httpx.get(f"{server.base_url}/api/v1/me/", headers=member).json()
    assert (me["email"], me["role"], me["plan"]) == ("member@example.com", "member", "pro")
    assert httpx.get(f"{server.base_url}/api/v1/admin/users/", headers=member).status_code == 403

    listed = server.cli("users", "list").stdout
    assert "admin@localhost" in listed and "member@example.com" in listed

    started = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - started < 5
    assert "Traceback" not in server.output()


def test_openapi_is_served_without_the_internet(server):
    schema = httpx.get(f"{server.base_url}/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/auth/token/" in paths or "/api/v1/auth/token" in paths
    assert "<script" not in httpx.get(f"{server.base_url}/schema").text


def test_second_start_keeps_data_and_prints_no_new_password(server_factory):
    server = server_factory().start()
    assert server.stop() == 0
    server.start()
    assert "created admin" not in server.output()
    assert (
        httpx.get(f"{server.base_url}/api/v1/me/", headers=server.token(ADMIN_EMAIL)).status_code
        == 200
    )
