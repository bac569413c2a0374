"""Auto mode (``HLTV_BROWSER=auto``, the default): each address finds its own way in.

The way through Cloudflare differs by page kind and changes from month to month, so
the crawl does not ask the user to pick one. Per address (the machine's own, or each
proxy), kept by :class:`ClearanceMiddleware <hltv_scraper.fetch.clearance.ClearanceMiddleware>`:

1. ``plain``: pages over plain HTTP, impersonating Chrome. Costs nothing, and a site
   that never challenges never sees a browser.
2. ``handoff``: the first challenge is solved in the browser, whose cookies and
   User-Agent go to the plain path, which goes on with them.
3. ``browser``: when the clearance does not hold on the plain path (the address is
   challenged again within :data:`HOLD_PAGES` plain pages of a solve), every page of
   the address is rendered in the browser, for ``HLTV_BROWSER_RENDER_SECONDS``; then
   the plain path is tried again.

Each switch is one log line and a stat (``hltv/fetch/mode/handoff``,
``hltv/fetch/mode/browser``, ``hltv/fetch/mode/plain``); the crawl's last line of the
fetch layer says how many pages came each way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

#: Plain pages after a solve within which a new challenge means the clearance does not
#: hold on the plain path (a clearance that rotates later is simply solved again).
HOLD_PAGES = 3

MODE_STAT = "hltv/fetch/mode/"


def where(key: Any) -> str:
    return f"through {key}" if key else "from this machine"


class AutoMode:
    def __init__(self, stats: StatsCollector, render_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.stats = stats
        self.render_seconds = render_seconds
        self.clock = clock
        #: address -> plain pages that got through since its last solve (none yet: absent)
        self.since_solve: dict[Any, int] = {}
        #: address -> epoch seconds until which its pages are rendered in the browser
        self.render_until: dict[Any, float] = {}

    def restore(self, key: Any, render_until: float) -> None:
        """An address's mode as the last crawl left it (``fetch/profiles.py``)."""
        if render_until > self.clock():
            self.render_until[key] = render_until
            logger.info("Auto mode: pages %s are rendered in the browser, as the last crawl "
                        "found they must be, for %.0f s more", where(key), render_until - self.clock())

    def renders(self, key: Any) -> bool:
        """Whether the address's pages go to the browser now; once its time is up, it
        says so and goes back to the plain path."""
        until = self.render_until.get(key)
        if until is None:
            return False
        if self.clock() < until:
            return True
        del self.render_until[key]
        self.since_solve.pop(key, None)
        self.stats.inc_value(f"{MODE_STAT}plain")
        logger.info("Auto mode: trying pages %s over plain HTTP again after %g s in the browser",
                    where(key), self.render_seconds)
        return False

    def solved(self, key: Any) -> None:
        if key not in self.since_solve:
            self.stats.inc_value(f"{MODE_STAT}handoff")
            logger.info("Auto mode: the site challenged pages %s; they go on over plain HTTP "
                        "with the browser's clearance", where(key))
        self.since_solve[key] = 0

    def plain_page(self, key: Any) -> None:
        if key in self.since_solve:
            self.since_solve[key] += 1

    def clearance_held(self, key: Any) -> bool:
        """False when the address was challenged again soon after a solve."""
        pages = self.since_solve.get(key)
        return pages is None or pages >= HOLD_PAGES

    def switch_to_browser(self, key: Any, url: str) -> None:
        self.render_until[key] = self.clock() + self.render_seconds
        self.stats.inc_value(f"{MODE_STAT}browser")
        logger.warning(
            "Auto mode: the browser's clearance does not hold on the plain path (%s was "
            "challenged again %d page(s) after the solve): rendering every page %s in the "
            "browser for %g s", url, self.since_solve.get(key, 0), where(key), self.render_seconds,
        )


def pages_line(stats: dict[str, Any]) -> str | None:
    """``Pages: 12 over plain HTTP, 3 rendered in the browser (...)``, or None before any."""
    def count(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    plain, browser = count("hltv/pages/fetched/plain"), count("hltv/pages/fetched/browser")
    flaresolverr = count("hltv/pages/fetched/flaresolverr")
    if not plain + browser + flaresolverr:
        return None
    ways = [f"{plain} over plain HTTP", f"{browser} rendered in the browser"]
    if flaresolverr:
        ways.append(f"{flaresolverr} from FlareSolverr")
    solved = sum(v for k, v in stats.items() if k.startswith("hltv/clearance/solved/"))
    switched = count(f"{MODE_STAT}browser")
    return (f"Pages: {', '.join(ways)}; {solved} challenge(s) solved, "
            f"{switched} switch(es) of an address to the browser")
