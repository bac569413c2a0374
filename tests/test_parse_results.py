"""The results listing parser against the fixture listing and its truth file, field by field,
and against the ways a real listing can differ from the fixture or be broken."""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, fields

import pytest
from scrapy.http import HtmlResponse

from hltv_scraper.items import ResultEntry, ResultsPage
from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers.results import parse_results
from tests.support.pages import load_expected, load_page, with_text
from tests.support.pages import mutated as mutated_page

URL = "https://www.hltv.org/results?offset=0"
FIRST_ENTRY = '<div class="result-con" data-zonedgrouping-entry-unix="1771087288000">'
# one whole entry, featured or regular: a <div class="result-con"> holding one link
ENTRY = re.compile(r'<div class="result-con"[^>]*><a .*?</a></div>\n?')


@functools.cache
def parsed() -> ResultsPage:
    """The page parsed once: the tests below only read the result."""
    return parse_results(load_page("results-0"))


def mutated(*replacements: tuple[str, str]) -> HtmlResponse:
    return mutated_page("results-0", *replacements)


def rewritten(pattern: str, replacement: str, *, count: int = 0) -> HtmlResponse:
    """The listing with a regular expression applied; it must change something."""
    page = load_page("results-0")
    text, made = re.subn(pattern, replacement, page.text, count=count)
    assert made, pattern
    return with_text(page, text)


def expected_entry(truth: dict) -> dict:
    """A truth file entry in the item's terms."""
    return {
        "match_id": truth["match_id"],
        "slug": truth["url"].split("/", 3)[3],
        "team1_name": truth["team1_name"],
        "team2_name": truth["team2_name"],
        "team1_score": truth["team1_score"],
        "team2_score": truth["team2_score"],
        "event_name": truth["event_name"],
        "stars": truth["stars"],
        "format": truth["map_text"],
        "best_of": truth["best_of"],
        "is_forfeit": truth["is_forfeit"],
        "completed_unix_ms": truth["entry_unix_ms"],
    }


def entry(page: ResultsPage, match_id: int) -> ResultEntry:
    return next(entry for entry in page.entries if entry.match_id == match_id)


def assert_listing(page: ResultsPage) -> None:
    truth = load_expected("results-0")
    assert len(page.entries) == len(truth["entries"])
    for got, expected in zip(page.entries, truth["entries"]):
        want = expected_entry(expected)
        for name in (field.name for field in fields(ResultEntry)):
            assert getattr(got, name) == want[name], (expected["match_id"], name)
    assert (page.offset, page.total, page.next_offset) == (0, 115045, 100)


def test_entries_match_truth_field_by_field():
    assert_listing(parsed())


def test_page_fields():
    page, truth = parsed(), load_expected("results-0")
    assert page.unit_id is None  # the spider sets it
    assert page.url == URL
    assert page.offset == truth["offset"] == truth["pagination"]["start"] - 1
    assert page.total == truth["pagination"]["total"]
    assert page.next_offset == 100  # truth: next_href "/results?offset=100"


def test_featured_duplicates_are_skipped():
    page, truth = parsed(), load_expected("results-0")
    assert len(truth["featured"]) == 8
    assert [e.match_id for e in page.entries] == [e["match_id"] for e in truth["entries"]]
    assert all(e.completed_unix_ms is not None for e in page.entries)
    # A featured entry for a match the regular listing lacks must not appear either.
    featured = '<div class="result-con"><a class="a-reset" href="/matches/2389951/'
    page = parse_results(mutated((featured, featured.replace("2389951", "2399999"))))
    assert 2399999 not in {e.match_id for e in page.entries}
    assert len(page.entries) == 22


def test_entries_without_stars_have_zero_stars():
    page = parsed()
    assert entry(page, 2384967).stars == 0  # .map-text alone, no .stars
    assert entry(page, 2389951).stars == 3
    assert sorted({e.stars for e in page.entries}) == [0, 1, 2, 3]


