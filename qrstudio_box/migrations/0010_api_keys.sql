-- API keys (issue 16.6): a workspace's credentials for integrations (a CRM sync, a CI job),
-- `Authorization: Bearer qsb_...`, acting as the workspace with the key's scopes.
--
-- The key itself is never stored: `key_hash` is the sha256 (hex) of the whole key. A key
-- carries 256 random bits, so a fast hash is right (nothing to brute-force), and a slow one
-- (argon2) would cost every request. `prefix` is the key's first characters, shown in lists so
-- an owner can tell keys apart. Revoking sets `revoked_at` (the row stays, for the list);
-- `last_used_at` is written at most once a minute per key, never once per request.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,            -- JSON array: "read", "write", "webhooks"
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,                     -- ISO time; NULL: never
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, id);
