"""What a write reports: its result, or why it was refused (a check's refusal is
:class:`hltv_scraper.items.ValidationError`)."""

from __future__ import annotations

from dataclasses import dataclass, field


class DatabaseUnavailable(Exception):
    """The database cannot be used as asked (missing, not a database, server down, wrong
    password): a mistake in the user's input. ``str()`` is one line naming the masked
    location and what was wrong; commands print it and exit with status 2."""


class AlreadyStored(Exception):
    """The unit was finished, or taken over, by another crawl while this one fetched it."""


@dataclass
class SaveResult:
    """What a successful save wrote, for the crawl stats."""

    rows: dict[str, int]
    skipped_economy_rounds: list[int] = field(default_factory=list)
    #: other counts worth a stat (e.g. a results page's new and known matches)
    counts: dict[str, int] = field(default_factory=dict)
    #: what a person reading the log should hear about this write
    notes: list[str] = field(default_factory=list)
