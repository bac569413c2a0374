"""Scrapy settings for hltv-scraper.

The project's own ``HLTV_*`` settings and their defaults are documented in
``hltv_scraper/config.py``; any setting here can be overridden with ``-s NAME=value``.
"""

BOT_NAME = "hltv_scraper"
SPIDER_MODULES = ["hltv_scraper.spiders"]
NEWSPIDER_MODULE = "hltv_scraper.spiders"
COMMANDS_MODULE = "hltv_scraper.commands"

# HLTV's robots.txt disallows /stats; the user decides what to fetch and how politely.
ROBOTSTXT_OBEY = False
# Pacing that does not get an address banned (README, "Pacing"): one request at a time
# per address (per proxy with proxies: each is its own download slot), 3-5 s apart
# (DOWNLOAD_DELAY ± DOWNLOAD_DELAY_JITTER); AutoThrottle only ever slows down from
# there, as DOWNLOAD_DELAY is its floor. CONCURRENT_REQUESTS bounds all slots together.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 4.0
DOWNLOAD_DELAY_JITTER = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 5.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# A page (a few MB) that takes longer is retried; a site that does not answer gives up
# soon (see brakes.py: a crawl that reaches nothing stops within a minute).
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Connection refused, no such host and connect timeouts are not retried here: the
# refusal middleware fails them at once as "unreachable" (moving them to another proxy
# with proxies), and the brakes stop a crawl that reaches nothing.

# Pages are a few MB; the default limits are fine but say so.
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0

# HLTV_IMPERSONATE, HLTV_BROWSER, HLTV_COOKIES_FILE, HLTV_FLARESOLVERR_URL: the Scrapy
# settings each fetch mode needs (download handler, middlewares), derived per crawl.
ADDONS = {"hltv_scraper.fetch.scrapy_settings.FetchModes": 0}

DOWNLOADER_MIDDLEWARES = {
    # Below HttpCompression (590): the archive stores and serves decoded bodies.
    "hltv_scraper.archive.ArchiveMiddleware": 580,
    # After the archive (a page it serves needs no proxy), before refusals are judged:
    # sees pages and HTTP errors per proxy; refusals reach it as a signal. Off unless
    # HLTV_PROXIES names a file.
    "hltv_scraper.fetch.proxies.ProxyMiddleware": 582,
    # Between the two: refusals never reach the archive or the spider as pages.
    "hltv_scraper.fetch.refusals.RefusalMiddleware": 585,
    # Replaced by the archive middleware above.
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
}
EXTENSIONS = {
    # The periodic stats line: the stage, units committed/failed/left, matches and maps left, the delay.
    "scrapy.extensions.logstats.LogStats": None,
    "hltv_scraper.extensions.Progress": 0,
    # The first Ctrl-C (or SIGTERM) sends no new request: see hltv_scraper/stopping.py.
    "hltv_scraper.stopping.StopSending": 0,
}
ITEM_PIPELINES = {
    "hltv_scraper.pipelines.UnitTransactionPipeline": 300,
}

# Off: it opens a local port and nothing here uses it.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 60.0
FEED_EXPORT_ENCODING = "utf-8"
