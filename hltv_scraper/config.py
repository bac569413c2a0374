"""The project's own settings, read once per crawl into one frozen, typed object.

Every ``HLTV_*`` setting, its default and the reason for it lives here; the rest of the
code reads :class:`HltvConfig` (``HltvConfig.of(crawler)``, the crawl's one object),
never the settings. Override any of them with ``scrapy crawl ... -s NAME=value``, or
with an environment variable of the same name: a setting given to Scrapy (``-s``, the
spider's, scrapyd's) comes first, then the environment, then the default here. A
relative path is taken from the project folder (where ``scrapy.cfg`` is), not the
current one, and ``~`` is expanded, so one database is used from any sub-folder.

Reading validates: a value that is not what the setting takes, a file it names that is
not there, or an ``HLTV_*`` name that is none of ours is a
:class:`scrapy.exceptions.UsageError` with one line naming the setting. The add-on
(``hltv_scraper.fetch.scrapy_settings.FetchModes``) builds the config when the crawl's
settings are complete, so such a mistake stops the crawl before its first request.

This module imports nothing of the project (``import hltv_scraper.config`` stays
cheap): the database location is the URL text or the SQLite path, opened by storage.
"""

from __future__ import annotations

import difflib
import os
import re
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from scrapy.exceptions import UsageError
from scrapy.utils.conf import closest_scrapy_cfg

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_OFF = (*_FALSE, "none", "")

#: HLTV_BROWSER values: every page in the browser; pages over plain HTTP and only a
#: challenged one in the browser (its cookies then handed to the plain path); or the
#: crawl's own choice between the two, per address (``fetch/auto.py``), the default.
ALWAYS, HANDOFF, AUTO = "always", "handoff", "auto"
#: Who solves a challenge on the plain path.
BROWSER, FLARESOLVERR = "browser", "flaresolverr"
_PROXY_SCHEMES = ("http", "https")


# -- proxies ------------------------------------------------------------------------


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

    @property
    def address(self) -> str:
        """``host:port``, as an unreachable proxy is named."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port}"

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
    """The proxies listed in ``path``; UsageError naming the file (and the line when
    one is not a proxy URL), or saying there are none."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"HLTV_PROXIES: cannot read {path}: {exc.__class__.__name__}: {why}") from None
    proxies: list[Proxy] = []
    labels: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        problem = _proxy_problem(line)
        if problem:
            raise UsageError(
                f"HLTV_PROXIES: {path} line {number} ({mask(line)!r}) is not a proxy URL: "
                f"{problem}; expected http://[user:password@]host:port"
            )
        label = mask(line)
        while label in labels:  # the same address twice, e.g. with other passwords
            label += "+"
        labels.add(label)
        proxies.append(Proxy(url=line, label=label))
    if not proxies:
        raise UsageError(f"HLTV_PROXIES: {path} lists no proxy (one URL a line)")
    return tuple(proxies)


def _proxy_problem(line: str) -> str | None:
    try:
        parts = urlsplit(line)
        port = parts.port
    except ValueError:
        return "its port is not a number"
    if parts.scheme not in _PROXY_SCHEMES:
        return f"the scheme must be one of {', '.join(_PROXY_SCHEMES)}"
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
    #: HLTV_PROXIES: the proxies file, read once when the config is built; no file,
    #: no proxies.
    proxies: tuple[Proxy, ...] = ()
    #: HLTV_PROXY_MAX_REFUSALS: refusals in a row that bench a proxy. Three tells a
    #: blocked address from a passing challenge, and costs three requests to learn.
    max_refusals: int = 3
    #: HLTV_PROXY_BENCH_SECONDS: how long a benched proxy rests. Cloudflare's blocks of
    #: an address last minutes, not seconds: fifteen minutes, then try it again.
    bench_seconds: float = 900.0

    def by_label(self) -> dict[str, Proxy]:
        return {proxy.label: proxy for proxy in self.proxies}


# -- the browser ----------------------------------------------------------------------


