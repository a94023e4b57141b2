-- Accounts and the event outbox: what every other domain builds on.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    plan          TEXT NOT NULL,
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    TEXT NOT NULL
);

-- Small facts the appliance keeps about itself (e.g. the salt for scanner hashes).
CREATE TABLE app_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- The outbox. `body` holds the exact JSON bytes that are signed and delivered.
-- `seq` is the integer key other tables point at; `id` is the public evt_... id.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    owner_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body       BLOB NOT NULL
);
CREATE INDEX events_owner_created ON events (owner_id, created_at);
CREATE INDEX events_created ON events (created_at);
