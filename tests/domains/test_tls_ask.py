"""GET /internal/tls-ask on the real process over loopback (Caddy's on_demand_tls `ask`), and
the approval flow it follows: pending -> 404, approved (API or CLI) -> 200, deleted -> 404."""

from __future__ import annotations

import httpx

from ..conftest import wait_until


def ask(server, domain: str | None, **headers: str) -> httpx.Response:
    params = {} if domain is None else {"domain": domain}
    return httpx.get(f"{server.base_url}/internal/tls-ask", params=params, headers=headers)


def test_tls_ask_says_yes_only_for_an_active_domain(server_factory):
    server = server_factory(config={"domains": {"require_approval": True}}).start()
    api = server.base_url + "/api/v1"
    admin = server.token()
    owner = server.member("owner@example.com")
    domain = httpx.post(f"{api}/domains/", headers=owner, json={"hostname": "go.example.test"})
    assert domain.status_code == 201 and domain.json()["status"] == "pending", domain.text

    pending = ask(server, "go.example.test")
    assert pending.status_code == 404
    assert pending.json()["detail"] == "go.example.test is not an active branded domain here"
    approved = httpx.post(f"{api}/admin/domains/{domain.json()['id']}/approve/", headers=admin)
    assert approved.status_code == 200, approved.text
    yes = ask(server, "go.example.test")
    assert yes.status_code == 200
    assert yes.json() == {"domain": "go.example.test", "status": "active"}
    assert ask(server, "GO.example.test").status_code == 200
    assert ask(server, "unknown.example.test").status_code == 404
    assert ask(server, "127.0.0.1").status_code == 404
    missing = ask(server, None)
    assert missing.status_code == 400 and missing.json()["field"] == "domain"
    assert ask(server, "").status_code == 400
    # A visitor's request that a proxy on this box forwarded is not Caddy asking.
    forwarded = ask(server, "go.example.test", **{"X-Forwarded-For": "203.0.113.9"})
    assert forwarded.status_code == 403

    deleted = httpx.delete(f"{api}/domains/{domain.json()['id']}/", headers=owner)
    assert deleted.status_code == 204
    assert ask(server, "go.example.test").status_code == 404


def test_the_cli_approves_and_the_running_server_follows(server_factory):
    server = server_factory(config={"domains": {"require_approval": True}}).start()
    api = server.base_url + "/api/v1"
    owner = server.member("owner@example.com")
    created = httpx.post(f"{api}/domains/", headers=owner, json={"hostname": "go.example.test"})
    assert created.status_code == 201, created.text

    listed = server.cli("domains", "list", "--status", "pending")
    assert "go.example.test\tpending" in listed.stdout
    unknown = server.cli("domains", "approve", "nope.example.test", check=False)
    assert unknown.returncode == 1
    assert "no branded domain nope.example.test" in unknown.stderr
    approved = server.cli("domains", "approve", "Go.Example.Test")
    assert approved.stdout.startswith("approved go.example.test")
    assert httpx.get(f"{api}/domains/", headers=owner).json()["results"][0]["status"] == "active"
    # The server rereads the table every 10 s for changes made by another process.
    wait_until(
        lambda: ask(server, "go.example.test").status_code == 200,
        timeout=15,
        what="the running server to see the CLI's approval",
    )
    again = server.cli("domains", "approve", "go.example.test")
    assert again.stdout.strip() == "go.example.test is already active"