@dataclass(frozen=True)
class BrowserConfig:
    #: HLTV_BROWSER: ``auto`` (the default) plain HTTP, a challenge solved in Chromium,
    #: and every page of an address in Chromium once its clearance does not hold on the
    #: plain path; ``0`` plain HTTP only, ``1`` every map page in Chromium, ``handoff``
    #: plain HTTP with Chromium solving the challenges (see ``fetch/clearance.py``).
    mode: str | None = AUTO
    #: HLTV_BROWSER_EXECUTABLE: the Chromium binary.
    executable: str = "/usr/bin/chromium"
    #: Whether ``executable`` is there. Auto mode without it crawls until the first
    #: challenge, then stops saying the site asks for a browser.
    available: bool = True
    #: HLTV_BROWSER_MAX_PAGES: pages open at once in the browser.
    max_pages: int = 2
    #: HLTV_CHALLENGE_TIMEOUT: seconds a challenge may take to clear in the page.
    challenge_timeout: float = 30.0
    #: HLTV_BROWSER_HEADLESS: ``0`` (the default) runs Chromium with a window, under Xvfb
    #: when there is no display: a headless Chromium says "HeadlessChrome" in its
    #: User-Agent and client hints, and challenges refuse it.
    headless: bool = False
    #: HLTV_BROWSER_IDLE_SECONDS: in handoff and auto mode, the browser closes after this
    #: long without a page to fetch (a clearance lasts long; Chromium holds ~300 MB).
    idle_seconds: float = 300.0
    #: HLTV_BROWSER_RENDER_SECONDS: in auto mode, how long an address whose clearance
    #: did not hold on the plain path has every page rendered in the browser before the
    #: plain path is tried again.
    render_seconds: float = 1800.0
    #: HLTV_BROWSER_PROFILE_DIR: one folder per address (and per proxy) keeping the
    #: browser's cookies and storage and the plain path's clearance between crawls;
    #: None: nothing kept (a replay).
    profile_dir: Path | None = None

    @property
    def enabled(self) -> bool:
        """Whether the crawl may drive Chromium."""
        return self.mode is not None and self.available


# -- fetching ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchConfig:
    #: HLTV_IMPERSONATE: the curl_cffi browser the plain path looks like, or None.
    impersonate: str | None = None
    #: HLTV_COOKIES_FILE: browser cookies to send from the first request.
    cookies_file: Path | None = None
    #: HLTV_USER_AGENT: the User-Agent of the plain path (the cookies' browser's).
    user_agent: str | None = None
    #: HLTV_FLARESOLVERR_URL: a FlareSolverr service's v1 endpoint.
    flaresolverr_url: str | None = None
    #: HLTV_FLARESOLVERR_TIMEOUT: seconds FlareSolverr may spend on one challenge.
    flaresolverr_timeout: float = 60.0
    #: who solves challenges the plain path meets: BROWSER, FLARESOLVERR or None
    solver: str | None = None

    @property
    def hands_off(self) -> bool:
        """Whether the plain path sends cookies and a User-Agent that are not its own."""
        return bool(self.solver or self.cookies_file or self.user_agent)


# -- the crawl ------------------------------------------------------------------------


