"""/api/v1/domains/ over HTTP: create, list, read, change, delete, the plan limit, approval."""

from __future__ import annotations

import pytest

from ..links.helpers import create_qr

DOMAINS = "/api/v1/domains/"


def add(client, headers, hostname="go.bistro.example", **body):
    return client.post(DOMAINS, headers=headers, json={"hostname": hostname, **body})


def map_entry(client, ctx, hostname):
    return client.blocking_portal.call(lambda: _by_host(ctx, hostname))


async def _by_host(ctx, hostname):
    return ctx.domains.by_host(hostname)


def test_a_new_domain_is_active_at_once_with_its_dns_record(client, ctx, make_user, sql):
    owner = make_user(plan="pro")
    answer = add(client, owner.headers, "Go.Bistro.Example", fallback_url="https://bistro.example/")
    assert answer.status_code == 201, answer.text
    domain = answer.json()
    assert domain == {
        "id": domain["id"],
        "hostname": "go.bistro.example",
        "status": "active",
        "fallback_url": "https://bistro.example/",
        "created_at": "2026-05-09T14:00:00Z",
        "approved_at": "2026-05-09T14:00:00Z",
        "qr_count": 0,
        "dns": {"type": "CNAME", "name": "go.bistro.example", "target": "127.0.0.1"},
    }
    assert client.get(DOMAINS, headers=owner.headers).json() == {"results": [domain]}
    one = client.get(f"{DOMAINS}{domain['id']}/", headers=owner.headers)
    assert one.status_code == 200 and one.json() == domain
    (row,) = sql("SELECT workspace_id, hostname, status FROM domains")
    assert tuple(row) == (owner.id, "go.bistro.example", "active")
    # The map the redirect reads has it, without a query.
    entry = map_entry(client, ctx, "go.bistro.example")
    assert (entry.id, entry.workspace_id, entry.status, entry.fallback_url) == (
        domain["id"],
        owner.id,
        "active",
        "https://bistro.example/",
    )
    assert map_entry(client, ctx, "GO.bistro.example.") == entry


