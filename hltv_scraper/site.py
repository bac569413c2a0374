"""What HLTV's pages look like from outside: their URLs, and how to tell a real page from
a refusal (Cloudflare challenge, "Access denied", a cut-off body)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hltv_scraper.items import ECONOMY, MAPSTATS, MATCH, PERFORMANCE, RESULTS

if TYPE_CHECKING:
    from scrapy.http import Response

_PAGE_PATH = {
    RESULTS: "/results?offset={id}",
    MATCH: "/matches/{id}/{slug}",
    MAPSTATS: "/stats/matches/mapstatsid/{id}/{slug}",
    PERFORMANCE: "/stats/matches/performance/mapstatsid/{id}/{slug}",
    ECONOMY: "/stats/matches/economy/mapstatsid/{id}/{slug}",
}
_URL_PAGE = re.compile(r"/stats/matches/(?:(performance|economy)/)?mapstatsid/(\d+)(?:/|$|\?)")
_URL_MATCH = re.compile(r"/matches/(\d+)(?:/|$|\?)")
_URL_RESULTS = re.compile(r"/results\?(?:[^#]*&)?offset=(\d+)(?:&|#|$)")

# Bytes every real page of that kind holds; a body without them is not the page asked
# for (a truncated body, an error page, a page of another kind).
_PAGE_MARKERS = {
    RESULTS: (b"results-all",),
    MATCH: (b"teamsBox",),
    PERFORMANCE: (b"stats-match-performance", b"data-fusionchart-config"),
    ECONOMY: (b"stats-match-economy", b"data-fusionchart-config"),
    MAPSTATS: (b"match-info-box", b"stats-table"),
}
# Cloudflare injects challenge-platform scripts into real pages too: match only what a
# challenge page itself says.
_CHALLENGE = re.compile(rb"<title>\s*Just a moment|window\._cf_chl_opt", re.I)
_DENIED = re.compile(rb"Access denied|error code:?\s*1020|Sorry, you have been blocked", re.I)


def page_url(base_url: str, page: str, unit_id: int, slug: str = "x") -> str:
    """The URL of ``page`` of a unit: a results page's offset, a match id, a mapstatsid."""
    return base_url.rstrip("/") + _PAGE_PATH[page].format(id=unit_id, slug=slug or "x")


def page_of_url(url: str) -> tuple[str, int] | None:
    """``(page, unit id)`` for a page URL, whatever its host and slug."""
    if match := _URL_PAGE.search(url):
        return (match.group(1) or MAPSTATS), int(match.group(2))
    if match := _URL_MATCH.search(url):
        return MATCH, int(match.group(1))
    if match := _URL_RESULTS.search(url):
        return RESULTS, int(match.group(1))
    return None


def slugify(*names: str | None) -> str:
    words = "-vs-".join(n for n in names if n)
    # HLTV reads only the id: a slug cut short keeps the URL under Scrapy's
    # URLLENGTH_LIMIT, which would drop the request of a map with very long team names.
    slug = re.sub(r"[^a-z0-9]+", "-", words.lower())[:100].strip("-")
    return slug or "x"


def is_challenge(response: Response) -> bool:
    """Whether ``response`` is a Cloudflare challenge ("Just a moment..."); cheap on a
    real page (megabytes), whose body is not searched."""
    return response.headers.get(b"cf-mitigated", b"").lower() == b"challenge" or (
        len(response.body) < 100_000 and _CHALLENGE.search(response.body) is not None
    )


def refusal_reason(response: Response, page: str) -> str | None:
    """Why this response is not the ``page`` asked for, or None when it is.

    Reasons are short keys for stats and logs: ``cloudflare_challenge``,
    ``access_denied``, ``http_<status>``, ``not_the_page``.
    """
    body = response.body
    if is_challenge(response):
        return "cloudflare_challenge"
    # A real page is megabytes and says "access" in passing; a denial page is tiny.
    if len(body) < 20000 and _DENIED.search(body):
        return "access_denied"
    if response.status != 200:
        return f"http_{response.status}"
    if not all(marker in body for marker in _PAGE_MARKERS[page]):
        return "not_the_page"
    return None
