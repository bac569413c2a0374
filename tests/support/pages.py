"""Fixture pages as Scrapy responses, and their truth files.

Map, match and results pages live in the bundled archive
(``fixtures/archive/{page}/{unit id}.html.gz``, the layout the crawler records, which
the demo replays); special pages, page variants, world ranking snapshots
(``ranking-2025-12-01``) and truth files in ``fixtures/pages``. A page is named as in the shared test data: ``performance-219128``,
``special-cf-challenge-performance-173424``, ``results-0``, ``match-2389951``.
"""

from __future__ import annotations

import calendar
import gzip
import html
import json
import re
from collections.abc import Callable
from pathlib import Path

from scrapy.http import HtmlResponse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PAGES_DIR = FIXTURES / "pages"
ARCHIVE_DIR = FIXTURES / "archive"
MAPSTATSIDS = sorted(
    int(path.name.split(".")[0]) for path in (ARCHIVE_DIR / "mapstats").glob("*.html.gz")
)
MATCH_IDS = sorted(
    int(path.name.split(".")[0]) for path in (ARCHIVE_DIR / "match").glob("*.html.gz")
)
_ARCHIVED_PAGE = re.compile(r"^(mapstats|performance|economy|match|results)-(\d+)$")
_DISCOVERY_URLS = {
    "results": "https://www.hltv.org/results?offset={}",
    "match": "https://www.hltv.org/matches/{}/x",
}
_URL_PATHS = {"performance": "performance/", "economy": "economy/"}
# a ranking snapshot or a variant of one (``variant-tie-ranking-2025-11-24``)
_RANKING_PAGE = re.compile(r"(?:^|-)ranking-(\d{4})-(\d{2})-(\d{2})$")


def page_path(name: str) -> Path:
    match = _ARCHIVED_PAGE.match(name)
    if match:
        return ARCHIVE_DIR / match.group(1) / f"{match.group(2)}.html.gz"
    return PAGES_DIR / f"{name}.html.gz"


def page_bytes(name: str) -> bytes:
    return gzip.decompress(page_path(name).read_bytes())


def load_page(name: str) -> HtmlResponse:
    """The page as a response from the URL it would have come from."""
    ranking = _RANKING_PAGE.search(name)
    if ranking:
        return HtmlResponse(url=ranking_url(*ranking.groups()), body=page_bytes(name), encoding="utf-8")
    # a discovery page or a variant of one (``variant-rewatch2025-match-2389951``)
    discovery = re.search(r"(?:^|-)(results|match)-(\d+)$", name)
    if discovery:
        url = _DISCOVERY_URLS[discovery.group(1)].format(discovery.group(2))
        return HtmlResponse(url=url, body=page_bytes(name), encoding="utf-8")
    mapstatsid = re.search(r"\d+$", name)
    kind = next((path for page, path in _URL_PATHS.items() if f"{page}-" in name), "")
    url = f"https://www.hltv.org/stats/matches/{kind}mapstatsid/{mapstatsid.group(0) if mapstatsid else 0}/x"
    return HtmlResponse(url=url, body=page_bytes(name), encoding="utf-8")


def ranking_url(year: str, month: str, day: str) -> str:
    """HLTV's dated ranking URL: lower-case month name, day without zero padding."""
    month_name = calendar.month_name[int(month)].lower()
    return f"https://www.hltv.org/ranking/teams/{int(year)}/{month_name}/{int(day)}"


def load_expected(name: int | str) -> dict:
    """The truth file of a map (``219128``) or a discovery page (``"match-2389951"``)."""
    return json.loads((PAGES_DIR / f"expected-{name}.json").read_text("utf-8"))


def with_text(page: HtmlResponse, text: str) -> HtmlResponse:
    return HtmlResponse(url=page.url, body=text.encode("utf-8"), encoding="utf-8")


def mutated(name: str, *replacements: tuple[str, str]) -> HtmlResponse:
    """A fixture page with text replaced; each replacement must apply."""
    page = load_page(name)
    text = page.text
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return with_text(page, text)


_CHART_ATTR = re.compile(r"""data-fusionchart-config=(?:"([^"]*)"|'([^']*)')""")


def with_charts(name: str, change: Callable[[dict], None], *, expected_charts: int) -> HtmlResponse:
    """A fixture page whose every chart JSON went through ``change``, re-escaped."""
    page = load_page(name)

    def rewrite(match: re.Match) -> str:
        config = json.loads(html.unescape(match.group(1) or match.group(2)))
        change(config)
        return f'data-fusionchart-config="{html.escape(json.dumps(config))}"'

    text, count = _CHART_ATTR.subn(rewrite, page.text)
    assert count == expected_charts
    return with_text(page, text)


def restyled_performance(mapstatsid: int) -> bytes:
    """The map's performance page after a restyle that renamed the player cards' class."""
    body = page_bytes(f"performance-{mapstatsid}")
    assert body.count(b'class="highlighted-player"') == 10
    return body.replace(b'class="highlighted-player"', b'class="spotlight-player"')
