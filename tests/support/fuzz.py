"""Hypothesis strategies that damage a page, and the fixtures a fuzzed page is checked against."""

from __future__ import annotations

import json
import os
import re

import lxml.etree
import lxml.html
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse

from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers.economy import parse_economy
from hltv_scraper.parsers.mapstats import parse_mapstats
from hltv_scraper.parsers.performance import parse_performance
from hltv_scraper.stages import STAGES
from hltv_scraper.storage import Database, ValidationError
from tests.support.faults import small_page
from tests.support.seed import seed_scoreboard


MAP = 206389


PARSERS = {"performance": parse_performance, "economy": parse_economy, "mapstats": parse_mapstats}


STAGE = {"performance": "perf_economy", "economy": "perf_economy", "mapstats": "map_stats"}


FUZZ = settings(
    max_examples=int(os.environ.get("HLTV_FUZZ_EXAMPLES", "40")),
    deadline=None,
    # the same examples in CI every time; HLTV_FUZZ_EXAMPLES=N searches afresh each run
    derandomize="HLTV_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


HUGE_NUMBERS = [
    b"9" * 19, b"9223372036854775808", b"-9223372036854775809", b"18446744073709551616",
    b"9" * 40, b"9" * 400, b"9" * 5000, b"0" * 30 + b"7", b"1" + b"0" * 308 + b".5", b"-0",
]


def response(page: str, body: bytes) -> HtmlResponse:
    kind = "" if page == "mapstats" else f"{page}/"
    return HtmlResponse(
        url=f"https://www.hltv.org/stats/matches/{kind}mapstatsid/{MAP}/x",
        body=body,
        headers={"Content-Type": "text/html; charset=UTF-8"},
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from([2**63, -(2**64), 10**400])
    | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)


class _Unparsable(Exception):
    pass


def _tree(body: bytes):
    try:
        return lxml.html.document_fromstring(body)
    except (lxml.etree.ParserError, ValueError):  # a body an earlier mutation emptied
        raise _Unparsable from None


def _serialise(root) -> bytes:
    return lxml.html.tostring(root, encoding="utf-8", doctype="<!DOCTYPE html>")


def _elements(root) -> list:
    return [el for el in root.iter() if isinstance(el.tag, str) and el.tag not in ("html", "head", "body", "meta")]


def delete_elements(draw, body: bytes) -> bytes:
    root = _tree(body)
    for _ in range(draw(st.integers(1, 3))):
        elements = _elements(root)
        if not elements:
            break
        elements[draw(st.integers(0, len(elements) - 1))].drop_tree()
    return _serialise(root)


def shuffle_attributes(draw, body: bytes) -> bytes:
    """Attribute values moved between elements (a class onto another element, hrefs
    swapped, ...)."""
    root = _tree(body)
    with_attributes = [el for el in _elements(root) if el.attrib]
    if not with_attributes:
        return body
    for _ in range(draw(st.integers(1, 4))):
        first = with_attributes[draw(st.integers(0, len(with_attributes) - 1))]
        second = with_attributes[draw(st.integers(0, len(with_attributes) - 1))]
        name = draw(st.sampled_from(sorted(first.attrib)))
        other = draw(st.sampled_from(sorted(second.attrib)))
        first.attrib[name], second.attrib[other] = second.attrib[other], first.attrib[name]
    return _serialise(root)


def _json_paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_paths(item, (*path, index))


def garbage_json(draw, body: bytes) -> bytes:
    """One chart's JSON: a value somewhere inside replaced, or the whole of it garbage."""
    root = _tree(body)
    charts = root.xpath("//*[@data-fusionchart-config]")
    if not charts:
        return body
    chart = charts[draw(st.integers(0, len(charts) - 1))]
    try:
        config = json.loads(chart.attrib["data-fusionchart-config"])
    except ValueError:  # an earlier mutation put something else there
        config = {}
    how = draw(st.sampled_from(["replace-value", "garbage-text", "cut-short"]))
    if how == "replace-value":
        paths = list(_json_paths(config))
        path = paths[draw(st.integers(1, len(paths) - 1))] if len(paths) > 1 else ()
        if not path:
            config = draw(json_values)
        else:
            parent = config
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = draw(json_values)
        text = json.dumps(config, allow_nan=True)
    elif how == "garbage-text":
        text = draw(st.text(max_size=50))
    else:
        text = json.dumps(config)
        text = text[: draw(st.integers(0, len(text)))]
    chart.attrib["data-fusionchart-config"] = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]", "", text)
    return _serialise(root)


