"""Fixture pages as Scrapy responses, and their truth files, for parser tests."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from scrapy.http import HtmlResponse

PAGES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
MAPSTATSIDS = sorted(
    entry["mapstatsid"]
    for entry in json.loads((PAGES_DIR / "manifest.json").read_text("utf-8"))["maps"]
)
_URL_PATHS = {"performance": "performance/", "economy": "economy/"}


def load_page(name: str) -> HtmlResponse:
    """``fixtures/pages/{name}.html.gz`` as a response from the URL it would have come from."""
    body = gzip.decompress((PAGES_DIR / f"{name}.html.gz").read_bytes())
    mapstatsid = re.search(r"\d+$", name)
    kind = next((path for page, path in _URL_PATHS.items() if f"{page}-" in name), "")
    url = "https://www.hltv.org/stats/matches/{}mapstatsid/{}/x".format(
        kind, mapstatsid.group(0) if mapstatsid else 0
    )
    return HtmlResponse(url=url, body=body, encoding="utf-8")


def load_expected(mapstatsid: int) -> dict:
    return json.loads((PAGES_DIR / f"expected-{mapstatsid}.json").read_text("utf-8"))
