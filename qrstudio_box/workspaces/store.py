"""The SQL of workspaces and their members, and only here. Members' emails are read from the
users table (accounts'), joined where a list shows them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from ..db import Tx

WORKSPACE_COLUMNS = (
    "w.id, w.name, w.plan, w.personal_user_id, w.created_at,"
    " (SELECT count(*) FROM workspace_members c WHERE c.workspace_id = w.id) AS member_count"
)


def insert_workspace(
    tx: Tx, name: str, plan: str, personal_user_id: int | None, created_at: str
) -> int:
    cursor = tx.execute(
        "INSERT INTO workspaces (name, plan, personal_user_id, created_at) VALUES (?, ?, ?, ?)",
        (name, plan, personal_user_id, created_at),
    )
    return cursor.lastrowid


def update_workspace(tx: Tx, workspace_id: int, changes: dict[str, object]) -> bool:
    """Apply column changes (names come from our code, never from input)."""
    if not changes:
        return tx.fetchone("SELECT 1 FROM workspaces WHERE id = ?", (workspace_id,)) is not None
    assignments = ", ".join(f"{column} = ?" for column in changes)
    cursor = tx.execute(
        f"UPDATE workspaces SET {assignments} WHERE id = ?", (*changes.values(), workspace_id)
    )
    return cursor.rowcount == 1


def get_workspace(
    conn: sqlite3.Connection, workspace_id: int, user_id: int | None
) -> sqlite3.Row | None:
    """The workspace, with `role`: `user_id`'s role there (NULL when not a member)."""
    return conn.execute(
        f"SELECT {WORKSPACE_COLUMNS}, m.role FROM workspaces w"
        " LEFT JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = ?"
        " WHERE w.id = ?",
        (user_id, workspace_id),
    ).fetchone()


def default_workspace(
    conn: sqlite3.Connection, user_id: int, preferred_id: int | None
) -> sqlite3.Row | None:
    """The workspace a user acts on when the call names none: `preferred_id` (their
    users.default_workspace_id) while they are a member there, else their personal one, else
    their oldest membership."""
    return conn.execute(
        f"SELECT {WORKSPACE_COLUMNS}, m.role FROM workspace_members m"
        " JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = ?"
        " ORDER BY w.id = ? DESC, w.personal_user_id IS ? DESC, m.created_at, w.id LIMIT 1",
        (user_id, preferred_id, user_id),
    ).fetchone()


def workspaces_of(conn: sqlite3.Connection, user_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        f"SELECT {WORKSPACE_COLUMNS}, m.role FROM workspace_members m"
        " JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = ? ORDER BY w.id",
        (user_id,),
    ).fetchall()


def all_workspaces(conn: sqlite3.Connection, user_id: int | None) -> list[sqlite3.Row]:
    """Every workspace (an admin's view), with `user_id`'s role where they are a member."""
    return conn.execute(
        f"SELECT {WORKSPACE_COLUMNS}, m.role FROM workspaces w"
        " LEFT JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = ?"
        " ORDER BY w.id",
        (user_id,),
    ).fetchall()


def personal_workspace(conn: sqlite3.Connection, user_id: int) -> sqlite3.Row | None:
    return conn.execute(
        f"SELECT {WORKSPACE_COLUMNS}, 'owner' AS role FROM workspaces w"
        " WHERE w.personal_user_id = ?",
        (user_id,),
    ).fetchone()


def set_personal_plan(tx: Tx, user_id: int, plan: str) -> bool:
    cursor = tx.execute(
        "UPDATE workspaces SET plan = ? WHERE personal_user_id = ?", (plan, user_id)
    )
    return cursor.rowcount == 1


# -- members ---------------------------------------------------------------------------------


def add_member(tx: Tx, workspace_id: int, user_id: int, role: str, created_at: str) -> bool:
    """Add a membership; False when the user is a member already (nothing changes)."""
    cursor = tx.execute(
        "INSERT OR IGNORE INTO workspace_members (workspace_id, user_id, role, created_at)"
        " VALUES (?, ?, ?, ?)",
        (workspace_id, user_id, role, created_at),
    )
    return cursor.rowcount == 1


def members(conn: sqlite3.Connection, workspace_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT m.user_id, u.email, m.role, m.created_at FROM workspace_members m"
        " JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ? ORDER BY m.created_at, u.id",
        (workspace_id,),
    ).fetchall()


def member(conn: sqlite3.Connection, workspace_id: int, user_id: int) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT m.user_id, u.email, m.role, m.created_at FROM workspace_members m"
        " JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ? AND m.user_id = ?",
        (workspace_id, user_id),
    ).fetchone()


def set_member_role(tx: Tx, workspace_id: int, user_id: int, role: str) -> None:
    tx.execute(
        "UPDATE workspace_members SET role = ? WHERE workspace_id = ? AND user_id = ?",
        (role, workspace_id, user_id),
    )


def remove_member(tx: Tx, workspace_id: int, user_id: int) -> None:
    tx.execute(
        "DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?",
        (workspace_id, user_id),
    )


def count_owners(conn: sqlite3.Connection, workspace_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM workspace_members WHERE workspace_id = ? AND role = 'owner'",
        (workspace_id,),
    ).fetchone()[0]


def user_id_by_email(conn: sqlite3.Connection, email: str) -> int | None:
    row = conn.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()
    return row[0] if row else None


# -- invitations (workspaces/invitations.py; accepting them: accounts/invitations.py) ---------

INVITATION_COLUMNS = (
    "i.id, i.workspace_id, i.email, i.role, i.invited_by, i.created_at, i.expires_at,"
    " i.accepted_at, i.accepted_by, i.revoked_at"
)


