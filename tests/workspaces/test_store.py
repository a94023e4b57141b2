"""Which workspace a call acts on when it names none (workspaces.store.default_workspace)."""

from __future__ import annotations

import pytest

from qrstudio_box.db import connect_sync, migrate
from qrstudio_box.workspaces import store

# (workspace id, personal to the user?, member since)
A, B, C = 10, 20, 30


@pytest.fixture
def conn(tmp_path):
    conn = connect_sync(tmp_path / "q.db")
    migrate(conn)
    conn.execute(
        "INSERT INTO users (id, email, password_hash, role, is_active, created_at)"
        " VALUES (1, 'u@example.com', 'x', 'member', 1, 't')"
    )
    return conn


def member_of(conn, workspace_id: int, since: str, personal: bool = False) -> None:
    conn.execute(
        "INSERT INTO workspaces (id, name, plan, personal_user_id, created_at)"
        " VALUES (?, ?, 'free', ?, 't')",
        (workspace_id, f"w{workspace_id}", 1 if personal else None),
    )
    conn.execute(
        "INSERT INTO workspace_members (workspace_id, user_id, role, created_at)"
        " VALUES (?, 1, 'editor', ?)",
        (workspace_id, since),
    )


@pytest.mark.parametrize(
    ("memberships", "preferred", "expected"),
    [
        # the oldest membership, not the lowest id
        ([(B, "2026-01-01", False), (A, "2026-02-01", False)], None, B),
        # the personal workspace before any other
        ([(B, "2026-01-01", False), (C, "2026-02-01", True)], None, C),
        # the preferred one (users.default_workspace_id) before the personal one
        ([(A, "2026-01-01", True), (B, "2026-02-01", False)], B, B),
        # a preferred workspace they left counts for nothing
        ([(A, "2026-01-01", False), (B, "2026-02-01", False)], C, A),
        ([], None, None),
    ],
)
def test_default_workspace(conn, memberships, preferred, expected):
    for workspace_id, since, personal in memberships:
        member_of(conn, workspace_id, since, personal)
    if preferred == C and not any(w == C for w, *_ in memberships):
        conn.execute(
            "INSERT INTO workspaces (id, name, plan, created_at) VALUES (?, 'c', 'free', 't')", (C,)
        )
    row = store.default_workspace(conn, 1, preferred)
    assert (row["id"] if row else None) == expected
