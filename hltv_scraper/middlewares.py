"""Downloader middleware that turns refusals into fetch failures.

A Cloudflare challenge, an "Access denied" page or a body that is not the page asked
for must never reach a parser (it would count as a parse failure and burn an attempt)
nor the archive. Such responses become :class:`PageRefused`, which Scrapy hands to the
request's errback. Other error statuses pass on to Scrapy's RetryMiddleware and
HttpErrorMiddleware, which retry them and then call the errback themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from hltv_scraper.site import refusal_reason

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from typing_extensions import Self


class PageRefused(IgnoreRequest):
    """The site answered with something other than the page (a fetch failure)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RefusalMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        page = request.meta.get("hltv_page")
        if page is None:
            return response
        reason = refusal_reason(response, page)
        if reason is None or reason.startswith("http_"):
            return response
        self.stats.inc_value(f"hltv/refused/{reason}")
        raise PageRefused(reason)