@pytest.mark.parametrize(
    "body,field,message",
    [
        ({"hostname": "192.0.2.7"}, "hostname", "hostname: must be a domain name, not an IP"),
        ({"hostname": "localhost"}, "hostname", "hostname: must have at least one dot"),
        ({"hostname": "bücher.example"}, "hostname", "punycode: xn--bcher-kva.example"),
        ({"hostname": "127.0.0.1"}, "hostname", "not an IP address"),
        (
            {"hostname": "go.example.test", "fallback_url": "ftp://x.example/"},
            "fallback_url",
            "fallback_url: must be an http(s) URL",
        ),
        ({"hostname": 7}, "hostname", "hostname: must be text"),
        ({}, "hostname", "hostname: is required"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    client, make_user, sql, body, field, message
):
    owner = make_user(plan="pro")
    answer = client.post(DOMAINS, headers=owner.headers, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field
    assert message in answer.json()["detail"]
    assert sql("SELECT count(*) FROM domains")[0][0] == 0


def test_every_wrong_field_in_one_answer(client, make_user):
    owner = make_user(plan="pro")
    answer = add(client, owner.headers, "localhost", fallback_url="nope")
    assert answer.status_code == 400
    assert [problem["field"] for problem in answer.json()["errors"]] == ["hostname", "fallback_url"]


@pytest.fixture
def public_url(config):
    config["server"] = {"public_url": "https://qr.agency.example"}


def test_the_appliances_own_host_is_refused_and_is_the_cname_target(public_url, client, make_user):
    owner = make_user(plan="pro")
    answer = add(client, owner.headers, "QR.agency.example")
    assert answer.status_code == 400
    assert "this appliance's own host" in answer.json()["detail"]
    made = add(client, owner.headers, "go.bistro.example").json()
    assert made["dns"] == {
        "type": "CNAME",
        "name": "go.bistro.example",
        "target": "qr.agency.example",
    }


def test_a_hostname_is_unique_across_the_box_until_deleted(client, make_user):
    first, second = make_user(plan="pro"), make_user(plan="pro")
    domain = add(client, first.headers, "go.shared.example").json()
    taken = add(client, second.headers, "Go.Shared.Example")
    assert taken.status_code == 409, taken.text
    assert taken.json() == {
        "status_code": 409,
        "error": "conflict",
        "detail": "hostname: go.shared.example is already a branded domain on this box",
        "field": "hostname",
    }
    assert client.delete(f"{DOMAINS}{domain['id']}/", headers=first.headers).status_code == 204
    again = add(client, second.headers, "go.shared.example")
    assert again.status_code == 201, again.text


@pytest.mark.parametrize("plan,allowed", [("free", 0), ("pro", 1), ("business", 10)])
def test_the_plans_custom_domains_limit(client, make_user, sql, plan, allowed):
    owner = make_user(plan=plan)
    for number in range(allowed):
        assert add(client, owner.headers, f"go{number}.example.test").status_code == 201
    refused = add(client, owner.headers, "one-more.example.test")
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "plan_limit"
    assert f"Your plan ({plan})" in refused.json()["detail"]
    assert sql("SELECT count(*) FROM domains")[0][0] == allowed


def test_a_deleted_domain_frees_its_place_in_the_plan(client, make_user):
    owner = make_user(plan="pro")
    domain = add(client, owner.headers, "go.one.example").json()
    assert add(client, owner.headers, "go.two.example").status_code == 403
    assert client.delete(f"{DOMAINS}{domain['id']}/", headers=owner.headers).status_code == 204
    assert add(client, owner.headers, "go.two.example").status_code == 201


def test_patch_changes_the_fallback_url(client, ctx, make_user, fake_clock):
    owner = make_user(plan="pro")
    domain = add(client, owner.headers).json()
    url = f"{DOMAINS}{domain['id']}/"
    changed = client.patch(url, headers=owner.headers, json={"fallback_url": "https://b.example/"})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**domain, "fallback_url": "https://b.example/"}
    assert map_entry(client, ctx, "go.bistro.example").fallback_url == "https://b.example/"
    bad = client.patch(url, headers=owner.headers, json={"fallback_url": "javascript:alert(1)"})
    assert bad.status_code == 400 and bad.json()["field"] == "fallback_url"
    assert client.get(url, headers=owner.headers).json()["fallback_url"] == "https://b.example/"
    removed = client.patch(url, headers=owner.headers, json={"fallback_url": ""})
    assert removed.json()["fallback_url"] == ""
    hostname = client.patch(url, headers=owner.headers, json={"hostname": "other.example"})
    assert hostname.status_code == 400  # a domain's host name never changes: add another


def test_delete_is_refused_while_a_qr_uses_the_domain(client, ctx, make_user, sql):
    owner = make_user(plan="pro")
    domain = add(client, owner.headers).json()
    url = f"{DOMAINS}{domain['id']}/"
    qr = create_qr(client, owner.headers, domain="go.bistro.example")
    assert sql("SELECT domain_id FROM dynamic_qrs")[0][0] == domain["id"]
    assert client.get(url, headers=owner.headers).json()["qr_count"] == 1
    refused = client.delete(url, headers=owner.headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        "1 dynamic QR on go.bistro.example is not deleted; its printed codes would stop working. "
        "Delete it first."
    )
    assert sql("SELECT status FROM domains")[0][0] == "active"
    gone = client.delete(f"/api/v1/dynamic-qrs/{qr['short_id']}/", headers=owner.headers)
    assert gone.status_code == 204
    assert client.get(url, headers=owner.headers).json()["qr_count"] == 0
    assert client.delete(url, headers=owner.headers).status_code == 204
    assert tuple(sql("SELECT status, deleted_at FROM domains")[0]) == (
        "deleted",
        "2026-05-09T14:00:00Z",
    )
    assert client.get(url, headers=owner.headers).status_code == 404
    assert client.get(DOMAINS, headers=owner.headers).json() == {"results": []}
    # Its host stays known to the redirect, as deleted (the neutral 404, never the admin UI).
    assert map_entry(client, ctx, "go.bistro.example").status == "deleted"


def test_another_workspaces_domain_is_404_and_unchanged(client, make_user, sql):
    owner, other = make_user(plan="pro"), make_user(plan="pro")
    domain = add(client, owner.headers, fallback_url="https://bistro.example/").json()
    url = f"{DOMAINS}{domain['id']}/"
    before = [tuple(row) for row in sql("SELECT * FROM domains")]
    assert client.get(url, headers=other.headers).status_code == 404
    patched = client.patch(
        url, headers=other.headers, json={"fallback_url": "https://evil.example/"}
    )
    assert patched.status_code == 404
    assert patched.json()["detail"] == "No such domain"
    assert client.delete(url, headers=other.headers).status_code == 404
    assert client.get(DOMAINS, headers=other.headers).json() == {"results": []}
    assert [tuple(row) for row in sql("SELECT * FROM domains")] == before


@pytest.fixture
def approval(config):
    config["domains"] = {"require_approval": True}


def test_with_approval_required_a_domain_waits_for_an_instance_admin(
    approval, client, ctx, make_user, admin_headers, fake_clock
):
    owner = make_user(plan="pro")
    domain = add(client, owner.headers).json()
    assert (domain["status"], domain["approved_at"]) == ("pending", None)
    assert map_entry(client, ctx, "go.bistro.example").is_active is False
    pending = client.get("/api/v1/admin/domains/?status=pending", headers=admin_headers).json()
    assert [(d["id"], d["workspace_id"]) for d in pending["results"]] == [(domain["id"], owner.id)]
    approve = f"/api/v1/admin/domains/{domain['id']}/approve/"
    refused = client.post(approve, headers=owner.headers)
    assert refused.status_code == 403
    fake_clock.advance(minutes=5)
    approved = client.post(approve, headers=admin_headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    assert approved.json()["approved_at"] == "2026-05-09T14:05:00Z"
    assert map_entry(client, ctx, "go.bistro.example").is_active is True
    again = client.post(approve, headers=admin_headers)  # approving twice changes nothing
    assert again.status_code == 200 and again.json() == approved.json()
    assert (
        client.post("/api/v1/admin/domains/999/approve/", headers=admin_headers).status_code == 404
    )


def test_tls_ask_refuses_a_caller_that_is_not_the_box(client, make_user):
    # The test client's peer is "testclient", not an address on this box.
    answer = client.get("/internal/tls-ask", params={"domain": "go.bistro.example"})
    assert answer.status_code == 403
    assert answer.json()["detail"] == "Only this box's reverse proxy may ask"


def test_members_see_the_domains_and_only_an_owner_changes_them(client, make_user, admin_headers):
    made = client.post(
        "/api/v1/workspaces/", headers=admin_headers, json={"name": "Bistro", "plan": "pro"}
    )
    assert made.status_code == 201, made.text
    workspace = str(made.json()["id"])
    people = {}
    for role in ("viewer", "editor", "owner"):
        person = make_user(plan="free")
        added = client.post(
            f"/api/v1/workspaces/{workspace}/members/",
            headers=admin_headers,
            json={"email": person.email, "role": role},
        )
        assert added.status_code == 201, added.text
        people[role] = {**person.headers, "X-QRStudio-Workspace": workspace}
    for role in ("viewer", "editor"):
        refused = add(client, people[role], "go.bistro.example")
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"] == "This needs the owner role in this workspace"
    domain = add(client, people["owner"], "go.bistro.example")
    assert domain.status_code == 201, domain.text  # the workspace's plan (pro), not the person's
    url = f"{DOMAINS}{domain.json()['id']}/"
    for role in ("viewer", "editor"):
        assert client.get(url, headers=people[role]).json() == domain.json()
        assert client.get(DOMAINS, headers=people[role]).json()["results"] == [domain.json()]
        patched = client.patch(
            url, headers=people[role], json={"fallback_url": "https://x.example/"}
        )
        assert patched.status_code == 403
        assert client.delete(url, headers=people[role]).status_code == 403
    # The owner's own personal workspace (free) has none of them, and no room for one.
    personal = {k: v for k, v in people["owner"].items() if k != "X-QRStudio-Workspace"}
    assert client.get(DOMAINS, headers=personal).json() == {"results": []}
    assert add(client, personal, "go.mine.example").json()["error"] == "plan_limit"
    assert client.delete(url, headers=people["owner"]).status_code == 204
