"""Spider arguments (``-a name=value``): each read once, checked before anything opens.

A unit source declares the arguments it takes; the spider hands it what ``-a`` gave and
the source reads them with the functions here. A value that does not fit, and a name no
source of that spider takes, raise :class:`SpiderArgumentError` (a
``scrapy.exceptions.UsageError``): one line naming the argument and what it takes,
raised from the spider's constructor, so before the database is opened or created.

Scrapyd adds arguments of its own to every job (``_job``, and ``_version`` when a
version is scheduled); names that start with ``_`` are scrapyd's, and are let through.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from scrapy.exceptions import UsageError

_DAY_MS = 86_400_000


@dataclass(frozen=True)
class CollectOptions:
    """``scrapy collect``'s options, checked; each unit source picks the ones it takes."""

    since: str | None = None
    until: str | None = None
    pages: int | None = None
    limit: int | None = None
    full: bool = False


class SpiderArgumentError(UsageError, ValueError):
    """A ``-a`` argument that does not fit. A ``ValueError`` too: callers that checked
    the same values for their own options (``scrapy collect``) catch it as they did."""


def passed_by_scrapyd(name: str) -> bool:
    """``_job``, ``_version``: scrapyd's own arguments to every job it launches."""
    return name.startswith("_")


def reject_unknown(spider: str, given: Iterable[str], known: Iterable[str]) -> None:
    """Every name in ``given`` is one ``spider`` takes, else one line with the closest."""
    known = sorted(known)
    for name in given:
        if name in known or passed_by_scrapyd(name):
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean -a {close[0]}=?" if close else ""
        takes = ", ".join(f"-a {k}=" for k in known) or "no -a arguments"
        raise SpiderArgumentError(f"-a {name}= is not an argument of {spider} (it takes {takes}){hint}")


def whole_number(name: str, value: str, *, minimum: int) -> int:
    """A spider argument that must be a whole number of at least ``minimum``."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SpiderArgumentError(f"-a {name}= takes a whole number, got {value!r}") from None
    if number < minimum:
        raise SpiderArgumentError(f"-a {name}= must be at least {minimum}, got {number}")
    return number


def positive_int(name: str, value: str) -> int:
    return whole_number(name, value, minimum=1)


def id_list(name: str, value: str) -> list[int]:
    """``1,2,3``: ids separated by commas, each once, in the order given."""
    ids = []
    for part in str(value).split(","):
        part = part.strip()
        if not part.isdigit():
            raise SpiderArgumentError(f"-a {name}= takes ids separated by commas, got {part!r}")
        ids.append(int(part))
    return list(dict.fromkeys(ids))


def a_day(name: str, value: str) -> date:
    """A ``YYYY-MM-DD`` day."""
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise SpiderArgumentError(f"-a {name}= takes a day as YYYY-MM-DD, got {value!r}") from None


def day_start_ms(name: str, value: str) -> int:
    """Midnight UTC of a ``YYYY-MM-DD`` day, in ms since the epoch."""
    day = a_day(name, value)
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)


def day_end_ms(name: str, value: str) -> int:
    """The end (exclusive) of a ``YYYY-MM-DD`` day, in ms since the epoch."""
    return day_start_ms(name, value) + _DAY_MS


def flag(name: str, value: str | None) -> bool:
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no", ""):
        return False
    raise SpiderArgumentError(f"-a {name}= takes 1 or 0, got {value!r}")