@dataclass(frozen=True)
class HltvConfig:
    #: HLTV_DB_PATH: the SQLite file; parent folders are created.
    db_path: Path = Path("data/hltv.sqlite3")
    #: HLTV_DB_URL: ``postgresql://user:password@host:port/db`` selects PostgreSQL (the
    #: database several machines share) instead of the SQLite file.
    db_url: str | None = field(default=None, repr=False)  # it may hold a password
    #: HLTV_BASE_URL: site root; pages are requested below it.
    base_url: str = "https://www.hltv.org"
    #: HLTV_MAX_ATTEMPTS: parse failures after which a map is no longer pending. Three
    #: survives a transient glitch without re-fetching a page that is broken for good.
    max_attempts: int = 3
    #: HLTV_MAX_FETCH_FAILURES: units in a row with a page that could not be fetched
    #: (refusals, errors after retries) that stop the crawl. Hammering a site that
    #: refuses us gets us banned.
    max_fetch_failures: int = 10
    #: HLTV_MAX_UNREACHABLE: units in a row whose pages could not reach the site at all
    #: (connection refused, no such host, connect timeout) that stop the crawl as
    #: ``hltv_site_unreachable``. Nothing is gained by asking a site that is not there:
    #: three tells a dead address from one lost connection.
    max_unreachable: int = 3
    #: HLTV_MAX_PARSE_FAILURES: units in a row failing to parse on the same page kind
    #: that stop the crawl as ``hltv_layout_changed``; those failures cost no attempt.
    #: One broken page is the page; five in a row is the site's new layout.
    max_parse_failures: int = 5
    #: HLTV_LEASE_SECONDS: how long a crawl's claim on a unit lasts unless renewed
    #: (renewed every third of it while the unit is in flight). A crawl that dies
    #: holds its units this long.
    lease_seconds: float = 600.0
    #: HLTV_WORKER_ID: this crawl's name on the leases it holds; by default
    #: ``host-pid-random``, unique among crawls sharing a database.
    worker_id: str | None = None
    #: HLTV_REFUSAL_RETRIES: retries of a page Cloudflare refused, each after the
    #: site's download delay has doubled.
    refusal_retries: int = 2
    #: HLTV_BACKOFF_START_DELAY: the delay (seconds) a first refusal raises a delay of 0 to.
    backoff_start_delay: float = 5.0
    #: HLTV_BACKOFF_MAX_DELAY: the most a refusal or a Retry-After slows the site to.
    backoff_max_delay: float = 300.0
    #: HLTV_MAPS_IN_FLIGHT: maps requested but not yet resolved. Bounds memory and keeps
    #: the scheduler from holding the whole pending list.
    maps_in_flight: int = 16
    #: HLTV_STATS_WAIT: the delays after which a match whose played maps have no stats
    #: link yet (or that is not over) is read again, each counted from the last read of
    #: its page; after the last, such a map is marked as having no published stats.
    #: HLTV publishes most stats pages within the hour, some a day or days later.
    stats_wait: tuple[float, ...] = (3600.0, 21600.0, 86400.0, 259200.0)
    #: HLTV_ARCHIVE_DIR: where every good response is kept (gzipped, by page and id).
    archive_dir: Path = Path("data/archive")
    #: HLTV_ARCHIVE: record responses into the archive (and serve them from it).
    archive: bool = True
    #: HLTV_REPLAY: serve the crawl from the archive alone; a page not in it is a fetch
    #: failure, the network is never touched.
    replay: bool = False
    #: How pages are fetched (HLTV_IMPERSONATE, HLTV_COOKIES_FILE, HLTV_USER_AGENT,
    #: HLTV_FLARESOLVERR_*); all off in a replay.
    fetch: FetchConfig = FetchConfig()
    #: The browser (HLTV_BROWSER, HLTV_BROWSER_*, HLTV_CHALLENGE_TIMEOUT); off in a replay.
    browser: BrowserConfig = BrowserConfig()
    #: The proxies (HLTV_PROXIES, HLTV_PROXY_*); none in a replay.
    proxies: ProxyConfig = ProxyConfig()

    def new_worker_id(self) -> str:
        """This crawl's worker id: HLTV_WORKER_ID, else host-pid-random."""
        return self.worker_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"

    @property
    def database(self) -> str | Path:
        """The database to open (``Database.open`` takes either): the HLTV_DB_URL text
        (PostgreSQL), else the SQLite file's path."""
        return self.db_url or self.db_path

    def where(self) -> str:
        """The line every crawl and command starts with: the database (its password
        masked) and the archive, as absolute paths."""
        database = shown_url(self.db_url) if self.db_url else str(self.db_path)
        archive = self.archive_dir if self.archive or self.replay else f"off ({self.archive_dir})"
        return f"Database: {database}; archive: {archive}"

    @property
    def site_host(self) -> str:
        """The site's host name (cookies are for it)."""
        return urlsplit(self.base_url).hostname or ""

    @classmethod
    def of(cls, crawler: Crawler) -> HltvConfig:
        """The crawl's one config: read from its settings the first time, then kept on
        the crawler, so every component of a crawl shares one object."""
        config = getattr(crawler, "hltv_config", None)
        if config is None:
            config = crawler.hltv_config = cls.from_settings(crawler.settings)
        return config

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> HltvConfig:
        """Read and check every ``HLTV_*`` setting; UsageError for a bad or unknown one."""
        read = _Reader(settings)
        read.no_unknown_names()
        default = cls()
        replay = read.flag("HLTV_REPLAY", default.replay)
        archive_dir = read.path("HLTV_ARCHIVE_DIR", default.archive_dir)
        config = cls(
            db_path=read.path("HLTV_DB_PATH", default.db_path),
            db_url=_db_url(read.text("HLTV_DB_URL")),
            base_url=_base_url(read.text("HLTV_BASE_URL") or default.base_url),
            max_attempts=read.whole("HLTV_MAX_ATTEMPTS", default.max_attempts, minimum=1),
            max_fetch_failures=read.whole("HLTV_MAX_FETCH_FAILURES", default.max_fetch_failures, minimum=1),
            max_unreachable=read.whole("HLTV_MAX_UNREACHABLE", default.max_unreachable, minimum=1),
            max_parse_failures=read.whole("HLTV_MAX_PARSE_FAILURES", default.max_parse_failures, minimum=1),
            lease_seconds=read.seconds("HLTV_LEASE_SECONDS", default.lease_seconds, minimum=0.1),
            worker_id=read.text("HLTV_WORKER_ID"),
            refusal_retries=read.whole("HLTV_REFUSAL_RETRIES", default.refusal_retries, minimum=0),
            backoff_start_delay=read.seconds("HLTV_BACKOFF_START_DELAY", default.backoff_start_delay, minimum=0),
            backoff_max_delay=read.seconds("HLTV_BACKOFF_MAX_DELAY", default.backoff_max_delay, minimum=0),
            maps_in_flight=read.whole("HLTV_MAPS_IN_FLIGHT", default.maps_in_flight, minimum=1),
            stats_wait=read.delays("HLTV_STATS_WAIT", default.stats_wait),
            archive_dir=archive_dir,
            archive=read.flag("HLTV_ARCHIVE", default.archive),
            replay=replay,
            # a replay never touches the network: no browser, proxy or solver, but the
            # values are still checked
            browser=_browser(read, network=not replay, database_folder=_database_folder(read, default)),
            fetch=_fetch(read, network=not replay),
            proxies=_proxies(read, network=not replay),
        )
        if replay:
            _check_archive(archive_dir)
        return config


