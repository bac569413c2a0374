"""The content section is found in the page's bytes and decoded alone: it must decode
as the whole page would, and anything it cannot handle must fall back to the page."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from itemloaders.processors import MapCompose
from scrapy.http import HtmlResponse

from hltv_scraper.items import TeamOverview
from hltv_scraper.parsers.loaders import _Loader, load, to_float, to_int
from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers.economy import parse_economy
from hltv_scraper.parsers.mapstats import parse_mapstats
from hltv_scraper.parsers.performance import parse_performance
from tests.support.pages import load_page, mutated

PARSERS = {"performance": parse_performance, "economy": parse_economy, "mapstats": parse_mapstats}


def encoded(page: HtmlResponse, encoding: str) -> HtmlResponse:
    """The same page in another encoding, declared only in the Content-Type header."""
    text = page.text.replace('charset="utf-8"', "").replace("charset=utf-8", "")
    return HtmlResponse(
        url=page.url,
        body=text.encode(encoding, "xmlcharrefreplace"),
        headers={"Content-Type": f"text/html; charset={encoding}"},
    )


def test_a_non_utf8_page_decodes_its_section_with_the_page_encoding():
    # "ö" is one byte in cp1252 and not valid UTF-8 alone: a section decoded as
    # UTF-8 would read "Jï¿½ns" (or fail), one decoded as cp1252 reads "Jöns".
    page = mutated("performance-219128", ('player-nick">Kaiis<', 'player-nick">Jöns<'))
    legacy = encoded(page, "cp1252")
    assert "Jöns".encode("cp1252") in legacy.body
    players = parse_performance(legacy).players
    assert "Jöns" in {player.player_name for player in players}
    assert asdict(parse_performance(legacy)) == asdict(parse_performance(page))


@pytest.mark.parametrize("page", sorted(PARSERS))
def test_a_utf16_page_falls_back_to_the_whole_page(page):
    # In UTF-16 no ASCII byte string matches: the section is not found at all.
    utf8 = load_page(f"{page}-206389")
    utf16 = encoded(utf8, "utf-16")
    assert b"contentCol" not in utf16.body
    assert asdict(PARSERS[page](utf16)) == asdict(PARSERS[page](utf8))


def test_contentcol_outside_a_div_tag_is_not_the_section():
    # The class name mentioned in a script before the real tag must not cut the page.
    page = load_page("economy-206389")
    text = page.text.replace("<head>", "<head><script>var x = 'contentCol';</script>", 1)
    assert text.count("contentCol") == page.text.count("contentCol") + 1
    moved = HtmlResponse(url=page.url, body=text.encode(), encoding="utf-8")
    assert asdict(parse_economy(moved)) == asdict(parse_economy(page))


def test_a_kill_matrix_cell_without_a_score_is_named():
    page = mutated(
        "performance-219128",
        ('<span class="team2-player-score">0</span>:<span class="team1-player-score">2</span>',
         '<span class="team2-player-score"></span>:<span class="team1-player-score">2</span>'),
    )
    with pytest.raises(ParseError, match="12660's row has 4:5 scores for 5 columns"):
        parse_performance(page)


class _Counts(_Loader):
    default_item_class = TeamOverview
    default_input_processor = MapCompose(to_int)


class _Averages(_Counts):
    kills_in = MapCompose(to_float)


def test_loaders_keep_their_own_processors():
    # Processors are looked up once per loader class, never shared between classes.
    assert load(_Averages, "averages", kills="3.5").kills == 3.5
    with pytest.raises(ParseError, match=r"counts: bad kills '3.5' \(not a whole number"):
        load(_Counts, "counts", kills="3.5")
    assert load(_Averages, "averages", kills="4.5").kills == 4.5
    assert load(_Counts, "counts", kills="4", deaths=None) == TeamOverview(kills=4)
