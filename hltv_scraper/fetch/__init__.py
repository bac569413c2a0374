"""How pages are fetched, in dependency order (each module imports only those above it):

- ``errors``: the exceptions and signals of fetching, and ``failure_reason``, the one
  rule that turns a failed request into the reason a person reads;
- ``refusals``: the downloader middleware that judges Cloudflare's pages and backs off;
- ``proxies``: one download slot per proxy, and a proxy that refuses benched;
- ``cookies``: browser cookies (a file, Playwright's, FlareSolverr's) as jar cookies;
- ``profiles``: clearances kept per address between crawls;
- ``auto``: auto mode's choice, per address, between plain HTTP, handoff and the browser;
- ``browser``: map pages (or challenge solves) in Chromium through scrapy-playwright;
- ``clearance``: a solved challenge's cookies and User-Agent handed to the plain path;
- ``flaresolverr``: challenges solved by a FlareSolverr service;
- ``xvfb``: a virtual display for a windowed Chromium;
- ``provider``: the undetected Chromium (patchright) scrapy-playwright drives;
- ``download_handler``: the download handler, a router over plain HTTP, curl_cffi,
  Chromium and FlareSolverr;
- ``scrapy_settings``: the add-on that derives Scrapy's settings from the config.

Nothing is imported here: importing one module loads only what it needs.
"""
