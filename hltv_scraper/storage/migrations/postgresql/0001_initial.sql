-- The schema of DESIGN.md for PostgreSQL: the same tables and columns as the SQLite
-- migrations, with 64-bit integers and double precision. Every data table carries
-- provenance columns.

CREATE TABLE matches (
    match_id        BIGINT PRIMARY KEY,
    date            TEXT,
    date_unix_ms    BIGINT,
    event_id        BIGINT,
    event_name      TEXT,
    team1_id        BIGINT,
    team1_name      TEXT,
    team2_id        BIGINT,
    team2_name      TEXT,
    team1_score     BIGINT,
    team2_score     BIGINT,
    best_of         BIGINT,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT
);

CREATE TABLE maps (
    match_id          BIGINT NOT NULL REFERENCES matches (match_id),
    map_number        BIGINT NOT NULL,
    mapstatsid        BIGINT UNIQUE,
    map_name          TEXT,
    team1_rounds      BIGINT,
    team2_rounds      BIGINT,
    team1_ct_rounds   BIGINT,
    team1_t_rounds    BIGINT,
    team2_ct_rounds   BIGINT,
    team2_t_rounds    BIGINT,
    team1_ot_rounds   BIGINT,
    team2_ot_rounds   BIGINT,
    team1_starting_side TEXT CHECK (team1_starting_side IN ('CT', 'T')),
    rating_version    TEXT,
    -- perf_economy stage: attempts that failed to parse, and when it finished
    perf_attempts     BIGINT NOT NULL DEFAULT 0,
    perf_economy_at   TEXT,
    -- map_stats stage: likewise
    mapstats_attempts BIGINT NOT NULL DEFAULT 0,
    mapstats_at       TEXT,
    scraped_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    source_url        TEXT,
    parser_version    TEXT,
    PRIMARY KEY (match_id, map_number)
);

CREATE TABLE player_stats (
    match_id        BIGINT NOT NULL,
    map_number      BIGINT NOT NULL,
    player_id       BIGINT NOT NULL,
    player_name     TEXT,
    team_id         BIGINT NOT NULL,
    -- scoreboard (map stats page)
    kills           BIGINT,
    deaths          BIGINT,
    assists         BIGINT,
    flash_assists   BIGINT,
    hs_kills        BIGINT,
    kd_diff         BIGINT,
    adr             DOUBLE PRECISION,
    kast            DOUBLE PRECISION,
    fk_diff         BIGINT,
    opening_kills   BIGINT,
    opening_deaths  BIGINT,
    multi_kills     BIGINT,
    clutch_wins     BIGINT,
    traded_deaths   BIGINT,
    round_swing     DOUBLE PRECISION,
    rating          DOUBLE PRECISION,
    rating_version  TEXT,
    -- eco-adjusted scoreboard cells
    e_kills         BIGINT,
    e_hs_kills      BIGINT,
    e_deaths        BIGINT,
    e_traded_deaths BIGINT,
    e_kd_diff       BIGINT,
    e_adr           DOUBLE PRECISION,
    e_kast          DOUBLE PRECISION,
    e_opening_kills BIGINT,
    e_opening_deaths BIGINT,
    e_fk_diff       BIGINT,
    -- performance page
    kpr             DOUBLE PRECISION,
    dpr             DOUBLE PRECISION,
    impact          DOUBLE PRECISION,
    mk_rating       DOUBLE PRECISION,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, map_number, player_id),
    FOREIGN KEY (match_id, map_number) REFERENCES maps (match_id, map_number)
);

CREATE TABLE round_history (
    match_id        BIGINT NOT NULL,
    map_number      BIGINT NOT NULL,
    round_number    BIGINT NOT NULL,
    winner_side     TEXT CHECK (winner_side IN ('CT', 'T')),
    win_type        TEXT CHECK (win_type IN ('elimination', 'bomb_exploded', 'bomb_defused', 'time')),
    winner_team_id  BIGINT,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, map_number, round_number),
    FOREIGN KEY (match_id, map_number) REFERENCES maps (match_id, map_number)
);

CREATE TABLE economy (
    match_id        BIGINT NOT NULL,
    map_number      BIGINT NOT NULL,
    round_number    BIGINT NOT NULL,
    team_id         BIGINT NOT NULL CHECK (team_id > 0),
    equipment_value BIGINT,
    buy_type        TEXT CHECK (buy_type IN ('full_eco', 'semi_eco', 'semi_buy', 'full_buy')),
    side            TEXT CHECK (side IN ('CT', 'T')),
    won             BIGINT CHECK (won IN (0, 1)),
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, map_number, round_number, team_id),
    FOREIGN KEY (match_id, map_number, round_number)
        REFERENCES round_history (match_id, map_number, round_number)
);

CREATE TABLE kill_matrix (
    match_id        BIGINT NOT NULL,
    map_number      BIGINT NOT NULL,
    matrix_type     TEXT NOT NULL CHECK (matrix_type IN ('all', 'first_kill', 'awp')),
    player1_id      BIGINT NOT NULL,
    player2_id      BIGINT NOT NULL,
    player1_kills   BIGINT NOT NULL,
    player2_kills   BIGINT NOT NULL,
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
    failure_id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    mapstatsid      BIGINT NOT NULL,
    match_id        BIGINT,
    map_number      BIGINT,
    stage           TEXT NOT NULL,
    page            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    url             TEXT,
    parser_version  TEXT,
    failed_at       TEXT NOT NULL
);

CREATE INDEX failures_by_map ON failures (mapstatsid);
