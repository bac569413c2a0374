-- Discovery (the results listing and the match page) and leased work.

-- matches: what the results listing and the match page say; the match stage's state
ALTER TABLE matches ADD COLUMN slug TEXT;
ALTER TABLE matches ADD COLUMN is_lan INTEGER CHECK (is_lan IN (0, 1));
ALTER TABLE matches ADD COLUMN stars INTEGER;
ALTER TABLE matches ADD COLUMN format TEXT;
ALTER TABLE matches ADD COLUMN format_text TEXT;
ALTER TABLE matches ADD COLUMN stage TEXT;
ALTER TABLE matches ADD COLUMN is_forfeit INTEGER CHECK (is_forfeit IN (0, 1));
ALTER TABLE matches ADD COLUMN completed_unix_ms INTEGER;
ALTER TABLE matches ADD COLUMN status TEXT;
ALTER TABLE matches ADD COLUMN team1_rank INTEGER;
ALTER TABLE matches ADD COLUMN team2_rank INTEGER;
ALTER TABLE matches ADD COLUMN listed_at TEXT;
ALTER TABLE matches ADD COLUMN match_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN match_page_at TEXT;
-- a crawl's claim on the match: who, and until when (seconds since the epoch)
ALTER TABLE matches ADD COLUMN lease_worker TEXT;
ALTER TABLE matches ADD COLUMN lease_expires REAL;

ALTER TABLE maps ADD COLUMN played INTEGER CHECK (played IN (0, 1));
ALTER TABLE maps ADD COLUMN is_forfeit INTEGER CHECK (is_forfeit IN (0, 1));
ALTER TABLE maps ADD COLUMN lease_worker TEXT;
ALTER TABLE maps ADD COLUMN lease_expires REAL;
-- a map with a stats page was played, and not forfeited
UPDATE maps SET played = 1, is_forfeit = 0 WHERE mapstatsid IS NOT NULL;

CREATE TABLE vetoes (
    match_id        INTEGER NOT NULL REFERENCES matches (match_id),
    step            INTEGER NOT NULL,
    team_id         INTEGER,
    team_name       TEXT,
    action          TEXT NOT NULL CHECK (action IN ('removed', 'picked', 'left_over')),
    map_name        TEXT,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, step)
);

CREATE TABLE lineups (
    match_id        INTEGER NOT NULL REFERENCES matches (match_id),
    team_id         INTEGER NOT NULL,
    player_id       INTEGER NOT NULL,
    player_name     TEXT,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, team_id, player_id)
);

-- failures: of any stage's unit (a results page's offset, a match id, a mapstatsid)
CREATE TABLE failures_by_unit (
    failure_id      INTEGER PRIMARY KEY,
    stage           TEXT NOT NULL,
    unit_id         INTEGER NOT NULL,
    mapstatsid      INTEGER,
    match_id        INTEGER,
    map_number      INTEGER,
    page            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    url             TEXT,
    parser_version  TEXT,
    failed_at       TEXT NOT NULL
);
INSERT INTO failures_by_unit (failure_id, stage, unit_id, mapstatsid, match_id, map_number,
                              page, reason, url, parser_version, failed_at)
    SELECT failure_id, stage, mapstatsid, mapstatsid, match_id, map_number, page, reason,
           url, parser_version, failed_at
    FROM failures;
DROP TABLE failures;
ALTER TABLE failures_by_unit RENAME TO failures;
CREATE INDEX failures_by_unit_id ON failures (stage, unit_id);

CREATE INDEX matches_by_lease ON matches (lease_worker);
CREATE INDEX maps_by_lease ON maps (lease_worker);
