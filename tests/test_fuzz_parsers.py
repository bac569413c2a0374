"""Property-based fuzzing of the three page parsers with mutated fixture pages.

Whatever a page turns into (elements deleted, attributes shuffled, chart JSON replaced
by garbage, bytes cut off, huge numbers, bytes that are not UTF-8), a parser either
returns an item or raises the project's own :class:`ParseError`, never another
exception; and an item it returns is either written whole by ``Database.save`` or
refused with ``ValidationError`` with nothing written.

Pages are the fixture pages cut down to their content section (~40-130 KB), so an
example costs tens of milliseconds. ``HLTV_FUZZ_EXAMPLES=2000`` runs a longer search.
"""

from __future__ import annotations

import json
import os
import re

import lxml.etree
import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse

from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers.economy import parse_economy
from hltv_scraper.parsers.mapstats import parse_mapstats
from hltv_scraper.parsers.performance import parse_performance
from hltv_scraper.storage import Database, ValidationError
from tests.support.seed import seed_scoreboard
from tests.support.faults import small_page
from tests.support.fuzz import FUZZ, HUGE_NUMBERS, MAP, PARSERS, check, databases, good_items, mutated

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


# -- mutations -------------------------------------------------------------------------

# -- the property ----------------------------------------------------------------------


@pytest.mark.parametrize("page", list(PARSERS))
def test_the_unmutated_small_page_is_stored(page, databases, good_items):
    assert check(page, small_page(page, MAP), databases, good_items) == "stored"


@pytest.mark.slow
@pytest.mark.parametrize("page", list(PARSERS))
def test_a_mutated_page_parses_or_raises_parse_error_and_is_never_half_written(page, databases, good_items):
    @FUZZ
    @given(body=mutated(page))
    def property_(body: bytes) -> None:
        check(page, body, databases, good_items)

    property_()


@pytest.mark.parametrize("page", list(PARSERS))
@pytest.mark.parametrize("number", HUGE_NUMBERS, ids=lambda n: f"{n[:12].decode()}..{len(n)}")
def test_every_number_on_the_page_made_huge(page, number, databases, good_items):
    """Not left to chance: each huge number in every numeric spot of the page, at once."""
    body = re.sub(rb"(?<![\w#&./-])\d+(?:\.\d+)?(?![\w/])", lambda m: number, small_page(page, MAP))
    check(page, body, databases, good_items)
