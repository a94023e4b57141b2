-- Smart routing (issue 18): rules, a lifecycle (start, end, scan cap), UTM and query strings
-- per dynamic QR, and per-owner UTM defaults for new codes.
--
-- Every column has a default that means "as before": no rules, no start, no end, no cap, no
-- UTM, no query forwarding, so a QR made by 0.1.0 redirects exactly as it did.

-- The ordered rules as JSON: [{"label", "destination_url", "when": {...}}] (links/routing.py
-- compiles them once per QR write; the redirect never parses this column).
ALTER TABLE dynamic_qrs ADD COLUMN rules TEXT NOT NULL DEFAULT '[]';
ALTER TABLE dynamic_qrs ADD COLUMN active_from_ms INTEGER;   -- unix ms, inclusive; NULL: always
ALTER TABLE dynamic_qrs ADD COLUMN active_until_ms INTEGER;  -- unix ms, exclusive; NULL: never
ALTER TABLE dynamic_qrs ADD COLUMN max_scans INTEGER;        -- non-bot redirected scans; NULL: no cap
ALTER TABLE dynamic_qrs ADD COLUMN expired_url TEXT NOT NULL DEFAULT '';  -- '': a 410 page
-- {"source", "medium", "campaign", "term", "content"}, only the ones set.
ALTER TABLE dynamic_qrs ADD COLUMN utm TEXT NOT NULL DEFAULT '{}';
ALTER TABLE dynamic_qrs ADD COLUMN forward_query INTEGER NOT NULL DEFAULT 0
    CHECK (forward_query IN (0, 1));
-- When the code ended by time or by cap and dynamic_qr.updated said so (exactly once: the
-- UPDATE that sets it is guarded by "ended_at IS NULL"); cleared when a change revives it.
ALTER TABLE dynamic_qrs ADD COLUMN ended_at TEXT;
-- What ended it: 'time' or 'cap' (with ended_at).
ALTER TABLE dynamic_qrs ADD COLUMN ended_by TEXT NOT NULL DEFAULT '';
-- The lifecycle job looks for codes past their end that have not said so yet.
CREATE INDEX dynamic_qrs_ending ON dynamic_qrs (active_until_ms)
    WHERE ended_at IS NULL AND active_until_ms IS NOT NULL AND deleted_at IS NULL;

-- UTM defaults for an owner's new codes. Keyed by owner_id: the workspaces migration gives
-- every user a workspace with the same id, so these become the workspace's defaults as they are.
CREATE TABLE utm_defaults (
    owner_id   INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    utm        TEXT NOT NULL,  -- the same JSON object as dynamic_qrs.utm
    updated_at TEXT NOT NULL
);
