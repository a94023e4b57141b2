-- Quotas: generations counted per owner and UTC month, credit packs, fired threshold events.

-- One row per owner and month ("2026-05"). `credits` is the sum of that month's
-- credit_grants, kept here so a generation reads one row to know its allowance.
CREATE TABLE quota_usage (
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    period   TEXT    NOT NULL,
    used     INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    credits  INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
    PRIMARY KEY (owner_id, period)
) WITHOUT ROWID;

-- The log of credit packs: who granted how many generations for which month, and why.
CREATE TABLE credit_grants (
    id         INTEGER PRIMARY KEY,
    owner_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    period     TEXT    NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    note       TEXT    NOT NULL DEFAULT '',
    granted_by INTEGER REFERENCES users(id) ON DELETE SET NULL,  -- NULL: granted from the CLI
    created_at TEXT    NOT NULL
);
CREATE INDEX credit_grants_owner_period ON credit_grants (owner_id, period);

-- A threshold fires at most once per owner and month: the primary key makes that exact
-- even if two writers ever raced (they cannot: one writer connection).
CREATE TABLE quota_thresholds_fired (
    owner_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    period    TEXT    NOT NULL,
    threshold INTEGER NOT NULL CHECK (threshold IN (75, 100)),
    event_id  TEXT    NOT NULL,
    used      INTEGER NOT NULL,
    "limit"   INTEGER NOT NULL,
    fired_at  TEXT    NOT NULL,
    PRIMARY KEY (owner_id, period, threshold)
) WITHOUT ROWID;
