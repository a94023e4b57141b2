"""`qrstudio-box credits grant|show` as a subprocess against a real data_dir."""

from __future__ import annotations

import sqlite3


def test_credits_grant_and_show(server_factory):
    server = server_factory(config={"plans": {"free": {"monthly_quota": 7}}})
    server.write_config()
    server.cli("migrate")  # the CLI works on an existing database only (issue 15.4)
    server.cli(
        "users",
        "create",
        "--email",
        "buyer@example.com",
        "--password-stdin",
        stdin="buyer-password-1\n",
    )

    granted = server.cli(
        "credits", "grant", "--email", "Buyer@Example.com", "--amount", "25", "--note", "pack M"
    )
    assert "granted 25 generations to buyer@example.com" in granted.stdout
    assert "credits this month: 25; used 0 of 32" in granted.stdout
    server.cli("credits", "grant", "--email", "buyer@example.com", "--amount", "5")

    with sqlite3.connect(server.database_path) as conn:
        grants = conn.execute(
            "SELECT amount, note, granted_by FROM credit_grants ORDER BY id"
        ).fetchall()
        usage = conn.execute("SELECT used, credits FROM quota_usage").fetchall()
    assert grants == [(25, "pack M", None), (5, "", None)]
    assert usage == [(0, 30)]

    shown = server.cli("credits", "show", "--email", "buyer@example.com")
    assert "used 0 of 37 (quota 7 + credits 30), 0%" in shown.stdout


def test_credits_grant_refuses_bad_input_with_one_line(server_factory):
    server = server_factory()
    server.write_config()
    server.cli("migrate")
    unknown = server.cli(
        "credits", "grant", "--email", "ghost@example.com", "--amount", "5", check=False
    )
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "qrstudio-box: no user with email ghost@example.com"
    server.cli("users", "create", "--email", "a@example.com")
    zero = server.cli("credits", "grant", "--email", "a@example.com", "--amount", "0", check=False)
    assert zero.returncode == 1
    assert zero.stderr.strip() == "qrstudio-box: --amount: must be a positive number of generations"
    with sqlite3.connect(server.database_path) as conn:
        assert conn.execute("SELECT count(*) FROM credit_grants").fetchone()[0] == 0
