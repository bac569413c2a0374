"""The results listing (``/results?offset=N``): one entry per finished match, and the way on.

Only the regular entries count: they carry their completion time
(``data-zonedgrouping-entry-unix``); the featured ``.big-results`` block on the first
page repeats some of them without it. An entry needs only its match link; everything
else it shows is optional. A listing past its end is empty, which is not an error; a
page with no listing structure at all is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hltv_scraper.items import ResultEntry, ResultsPage
from hltv_scraper.parsers.loaders import ResultEntryLoader, load
from hltv_scraper.parsers._page import (
    ParseError,
    content_selector,
    node_text,
    whole_number,
)

if TYPE_CHECKING:
    from parsel import Selector
    from scrapy.http import TextResponse

_ENTRY_CSS = ".result-con[data-zonedgrouping-entry-unix]"
# What an empty listing still has: enough to tell it from a page that is no listing.
_LISTING_CSS = ".results-all, .result-con, .pagination-data"
_MATCH_HREF = re.compile(r"/matches/(\d+)(?:/([^?#]*))?")
_PAGINATION = re.compile(r"(\d+)\s*-\s*(\d+)\s*of\s*(\d+)", re.I)
_NEXT_OFFSET = re.compile(r"[?&]offset=(\d+)")
_BEST_OF = re.compile(r"bo(\d+)", re.I)
_FORFEIT = "def"


def parse_results(response: TextResponse) -> ResultsPage:
    root = _root(response)
    entries: dict[int, ResultEntry] = {}
    for index, node in enumerate(root.css(_ENTRY_CSS), start=1):
        entry = _entry(node, index)
        # A date-filtered listing can show a match twice: the first is kept.
        entries.setdefault(entry.match_id, entry)
    offset, total = _pagination(root)
    return ResultsPage(
        url=response.url,
        offset=offset,
        total=total,
        next_offset=_next_offset(root),
        entries=list(entries.values()),
    )


def _root(response: TextResponse) -> Selector:
    try:
        return content_selector(response, _ENTRY_CSS)
    except ParseError:
        pass  # no regular entry anywhere: an empty listing, or no listing at all
    try:
        return content_selector(response, _LISTING_CSS)
    except ParseError:
        raise ParseError(f"results: no listing ({_LISTING_CSS})") from None


def _entry(node: Selector, index: int) -> ResultEntry:
    piece = f"results: entry {index}"
    link = node.css("a[href*='/matches/']")
    if not link:
        raise ParseError(f"{piece} has no /matches/ link")
    href = link[0].attrib["href"]
    match = _MATCH_HREF.search(href)
    if not match:
        raise ParseError(f"{piece}: no match id in {href[:100]!r}")
    piece = f"results: entry {index} ({href[:100]})"
    match_id = whole_number(match.group(1), f"{piece}: match id")
    format_ = node_text(node.css(".map-text"))
    kind = format_.lower() if format_ else None
    best_of = _BEST_OF.fullmatch(kind) if kind else None
    team1_score, team2_score = _scores(node, piece)
    return load(
        ResultEntryLoader, piece,
        match_id=match_id,
        slug=match.group(2),
        team1_name=node_text(node.css(".team1 .team")),
        team2_name=node_text(node.css(".team2 .team")),
        team1_score=team1_score,
        team2_score=team2_score,
        event_name=node_text(node.css(".event-name")),
        stars=len(node.css(".stars i")),
        format=format_,
        # "bo3", "bo5"; a map's short name is a best of one; "def" a forfeit, of no format
        best_of=(
            whole_number(best_of.group(1), f"{piece}: best of") if best_of
            else None if kind in (None, _FORFEIT) else 1
        ),
        is_forfeit=None if kind is None else kind == _FORFEIT,
        completed_unix_ms=whole_number(
            node.attrib.get("data-zonedgrouping-entry-unix"), f"{piece}: completion time"
        ),
    )


def _scores(node: Selector, piece: str) -> tuple[int | None, int | None]:
    """Team 1's and team 2's score from "2 - 1", whatever wraps the numbers."""
    numbers = re.findall(r"\d+", node_text(node.css(".result-score")) or "")
    if len(numbers) != 2:
        return None, None
    first, second = (whole_number(number, f"{piece}: score") for number in numbers)
    return first, second


def _pagination(root: Selector) -> tuple[int | None, int | None]:
    """(offset, total) from "1 - 100 of 115045": the first entry shown is offset + 1."""
    text = (node_text(root.css(".pagination-data")[:1]) or "").replace(",", "")
    match = _PAGINATION.search(text)
    if not match:
        return None, None
    first = whole_number(match.group(1), "results: pagination start")
    total = whole_number(match.group(3), "results: pagination total")
    return max(first - 1, 0), total


def _next_offset(root: Selector) -> int | None:
    """The next page's offset; ``None`` on the last page, where the link has no href."""
    for link in root.css(".pagination-next"):
        href = link.attrib.get("href")
        if href and "inactive" not in link.attrib.get("class", "").split():
            match = _NEXT_OFFSET.search(href)
            if match:
                return whole_number(match.group(1), "results: next page offset")
    return None
