import pytest

from ..conftest import MEMBER_PASSWORD, login


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/admin/users/", None),
        ("POST", "/api/v1/admin/users/", {"email": "x@example.com"}),
        ("GET", "/api/v1/admin/users/1/", None),
        ("PATCH", "/api/v1/admin/users/1/", {"plan": "business"}),
    ],
)
def test_members_get_403_on_admin_routes(client, make_user, sql, method, path, body):
    member = make_user()
    before = sql("SELECT count(*), group_concat(plan) FROM workspaces")[0][:]
    response = client.request(method, path, headers=member.headers, json=body)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert sql("SELECT count(*), group_concat(plan) FROM workspaces")[0][:] == before


def test_admin_creates_lists_reads_and_patches_users(client, admin_headers, sql):
    created = client.post(
        "/api/v1/admin/users/",
        headers=admin_headers,
        json={"email": "  New.Person@Example.com ", "plan": "pro"},
    )
    assert created.status_code == 201
    body = created.json()
    user = body["user"]
    assert (
        user["email"] == "new.person@example.com"
        and user["plan"] == "pro"
        and user["role"] == "member"
    )
    assert len(body["password"]) >= 16  # generated, shown once
    assert login(client, "new.person@example.com", body["password"])

    page = client.get("/api/v1/admin/users/?limit=1", headers=admin_headers).json()
    assert [u["id"] for u in page["results"]] == [user["id"]]
    rest = client.get(f"/api/v1/admin/users/?cursor={page['next']}", headers=admin_headers).json()
    assert [u["email"] for u in rest["results"]] == ["admin@example.com"] and rest["next"] is None

    assert client.get(f"/api/v1/admin/users/{user['id']}/", headers=admin_headers).json() == user
    patched = client.patch(
        f"/api/v1/admin/users/{user['id']}/",
        headers=admin_headers,
        json={"plan": "business", "role": "admin", "password": MEMBER_PASSWORD},
    )
    assert patched.status_code == 200
    assert patched.json() | {} == user | {"plan": "business", "role": "admin"}
    assert login(client, user["email"], MEMBER_PASSWORD)
    assert client.get("/api/v1/admin/users/999/", headers=admin_headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"email": "not-an-email"}, "email", 400),
        ({"email": 5}, "email", 400),
        ({}, "email", 400),
        ({"email": "a@example.com", "password": "short"}, "password", 400),
        ({"email": "a@example.com", "plan": "gold"}, "plan", 400),
        ({"email": "a@example.com", "role": "owner"}, "role", 400),
        ({"email": "a@example.com", "extra": 1}, "extra", 400),
        ({"email": "ADMIN@example.com"}, "email", 409),
    ],
)
def test_bad_user_input_names_the_field_and_writes_nothing(
    client, admin_headers, sql, body, field, status
):
    before = sql("SELECT count(*) FROM users")[0][0]
    response = client.post("/api/v1/admin/users/", headers=admin_headers, json=body)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field
    assert field in response.json()["detail"]
    assert sql("SELECT count(*) FROM users")[0][0] == before


def test_bad_patch_names_the_field(client, admin_headers, make_user, sql):
    member = make_user(plan="free")
    for body, field in [
        ({"plan": "gold"}, "plan"),
        ({"is_active": "no"}, "is_active"),
        ({"password": "x"}, "password"),
    ]:
        response = client.patch(
            f"/api/v1/admin/users/{member.id}/", headers=admin_headers, json=body
        )
        assert response.status_code == 400 and response.json()["field"] == field
    personal = (
        "SELECT w.plan, u.is_active FROM users u"
        " JOIN workspaces w ON w.personal_user_id = u.id WHERE u.id = ?"
    )
    assert sql(personal, (member.id,))[0][:] == ("free", 1)
