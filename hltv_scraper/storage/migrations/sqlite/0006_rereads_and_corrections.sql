-- Reading pages again: matches waiting for their maps' stats links, units due for a
-- re-read (refresh, requeue, a failed attempt), and what a re-read found changed.

-- A match whose played maps lack a stats link, or that is not over yet, is read again
-- after each delay of HLTV_STATS_WAIT: how many delays it has used, and when it is due
-- (seconds since the epoch; NULL: not waiting).
ALTER TABLE matches ADD COLUMN stats_checks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN stats_due_at REAL;
-- When the last delay passed and the map still had no stats link: HLTV published no
-- stats for it, and it is not waited for any more (NULL: it has a link, or is waited for).
ALTER TABLE maps ADD COLUMN no_stats_at TEXT;

-- A unit a stage must read again, its page fetched anew (never from the archive):
-- `scrapy refresh`, `scrapy requeue`. The row goes when the stage stores the unit.
CREATE TABLE rereads (
    stage       TEXT NOT NULL,
    unit_id     INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    asked_at    TEXT NOT NULL,
    -- the unit's rows (JSON) before another stage's re-read took some of them back
    -- (a scoreboard with other players takes the performance columns): what this
    -- stage's re-read compares with, so a correction is never an intermediate step
    baseline    TEXT,
    PRIMARY KEY (stage, unit_id)
);

-- One row per stored value a re-read found changed: the value before the re-read and
-- after it, in the re-read's own transaction.
CREATE TABLE corrections (
    correction_id   INTEGER PRIMARY KEY,
    stage           TEXT NOT NULL,
    unit            TEXT NOT NULL,
    table_name      TEXT NOT NULL,
    row_key         TEXT NOT NULL,
    column_name     TEXT NOT NULL,
    old_value       TEXT,
    new_value       TEXT,
    seen_at         TEXT NOT NULL,
    parser_version  TEXT
);
CREATE INDEX corrections_by_unit ON corrections (stage, unit);
CREATE INDEX matches_stats_due ON matches (stats_due_at) WHERE stats_due_at IS NOT NULL;
