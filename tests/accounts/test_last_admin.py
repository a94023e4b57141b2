"""The last admin stays (issue 14.4): the API refuses what the UI refuses, with one rule."""

from __future__ import annotations

import pytest

from qrstudio_box.accounts import service
from qrstudio_box.errors import ApiError


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({"is_active": False}, "is_active", "is_active: you cannot deactivate your own account"),
        ({"role": "member"}, "role", "role: you cannot remove your own admin role"),
    ],
)
def test_an_admin_cannot_lock_themself_out(client, admin_headers, sql, body, field, detail):
    before = sql("SELECT role, is_active, token_epoch FROM users WHERE id = 1")[0][:]
    response = client.patch("/api/v1/admin/users/1/", headers=admin_headers, json=body)
    assert response.status_code == 400
    assert response.json()["field"] == field and response.json()["detail"] == detail
    assert sql("SELECT role, is_active, token_epoch FROM users WHERE id = 1")[0][:] == before
    assert client.get("/api/v1/me/", headers=admin_headers).status_code == 200


def test_another_admin_may_be_demoted_but_not_the_last(client, ctx, make_user, admin_headers):
    second = make_user(role="admin")
    response = client.patch(
        f"/api/v1/admin/users/{second.id}/", headers=admin_headers, json={"role": "member"}
    )
    assert response.status_code == 200 and response.json()["role"] == "member"

    # Two admins demoting each other at once: the writer runs one change after the other, and
    # the second one, counted inside its transaction, would leave no admin.
    third = make_user(role="admin")
    first = client.blocking_portal.call(
        lambda: ctx.db.write(
            lambda tx: service.apply_patch(tx, 1, {"role": "member"}, actor_id=third.id)
        )
    )
    assert first.role == "member"
    with pytest.raises(ApiError) as refused:
        client.blocking_portal.call(
            lambda: ctx.db.write(
                lambda tx: service.apply_patch(tx, third.id, {"role": "member"}, actor_id=1)
            )
        )
    assert refused.value.field == "role" and "last active admin" in refused.value.detail
