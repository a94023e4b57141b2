-- qrstudio: rebuilds tables (db.REBUILDS_TABLES: foreign keys off, all checked before COMMIT)
-- Workspaces (issue 16): a workspace (a client, or the agency itself) owns dynamic QRs, scans,
-- webhooks, quotas, credits and the plan; users are its members, with a role each.
--
-- Receivers store our owner_id values, so they must keep their meaning: every existing user
-- gets a personal workspace WITH THE SAME ID as the user, and the owner_id columns, which
-- pointed at users, point at workspaces from now on (same numbers). Those tables are rebuilt
-- with the new reference (SQLite cannot change a foreign key in place): the first line makes
-- db.migrate run this one with foreign keys off and check them all before COMMIT, the
-- procedure SQLite documents for this.

CREATE TABLE workspaces (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    plan             TEXT NOT NULL,
    -- Whose personal workspace this is (NULL for a client workspace an admin created).
    personal_user_id INTEGER UNIQUE REFERENCES users (id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL
);

CREATE TABLE workspace_members (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'owner')),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
) WITHOUT ROWID;
CREATE INDEX workspace_members_user ON workspace_members (user_id, workspace_id);

INSERT INTO workspaces (id, name, plan, personal_user_id, created_at)
    SELECT id, email, plan, id, created_at FROM users;
INSERT INTO workspace_members (workspace_id, user_id, role, created_at)
    SELECT id, id, 'owner', created_at FROM users;

-- The workspace a bearer token acts on without X-QRStudio-Workspace (NULL: the personal one,
-- else the first membership). Set for a user who signed up through an invitation.
ALTER TABLE users ADD COLUMN default_workspace_id INTEGER
    REFERENCES workspaces (id) ON DELETE SET NULL;
-- The plan is the workspace's now; a user's `plan` in the API is their personal workspace's.
ALTER TABLE users DROP COLUMN plan;

-- The tables whose owner_id pointed at users, rebuilt to point at workspaces (same rows, same
-- ids, same indexes).

CREATE TABLE events_new (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    owner_id   INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body       BLOB NOT NULL
);
INSERT INTO events_new (seq, id, owner_id, type, created_at, body)
    SELECT seq, id, owner_id, type, created_at, body FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_owner_created ON events (owner_id, created_at);
CREATE INDEX events_created ON events (created_at);

-- short_id: unique through a named index now (not a column constraint), so that branded
-- domains (issue 17) can make it unique per domain by replacing the index.
CREATE TABLE dynamic_qrs_new (
    id              INTEGER PRIMARY KEY,
    short_id        TEXT NOT NULL,
    owner_id        INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    destination_url TEXT NOT NULL,
    is_active       INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    scan_count      INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT,
    rules           TEXT NOT NULL DEFAULT '[]',
    active_from_ms  INTEGER,
    active_until_ms INTEGER,
    max_scans       INTEGER,
    expired_url     TEXT NOT NULL DEFAULT '',
    utm             TEXT NOT NULL DEFAULT '{}',
    forward_query   INTEGER NOT NULL DEFAULT 0 CHECK (forward_query IN (0, 1)),
    ended_at        TEXT,
    ended_by        TEXT NOT NULL DEFAULT ''
);
INSERT INTO dynamic_qrs_new (id, short_id, owner_id, name, destination_url, is_active,
        scan_count, created_at, updated_at, deleted_at, rules, active_from_ms, active_until_ms,
        max_scans, expired_url, utm, forward_query, ended_at, ended_by)
    SELECT id, short_id, owner_id, name, destination_url, is_active, scan_count, created_at,
        updated_at, deleted_at, rules, active_from_ms, active_until_ms, max_scans, expired_url,
        utm, forward_query, ended_at, ended_by
    FROM dynamic_qrs;
