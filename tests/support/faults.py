"""Tools for fault tests: small pages, a slow server, a crawl in a subprocess that can be killed."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.pages import page_bytes
from tests.support.server import _ROUTE, Answer, FixtureServer


ROOT = Path(__file__).resolve().parents[2]


PAGES = ("performance", "economy")


_CONTENT = re.compile(rb'<div\b[^>]*\bclass\s*=\s*["\']contentCol\b')


_CONTENT_END = re.compile(rb"<aside\b|<footer\b")


@functools.cache
def small_page(page: str, mapstatsid: int) -> bytes:
    """The fixture page cut down to its ``.contentCol`` section: same data, ~100 KB."""
    body = page_bytes(f"{page}-{mapstatsid}")
    start = _CONTENT.search(body)
    end = _CONTENT_END.search(body, start.end())
    return b'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>' + (
        body[start.start() : end.start()] + b"</body></html>"
    )


class SlowServer(FixtureServer):
    """The fixture server, answering each page kind after a delay (seconds)."""

    def __init__(self, delays: dict[str, float]) -> None:
        super().__init__()
        self.delays = delays

    def _handle(self, handler) -> None:
        match = _ROUTE.match(handler.path)
        time.sleep(self.delays.get((match.group(1) or "mapstats") if match else "", 0))
        super()._handle(handler)


def serve_small_pages(server: FixtureServer, maps) -> None:
    for mapstatsid in maps:
        for page in PAGES:
            server.script(page, mapstatsid, Answer(body=small_page(page, mapstatsid)))


class Crawl:
    """``scrapy crawl perf_economy`` as a subprocess, its log read as it is written."""

    def __init__(self, *args: str, settings: dict) -> None:
        options = [item for name, value in settings.items() for item in ("-s", f"{name}={value}")]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "perf_economy", *args, *options,
             "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "LOG_LEVEL=INFO",
             "-s", "LOGSTATS_INTERVAL=0"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"{text!r} never logged:\n{self.log[-3000:]}")
                self._changed.wait(min(left, 0.05))

    def finish(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stat(self, key: str) -> int:
        found = re.findall(rf"'{re.escape(key)}': (\d+)", self.log)
        return int(found[-1]) if found else 0
