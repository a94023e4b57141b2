-- Rollups per transaction instead of per scan.
--
-- The scans_rollup trigger ran 11 statements for every scan (seven rollup upserts, two sketch
-- upserts, scan_count, scan_usage); on the redirect bench it was the largest part of the
-- writer's time per scan. links.store.roll_up_new_scans now does the same work with set-based
-- SQL once per transaction, over every scan inserted since the mark below, so a group commit
-- of 50 scans of one QR makes one upsert per (day, dimension, value) instead of 50.
-- Every insert path (the redirect, bulk loads) registers it on its transaction
-- (Tx.before_commit), so the rollups commit with the scans, as the trigger's did.
DROP TRIGGER scans_rollup;

-- Every scan with id <= last_scan_id is counted in the rollups, sketches, scan_count and
-- scan_usage. Retention lowers it after deleting scans (links.store.after_scans_deleted), so
-- a rowid SQLite reuses is still seen as new.
CREATE TABLE scan_rollup_mark (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    last_scan_id INTEGER NOT NULL
);
INSERT INTO scan_rollup_mark (id, last_scan_id) VALUES (1, coalesce((SELECT max(id) FROM scans), 0));
