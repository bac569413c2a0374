-- HLTV's weekly world ranking: one row per snapshot (the rankings stage's unit), its
-- teams in rank order and the lineup each team is shown with. A snapshot is written
-- whole: its teams and players are replaced together.

CREATE TABLE ranking_snapshots (
    -- the Monday of the snapshot, as the page says ('YYYY-MM-DD')
    ranking_date    TEXT PRIMARY KEY,
    -- the same date as the number YYYYMMDD: the unit's id where units are numbered
    -- (failures, leases, stats)
    ranking_id      INTEGER NOT NULL UNIQUE,
    -- the snapshots the page links as previous and next (NULL: none linked)
    prev_date       TEXT,
    next_date       TEXT,
    team_count      INTEGER,
    -- rankings stage: attempts that failed to parse, and when it stored the snapshot
    ranking_attempts INTEGER NOT NULL DEFAULT 0,
    ranking_at      TEXT,
    ranking_attempts_version TEXT,
    ranking_version TEXT,
    -- a crawl's claim on the snapshot: who, and until when (seconds since the epoch)
    lease_worker    TEXT,
    lease_expires   REAL,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT
);

CREATE TABLE team_rankings (
    ranking_date    TEXT NOT NULL REFERENCES ranking_snapshots (ranking_date),
    rank            INTEGER NOT NULL,
    team_id         INTEGER NOT NULL,
    team_name       TEXT,
    points          INTEGER NOT NULL,
    -- places gained since the previous snapshot; NULL for a team new to the ranking
    rank_change     INTEGER,
    is_new          INTEGER NOT NULL CHECK (is_new IN (0, 1)),
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (ranking_date, team_id)
);

CREATE TABLE team_ranking_players (
    ranking_date    TEXT NOT NULL,
    team_id         INTEGER NOT NULL,
    -- the player's place in the lineup the page shows, from 1 (some have no id)
    position        INTEGER NOT NULL,
    player_id       INTEGER,
    player_name     TEXT,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (ranking_date, team_id, position),
    FOREIGN KEY (ranking_date, team_id) REFERENCES team_rankings (ranking_date, team_id)
);

-- a team's rank on a match's day: the export's match_ranks
CREATE INDEX team_rankings_by_team ON team_rankings (team_id, ranking_date);
CREATE INDEX ranking_snapshots_by_lease ON ranking_snapshots (lease_worker);
