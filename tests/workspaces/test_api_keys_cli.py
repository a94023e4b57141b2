"""`qrstudio-box api-keys create|list|revoke` through the real CLI, against a running server:
a key made in the shell works over HTTP at once, and one revoked in the shell is refused on
the server's very next call (it reads the key's row on every call)."""

from __future__ import annotations

import re

import httpx


def test_a_ci_job_gets_a_key_from_the_shell_and_loses_it_there(server):
    made = server.cli(
        "api-keys", "create", "--workspace", "1", "--name", "CI", "--scopes", "read, write"
    )
    key = made.stdout.strip()
    assert re.fullmatch(r"qsb_[0-9A-Za-z]{43}", key), made.stdout
    assert made.stderr.strip() == (
        "created API key 1 (CI: read, write) for workspace 1; the key is shown only now"
    )
    bearer = {"Authorization": f"Bearer {key}"}
    created = httpx.post(
        f"{server.base_url}/api/v1/dynamic-qrs/",
        headers=bearer,
        json={"name": "Built by CI", "destination_url": "https://example.com/ci"},
    )
    assert created.status_code == 201, created.text
    # It belongs to the admin's workspace (1), as if the admin had made it.
    mine = httpx.get(f"{server.base_url}/api/v1/dynamic-qrs/", headers=server.token()).json()
    assert [qr["short_id"] for qr in mine["results"]] == [created.json()["short_id"]]

    listed = server.cli("api-keys", "list", "--workspace", "1").stdout.splitlines()
    assert len(listed) == 1
    fields = listed[0].split("\t")
    assert fields[:5] == ["1", key[:10] + "…", "CI", "read,write", "expires never"]
    assert fields[5].startswith("last used 20")  # the call above was recorded
    assert key not in server.cli("api-keys", "list", "--workspace", "1").stdout

    assert server.cli("api-keys", "revoke", "--workspace", "1", "--id", "1").stdout.strip() == (
        "revoked API key 1 of workspace 1"
    )
    refused = httpx.get(f"{server.base_url}/api/v1/dynamic-qrs/", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This API key was revoked"
    assert server.cli("api-keys", "list", "--workspace", "1").stdout == ""


def test_mistakes_are_one_line_and_change_nothing(server):
    cases = [
        (
            ["create", "--workspace", "1", "--name", "CI", "--scopes", "read,admin"],
            "scopes: 'admin' is not a scope (use read, write, webhooks)",
        ),
        (
            ["create", "--workspace", "99", "--name", "CI", "--scopes", "read"],
            "--workspace: no workspace has id 99",
        ),
        (
            [
                "create",
                "--workspace",
                "1",
                "--name",
                "CI",
                "--scopes",
                "read",
                "--expires-at",
                "2001-01-01",
            ],
            "expires_at: must be in the future",
        ),
        (["revoke", "--workspace", "1", "--id", "5"], "--id: workspace 1 has no API key 5 in use"),
    ]
    for args, message in cases:
        result = server.cli("api-keys", *args, check=False)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stdout == ""
        assert result.stderr.strip().splitlines() == [f"qrstudio-box: {message}"], result.stderr
    assert server.cli("api-keys", "list", "--workspace", "1").stdout == ""