def test_bo1_entries_name_their_map():
    page = parsed()
    bo1 = {e.match_id: e.format for e in page.entries if e.best_of == 1}
    assert bo1 == {2384904: "d2", 2377467: "inf", 2371321: "anb", 2366498: "nuke"}
    scores = {(entry(page, i).team1_score, entry(page, i).team2_score) for i in (2384904, 2366498)}
    assert scores == {(16, 14)}  # a BO1's score is its rounds
    assert not any(entry(page, match_id).is_forfeit for match_id in bo1)


def test_def_entries_are_forfeits_without_a_format():
    page = parsed()
    forfeits = [e for e in page.entries if e.is_forfeit]
    assert [e.match_id for e in forfeits] == [2380434, 2367376, 2367406]
    assert all(e.format == "def" and e.best_of is None for e in forfeits)
    assert [(e.team1_score, e.team2_score) for e in forfeits] == [(0, 1), (1, 0), (1, 0)]
    assert {e.best_of for e in page.entries if not e.is_forfeit} == {1, 3, 5}


def test_a_repeated_entry_is_kept_once_first_shown():
    # A date-filtered listing can show a match twice: here 2389951 again, later and renamed.
    text = load_page("results-0").text
    first = ENTRY.search(text, text.index(FIRST_ENTRY)).group(0)
    again = first.replace("1771087288000", "1771000000000").replace(">Northwind<", ">Renamed<")
    last_group = "Results for September 8th 2023</div>\n"
    page = parse_results(mutated((last_group, last_group + again)))
    assert [e.match_id for e in page.entries].count(2389951) == 1
    assert len(page.entries) == 22
    kept = entry(page, 2389951)
    assert (kept.completed_unix_ms, kept.team1_name) == (1771087288000, "Northwind")


def test_last_page_has_no_next_offset():
    next_link = '<a class="pagination-next" href="/results?offset=100">'
    page = parse_results(mutated(
        (next_link, '<a class="pagination-next inactive">'),
        ("1 - 100 of 115045", "115001 - 115045 of 115045"),
    ))
    assert (page.offset, page.total, page.next_offset) == (115000, 115045, None)
    assert len(page.entries) == 22


def test_an_inactive_next_link_with_an_href_is_still_the_last_page():
    old = '<a class="pagination-next" href'
    page = parse_results(mutated((old, old.replace("next", "next inactive"))))
    assert page.next_offset is None


def test_next_offset_of_a_date_filtered_listing():
    dated = 'href="/results?startDate=2021-12-26&amp;endDate=2021-12-26&amp;offset=200"'
    page = parse_results(mutated(('href="/results?offset=100"', dated)))
    assert page.next_offset == 200


def test_an_empty_listing_is_not_an_error():
    page = load_page("results-0")
    text, removed = ENTRY.subn("", page.text)
    assert removed == 30  # 8 featured, 22 regular
    empty = parse_results(with_text(page, text.replace("1 - 100 of", "115101 - 115200 of")))
    assert empty.entries == []
    assert (empty.offset, empty.total, empty.next_offset) == (115100, 115045, 100)


@pytest.mark.parametrize("body", [
    "<html><body><div class='contentCol'>nothing here</div></body></html>",
    "<html><body><div class='contentCol'><div class='results'>Just a moment</div></div>",
])
def test_a_page_that_is_no_listing_is_a_parse_error(body):
    response = HtmlResponse(url=URL, body=body.encode(), encoding="utf-8")
    with pytest.raises(ParseError, match=r"results: no listing \(\.results-all"):
        parse_results(response)


def test_an_entry_without_a_match_link_is_a_parse_error():
    response = rewritten(
        r'(data-zonedgrouping-entry-unix="1756653619000">)<a class="a-reset" href="[^"]*">',
        r'\1<a class="a-reset">',
    )
    with pytest.raises(ParseError, match=r"results: entry 4 has no /matches/ link"):
        parse_results(response)


