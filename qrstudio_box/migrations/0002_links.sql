-- Dynamic QRs, their A/B variants, scans, and the rollups that keep stats fast.

-- A deleted QR keeps its row (deleted_at set): its short_id is never handed out again, so a
-- printed code can never start pointing somewhere its owner did not choose.
CREATE TABLE dynamic_qrs (
    id              INTEGER PRIMARY KEY,
    short_id        TEXT NOT NULL UNIQUE,
    owner_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    destination_url TEXT NOT NULL,
    is_active       INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    scan_count      INTEGER NOT NULL DEFAULT 0,  -- kept by the scans trigger below
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT
);
-- Owner lists, newest first (id order is creation order).
CREATE INDEX dynamic_qrs_owner ON dynamic_qrs (owner_id, id) WHERE deleted_at IS NULL;

CREATE TABLE variants (
    id              INTEGER PRIMARY KEY,
    qr_id           INTEGER NOT NULL REFERENCES dynamic_qrs (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    label           TEXT NOT NULL,
    destination_url TEXT NOT NULL,
    weight          INTEGER NOT NULL CHECK (weight > 0),
    UNIQUE (qr_id, label)
);

-- One row per recorded GET /r/{short_id}. No raw IP: `scanner` is the first 64 bits of a
-- keyed hash of IP and user agent (salt in data_dir), for unique counts.
CREATE TABLE scans (
    id              INTEGER PRIMARY KEY,
    qr_id           INTEGER NOT NULL REFERENCES dynamic_qrs (id),
    scanned_at      INTEGER NOT NULL,  -- unix milliseconds, UTC
    destination_url TEXT NOT NULL,     -- where this scanner was sent
    variant_label   TEXT NOT NULL,
    country         TEXT NOT NULL,
    city            TEXT NOT NULL,
    device_family   TEXT NOT NULL,
    os_family       TEXT NOT NULL,
    browser_family  TEXT NOT NULL,
    referer         TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    is_bot          INTEGER NOT NULL CHECK (is_bot IN (0, 1)),
    scanner         INTEGER NOT NULL
);
-- Scan lists and CSV: newest first within a QR, keyset on (scanned_at, id).
CREATE INDEX scans_qr_time ON scans (qr_id, scanned_at);
-- Retention pruning by age.
CREATE INDEX scans_time ON scans (scanned_at);

-- Daily counts per QR, bot flag and dimension value. Stats read these, never the scans:
-- a QR with a million scans has a few thousand rollup rows per month.
-- dimension: country | city (value "CC<TAB>City") | device | os | browser
--            | referer (scheme://host/ of the referer, "" for none) | variant
-- Every scan adds exactly one to each dimension, so a day's total is its variant sum.
CREATE TABLE scan_rollups (
    qr_id     INTEGER NOT NULL,
    day       INTEGER NOT NULL,  -- days since 1970-01-01, UTC
    is_bot    INTEGER NOT NULL,
    dimension TEXT NOT NULL,
    value     TEXT NOT NULL,
    scans     INTEGER NOT NULL,
    -- Key order = the stats GROUP BY order: SQLite aggregates while walking the key, with no
    -- sort (the day range is a filter on the walk). Measured at 1M scans: 5x faster than
    -- (qr_id, day, ...), which needed a temp B-tree over every row in range.
    PRIMARY KEY (qr_id, dimension, value, is_bot, day)
) WITHOUT ROWID;

-- Unique scanners as a HyperLogLog sketch (1024 registers: about 3% error, exact for small
-- counts). Registers of any set of days merge by max(). low_bit is 2^(rank-1): the lowest set
-- bit of the 64-bit scanner hash above its 10 register bits.
-- Two granularities, so a date range reads few rows: whole 16-day blocks (day / 16) from
-- scanner_sketch_blocks, walked in register order (no sort); the few days at the range's
-- edges from scanner_sketches, found by day.
CREATE TABLE scanner_sketches (
    qr_id    INTEGER NOT NULL,
    is_bot   INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    register INTEGER NOT NULL,
    low_bit  INTEGER NOT NULL,
    PRIMARY KEY (qr_id, is_bot, day, register)
) WITHOUT ROWID;

CREATE TABLE scanner_sketch_blocks (
    qr_id    INTEGER NOT NULL,
    is_bot   INTEGER NOT NULL,
    register INTEGER NOT NULL,
    block    INTEGER NOT NULL,  -- day / 16
    low_bit  INTEGER NOT NULL,
    PRIMARY KEY (qr_id, is_bot, register, block)
) WITHOUT ROWID;

-- Scans per owner and calendar month (UTC), for the usage endpoint: scans are counted and
-- shown, never blocked.
CREATE TABLE scan_usage (
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    period   TEXT NOT NULL,  -- "2026-05"
    scans    INTEGER NOT NULL,
    PRIMARY KEY (owner_id, period)
) WITHOUT ROWID;

-- The rollups live in a trigger so every insert path (the redirect, bulk loads in benches,
-- restores) keeps them right, and SQLite does the work without a Python round trip each.
-- Deleting scans (retention) leaves the rollups: history stays, raw rows go.
CREATE TRIGGER scans_rollup AFTER INSERT ON scans BEGIN
    INSERT INTO scan_rollups (qr_id, day, is_bot, dimension, value, scans)
    VALUES
        (NEW.qr_id, NEW.scanned_at / 86400000, NEW.is_bot, 'country', NEW.country, 1),
        (NEW.qr_id, NEW.scanned_at / 86400000, NEW.is_bot, 'city', NEW.country || char(9) || NEW.city, 1),
        (NEW.qr_id, NEW.scanned_at / 86400000, NEW.is_bot, 'device', NEW.device_family, 1),
        (NEW.qr_id, NEW.scanned_at / 86400000, NEW.is_bot, 'os', NEW.os_family, 1),
        (NEW.qr_id, NEW.scanned_at / 86400000, NEW.is_bot, 'browser', NEW.browser_family, 1),
        (NEW.qr_id, NEW.scanned_at / 86400000, NEW.is_bot, 'referer',
            CASE
                WHEN instr(NEW.referer, '://') = 0 THEN NEW.referer
                WHEN instr(substr(NEW.referer, instr(NEW.referer, '://') + 3), '/') = 0
                    THEN NEW.referer || '/'
                ELSE substr(NEW.referer, 1, instr(NEW.referer, '://') + 2
                            + instr(substr(NEW.referer, instr(NEW.referer, '://') + 3), '/'))
            END, 1),
        (NEW.qr_id, NEW.scanned_at / 86400000, NEW.is_bot, 'variant', NEW.variant_label, 1)
    ON CONFLICT DO UPDATE SET scans = scans + 1;

    INSERT INTO scanner_sketches (qr_id, is_bot, day, register, low_bit)
    SELECT NEW.qr_id, NEW.is_bot, NEW.scanned_at / 86400000, NEW.scanner & 1023,
           CASE WHEN rest = 0 THEN 1 << 54 ELSE rest & -rest END
    FROM (SELECT (NEW.scanner >> 10) & 18014398509481983 AS rest)  -- the 54 bits above
    WHERE true
    ON CONFLICT DO UPDATE SET low_bit = max(low_bit, excluded.low_bit);

    INSERT INTO scanner_sketch_blocks (qr_id, is_bot, register, block, low_bit)
    SELECT NEW.qr_id, NEW.is_bot, NEW.scanner & 1023, NEW.scanned_at / 1382400000,  -- 16 days
           CASE WHEN rest = 0 THEN 1 << 54 ELSE rest & -rest END
    FROM (SELECT (NEW.scanner >> 10) & 18014398509481983 AS rest)
    WHERE true
    ON CONFLICT DO UPDATE SET low_bit = max(low_bit, excluded.low_bit);

    UPDATE dynamic_qrs SET scan_count = scan_count + 1 WHERE id = NEW.qr_id;

    INSERT INTO scan_usage (owner_id, period, scans)
    SELECT owner_id, strftime('%Y-%m', NEW.scanned_at / 1000, 'unixepoch'), 1
    FROM dynamic_qrs WHERE id = NEW.qr_id
    ON CONFLICT DO UPDATE SET scans = scans + 1;
END;
