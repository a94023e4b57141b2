-- Webhooks: subscriptions, the delivery queue, and the log of every attempt.
-- Times that rules compare or order by are unix milliseconds (*_ms); times shown are ISO text.

CREATE TABLE webhooks (
    id                   INTEGER PRIMARY KEY,
    owner_id             INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
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
CREATE INDEX webhooks_owner ON webhooks (owner_id, id);
-- The periodic 24 h rule looks only at endpoints in a failure streak.
CREATE INDEX webhooks_failing ON webhooks (failing_since_ms) WHERE failing_since_ms IS NOT NULL;

-- One row per (event, subscription). A test delivery has no event row: its synthetic body
-- lives in test_body, so it never reaches other subscriptions or the outbox.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_seq       INTEGER REFERENCES events (seq) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    test_body       BLOB,
    kind            TEXT NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'redeliver', 'test')),
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,   -- finished attempts (interrupted ones excluded)
    next_attempt_ms INTEGER,                      -- due time while pending
    lease_until_ms  INTEGER,                      -- claimed by a dispatcher until then
    lease_token     TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    finished_at     TEXT,
    CHECK (event_seq IS NOT NULL OR test_body IS NOT NULL)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_ms) WHERE status = 'pending';
-- The claim walks each endpoint's pending deliveries in due order...
CREATE INDEX deliveries_pending_by_webhook ON deliveries (webhook_id, next_attempt_ms)
    WHERE status = 'pending';
-- ...and counts what is in flight (only claimed rows carry a lease).
CREATE INDEX deliveries_leased ON deliveries (lease_until_ms) WHERE lease_until_ms IS NOT NULL;
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, status, created_ms);
CREATE INDEX deliveries_event ON deliveries (event_seq);

-- The deliveries log: one row per attempt, written BEFORE the network call (outcome
-- 'sending') and completed after it, so a crash mid-send leaves a trace ('interrupted').
CREATE TABLE delivery_attempts (
    id               INTEGER PRIMARY KEY,
    delivery_id      INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    attempt_number   INTEGER NOT NULL,
    outcome          TEXT NOT NULL DEFAULT 'sending'
                     CHECK (outcome IN ('sending', 'succeeded', 'failed', 'interrupted')),
    response_status  INTEGER,
    duration_ms      INTEGER,
    error            TEXT NOT NULL DEFAULT '',
    request_headers  TEXT NOT NULL DEFAULT '{}',   -- JSON, signatures redacted
    response_headers TEXT NOT NULL DEFAULT '{}',   -- JSON
    response_body    BLOB NOT NULL DEFAULT x'',    -- the first 4 KB
    started_at       TEXT NOT NULL,
    started_ms       INTEGER NOT NULL,
    finished_at      TEXT
);
CREATE INDEX delivery_attempts_log ON delivery_attempts (webhook_id, id);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
