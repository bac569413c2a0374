-- Discovery (the results listing and the match page) and leased work.

-- matches: what the results listing and the match page say; the match stage's state
ALTER TABLE matches ADD COLUMN slug TEXT;
ALTER TABLE matches ADD COLUMN is_lan BIGINT CHECK (is_lan IN (0, 1));
ALTER TABLE matches ADD COLUMN stars BIGINT;
ALTER TABLE matches ADD COLUMN format TEXT;
ALTER TABLE matches ADD COLUMN format_text TEXT;
ALTER TABLE matches ADD COLUMN stage TEXT;
ALTER TABLE matches ADD COLUMN is_forfeit BIGINT CHECK (is_forfeit IN (0, 1));
ALTER TABLE matches ADD COLUMN completed_unix_ms BIGINT;
ALTER TABLE matches ADD COLUMN status TEXT;
ALTER TABLE matches ADD COLUMN team1_rank BIGINT;
ALTER TABLE matches ADD COLUMN team2_rank BIGINT;
ALTER TABLE matches ADD COLUMN listed_at TEXT;
ALTER TABLE matches ADD COLUMN match_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN match_page_at TEXT;
-- a crawl's claim on the match: who, and until when (seconds since the epoch)
ALTER TABLE matches ADD COLUMN lease_worker TEXT;
ALTER TABLE matches ADD COLUMN lease_expires DOUBLE PRECISION;

ALTER TABLE maps ADD COLUMN played BIGINT CHECK (played IN (0, 1));
ALTER TABLE maps ADD COLUMN is_forfeit BIGINT CHECK (is_forfeit IN (0, 1));
ALTER TABLE maps ADD COLUMN lease_worker TEXT;
ALTER TABLE maps ADD COLUMN lease_expires DOUBLE PRECISION;
-- a map with a stats page was played, and not forfeited
UPDATE maps SET played = 1, is_forfeit = 0 WHERE mapstatsid IS NOT NULL;

CREATE TABLE vetoes (
    match_id        BIGINT NOT NULL REFERENCES matches (match_id),
    step            BIGINT NOT NULL,
    team_id         BIGINT,
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
    match_id        BIGINT NOT NULL REFERENCES matches (match_id),
    team_id         BIGINT NOT NULL,
    player_id       BIGINT NOT NULL,
    player_name     TEXT,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, team_id, player_id)
);

-- failures: of any stage's unit (a results page's offset, a match id, a mapstatsid)
ALTER TABLE failures ADD COLUMN unit_id BIGINT;
UPDATE failures SET unit_id = mapstatsid;
ALTER TABLE failures ALTER COLUMN unit_id SET NOT NULL;
ALTER TABLE failures ALTER COLUMN mapstatsid DROP NOT NULL;
DROP INDEX failures_by_map;
CREATE INDEX failures_by_unit_id ON failures (stage, unit_id);

CREATE INDEX matches_by_lease ON matches (lease_worker);
CREATE INDEX maps_by_lease ON maps (lease_worker);
