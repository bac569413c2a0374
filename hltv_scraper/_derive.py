"""Setting Scrapy's own settings from ours, so that ``-s NAME=value`` still wins.

Derived values go in at spider priority: above the project's ``settings.py`` (a runner
that merges project settings into the crawler afterwards must not drop them), below
the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.settings import SETTINGS_PRIORITIES

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def derive(settings: BaseSettings, values: dict[str, Any]) -> None:
    for name, value in values.items():
        settings.set(name, value, priority="spider")


def add_to_dict(settings: BaseSettings, name: str, entries: dict[str, Any]) -> None:
    """Add ``entries`` to a dict setting (``DOWNLOADER_MIDDLEWARES``, ``DOWNLOAD_HANDLERS``)
    at spider priority at least; entries given on the command line stay."""
    merged = settings.getdict(name)
    if (settings.getpriority(name) or 0) > SETTINGS_PRIORITIES["spider"]:
        for key, value in entries.items():
            merged.setdefault(key, value)
    else:
        merged.update(entries)
    priority = max(settings.getpriority(name) or 0, SETTINGS_PRIORITIES["spider"])
    settings.set(name, merged, priority=priority)
