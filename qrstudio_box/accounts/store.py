"""The SQL of accounts, and only here."""

from __future__ import annotations

import sqlite3

from ..db import Tx

# `plan` is the plan of the user's personal workspace (NULL for one who has none: a person who
# signed up through an invitation), the meaning the users API's `plan` field keeps.
USER_COLUMNS = (
    "id, email, role, is_active, created_at, default_workspace_id,"
    " (SELECT plan FROM workspaces WHERE personal_user_id = users.id) AS plan"
)


def insert_user(tx: Tx, email: str, password_hash: str, role: str, created_at: str) -> int:
    cursor = tx.execute(
        "INSERT INTO users (email, password_hash, role, is_active, created_at) "
        "VALUES (?, ?, ?, 1, ?)",
        (email, password_hash, role, created_at),
    )
    return cursor.lastrowid


def get_user(conn: sqlite3.Connection, user_id: int) -> sqlite3.Row | None:
    return conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()


def get_login(conn: sqlite3.Connection, email: str) -> sqlite3.Row | None:
    """The row login needs, hash included: the only query that reads password_hash. Its
    token_epoch lets the token about to be issued carry the epoch the database has now."""
    return conn.execute(
        f"SELECT {USER_COLUMNS}, password_hash, token_epoch FROM users WHERE email = ?", (email,)
    ).fetchone()


def get_user_by_email(conn: sqlite3.Connection, email: str) -> sqlite3.Row | None:
    return conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE email = ?", (email,)).fetchone()


def all_users(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every user, oldest first (the CLI's `users list`)."""
    return conn.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY id").fetchall()


def list_users(
    conn: sqlite3.Connection, limit: int, before_id: int | None = None, search: str | None = None
) -> list[sqlite3.Row]:
    clauses, params = [], []
    if before_id is not None:
        clauses.append("id < ?")
        params.append(before_id)
    if search:
        clauses.append("email LIKE ? ESCAPE '\\'")
        params.append(
            "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return conn.execute(
        f"SELECT {USER_COLUMNS} FROM users {where} ORDER BY id DESC LIMIT ?", (*params, limit)
    ).fetchall()


def count_users(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def update_user(tx: Tx, user_id: int, changes: dict[str, object]) -> bool:
    """Apply column changes (names come from our code, never from input)."""
    if not changes:
        return tx.fetchone("SELECT 1 FROM users WHERE id = ?", (user_id,)) is not None
    assignments = ", ".join(f"{column} = ?" for column in changes)
    cursor = tx.execute(
        f"UPDATE users SET {assignments} WHERE id = ?", (*changes.values(), user_id)
    )
    return cursor.rowcount == 1


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM app_meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta_if_absent(tx: Tx, key: str, value: str) -> str:
    tx.execute("INSERT OR IGNORE INTO app_meta (key, value) VALUES (?, ?)", (key, value))
    return tx.fetchone("SELECT value FROM app_meta WHERE key = ?", (key,))[0]


def count_active_admins(conn: sqlite3.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM users WHERE role = 'admin' AND is_active = 1"
    ).fetchone()[0]


def first_admin_id(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT min(id) FROM users WHERE role = 'admin'").fetchone()
    return row[0]


def get_password_hash(conn: sqlite3.Connection, user_id: int) -> str | None:
    row = conn.execute("SELECT password_hash FROM users WHERE id = ?", (user_id,)).fetchone()
    return row[0] if row else None


# -- token epochs and signed-out tokens (accounts/tokens.py keeps them in memory) ----------


def bump_token_epoch(tx: Tx, user_id: int) -> int:
    """Add one to the user's token epoch; the new epoch (0 when there is no such user)."""
    # fetchall: a RETURNING statement must run to its end before the transaction commits.
    rows = tx.fetchall(
        "UPDATE users SET token_epoch = token_epoch + 1 WHERE id = ? RETURNING token_epoch",
        (user_id,),
    )
    return rows[0][0] if rows else 0


def token_epochs(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """(user id, epoch) of every user whose tokens were ever ended (0 is the default)."""
    rows = conn.execute("SELECT id, token_epoch FROM users WHERE token_epoch > 0").fetchall()
    return [(row[0], row[1]) for row in rows]


def insert_revoked_token(tx: Tx, jti: str, user_id: int, expires_ms: int) -> None:
    tx.execute(
        "INSERT OR IGNORE INTO revoked_tokens (jti, user_id, expires_ms) VALUES (?, ?, ?)",
        (jti, user_id, expires_ms),
    )


def delete_revoked_tokens_before(tx: Tx, now_ms: int) -> None:
    tx.execute("DELETE FROM revoked_tokens WHERE expires_ms <= ?", (now_ms,))


def revoked_tokens_after(conn: sqlite3.Connection, now_ms: int) -> list[tuple[str, int]]:
    rows = conn.execute(
        "SELECT jti, expires_ms FROM revoked_tokens WHERE expires_ms > ?", (now_ms,)
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


# -- password-reset links (accounts/resets.py; only the token's hash is stored) ----------------


def insert_password_reset(
    tx: Tx, token_hash: str, user_id: int, created_at: str, expires_at: str
) -> None:
    # Links that can no longer be used go as new ones are made: the table stays small.
    tx.execute(
        "DELETE FROM password_resets WHERE expires_at <= ? OR used_at IS NOT NULL", (created_at,)
    )
    tx.execute(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) "
        "VALUES (?, ?, ?, ?)",
        (token_hash, user_id, created_at, expires_at),
    )


def get_password_reset(conn: sqlite3.Connection, token_hash: str) -> sqlite3.Row | None:
    """The link and its user (email, is_active), or None."""
    return conn.execute(
        "SELECT r.user_id, r.expires_at, r.used_at, u.email, u.is_active "
        "FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.token_hash = ?",
        (token_hash,),
    ).fetchone()


def use_password_resets(tx: Tx, user_id: int, used_at: str) -> None:
    """Mark every unused link of the user used: a new password ends the others too."""
    tx.execute(
        "UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
        (used_at, user_id),
    )
