"""Proxies: one download slot per address, and a proxy the site keeps refusing benched.

``-s HLTV_PROXIES=FILE`` names a file of proxy URLs, one a line
(``http://[user:password@]host:port``; ``#`` comments and blank lines are ignored). Each
proxy is its own Scrapy download slot, so it has its own delay, its own AutoThrottle
state and its own backoff (RefusalMiddleware backs off on the request's slot), its own
cookie jar and, in browser mode, its own browser context. Every map page request is
sent through the proxy that can send it soonest; a retried request may move to another.

A proxy refused ``HLTV_PROXY_MAX_REFUSALS`` times in a row (a Cloudflare refusal, a 403
or 429, or a connection error) is benched for ``HLTV_PROXY_BENCH_SECONDS`` and comes
back afterwards. When every proxy is benched at once the crawl closes with
``hltv_fetch_failures``. The stats key ``hltv/proxies/active`` (the number of proxies)
tells the rest of the crawl that proxies are in use.

Credentials never leave this module unmasked: logs, slot names, stats keys, errors and
the progress line show ``user:***@host:port``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

from hltv_scraper.brakes import CLOSE_REASON_REFUSED, close_crawl
from hltv_scraper.config import HltvConfig, number_setting
from hltv_scraper.middlewares import PageRefused, request_refused

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings
    from typing_extensions import Self

logger = logging.getLogger(__name__)

_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Proxy:
    #: the URL as written in the file, credentials included: never shown
    url: str = field(repr=False)
    #: ``[user:***@]host:port``: the slot key, cookie jar, stats key and log name
    label: str

    @property
    def server(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port}"

    def playwright(self) -> dict[str, str]:
        """The ``proxy`` option of a Playwright browser context."""
        parts = urlsplit(self.url)
        option = {"server": self.server}
        if parts.username is not None:
            option["username"] = unquote(parts.username)
            option["password"] = unquote(parts.password or "")
        return option


def mask(url: str) -> str:
    """``user:***@host:port`` for ``scheme://user:password@host:port``.

    Read from the text, not through ``urlsplit``: a password with a raw ``/``, ``?`` or
    ``#`` in it would end urlsplit's host part early and show in the user part.
    """
    rest = url.partition("://")[2] if "://" in url else url.lstrip("/")
    userinfo, at, host = rest.rpartition("@")
    host = host.split("/", 1)[0]
    if not at:
        return host
    return f"{userinfo.partition(':')[0]}:***@{host}"


def read_proxies(path: Path) -> tuple[Proxy, ...]:
    """The proxies listed in ``path``; ValueError naming the line when one is not a proxy
    URL, or when there are none."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"HLTV_PROXIES: cannot read {path}: {exc.__class__.__name__}: {exc.strerror or exc}") from None
    proxies: list[Proxy] = []
    labels: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        problem = _problem(line)
        if problem:
            raise ValueError(
                f"HLTV_PROXIES: {path} line {number} ({mask(line)!r}) is not a proxy URL: "
                f"{problem}; expected http://[user:password@]host:port"
            )
        label = mask(line)
        while label in labels:  # the same address twice, e.g. with other passwords
            label += "+"
        labels.add(label)
        proxies.append(Proxy(url=line, label=label))
    if not proxies:
        raise ValueError(f"HLTV_PROXIES: {path} lists no proxy (one URL a line)")
    return tuple(proxies)


def _problem(line: str) -> str | None:
    try:
        parts = urlsplit(line)
        port = parts.port
    except ValueError:
        return "its port is not a number"
    if parts.scheme not in _SCHEMES:
        return f"the scheme must be one of {', '.join(_SCHEMES)}"
    if not parts.hostname:
        return "no host"
    if port is None:
        return "no port"
    if parts.path not in ("", "/") or parts.query or parts.fragment or " " in line:
        return "unexpected text after host:port"
    if parts.username is not None and parts.password is None:
        return "a user without a password"
    return None


@dataclass(frozen=True)
class ProxyConfig:
    #: HLTV_PROXIES: the proxies file, read at start; no file, no proxies.
    proxies: tuple[Proxy, ...] = ()
    #: HLTV_PROXY_MAX_REFUSALS: refusals in a row that bench a proxy. Three tells a
    #: blocked address from a passing challenge, and costs three requests to learn.
    max_refusals: int = 3
    #: HLTV_PROXY_BENCH_SECONDS: how long a benched proxy rests. Cloudflare's blocks of
    #: an address last minutes, not seconds: fifteen minutes, then try it again.
    bench_seconds: float = 900.0

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ProxyConfig:
        default = cls()
        max_refusals = number_setting(settings, "HLTV_PROXY_MAX_REFUSALS", default.max_refusals, minimum=1)
        bench_seconds = number_setting(settings, "HLTV_PROXY_BENCH_SECONDS", default.bench_seconds, minimum=0)
        path = settings.get("HLTV_PROXIES")
        # a replay never touches the network: no proxy to read
        use = bool(path) and not HltvConfig.from_settings(settings).replay
        return cls(
            proxies=read_proxies(Path(path)) if use else (),
            max_refusals=max_refusals,
            bench_seconds=bench_seconds,
        )


