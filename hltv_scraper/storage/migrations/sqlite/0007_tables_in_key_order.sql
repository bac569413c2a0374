-- The per-map and per-match rows stored clustered by their key (WITHOUT ROWID): a
-- table is one tree in key order, where it was a tree in insertion order beside an index
-- of the key. Reading a table in key order (the export, the report, a unit's rows) then
-- walks one tree from left to right instead of jumping from the index into the table for
-- every row, and a commit writes one tree, not two. PostgreSQL's tables are heaps with
-- their key's index; its 0007 changes nothing.
--
-- Each table is copied into a new one and renamed over the old. A new child table's
-- foreign key names the new parent, which SQLite renames with it; the old tables are
-- dropped children first, so no row is ever without its parent.

CREATE TABLE round_history_new (
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
) WITHOUT ROWID;
INSERT INTO round_history_new SELECT * FROM round_history ORDER BY match_id, map_number, round_number;

CREATE TABLE economy_new (
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
        REFERENCES round_history_new (match_id, map_number, round_number)
) WITHOUT ROWID;
INSERT INTO economy_new SELECT * FROM economy ORDER BY match_id, map_number, round_number, team_id;

CREATE TABLE player_stats_new (
    match_id        INTEGER NOT NULL,
    map_number      INTEGER NOT NULL,
    player_id       INTEGER NOT NULL,
    player_name     TEXT,
    team_id         INTEGER NOT NULL,
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
) WITHOUT ROWID;
INSERT INTO player_stats_new SELECT * FROM player_stats ORDER BY match_id, map_number, player_id;

CREATE TABLE kill_matrix_new (
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
) WITHOUT ROWID;
INSERT INTO kill_matrix_new SELECT * FROM kill_matrix ORDER BY match_id, map_number, matrix_type, player1_id, player2_id;

CREATE TABLE vetoes_new (
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
) WITHOUT ROWID;
INSERT INTO vetoes_new SELECT * FROM vetoes ORDER BY match_id, step;

CREATE TABLE lineups_new (
    match_id        INTEGER NOT NULL REFERENCES matches (match_id),
    team_id         INTEGER NOT NULL,
    player_id       INTEGER NOT NULL,
    player_name     TEXT,
    scraped_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    source_url      TEXT,
    parser_version  TEXT,
    PRIMARY KEY (match_id, team_id, player_id)
) WITHOUT ROWID;
INSERT INTO lineups_new SELECT * FROM lineups ORDER BY match_id, team_id, player_id;

DROP TABLE lineups;
DROP TABLE vetoes;
DROP TABLE kill_matrix;
DROP TABLE player_stats;
DROP TABLE economy;
DROP TABLE round_history;

ALTER TABLE round_history_new RENAME TO round_history;
ALTER TABLE economy_new RENAME TO economy;
ALTER TABLE player_stats_new RENAME TO player_stats;
ALTER TABLE kill_matrix_new RENAME TO kill_matrix;
ALTER TABLE vetoes_new RENAME TO vetoes;
ALTER TABLE lineups_new RENAME TO lineups;
