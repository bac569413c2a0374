"""What any HLTV page looks like from outside: how to tell a real page from a refusal
(Cloudflare challenge, "Access denied", a cut-off body), and a URL's slug. Each page's
own URL and marker bytes are its stage's (``hltv_scraper.stages``); a page request
carries its markers in ``meta["hltv_markers"]``, so fetching needs no stage."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.http import Response

# Cloudflare injects challenge-platform scripts into real pages too: match only what a
# challenge page itself says.
_CHALLENGE = re.compile(rb"<title>\s*Just a moment|window\._cf_chl_opt", re.I)
_DENIED = re.compile(rb"Access denied|error code:?\s*1020|Sorry, you have been blocked", re.I)


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


def refusal_reason(response: Response, markers: tuple[bytes, ...]) -> str | None:
    """Why this response is not the page asked for, whose body holds every one of
    ``markers``, or None when it is.

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
    if not all(marker in body for marker in markers):
        return "not_the_page"
    return None
