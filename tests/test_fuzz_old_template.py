"""The fuzzing of ``test_fuzz_parsers`` on the 2022 map stats page of the same map.

The 2022 page takes other paths through the map stats parser (columns known by header
title, opening kills from the FK Diff title, rows after the info box): whatever the page
turns into, the parser returns an item that is stored whole or refused whole, or raises
:class:`ParseError`, never another exception.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.support.fuzz import (  # noqa: F401  (databases, good_items: fixtures)
    FUZZ,
    MAP,
    check,
    damaged,
    databases,
    good_items,
)
from tests.support.pages import page_bytes

OLD_PAGE = page_bytes(f"old-mapstats-{MAP}")
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def test_the_unmutated_old_page_is_stored(databases, good_items):  # noqa: F811
    assert check("mapstats", OLD_PAGE, databases, good_items) == "stored"


@pytest.mark.slow
def test_a_mutated_old_page_parses_or_raises_parse_error_and_is_never_half_written(databases, good_items):  # noqa: F811
    @FUZZ
    @given(body=damaged(OLD_PAGE))
    def property_(body: bytes) -> None:
        check("mapstats", body, databases, good_items)

    property_()