@dataclass(eq=False)
class _ProxyState:
    proxy: Proxy
    in_a_row: int = 0  # refusals since the last page
    benched_until: float = 0.0  # monotonic clock
    sent: int = 0  # requests assigned: the last tie-breaker


class ProxyMiddleware:
    """Send each map page request through a proxy, and bench proxies the site refuses."""

    def __init__(self, crawler: Crawler, config: ProxyConfig) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.config = config
        self.states = {proxy.label: _ProxyState(proxy) for proxy in config.proxies}
        self.closing = False
        self.stats.set_value("hltv/proxies/active", len(self.states))
        self.stats.set_value("hltv/proxies/benched", 0)
        crawler.signals.connect(self._refused, signal=request_refused)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = ProxyConfig.from_settings(crawler.settings)
        if not config.proxies:
            raise NotConfigured
        logger.info("Crawling through %d proxies: %s", len(config.proxies),
                    ", ".join(p.label for p in config.proxies))
        return cls(crawler, config)

    def process_request(self, request: Request) -> None:
        if "hltv_page" not in request.meta:
            return
        # a page just cleared on this proxy is retried on it (its cookies are its own)
        if request.meta.pop("hltv_keep_proxy", False) and request.meta.get("hltv_proxy") in self.states:
            return
        state = self._pick()
        if state is None:
            self._close()
            raise PageRefused("all_proxies_benched")
        state.sent += 1
        label = state.proxy.label
        request.meta.update(proxy=state.proxy.url, download_slot=label, cookiejar=label, hltv_proxy=label)

    def process_response(self, request: Request, response: Response) -> Response:
        state = self._state(request)
        if state is None:
            return response
        # RefusalMiddleware (above) has turned Cloudflare's refusals into retries; what
        # reaches here is a page or an HTTP error
        if response.status == 200:
            state.in_a_row = 0
            self.stats.inc_value(f"hltv/proxy/{state.proxy.label}/pages")
        elif response.status in (403, 407, 429):
            self._count_refusal(state, f"http_{response.status}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        state = self._state(request)
        if state is not None and not isinstance(exception, PageRefused):
            self._count_refusal(state, type(exception).__name__)

    # -- bookkeeping ----------------------------------------------------------------

    def _state(self, request: Request) -> _ProxyState | None:
        if "hltv_page" not in request.meta:
            return None
        return self.states.get(request.meta.get("hltv_proxy"))

    def _refused(self, request: Request, reason: str) -> None:
        state = self._state(request)
        if state is not None:
            self._count_refusal(state, reason)

    def _count_refusal(self, state: _ProxyState, reason: str) -> None:
        label = state.proxy.label
        self.stats.inc_value(f"hltv/proxy/{label}/refused")
        state.in_a_row += 1
        now = time.monotonic()
        if state.in_a_row < self.config.max_refusals or state.benched_until > now:
            return
        state.benched_until = now + self.config.bench_seconds
        self.stats.inc_value(f"hltv/proxy/{label}/benched")
        self.stats.inc_value("hltv/proxies/benched_total")
        self._update_benched(now)
        logger.warning(
            "Proxy %s refused %d times in a row (last: %s): benched for %g s",
            label, state.in_a_row, reason, self.config.bench_seconds,
        )
        if not self._available(now):
            self._close()

    def _available(self, now: float) -> list[_ProxyState]:
        available = []
        for state in self.states.values():
            if state.benched_until and state.benched_until <= now:
                state.benched_until = 0.0
                state.in_a_row = 0
                logger.info("Proxy %s is back from the bench", state.proxy.label)
                self._update_benched(now)
            if not state.benched_until:
                available.append(state)
        return available

    def _update_benched(self, now: float) -> None:
        benched = 0
        for label, state in self.states.items():
            resting = state.benched_until > now
            benched += resting
            self.stats.set_value(f"hltv/proxy/{label}/benched_now", int(resting))
        self.stats.set_value("hltv/proxies/benched", benched)

    def _pick(self) -> _ProxyState | None:
        """The available proxy whose slot can send soonest: the earliest its delay
        allows, after the requests already waiting in it; then the least busy."""
        now = time.monotonic()
        slots = self.crawler.engine.downloader.slots if self.crawler.engine else {}

        def rank(state: _ProxyState) -> tuple[float, int, int]:
            slot = slots.get(state.proxy.label)
            if slot is None:
                return (now, 0, state.sent)
            ready = max(now, slot.lastseen + slot.delay) + len(slot.queue) * slot.delay
            return (ready, len(slot.active), state.sent)

        return min(self._available(now), key=rank, default=None)

    def _close(self) -> None:
        if self.closing or self.crawler.engine is None:
            return
        self.closing = True
        logger.error(
            "Stopping: every proxy (%d) is benched after %d refusals in a row. The site is "
            "refusing all our addresses; pending maps stay pending for a later run.",
            len(self.states), self.config.max_refusals,
        )
        close_crawl(self.crawler, CLOSE_REASON_REFUSED)

    def _closed(self, spider: Any, reason: str) -> None:
        self._update_benched(time.monotonic())
