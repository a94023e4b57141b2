"""accounts/rules.py: each rule a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qrstudio_box.accounts.rules import (
    LINK_PROBLEMS,
    admin_change_problem,
    ends_sessions,
    link_problem,
)

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


NOW = datetime(2026, 5, 9, 14, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("found", "used", "expires_at", "revoked", "problem"),
    [
        (True, False, LATER, False, None),
        (True, False, NOW + timedelta(seconds=1), False, None),
        (True, False, NOW, False, "expired"),  # the end is exclusive
        (True, False, NOW - timedelta(days=1), False, "expired"),
        (True, True, LATER, False, "used"),
        (True, True, NOW, False, "used"),  # used says more than expired
        (True, False, LATER, True, "revoked"),
        (True, True, NOW, True, "revoked"),  # withdrawn says the most
        (False, False, LATER, False, "unknown"),
        (True, False, None, False, "unknown"),
    ],
)
def test_link_problem(found, used, expires_at, revoked, problem):
    assert (
        link_problem(found=found, used=used, expires_at=expires_at, now=NOW, revoked=revoked)
        == problem
    )
    assert problem is None or problem in LINK_PROBLEMS
