-- Branded short domains (issue 17): a workspace prints its codes on its own host names
-- (go.bistro-example.com/menu). Nothing existing changes: every QR keeps its short_id and
-- owner_id, and its domain_id is NULL (the default host, `{public_url}/r/{short_id}`).

CREATE TABLE domains (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    hostname     TEXT NOT NULL,                -- lower-case ASCII (an IDN in punycode)
    fallback_url TEXT NOT NULL DEFAULT '',     -- where / and unknown codes go; '': a 404 page
    status       TEXT NOT NULL CHECK (status IN ('pending', 'active', 'deleted')),
    created_at   TEXT NOT NULL,
    approved_at  TEXT,                         -- when it became active (at once, or by an admin)
    deleted_at   TEXT
);
-- One live domain per host name on the whole box. A deleted one keeps its row (its host still
-- answers the neutral 404, and old QRs keep their reference), so the name may be taken again.
CREATE UNIQUE INDEX domains_hostname ON domains (hostname) WHERE status != 'deleted';
CREATE INDEX domains_workspace ON domains (workspace_id, id);

-- NULL: the default host. Set once, when the QR is created.
ALTER TABLE dynamic_qrs ADD COLUMN domain_id INTEGER REFERENCES domains (id);

-- A short id is unique per domain (the default host counting as domain 0), so codes moved
-- from another shortener keep their ids on their own domain, and unique within a workspace,
-- so the API's /dynamic-qrs/{short_id}/ stays one QR. 0008 made it unique box-wide through
-- this named index; a plain one stays for lookups by short id alone.
DROP INDEX dynamic_qrs_short_id;
CREATE INDEX dynamic_qrs_short_id ON dynamic_qrs (short_id);
CREATE UNIQUE INDEX dynamic_qrs_domain_short_id ON dynamic_qrs (coalesce(domain_id, 0), short_id)
    WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX dynamic_qrs_owner_short_id ON dynamic_qrs (owner_id, short_id)
    WHERE deleted_at IS NULL;
-- The QRs on a domain (its qr_count, the delete that is refused while any is live), and the
-- foreign key's own check when a domain row goes with its workspace.
CREATE INDEX dynamic_qrs_domain ON dynamic_qrs (domain_id);