#: Every ``HLTV_*`` setting the config reads; any other ``HLTV_*`` name is a mistake.
KNOWN_SETTINGS = frozenset({
    "HLTV_DB_PATH", "HLTV_DB_URL", "HLTV_BASE_URL", "HLTV_MAX_ATTEMPTS",
    "HLTV_MAX_FETCH_FAILURES", "HLTV_MAX_UNREACHABLE", "HLTV_MAX_PARSE_FAILURES",
    "HLTV_LEASE_SECONDS", "HLTV_WORKER_ID", "HLTV_REFUSAL_RETRIES",
    "HLTV_BACKOFF_START_DELAY", "HLTV_BACKOFF_MAX_DELAY", "HLTV_MAPS_IN_FLIGHT",
    "HLTV_ARCHIVE_DIR", "HLTV_ARCHIVE", "HLTV_REPLAY", "HLTV_STATS_WAIT",
    "HLTV_IMPERSONATE", "HLTV_COOKIES_FILE", "HLTV_USER_AGENT", "HLTV_FLARESOLVERR_URL",
    "HLTV_FLARESOLVERR_TIMEOUT",
    "HLTV_BROWSER", "HLTV_BROWSER_EXECUTABLE", "HLTV_BROWSER_MAX_PAGES",
    "HLTV_CHALLENGE_TIMEOUT", "HLTV_BROWSER_HEADLESS", "HLTV_BROWSER_IDLE_SECONDS",
    "HLTV_BROWSER_RENDER_SECONDS", "HLTV_BROWSER_PROFILE_DIR",
    "HLTV_PROXIES", "HLTV_PROXY_MAX_REFUSALS", "HLTV_PROXY_BENCH_SECONDS",
})