DROP TABLE dynamic_qrs;
ALTER TABLE dynamic_qrs_new RENAME TO dynamic_qrs;
CREATE UNIQUE INDEX dynamic_qrs_short_id ON dynamic_qrs (short_id);
CREATE INDEX dynamic_qrs_owner ON dynamic_qrs (owner_id, id) WHERE deleted_at IS NULL;
CREATE INDEX dynamic_qrs_ending ON dynamic_qrs (active_until_ms)
    WHERE ended_at IS NULL AND active_until_ms IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE scan_usage_new (
    owner_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    period   TEXT NOT NULL,  -- "2026-05"
    scans    INTEGER NOT NULL,
    PRIMARY KEY (owner_id, period)
) WITHOUT ROWID;
INSERT INTO scan_usage_new (owner_id, period, scans)
    SELECT owner_id, period, scans FROM scan_usage;
DROP TABLE scan_usage;
ALTER TABLE scan_usage_new RENAME TO scan_usage;

CREATE TABLE webhooks_new (
    id                   INTEGER PRIMARY KEY,
    owner_id             INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url                  TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    events               TEXT NOT NULL,            -- JSON array of event types
    secret_sealed        TEXT NOT NULL,            -- whsec_... sealed with AES-GCM (secretbox.py)
    status               TEXT NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'degraded', 'disabled')),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since_ms     INTEGER,                  -- first failure of the current streak
    last_success_at      TEXT,
    last_failure_at      TEXT,
    disabled_at          TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
INSERT INTO webhooks_new SELECT id, owner_id, url, description, events, secret_sealed, status,
        consecutive_failures, failing_since_ms, last_success_at, last_failure_at, disabled_at,
        created_at, updated_at
    FROM webhooks;
DROP TABLE webhooks;
ALTER TABLE webhooks_new RENAME TO webhooks;
CREATE INDEX webhooks_owner ON webhooks (owner_id, id);
CREATE INDEX webhooks_failing ON webhooks (failing_since_ms) WHERE failing_since_ms IS NOT NULL;

CREATE TABLE quota_usage_new (
    owner_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    period   TEXT    NOT NULL,
    used     INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    credits  INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
    PRIMARY KEY (owner_id, period)
) WITHOUT ROWID;
INSERT INTO quota_usage_new (owner_id, period, used, credits)
    SELECT owner_id, period, used, credits FROM quota_usage;
DROP TABLE quota_usage;
ALTER TABLE quota_usage_new RENAME TO quota_usage;

CREATE TABLE credit_grants_new (
    id         INTEGER PRIMARY KEY,
    owner_id   INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    period     TEXT    NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    note       TEXT    NOT NULL DEFAULT '',
    granted_by INTEGER REFERENCES users (id) ON DELETE SET NULL,  -- NULL: granted from the CLI
    created_at TEXT    NOT NULL
);
INSERT INTO credit_grants_new (id, owner_id, period, amount, note, granted_by, created_at)
    SELECT id, owner_id, period, amount, note, granted_by, created_at FROM credit_grants;
DROP TABLE credit_grants;
ALTER TABLE credit_grants_new RENAME TO credit_grants;
CREATE INDEX credit_grants_owner_period ON credit_grants (owner_id, period);

CREATE TABLE quota_thresholds_fired_new (
    owner_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    period    TEXT    NOT NULL,
    threshold INTEGER NOT NULL CHECK (threshold IN (75, 100)),
    event_id  TEXT    NOT NULL,
    used      INTEGER NOT NULL,
    "limit"   INTEGER NOT NULL,
    fired_at  TEXT    NOT NULL,
    PRIMARY KEY (owner_id, period, threshold)
) WITHOUT ROWID;
INSERT INTO quota_thresholds_fired_new
    SELECT owner_id, period, threshold, event_id, used, "limit", fired_at
    FROM quota_thresholds_fired;
DROP TABLE quota_thresholds_fired;
ALTER TABLE quota_thresholds_fired_new RENAME TO quota_thresholds_fired;

CREATE TABLE utm_defaults_new (
    owner_id   INTEGER PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    utm        TEXT NOT NULL,  -- the same JSON object as dynamic_qrs.utm
    updated_at TEXT NOT NULL
);
INSERT INTO utm_defaults_new (owner_id, utm, updated_at)
    SELECT owner_id, utm, updated_at FROM utm_defaults;
DROP TABLE utm_defaults;
ALTER TABLE utm_defaults_new RENAME TO utm_defaults;
