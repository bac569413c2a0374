-- Parser versions per stage: which version a unit's attempts were counted under, and
-- which version stored it. A new parser version gives units that ran out of attempts
-- under an older one another chance, and finds the units to re-parse.

ALTER TABLE matches ADD COLUMN match_attempts_version TEXT;
ALTER TABLE matches ADD COLUMN match_page_version TEXT;
ALTER TABLE maps ADD COLUMN mapstats_attempts_version TEXT;
ALTER TABLE maps ADD COLUMN mapstats_version TEXT;
ALTER TABLE maps ADD COLUMN perf_attempts_version TEXT;
ALTER TABLE maps ADD COLUMN perf_economy_version TEXT;

-- What stored a unit: the version its own rows carry.
UPDATE matches SET match_page_version = parser_version WHERE match_page_at IS NOT NULL;
UPDATE maps SET mapstats_version = parser_version WHERE mapstats_at IS NOT NULL;
UPDATE maps SET perf_economy_version = (
    SELECT max(k.parser_version) FROM kill_matrix k
    WHERE k.match_id = maps.match_id AND k.map_number = maps.map_number
) WHERE perf_economy_at IS NOT NULL;

-- Attempts so far were counted under the version of the unit's latest failure.
UPDATE matches SET match_attempts_version = (
    SELECT f.parser_version FROM failures f
    WHERE f.stage = 'matches' AND f.unit_id = matches.match_id
    ORDER BY f.failure_id DESC LIMIT 1
) WHERE match_attempts > 0;
UPDATE maps SET mapstats_attempts_version = (
    SELECT f.parser_version FROM failures f
    WHERE f.stage = 'map_stats' AND f.unit_id = maps.mapstatsid
    ORDER BY f.failure_id DESC LIMIT 1
) WHERE mapstats_attempts > 0;
UPDATE maps SET perf_attempts_version = (
    SELECT f.parser_version FROM failures f
    WHERE f.stage = 'perf_economy' AND f.unit_id = maps.mapstatsid
    ORDER BY f.failure_id DESC LIMIT 1
) WHERE perf_attempts > 0;
