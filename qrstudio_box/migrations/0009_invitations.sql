-- Invitations to a workspace, and password-reset links (issue 16.5).
--
-- Both are one-time links: the token (secrets.token_urlsafe(32)) goes out in a mail or is shown
-- once; only its SHA-256 (hex) is stored, so a copy of the database opens no account. A link is
-- used once (used_at / accepted_at set in the transaction that uses it) and ends at expires_at
-- (an invitation 7 days after it was made, a reset link 1 hour).

CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'owner')),
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    accepted_at  TEXT,
    accepted_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    revoked_at   TEXT
);
-- A workspace's pending invitations (its list).
CREATE INDEX invitations_workspace ON invitations (workspace_id, id);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) WITHOUT ROWID;
CREATE INDEX password_resets_user ON password_resets (user_id);
