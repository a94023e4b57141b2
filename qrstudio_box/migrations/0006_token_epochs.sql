-- Tokens that end when they should (issue 14.1).
--
-- token_epoch: every bearer token and UI session carries the epoch its user had when it was
-- issued; a password, role or active-flag change and "sign out everywhere" add one, so every
-- token issued before stops counting. The server keeps the epochs in memory (loaded at start,
-- written through on change): checking a token reads no row. Old users start at 0.
ALTER TABLE users ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;

-- One signed-out session (the admin UI's Sign out) is ended by its token id (jti) until the
-- token would have expired anyway; then the row is pruned. Kept in memory too.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_ms);
