-- The match's GOTV demo, as the match page links it (/download/demo/{id}); NULL when the
-- page links none, or the match page was stored before demo ids were read (a
-- PARSER_VERSION bump makes those stale: `-a reparse=stale` fills them).

ALTER TABLE matches ADD COLUMN demo_id INTEGER;
