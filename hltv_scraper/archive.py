"""The response archive: every good page a crawl receives, kept for offline replay.

Built on Scrapy's HTTP cache machinery (``HTTPCACHE_STORAGE``/``HTTPCACHE_POLICY``) with
a storage of our own whose layout a person can browse::

    {HLTV_ARCHIVE_DIR}/performance/219128.html.gz    the body, gzipped
    {HLTV_ARCHIVE_DIR}/performance/219128.json       url, status, headers, when
    {HLTV_ARCHIVE_DIR}/match/2389951.html.gz         a match page, by match id
    {HLTV_ARCHIVE_DIR}/results/0.html.gz             a results page, by offset

Entries are keyed by page and unit (mapstatsid, match id, offset), not by URL, so the
slug and the host do not matter: an archive recorded from one server replays a crawl
aimed at another. Only real pages are kept (the policy refuses Cloudflare pages and
error statuses), never the cookies the site set (``Set-Cookie`` headers are credentials,
and an archive is what users copy between machines: they are dropped when an entry is
stored, and from an older entry when it is read), and entries never expire (results pages are fetched anew, see
:class:`ArchivePolicy`). With ``HLTV_REPLAY`` the crawl is served from the archive alone;
a page that is not in it (or is corrupt) becomes a fetch failure.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from hltv_scraper.config import HltvConfig
from hltv_scraper.site import refusal_reason
from hltv_scraper.stages import page_of_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings
    from scrapy.spiders import Spider
    from typing_extensions import Self

# Hop-by-hop and encoding headers describe the transfer, not the stored body.
_DROPPED_HEADERS = {b"content-encoding", b"content-length", b"transfer-encoding"}
#: Headers that carry credentials (a ``cf_clearance``): never kept.
_SECRET_HEADERS = {"set-cookie", "set-cookie2"}


class ArchiveStorage:
    """An ``HTTPCACHE_STORAGE`` laid out by page and unit id."""

    def __init__(self, settings: BaseSettings) -> None:
        self.root = _config(settings).archive_dir.resolve()

    def open_spider(self, spider: Spider) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def close_spider(self, spider: Spider) -> None:
        pass

    def entry_paths(self, url: str) -> tuple[Path, Path]:
        """``(body, meta)`` paths of the entry for ``url``."""
        located = page_of_url(url)
        if located:
            page, unit_id = located
            stem = self.root / page / str(unit_id)
        else:
            stem = self.root / "other" / hashlib.sha1(url.encode()).hexdigest()
        return stem.with_suffix(".html.gz"), stem.with_suffix(".json")

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        body_path, meta_path = self.entry_paths(request.url)
        if not meta_path.exists() or not body_path.exists():
            return None
        meta = json.loads(meta_path.read_text("utf-8"))
        body = gzip.decompress(body_path.read_bytes())  # a corrupt entry raises: a miss
        if any(name.lower() in _SECRET_HEADERS for name in meta["headers"]):
            # recorded before cookies were dropped: cleaned in place
            meta["headers"] = {k: v for k, v in meta["headers"].items() if k.lower() not in _SECRET_HEADERS}
            _write_atomically(meta_path, json.dumps(meta, indent=1).encode())
        headers = Headers({k.encode(): [v.encode() for v in vs] for k, vs in meta["headers"].items()})
        response_class = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return response_class(
            url=request.url, status=meta["status"], headers=headers, body=body
        )

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        body_path, meta_path = self.entry_paths(request.url)
        body_path.parent.mkdir(parents=True, exist_ok=True)
        headers = {
            key.decode("latin-1"): [v.decode("latin-1") for v in values]
            for key, values in response.headers.items()
            if key.lower() not in _DROPPED_HEADERS and key.decode("latin-1").lower() not in _SECRET_HEADERS
        }
        meta = {"url": response.url, "status": response.status, "headers": headers}
        # Body first, meta last: an entry counts only once its meta exists, so a crawl
        # killed mid-write leaves no half entry behind.
        _write_atomically(body_path, gzip.compress(response.body, compresslevel=6))
        _write_atomically(meta_path, json.dumps(meta, indent=1).encode())


class ArchivePolicy:
    """Keep only real pages; never expire what was kept, but for the results listing.

    A map or match page, once over, says the same forever. A results page at an offset
    says something new every day: a live crawl always fetches it again (and keeps the
    newest copy); only a replay serves it from the archive.
    """

    def __init__(self, settings: BaseSettings) -> None:
        self.replay = _config(settings).replay

    def should_cache_request(self, request: Request) -> bool:
        return True

    def should_cache_response(self, response: Response, request: Request) -> bool:
        page = request.meta.get("hltv_page")
        if page is None:
            return response.status == 200
        return refusal_reason(response, request.meta.get("hltv_markers", ())) is None

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        # a page whose content moves on (the results listing's first pages) is read afresh
        return self.replay or not request.meta.get("hltv_changes", False)

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        return self.is_cached_response_fresh(cachedresponse, request)


class ArchiveMiddleware(HttpCacheMiddleware):
    """Scrapy's cache middleware, switched by ``HLTV_ARCHIVE`` and ``HLTV_REPLAY``.

    Replay is the cache with ``HTTPCACHE_IGNORE_MISSING``: a miss is an IgnoreRequest,
    which reaches the spider's errback as a fetch failure.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = HltvConfig.of(crawler)
        settings = crawler.settings.copy()
        settings.frozen = False  # a private copy for the cache middleware alone
        settings.set(_CONFIG, config)  # for the storage and policy it builds
        settings.set("HTTPCACHE_ENABLED", config.archive or config.replay)
        settings.set("HTTPCACHE_STORAGE", f"{__name__}.ArchiveStorage")
        settings.set("HTTPCACHE_POLICY", f"{__name__}.ArchivePolicy")
        settings.set("HTTPCACHE_IGNORE_MISSING", config.replay)
        middleware = cls(settings, crawler.stats)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        middleware.crawler = crawler
        return middleware


#: The private settings key that hands the crawl's config to the storage and policy
#: (Scrapy's cache middleware builds them from settings alone).
_CONFIG = "_hltv_config"


def _config(settings: BaseSettings) -> HltvConfig:
    config = settings.get(_CONFIG)
    return config if config is not None else HltvConfig.from_settings(settings)


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
