"""A stage is one declaration: everything else holds for any stage, a new one included.

A sixth stage, declared here as a newcomer would (its unit, its page, its bundle, its
unit rows, its writer), gets a spider, its arguments, pending counts, claims, saves,
failure records, requeue, leases, summary lines and archive file names from the shared
code, which names no stage."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hltv_scraper.items import Unit
from hltv_scraper.ledger.sources import LeasedUnits
from hltv_scraper.spiders.stages import SPIDERS, spider_class
from hltv_scraper.stages import STAGES, page_of_url
from hltv_scraper.stages.stage import Page, Stage, UnitKind, id_in, path_url
from hltv_scraper.storage import Database, SaveResult, UnitTable
from tests.support.seed import rows


@dataclass
class NotePage:
    page = "note"
    unit_id: int | None = None
    url: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class NotePages:
    note: NotePage


def write_note(db, key, pages, *, now, parser_version, check, stamp):
    db.run(f"UPDATE notes SET text = :text, note_at = :now{stamp.assignments} WHERE note_id = :id",
           {"text": pages.note.text, "now": now, "id": key["unit_id"], **stamp.params})
    return SaveResult(rows={"notes": 1})


NOTES = Stage(
    name="notes",
    unit=UnitKind(called="notes", label="note {}".format, source=LeasedUnits, named_argument="note_id",
                  adding_hint="add notes by hand"),
    pages=(Page("note", url=path_url("/notes/{id}/{slug}"), unit_of_url=id_in(r"/notes/(?P<id>\d+)"),
                markers=(b"note-body",), parse=lambda response: NotePage(text=response.text)),),
    bundle=NotePages,
    write=write_note,
    rows=UnitTable(table="notes", key="note_id", attempts="note_attempts", done="note_at",
                   attempts_version="note_attempts_version", version="note_version",
                   pending="u.note_at IS NULL", select="SELECT u.note_id AS unit_id, u.* FROM notes u",
                   called="notes", of_match=False),
    counts=(("notes stored", "SELECT count(*) FROM notes WHERE note_at IS NOT NULL"),),
)


def test_a_sixth_stage_gets_everything_else_from_the_shared_code(tmp_path):
    path = tmp_path / "hltv.sqlite3"
    with Database.open(path) as db:
        db.sql.run("CREATE TABLE notes (note_id INTEGER PRIMARY KEY, text TEXT, note_at TEXT, "
                   "note_attempts INTEGER NOT NULL DEFAULT 0, note_attempts_version TEXT, note_version TEXT, "
                   "lease_worker TEXT, lease_expires REAL, updated_at TEXT)")
        db.sql.run("INSERT INTO notes (note_id) VALUES (1), (2), (3)")
        assert db.count_pending(NOTES, max_attempts=3) == 3

        claimed = db.claim(NOTES, worker="w", lease_seconds=60, max_attempts=3, limit=2)
        assert [unit.id for unit in claimed] == [1, 2]
        assert [(row["units_of"], row["units"]) for row in db.leases([NOTES])] == [("notes", 2)]

        db.save(NOTES, 1, NotePages(NotePage(text="hello")), parser_version="1", worker="w")
        assert db.record_failure(NOTES, 2, failures=[("note", "no note-body", None)], parser_version="1", worker="w")
        assert rows(path, "SELECT note_id, text, note_version, note_attempts FROM notes ORDER BY 1") == [
            (1, "hello", "1", 0), (2, None, None, 1), (3, None, None, 0)]
        assert rows(path, "SELECT stage, unit_id, page FROM failures") == [("notes", 2, "note")]
        assert db.requeue(NOTES, reason="note-body") == [2]
        assert db.summary([NOTES])["notes stored"] == 1
        assert db.pending_counts([NOTES], max_attempts=3) == {"notes": 2}
        assert db.stored_versions([NOTES]) == {"notes": {"1": 1}}

    spider = spider_class(NOTES)
    assert (spider.name, spider.__name__) == ("notes", "NotesSpider")
    source = spider.check_arguments({"note_id": "3,1"})
    assert source.named_ids == [3, 1] and source.overwrite
    assert NOTES.pages[0].unit_of_url("https://www.hltv.org/notes/7/x") == 7


def test_the_registry_is_the_one_list_of_stages():
    assert list(STAGES) == ["results", "matches", "map_stats", "perf_economy", "rankings"]
    assert list(SPIDERS) == list(STAGES)
    # each page's URL leads back to its page and unit: the archive's file names
    for stage in STAGES.values():
        for page in stage.pages:
            unit_id = 20251201 if stage.name == "rankings" else 206389
            url = page.url("https://www.hltv.org", Unit(id=unit_id, slug="a-vs-b"))
            assert page_of_url(url) == (page.name, unit_id), url
            assert re.match(r"https://www\.hltv\.org/", url)

