-- The schema of DESIGN.md. Every data table carries provenance columns.

CREATE TABLE matches (
    match_id        INTEGER PRIMARY KEY,
    date            TEXT,
    date_unix_ms    INTEGER,
    event_id        INTEGER,
    event_name      TEXT,
    team1_id        INTEGER,
    team1_name      TEXT,
    team2_id        INTEGER,
    team2_name      TEXT,
    team1_score     INTEGER,
    team2_score     INTEGER,
    best_of         INTEGER,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT
);

CREATE TABLE maps (
    match_id          INTEGER NOT NULL REFERENCES matches (match_id),
    map_number        INTEGER NOT NULL,
    mapstatsid        INTEGER UNIQUE,
    map_name          TEXT,
    team1_rounds      INTEGER,
    team2_rounds      INTEGER,
    team1_ct_rounds   INTEGER,
    team1_t_rounds    INTEGER,
    team2_ct_rounds   INTEGER,
    team2_t_rounds    INTEGER,
    team1_ot_rounds   INTEGER,
    team2_ot_rounds   INTEGER,
    team1_starting_side TEXT CHECK (team1_starting_side IN ('CT', 'T')),
    rating_version    TEXT,
    -- perf_economy stage: attempts that failed to parse, and when it finished
    perf_attempts     INTEGER NOT NULL DEFAULT 0,
    perf_economy_at   TEXT,
    -- map_stats stage: likewise
    mapstats_attempts INTEGER NOT NULL DEFAULT 0,
    mapstats_at       TEXT,
    scraped_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    source_url        TEXT,
    parser_version    TEXT,
    PRIMARY KEY (match_id, map_number)
);

CREATE TABLE player_stats (
    match_id        INTEGER NOT NULL,
    map_number      INTEGER NOT NULL,
    player_id       INTEGER NOT NULL,
    player_name     TEXT,
    team_id         INTEGER NOT NULL,
    -- scoreboard (map stats page)
    kills           INTEGER,
    deaths          INTEGER,
    assists         INTEGER,
    flash_assists   INTEGER,
    hs_kills        INTEGER,
    kd_diff         INTEGER,
    adr             REAL,
    kast            REAL,
    fk_diff         INTEGER,
    opening_kills   INTEGER,
    opening_deaths  INTEGER,
    multi_kills     INTEGER,
    clutch_wins     INTEGER,
    traded_deaths   INTEGER,
    round_swing     REAL,
    rating          REAL,
    rating_version  TEXT,
    -- eco-adjusted scoreboard cells
    e_kills         INTEGER,
    e_hs_kills      INTEGER,
    e_deaths        INTEGER,
    e_traded_deaths INTEGER,
    e_kd_diff       INTEGER,
    e_adr           REAL,
    e_kast          REAL,
    e_opening_kills INTEGER,
    e_opening_deaths INTEGER,
    e_fk_diff       INTEGER,
    -- performance page
    kpr             REAL,
    dpr             REAL,
    impact          REAL,
    mk_rating       REAL,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, map_number, player_id),
    FOREIGN KEY (match_id, map_number) REFERENCES maps (match_id, map_number)
);

CREATE TABLE round_history (
    match_id        INTEGER NOT NULL,
    map_number      INTEGER NOT NULL,
    round_number    INTEGER NOT NULL,
    winner_side     TEXT CHECK (winner_side IN ('CT', 'T')),
    win_type        TEXT CHECK (win_type IN ('elimination', 'bomb_exploded', 'bomb_defused', 'time')),
    winner_team_id  INTEGER,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, map_number, round_number),
    FOREIGN KEY (match_id, map_number) REFERENCES maps (match_id, map_number)
);

CREATE TABLE economy (
    match_id        INTEGER NOT NULL,
    map_number      INTEGER NOT NULL,
    round_number    INTEGER NOT NULL,
    team_id         INTEGER NOT NULL CHECK (team_id > 0),
    equipment_value INTEGER,
    buy_type        TEXT CHECK (buy_type IN ('full_eco', 'semi_eco', 'semi_buy', 'full_buy')),
    side            TEXT CHECK (side IN ('CT', 'T')),
    won             INTEGER CHECK (won IN (0, 1)),
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, map_number, round_number, team_id),
    FOREIGN KEY (match_id, map_number, round_number)
        REFERENCES round_history (match_id, map_number, round_number)
);

CREATE TABLE kill_matrix (
    match_id        INTEGER NOT NULL,
    map_number      INTEGER NOT NULL,
    matrix_type     TEXT NOT NULL CHECK (matrix_type IN ('all', 'first_kill', 'awp')),
    player1_id      INTEGER NOT NULL,
    player2_id      INTEGER NOT NULL,
    player1_kills   INTEGER NOT NULL,
    player2_kills   INTEGER NOT NULL,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, map_number, matrix_type, player1_id, player2_id),
    FOREIGN KEY (match_id, map_number) REFERENCES maps (match_id, map_number)
);

-- Why a map's page could not be used (parse and validation failures only: a fetch
-- failure leaves the database untouched).
CREATE TABLE failures (
    failure_id      INTEGER PRIMARY KEY,
    mapstatsid      INTEGER NOT NULL,
    match_id        INTEGER,
    map_number      INTEGER,
    stage           TEXT NOT NULL,
    page            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    url             TEXT,
    parser_version  TEXT,
    failed_at       TEXT NOT NULL
);

CREATE INDEX failures_by_map ON failures (mapstatsid);