def test_a_match_link_without_an_id_is_a_parse_error():
    response = rewritten(r'("1756653619000"><a class="a-reset" href="/matches/)\d+/', r"\1")
    with pytest.raises(ParseError, match=r"entry 4: no match id in '/matches/upland-vs-"):
        parse_results(response)


@pytest.mark.parametrize(("old", "new", "piece"), [
    ("/matches/2384967/", "/matches/" + "9" * 25 + "/", "match id"),
    ('entry-unix="1756653619000"', 'entry-unix="' + "1" * 40 + '"', "completion time"),
    ('<span class="score-won">16</span>', '<span class="score-won">' + "1" * 30 + "</span>", "score"),
    ('href="/results?offset=100"', 'href="/results?offset=' + "1" * 30 + '"', "next page offset"),
    ("1 - 100 of 115045", "1 - 100 of " + "5" * 30, "pagination total"),
])
def test_absurd_numbers_are_parse_errors(old, new, piece):
    with pytest.raises(ParseError, match=piece):
        parse_results(mutated((old, new)))


def test_optional_pieces_removed_read_as_none():
    optional = (
        r'<div class="stars">.*?</div>', r'<div class="(?:map )?map-text">\w+</div>',
        r'<span class="event-name">[^<]*</span>', r'<td class="result-score">.*?</td>',
        r'<div class="pagination-component[^"]*">.*?</a></div>',
    )
    page = parse_results(rewritten("|".join(optional), ""))
    assert [e.match_id for e in page.entries] == [e.match_id for e in parsed().entries]
    for got in page.entries:
        assert got.stars == 0  # no .stars: no star, as the site shows a 0-star match
        assert (got.format, got.best_of, got.is_forfeit, got.event_name) == (None,) * 4
        assert (got.team1_score, got.team2_score) == (None, None)
        assert got.team1_name and got.completed_unix_ms
    assert (page.offset, page.total, page.next_offset) == (None, None, None)


@pytest.mark.slow
def test_an_older_looking_listing_reads_the_same():
    """Spans for divs, wrappers, other attribute order, extra classes and whitespace."""
    text = load_page("results-0").text
    text = re.sub(
        r'<div class="result-con" (data-zonedgrouping-entry-unix="\d+")>',
        r'<div \1 data-old="1" class="result-con">', text,
    )
    text = re.sub(r'<div class="(team[^"]*)">([^<]*)</div>', r'<span class="\1">\n \2 </span>', text)
    text = re.sub(r'<div class="(?:map )?map-text">(\w+)</div>', r'<span class="map-text">\1</span>',
                  text)
    text = re.sub(r'<td class="result-score"><span class="(score-\w+)">(\d+)</span> - '
                  r'<span class="(score-\w+)">(\d+)</span></td>',
                  r'<td class="result-score"><div class="score"><div class="\1">\2</div>'
                  r'<span>:</span><div class="\3">\4</div></div></td>', text)
    text = re.sub(r'<a class="a-reset" (href="/matches/[^"]+")>', r'<a \1 class="a-reset">', text)
    text = text.replace("><", ">\n   <")
    text = re.sub(r'class="([^"]*)"', r'class=" live-extra  \1  "', text)
    assert text.count('data-old="1" class=" live-extra  result-con  "') == 22
    assert_listing(parse_results(HtmlResponse(url=URL, body=text.encode(), encoding="utf-8")))


def test_a_page_the_section_cannot_be_found_in_reads_the_same():
    # In UTF-16 no ASCII byte string matches: the whole page is read instead.
    page = load_page("results-0")
    text = page.text.replace('charset="utf-8"', "").replace("charset=utf-8", "")
    utf16 = HtmlResponse(url=URL, body=text.encode("utf-16"),
                         headers={"Content-Type": "text/html; charset=utf-16"})
    assert asdict(parse_results(utf16)) == asdict(parsed())
