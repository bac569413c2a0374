"""Item loaders and the processors that turn page text into clean values.

Every field takes the first non-empty value (``TakeFirst``); the input processors
below do the conversions: ``"66.7%"`` -> 66.7, ``"+12.23%"`` -> 12.23, ``"-"`` -> None.
"""

from __future__ import annotations

import math
import re
from typing import Any

from itemloaders.processors import MapCompose, TakeFirst
from scrapy.loader import ItemLoader

from hltv_scraper.items import (
    EconomyRound,
    LineupPlayer,
    MapTeam,
    MatchMap,
    MatchPage,
    PlayerPerformance,
    ResultEntry,
    RoundOutcome,
    ScoreboardRow,
    TeamOverview,
    VetoStep,
)
from hltv_scraper.parsers._page import ParseError, clean_text

_NOT_AVAILABLE = {"-", "", "null", "none", "n/a"}
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = clean_text(str(value))
    if text is None or text.lower() in _NOT_AVAILABLE:
        return None
    return text


def to_float(value: Any) -> float | None:
    """A number as shown ("1.19", "+0.98%", "66.7%"); ``None`` for "-"/"null"."""
    text = _text(value)
    if text is None:
        return None
    if text.endswith("%"):
        text = text[:-1].rstrip()
    if not _NUMBER.match(text):
        raise ValueError(f"not a number: {value!r}")
    number = float(text)
    if not math.isfinite(number):  # hundreds of digits: no page means that
        raise ValueError(f"not a finite number: {value!r}")
    return number


def to_int(value: Any) -> int | None:
    """A whole number as shown ("14", "+3", "4200"); ``None`` for "-"/"null".

    Digits alone are read as an integer: through a float, an id past 2**53 would come
    out as a neighbour.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _text(value)
    if text is not None and _INTEGER.match(text):
        return int(text)
    number = to_float(value)
    if number is None:
        return None
    if number != int(number):
        raise ValueError(f"not a whole number: {value!r}")
    return int(number)


def to_text(value: Any) -> str | None:
    return _text(value)


def to_name(value: Any) -> str | None:
    """A name as shown, whitespace folded: a player may well be called "-" or "null"."""
    return None if value is None else clean_text(str(value))


def to_lines(value: Any) -> str | None:
    """Text of several lines: each line's whitespace folded, blank lines dropped."""
    if value is None:
        return None
    lines = [line for line in (clean_text(part) for part in str(value).splitlines()) if line]
    return "\n".join(lines) or None


def to_bool(value: Any) -> bool:
    """Only real booleans: a string "False" must not become True."""
    if not isinstance(value, bool):
        raise ValueError(f"not a boolean: {value!r}")
    return value


class _Loader(ItemLoader):
    """An ItemLoader that looks up each field's processors once per loader class.

    ItemLoader looks them up on every ``add_value`` and ``load_item`` (field metadata
    through a new ItemAdapter each time): a third of the cost of parsing a performance
    page, which loads 87 small items. Our items declare no field metadata, so the
    processors are those of the class. Subclasses set ``default_item_class``: building
    the item here also skips copying the defaults of a passed-in item as values.
    """

    default_output_processor = TakeFirst()
    _processors: dict[tuple[type, str, str], Any] = {}

    def get_input_processor(self, field_name: str) -> Any:
        return self._cached(field_name, "in", super().get_input_processor)

    def get_output_processor(self, field_name: str) -> Any:
        return self._cached(field_name, "out", super().get_output_processor)

    def _cached(self, field_name: str, kind: str, look_up: Any) -> Any:
        key = (type(self), field_name, kind)
        try:
            return self._processors[key]
        except KeyError:
            processor = self._processors[key] = look_up(field_name)
            return processor


def load(loader_class: type[_Loader], piece: str, **values: Any) -> Any:
    """A new item of the loader's class with ``values`` through its processors.

    A value the processors refuse raises :class:`ParseError` naming ``piece``, the
    field, the value and why.
    """
    loader = loader_class()
    for name, value in values.items():
        try:
            loader.add_value(name, value)
        except ValueError as exc:
            reason = exc
            while reason.__cause__ is not None:  # itemloaders wraps it twice
                reason = reason.__cause__
            raise ParseError(f"{piece}: bad {name} {value!r} ({reason})") from None
    return loader.load_item()


class PlayerPerformanceLoader(_Loader):
    default_item_class = PlayerPerformance
    default_input_processor = MapCompose(to_float)
    player_id_in = MapCompose(to_int)
    player_name_in = MapCompose(to_name)
    team_name_in = MapCompose(to_name)
    rating_version_in = MapCompose(to_text)


class TeamOverviewLoader(_Loader):
    default_item_class = TeamOverview
    default_input_processor = MapCompose(to_int)
    team_name_in = MapCompose(to_name)


class EconomyRoundLoader(_Loader):
    default_item_class = EconomyRound
    default_input_processor = MapCompose(to_int)
    team_name_in = MapCompose(to_name)
    buy_type_in = MapCompose(to_text)
    side_in = MapCompose(to_text)
    won_in = MapCompose(to_bool)


class MapTeamLoader(_Loader):
    default_item_class = MapTeam
    default_input_processor = MapCompose(to_int)
    team_name_in = MapCompose(to_name)
    starting_side_in = MapCompose(to_text)
    team_rating_in = MapCompose(to_float)


class ScoreboardRowLoader(_Loader):
    default_item_class = ScoreboardRow
    default_input_processor = MapCompose(to_int)
    player_name_in = MapCompose(to_name)
    rating_version_in = MapCompose(to_text)
    adr_in = kast_in = round_swing_in = rating_in = MapCompose(to_float)
    e_adr_in = e_kast_in = MapCompose(to_float)


class RoundOutcomeLoader(_Loader):
    default_item_class = RoundOutcome
    default_input_processor = MapCompose(to_int)
    winner_side_in = MapCompose(to_text)
    win_type_in = MapCompose(to_text)


class ResultEntryLoader(_Loader):
    default_item_class = ResultEntry
    default_input_processor = MapCompose(to_int)
    slug_in = MapCompose(to_text)
    team1_name_in = team2_name_in = event_name_in = MapCompose(to_name)
    format_in = MapCompose(to_text)
    is_forfeit_in = MapCompose(to_bool)


class MatchMapLoader(_Loader):
    default_item_class = MatchMap
    default_input_processor = MapCompose(to_int)
    map_name_in = MapCompose(to_name)
    played_in = is_forfeit_in = MapCompose(to_bool)
    team1_starting_side_in = MapCompose(to_text)


class VetoStepLoader(_Loader):
    default_item_class = VetoStep
    default_input_processor = MapCompose(to_int)
    team_name_in = map_name_in = MapCompose(to_name)
    action_in = MapCompose(to_text)


class LineupPlayerLoader(_Loader):
    default_item_class = LineupPlayer
    default_input_processor = MapCompose(to_int)
    player_name_in = MapCompose(to_name)


class MatchPageLoader(_Loader):
    """The match page's single values; its lists (maps, vetoes, lineups) are set after."""

    default_item_class = MatchPage
    default_input_processor = MapCompose(to_int)
    status_in = stage_in = MapCompose(to_text)
    team1_name_in = team2_name_in = event_name_in = MapCompose(to_name)
    format_text_in = MapCompose(to_lines)
    is_lan_in = is_forfeit_in = MapCompose(to_bool)