def insert_invitation(
    tx: Tx,
    workspace_id: int,
    email: str,
    role: str,
    token_hash: str,
    invited_by: int | None,
    created_at: str,
    expires_at: str,
) -> int:
    cursor = tx.execute(
        "INSERT INTO invitations (workspace_id, email, role, token_hash, invited_by,"
        " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (workspace_id, email, role, token_hash, invited_by, created_at, expires_at),
    )
    return cursor.lastrowid


def get_invitation(
    conn: sqlite3.Connection, workspace_id: int, invitation_id: int
) -> sqlite3.Row | None:
    return conn.execute(
        f"SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.workspace_id = ? AND i.id = ?",
        (workspace_id, invitation_id),
    ).fetchone()


def pending_invitations(conn: sqlite3.Connection, workspace_id: int, now: str) -> list[sqlite3.Row]:
    return conn.execute(
        f"SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.workspace_id = ?"
        " AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?"
        " ORDER BY i.id DESC",
        (workspace_id, now),
    ).fetchall()


def withdraw_invitation(tx: Tx, workspace_id: int, invitation_id: int, now: str) -> bool:
    """Withdraw one pending invitation; False when there is none by that id here."""
    cursor = tx.execute(
        "UPDATE invitations SET revoked_at = ? WHERE workspace_id = ? AND id = ?"
        " AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
        (now, workspace_id, invitation_id, now),
    )
    return cursor.rowcount == 1


def withdraw_pending_invitations(tx: Tx, workspace_id: int, email: str, now: str) -> None:
    """A new invitation to the same email replaces the older ones still open."""
    tx.execute(
        "UPDATE invitations SET revoked_at = ? WHERE workspace_id = ? AND email = ?"
        " AND accepted_at IS NULL AND revoked_at IS NULL",
        (now, workspace_id, email),
    )


def invitation_by_token(conn: sqlite3.Connection, token_hash: str) -> sqlite3.Row | None:
    """The invitation with its workspace's name, and whether an account has its email."""
    return conn.execute(
        f"SELECT {INVITATION_COLUMNS}, w.name AS workspace_name,"
        " (SELECT id FROM users u WHERE u.email = i.email) AS account_id"
        " FROM invitations i JOIN workspaces w ON w.id = i.workspace_id"
        " WHERE i.token_hash = ?",
        (token_hash,),
    ).fetchone()


def accept_invitation(tx: Tx, invitation_id: int, user_id: int, now: str) -> bool:
    """Mark it used by `user_id`; False when it was accepted or withdrawn meanwhile."""
    cursor = tx.execute(
        "UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE id = ?"
        " AND accepted_at IS NULL AND revoked_at IS NULL",
        (now, user_id, invitation_id),
    )
    return cursor.rowcount == 1


def member_with_email(conn: sqlite3.Connection, workspace_id: int, email: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM workspace_members m JOIN users u ON u.id = m.user_id"
            " WHERE m.workspace_id = ? AND u.email = ?",
            (workspace_id, email),
        ).fetchone()
        is not None
    )


def user_email(conn: sqlite3.Connection, user_id: int) -> str | None:
    row = conn.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()
    return row[0] if row else None


# -- API keys (issue 16.6) ---------------------------------------------------------------------

API_KEY_COLUMNS = (
    "id, workspace_id, name, prefix, scopes, created_by, created_at, expires_at, last_used_at,"
    " revoked_at"
)


def insert_api_key(
    tx: Tx,
    workspace_id: int,
    name: str,
    prefix: str,
    key_hash: str,
    scopes_json: str,
    created_by: int | None,
    created_at: str,
    expires_at: str | None,
) -> int:
    cursor = tx.execute(
        "INSERT INTO api_keys (workspace_id, name, prefix, key_hash, scopes, created_by,"
        " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (workspace_id, name, prefix, key_hash, scopes_json, created_by, created_at, expires_at),
    )
    return int(cursor.lastrowid)


def list_api_keys(conn: sqlite3.Connection, workspace_id: int) -> list[sqlite3.Row]:
    """The workspace's keys that were not revoked, newest first (expired ones included)."""
    return conn.execute(
        f"SELECT {API_KEY_COLUMNS} FROM api_keys"
        " WHERE workspace_id = ? AND revoked_at IS NULL ORDER BY id DESC",
        (workspace_id,),
    ).fetchall()


def get_api_key(conn: sqlite3.Connection, workspace_id: int, key_id: int) -> sqlite3.Row | None:
    return conn.execute(
        f"SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = ? AND workspace_id = ?",
        (key_id, workspace_id),
    ).fetchone()


def find_api_key(conn: sqlite3.Connection, key_hash: str) -> sqlite3.Row | None:
    """The key with this hash (revoked and expired ones too: the caller says why it refuses)."""
    return conn.execute(
        f"SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,)
    ).fetchone()


def revoke_api_key(tx: Tx, workspace_id: int, key_id: int, now: str) -> bool:
    """Revoke the workspace's key; False when it has no such key, or it was revoked before."""
    cursor = tx.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND workspace_id = ?"
        " AND revoked_at IS NULL",
        (now, key_id, workspace_id),
    )
    return cursor.rowcount == 1


def note_api_keys_used(tx: Tx, used: Iterable[tuple[int, str]]) -> None:
    """last_used_at for each (key id, time); a later time never goes back to an earlier one."""
    tx.executemany(
        "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2"
        " AND (last_used_at IS NULL OR last_used_at < ?1)",
        [(at, key_id) for key_id, at in used],
    )
