"""accounts/rules.py: each rule a table."""

from __future__ import annotations

import pytest

from qrstudio_box.accounts.rules import admin_change_problem, ends_sessions

SELF_DEACTIVATE = ("is_active", "you cannot deactivate your own account")
SELF_DEMOTE = ("role", "you cannot remove your own admin role")
LAST_DEMOTE = ("role", "the last active admin cannot become a member; make another admin first")
LAST_DEACTIVATE = (
    "is_active",
    "the last active admin cannot be deactivated; make another admin first",
)


@pytest.mark.parametrize(
    ("actor", "target", "role", "active", "new_role", "new_active", "admins", "problem"),
    [
        # an admin on themself
        (1, 1, "admin", True, None, False, 2, SELF_DEACTIVATE),
        (1, 1, "admin", True, "member", None, 2, SELF_DEMOTE),
        (1, 1, "admin", True, "member", False, 3, SELF_DEACTIVATE),
        (1, 1, "admin", True, "admin", True, 1, None),  # no change
        # on another admin
        (1, 2, "admin", True, "member", None, 2, None),
        (1, 2, "admin", True, None, False, 2, None),
        (1, 2, "admin", True, "member", None, 1, LAST_DEMOTE),  # a race lost: counted in the tx
        (1, 2, "admin", True, None, False, 1, LAST_DEACTIVATE),
        (1, 2, "admin", False, "member", None, 1, None),  # an inactive admin is not the last
        (1, 2, "admin", False, None, True, 1, None),  # reactivating adds one
        # members
        (1, 2, "member", True, "admin", None, 1, None),
        (1, 2, "member", True, None, False, 1, None),
        # the operator at the CLI
        (None, 1, "admin", True, "member", None, 1, LAST_DEMOTE),
        (None, 1, "admin", True, None, False, 1, LAST_DEACTIVATE),
        (None, 1, "admin", True, "member", None, 2, None),
        (None, 2, "member", True, "admin", None, 0, None),  # recovery: make an admin
    ],
)
def test_admin_change_problem(actor, target, role, active, new_role, new_active, admins, problem):
    assert (
        admin_change_problem(
            actor_id=actor,
            target_id=target,
            target_role=role,
            target_active=active,
            new_role=new_role,
            new_active=new_active,
            active_admins=admins,
        )
        == problem
    )


CURRENT = {"role": "member", "is_active": 1, "plan": "free"}


@pytest.mark.parametrize(
    ("changes", "ends"),
    [
        ({}, False),
        ({"plan": "pro"}, False),
        ({"role": "member"}, False),
        ({"is_active": 1}, False),
        ({"role": "admin"}, True),
        ({"is_active": 0}, True),
        ({"password_hash": "$argon2id$..."}, True),
        ({"plan": "pro", "role": "admin"}, True),
    ],
)
def test_ends_sessions(changes, ends):
    assert ends_sessions(CURRENT, changes) is ends
