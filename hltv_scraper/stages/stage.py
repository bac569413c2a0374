"""What a stage is: everything that is a stage's own, typed, in one object.

A stage's declaration (``hltv_scraper/stages/<stage>.py``) says what its unit is (what it
is called, how one is shown, where units come from), which pages one unit needs (each
page's URL, the bytes that tell the page from a refusal, its parser), the bundle of
parsed pages its writer takes, where its units are rows (the pending rule: its storage
module's :class:`~hltv_scraper.storage.UnitTable`), its writer, its check and the
counts ``scrapy summary`` shows. The registry (``hltv_scraper.stages``) lists the
stages; every other module derives what it needs from there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hltv_scraper.site import slugify

if TYPE_CHECKING:
    from scrapy.http import Response

    from hltv_scraper.items import PageOutcome
    from hltv_scraper.ledger.sources import UnitSource
    from hltv_scraper.storage import Check, Counts, ExportedTable, Unit, UnitTable, Writer


@dataclass(frozen=True)
class Page:
    """One page a unit needs."""

    #: the page name (``mapstats``): URLs, the archive layout, stats keys, failure records
    name: str
    #: the page's URL for a unit: ``url(base_url, unit)``
    url: Callable[[str, Unit], str]
    #: the unit's id in a URL of this page, whatever its host; None for another URL
    #: (the archive names its files by it)
    unit_of_url: Callable[[str], int | None]
    #: bytes every real page of that kind holds; a body without them is not the page
    #: asked for (a truncated body, an error page, a page of another kind)
    markers: tuple[bytes, ...]
    #: the parser: a plain function of a response, returning the page's typed item
    parse: Callable[[Response], PageOutcome]
    #: whether the page at a unit's URL may say something else later (the results
    #: listing's first pages): the archive then reads it afresh unless replaying
    changes: Callable[[int], bool] = lambda unit_id: False


@dataclass(frozen=True)
class UnitKind:
    """What one unit of a stage is to the user and to the crawl."""

    #: what units are called in stats and logs (``hltv/maps/committed``)
    called: str
    #: one unit in the user's words: ``label(219128)`` is ``map 219128``
    label: Callable[[int], str]
    #: where the units come from, built from the spider's ``-a`` arguments
    source: type[UnitSource]
    #: the ``-a`` argument naming units to redo (``-a mapstatsid=1,2``), if any
    named_argument: str | None = None
    #: how a user puts units in the database (for the error on an unknown id)
    adding_hint: str = ""


@dataclass(frozen=True)
class Stage:
    name: str
    unit: UnitKind
    #: the pages one unit needs, in the order they are requested
    pages: tuple[Page, ...]
    #: the page bundle the writer takes: a dataclass with one field per page name
    bundle: type
    #: writes one unit's bundle inside the caller's transaction (``storage/<stage>.py``)
    write: Writer
    #: where units are rows, with the pending rule; None for units that are walked
    rows: UnitTable | None = None
    #: the validation the writer calls with the rows it read (``hltv_scraper.validation``)
    check: Check | None = None
    #: what ``scrapy summary`` counts for the stage
    counts: Counts = ()
    #: the progress line's count of the stage's pending units (``{} match pages``)
    left: str = "{} units"
    #: the tables it writes, as ``scrapy export`` writes them out (``storage/<stage>.py``)
    exports: tuple[ExportedTable, ...] = ()

    @property
    def page_names(self) -> tuple[str, ...]:
        return tuple(page.name for page in self.pages)

    def page(self, name: str) -> Page:
        return next(page for page in self.pages if page.name == name)


def id_in(pattern: str) -> Callable[[str], int | None]:
    """Reads the unit id from a URL's match of ``pattern``, whose group ``id`` it is."""
    compiled = re.compile(pattern)

    def unit_of_url(url: str) -> int | None:
        found = compiled.search(url)
        return int(found.group("id")) if found else None

    return unit_of_url


def path_url(template: str) -> Callable[[str, Unit], str]:
    """A URL made of the base URL and ``template`` with the unit's ``{id}`` and ``{slug}``
    (the stored slug, else one made of the team names: HLTV reads only the id)."""

    def url(base_url: str, unit: Unit) -> str:
        slug = unit.slug or slugify(*unit.team_names)
        return base_url.rstrip("/") + template.format(id=unit.id, slug=slug)

    return url
