"""A plan without webhooks stops new deliveries at once; moving back up resumes them."""

import sqlite3
from contextlib import closing

import msgspec
import pytest


def _deliveries(sql, webhook_id):
    return sql("SELECT count(*) FROM deliveries WHERE webhook_id = ?", (webhook_id,))[0][0]


def test_downgrade_silences_and_upgrade_resumes(client, admin_headers, pro, subscribe, emit, sql):
    hook = subscribe(pro, "https://receiver.test/hook")
    emit(pro.id)
    assert _deliveries(sql, hook["id"]) == 1

    assert (
        client.patch(
            f"/api/v1/admin/users/{pro.id}/", headers=admin_headers, json={"plan": "free"}
        ).status_code
        == 200
    )
    emit(pro.id)
    emit(pro.id)
    assert _deliveries(sql, hook["id"]) == 1  # nothing new for a plan without webhooks
    assert (
        sql("SELECT count(*) FROM events WHERE owner_id = ?", (pro.id,))[0][0] == 3
    )  # events still kept

    assert (
        client.patch(
            f"/api/v1/admin/users/{pro.id}/", headers=admin_headers, json={"plan": "business"}
        ).status_code
        == 200
    )
    emit(pro.id)
    assert _deliveries(sql, hook["id"]) == 2


@pytest.mark.parametrize(("default_has_webhooks", "expected"), [(True, 1), (False, 0)])
def test_a_plan_removed_from_config_follows_the_default_plan(
    pro, subscribe, emit, sql, settings, default_has_webhooks, expected
):
    hook = subscribe(pro, "https://receiver.test/hook")
    # The operator removed the user's plan from qrstudio.toml: the user is on the default plan.
    with closing(sqlite3.connect(settings.database_path)) as conn, conn:
        conn.execute("UPDATE workspaces SET plan = 'legacy' WHERE personal_user_id = ?", (pro.id,))
    default = settings.plans[settings.accounts.default_plan]
    settings.plans[settings.accounts.default_plan] = msgspec.structs.replace(
        default, webhooks=default_has_webhooks
    )
    emit(pro.id)
    assert _deliveries(sql, hook["id"]) == expected