def truncate(draw, body: bytes) -> bytes:
    return body[: draw(st.integers(0, len(body)))]


def huge_numbers(draw, body: bytes) -> bytes:
    numbers = [m.span() for m in re.finditer(rb"(?<![\w#&])\d+(?:\.\d+)?", body)]
    if not numbers:
        return body
    chosen = sorted(set(draw(st.lists(st.integers(0, len(numbers) - 1), min_size=1, max_size=5))), reverse=True)
    for index in chosen:
        start, end = numbers[index]
        body = body[:start] + draw(st.sampled_from(HUGE_NUMBERS)) + body[end:]
    return body


def not_utf8(draw, body: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 5))):
        position = draw(st.integers(0, len(body)))
        junk = draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1",
                                     b"\xf0\x28\x8c\xbc", b"\x80" * 3, b"\xed\xa0\x80", b"\x00"]))
        body = body[:position] + junk + body[position:]
    return body


MUTATIONS = [delete_elements, shuffle_attributes, garbage_json, truncate, huge_numbers, not_utf8]


@st.composite
def mutated(draw, page: str) -> bytes:
    """The map's (cut-down) page of that kind, damaged by one or two mutations."""
    return draw(damaged(small_page(page, MAP)))


@st.composite
def damaged(draw, body: bytes) -> bytes:
    """``body`` damaged by one or two mutations (a mutation that cannot apply is skipped)."""
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2)):
        try:
            body = mutation(draw, body)
        except _Unparsable:
            pass
    return body


@pytest.fixture(scope="module")
def databases(tmp_path_factory) -> dict[str, Database]:
    """One database per stage holding the map as that stage finds it."""
    root = tmp_path_factory.mktemp("fuzz")
    seed_scoreboard(root / "perf.sqlite3", MAP)
    stats = Database.open(root / "stats.sqlite3")
    stats.add_maps([(2384993, 1, MAP)])
    opened = {"perf_economy": Database.open(root / "perf.sqlite3"), "map_stats": stats}
    yield opened
    for db in opened.values():
        db.close()


@pytest.fixture(scope="module")
def good_items() -> dict:
    return {page: parser(response(page, small_page(page, MAP))) for page, parser in PARSERS.items()}


def dump(db: Database) -> list[str]:
    return list(db.connection.connection.driver_connection.iterdump())


def check(page: str, body: bytes, databases: dict, good_items: dict) -> str:
    """Parse a mutated page; what came of it (any other exception fails the test)."""
    try:
        item = PARSERS[page](response(page, body))
    except ParseError:
        return "parse error"
    stage = STAGE[page]
    db = databases[stage]
    pages = {page: item}
    if stage == "perf_economy":
        other = "economy" if page == "performance" else "performance"
        pages[other] = good_items[other]
    before = dump(db)
    try:
        result = db.save(STAGES[stage], MAP, STAGES[stage].bundle(**pages), parser_version="fuzz", check=STAGES[stage].check)
    except ValidationError:
        assert dump(db) == before, "a refused map left rows behind"
        return "validation error"
    assert not db.connection.connection.driver_connection.in_transaction
    if stage == "perf_economy":
        # written whole: every kill matrix cell and economy row the items hold
        stored = db.sql.result(
            "SELECT (SELECT count(*) FROM kill_matrix), (SELECT count(*) FROM economy), "
            "(SELECT count(*) FROM maps WHERE perf_economy_at IS NOT NULL)"
        ).one()
        assert tuple(stored) == (result.rows["kill_matrix"], result.rows["economy"], 1)
        assert result.rows["kill_matrix"] == len(pages["performance"].kill_matrix)
    else:
        stored = db.sql.result(
            "SELECT (SELECT count(*) FROM player_stats), (SELECT count(*) FROM round_history)"
        ).one()
        assert tuple(stored) == (10, len(item.rounds))
    return "stored"