# -- reading and checking -----------------------------------------------------------


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class _Reader:
    """Typed reads of settings; each error names the setting and what it takes."""

    def __init__(self, settings: BaseSettings) -> None:
        self.settings = settings

    def raw(self, name: str) -> Any:
        assert name in KNOWN_SETTINGS, name  # a setting read here is listed there
        value = self.settings.get(name)
        # below any setting given to Scrapy, above the default: containers and scrapyd
        return os.environ.get(name) if value is None else value

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        text = "" if value is None else str(value).strip()
        return text or None

    def path(self, name: str, default: Path) -> Path:
        return project_path(self.text(name) or default)

    def whole(self, name: str, default: int, *, minimum: int) -> int:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            number = int(value) if not isinstance(value, float) or value.is_integer() else None
        except (TypeError, ValueError):
            number = None
        if number is None or isinstance(value, bool) or number < minimum:
            raise UsageError(f"{name} takes a whole number of at least {minimum}, got {value!r}")
        return number

    def seconds(self, name: str, default: float, *, minimum: float, above: bool = False) -> float:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        bad = number is None or number != number or number in (float("inf"), float("-inf"))
        if bad or isinstance(value, bool) or number < minimum or (above and number <= minimum):
            least = f"more than {minimum:g}" if above else f"at least {minimum:g}"
            raise UsageError(f"{name} takes a number of seconds, {least}, got {value!r}")
        return number

    def delays(self, name: str, default: tuple[float, ...]) -> tuple[float, ...]:
        """Durations separated by commas (``1h,6h,24h``: a number and one of s, m, h,
        d; a bare number is seconds), in seconds; ``0`` or ``none`` for none."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, (list, tuple)):
            value = ",".join(map(str, value))
        text = str(value).strip().lower()
        if text in ("0", "none", "off"):
            return ()
        delays = []
        for part in text.split(","):
            found = _DURATION.fullmatch(part.strip())
            if found is None or float(found.group(1)) <= 0:
                raise UsageError(
                    f"{name} takes delays separated by commas, each a number with s, m, h or d "
                    f"(like 1h,6h,24h,72h), or 0 for none; got {value!r}"
                )
            delays.append(float(found.group(1)) * _UNIT_SECONDS[found.group(2) or "s"])
        return tuple(delays)

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise UsageError(f"{name} takes 1 or 0 (also true/false, yes/no, on/off), got {value!r}")

    def no_unknown_names(self) -> None:
        for name in sorted(str(n) for n in self.settings):
            upper = name.upper()
            if upper.startswith("HLTV_") and name not in KNOWN_SETTINGS:
                # Scrapy's names are case-sensitive: hltv_db_path would be ignored
                close = difflib.get_close_matches(upper, sorted(KNOWN_SETTINGS), n=1, cutoff=0.7)
                hint = f"; did you mean {close[0]}?" if close else f" (see {__name__.replace('.', '/')}.py)"
                raise UsageError(f"{name} is not a setting of this project{hint}")


def project_folder() -> Path:
    """The folder of the project's ``scrapy.cfg`` (the nearest one above the current
    folder, as Scrapy finds it), else the current folder (a scrapyd egg has none)."""
    cfg = closest_scrapy_cfg()
    return Path(cfg).parent if cfg else Path.cwd()


def project_path(value: str | Path) -> Path:
    """``value`` with ``~`` expanded, taken from the project folder when relative."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else project_folder() / path


def shown_url(url: str) -> str:
    """A database URL as it may be shown: ``scheme://user:***@host:port/db``."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}{sep}{userinfo.partition(':')[0]}:***@{host}"


def _db_url(url: str | None) -> str | None:
    if url is None:
        return None
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme.partition("+")[0] != "postgresql":
        got = f"a {scheme}:// URL" if scheme else "something that is not a URL"
        raise UsageError(
            f"HLTV_DB_URL takes a postgresql://user:password@host:port/db URL, got {got} "
            "(leave it unset for the SQLite file at HLTV_DB_PATH)"
        )
    return url


def _base_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"HLTV_BASE_URL takes an http:// or https:// URL with a host, got {url!r}")
    return url.rstrip("/")


def _check_archive(folder: Path) -> None:
    if not folder.is_dir():
        raise UsageError(
            f"HLTV_REPLAY=1: the archive folder {folder} does not exist "
            "(HLTV_ARCHIVE_DIR names where a crawl recorded its pages)"
        )
    if not any(folder.glob("*/*.json")):
        raise UsageError(f"HLTV_REPLAY=1: the archive folder {folder} holds no page to replay")


def _browser_mode(read: _Reader) -> str | None:
    value = read.raw("HLTV_BROWSER")
    text = str(value if value is not None else AUTO).strip().lower()
    if text == HANDOFF:
        return HANDOFF
    if text in ("", AUTO):
        return AUTO
    if text in (*_TRUE, ALWAYS):
        return ALWAYS
    if text in _OFF:
        return None
    raise UsageError(f"HLTV_BROWSER takes auto, 0, 1 or handoff, got {value!r}")


def _database_folder(read: _Reader, default: HltvConfig) -> Path:
    """Where the crawl keeps its files: beside the SQLite file, or ``data/`` with PostgreSQL."""
    if read.text("HLTV_DB_URL"):
        return Path("data")
    return read.path("HLTV_DB_PATH", default.db_path).parent


def _browser(read: _Reader, *, network: bool, database_folder: Path) -> BrowserConfig:
    default = BrowserConfig()
    mode = _browser_mode(read)
    if mode == AUTO and read.text("HLTV_FLARESOLVERR_URL"):
        mode = None  # FlareSolverr solves the challenges
    executable = read.text("HLTV_BROWSER_EXECUTABLE") or default.executable
    available = os.path.isfile(executable) and os.access(executable, os.X_OK)
    profile_dir = read.path("HLTV_BROWSER_PROFILE_DIR", database_folder / "browser-profiles")
    config = BrowserConfig(
        mode=mode if network else None,
        executable=executable,
        available=available,
        max_pages=read.whole("HLTV_BROWSER_MAX_PAGES", default.max_pages, minimum=1),
        challenge_timeout=read.seconds("HLTV_CHALLENGE_TIMEOUT", default.challenge_timeout, minimum=0),
        headless=read.flag("HLTV_BROWSER_HEADLESS", default.headless),
        idle_seconds=read.seconds("HLTV_BROWSER_IDLE_SECONDS", default.idle_seconds, minimum=0),
        render_seconds=read.seconds("HLTV_BROWSER_RENDER_SECONDS", default.render_seconds, minimum=0),
        profile_dir=profile_dir if network else None,
    )
    if config.mode in (ALWAYS, HANDOFF) and not available:
        raise UsageError(
            f"HLTV_BROWSER is on but there is no Chromium at {config.executable}: install "
            "Debian's chromium (`make browser`) or point HLTV_BROWSER_EXECUTABLE at one"
        )
    return config


def _fetch(read: _Reader, *, network: bool) -> FetchConfig:
    default = FetchConfig()
    mode = _browser_mode(read)
    flaresolverr_url = read.text("HLTV_FLARESOLVERR_URL")
    if flaresolverr_url:
        parts = urlsplit(flaresolverr_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"HLTV_FLARESOLVERR_URL takes http://host:port/v1, got {flaresolverr_url!r}")
        if mode in (ALWAYS, HANDOFF):
            raise UsageError("HLTV_FLARESOLVERR_URL and HLTV_BROWSER both solve challenges: choose one")
    timeout = read.seconds("HLTV_FLARESOLVERR_TIMEOUT", default.flaresolverr_timeout, minimum=0, above=True)
    cookies_text = read.text("HLTV_COOKIES_FILE")
    cookies_file = str(project_path(cookies_text)) if cookies_text else None
    user_agent = read.text("HLTV_USER_AGENT")
    impersonate = read.text("HLTV_IMPERSONATE")
    if not network:
        return default
    if cookies_file and not Path(cookies_file).is_file():
        raise UsageError(f"HLTV_COOKIES_FILE: there is no file {cookies_file} (a cookies.txt or JSON export)")
    if cookies_file and not user_agent:
        raise UsageError(
            "HLTV_COOKIES_FILE needs HLTV_USER_AGENT: the exact User-Agent of the browser "
            "the cookies come from (its navigator.userAgent); Cloudflare ties them together"
        )
    # auto hands a browser's clearance to the plain path, as handoff does
    solver = FLARESOLVERR if flaresolverr_url else BROWSER if mode in (HANDOFF, AUTO) else None
    return FetchConfig(
        impersonate=_impersonate(impersonate, handed_off=bool(solver or cookies_file)),
        cookies_file=Path(cookies_file) if cookies_file else None,
        user_agent=user_agent,
        flaresolverr_url=flaresolverr_url,
        flaresolverr_timeout=timeout,
        solver=solver,
    )


def _impersonate(value: str | None, *, handed_off: bool) -> str | None:
    if value is None:  # not set: a browser's clearance travels best in that browser's TLS
        return "chrome" if handed_off else None
    text = value.lower()
    if text in _OFF:
        return None
    from curl_cffi import BrowserType  # only when impersonating
    from curl_cffi.requests import impersonate

    # a version (chrome152) or curl_cffi's alias for its latest one (chrome, safari_ios)
    aliases = {name[len("DEFAULT_"):].lower() for name in dir(impersonate) if name.startswith("DEFAULT_")}
    known = {browser.value for browser in BrowserType} | aliases
    if text not in known:
        chrome = sorted(name for name in known if name.startswith("chrome"))
        raise UsageError(
            f"HLTV_IMPERSONATE takes 0 or a browser curl_cffi can impersonate, got {value!r}; "
            f"try chrome ({', '.join(chrome[-3:])}, ...)"
        )
    return text


def _proxies(read: _Reader, *, network: bool) -> ProxyConfig:
    default = ProxyConfig()
    max_refusals = read.whole("HLTV_PROXY_MAX_REFUSALS", default.max_refusals, minimum=1)
    bench_seconds = read.seconds("HLTV_PROXY_BENCH_SECONDS", default.bench_seconds, minimum=0)
    path = read.text("HLTV_PROXIES")
    return ProxyConfig(
        proxies=read_proxies(project_path(path)) if path and network else (),
        max_refusals=max_refusals,
        bench_seconds=bench_seconds,
    )
