"""Typed items: what one page says, and what became of a page we could not use.

Page items carry the requested unit's id (``unit_id``: the mapstatsid, match id,
results offset or ranking snapshot's YYYYMMDD, set by the spider, not read from the page) so the pipeline can pair the
pages of one unit. Values are already clean:
numbers are numbers, percentages are numbers of percent, ``-`` is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

@dataclass(frozen=True)
class Unit:
    """What a spider needs to request a unit's pages: its key, the URL's slug as stored
    (None when none was: the spider makes one of the team names, which storage leaves
    to it), and the match's team names."""

    id: int
    slug: str | None = None
    team_names: tuple[str | None, str | None] = (None, None)


class ValidationError(ValueError):
    """The parsed pages contradict the database (or each other): the unit is not written.
    Raised by a stage's check (``hltv_scraper.validation``) inside storage's write."""

    def __init__(self, page: str, reason: str) -> None:
        super().__init__(f"{page}: {reason}")
        self.page = page
        self.reason = reason



#: Page names, as used in URLs, the archive layout, stats keys and failure records.
PERFORMANCE = "performance"
ECONOMY = "economy"
MAPSTATS = "mapstats"


@dataclass
class PlayerPerformance:
    """One player card of the performance page."""

    player_id: int | None = None
    player_name: str | None = None
    team_name: str | None = None
    kpr: float | None = None
    dpr: float | None = None
    kast: float | None = None
    adr: float | None = None
    rating: float | None = None
    rating_version: str | None = None
    impact: float | None = None  # Rating 2.0 pages only
    mk_rating: float | None = None  # Rating 3.0 pages only
    round_swing: float | None = None  # Rating 3.0 pages only


@dataclass
class TeamOverview:
    """One team column of the performance page's overview table."""

    team_name: str | None = None
    kills: int | None = None
    deaths: int | None = None
    assists: int | None = None


@dataclass
class KillMatrixEntry:
    """One cell of a kill matrix: player1 (row) killed player2 (column) player1_kills times."""

    matrix_type: str | None = None  # 'all' | 'first_kill' | 'awp'
    player1_id: int | None = None
    player2_id: int | None = None
    player1_kills: int | None = None
    player2_kills: int | None = None


@dataclass
class PerformancePage:
    page = PERFORMANCE

    unit_id: int | None = None  # the mapstatsid, set by the spider
    url: str | None = None
    event_name: str | None = None
    rating_version: str | None = None
    teams: list[TeamOverview] = field(default_factory=list)  # page order
    players: list[PlayerPerformance] = field(default_factory=list)
    kill_matrix: list[KillMatrixEntry] = field(default_factory=list)


@dataclass
class EconomyRound:
    """One team's round-start economy in one round."""

    round_number: int | None = None
    team_name: str | None = None
    equipment_value: int | None = None
    buy_type: str | None = None  # 'full_eco' | 'semi_eco' | 'semi_buy' | 'full_buy'
    side: str | None = None  # 'CT' | 'T'
    won: bool | None = None


@dataclass
class EconomyPage:
    page = ECONOMY

    unit_id: int | None = None  # the mapstatsid, set by the spider
    url: str | None = None
    team_names: list[str] = field(default_factory=list)  # page order
    rounds: list[EconomyRound] = field(default_factory=list)


class PageOutcome(Protocol):
    """What became of one page of a unit: its parsed item (every page item has these),
    a :class:`PageFailure` or a :class:`PagePassedOver`."""

    @property
    def unit_id(self) -> int | None: ...

    @property
    def page(self) -> str: ...

    @property
    def url(self) -> str | None: ...


@dataclass
class PageFailure:
    """A page that produced no usable item.

    ``kind`` is ``'fetch'`` (the site refused or sent something else: the unit stays
    untouched) or ``'parse'`` (the page was there but wrong: the unit's attempt count
    goes up and the failure is recorded).
    """

    unit_id: int
    page: str
    kind: str
    reason: str
    url: str | None = None

    FETCH = "fetch"
    PARSE = "parse"


@dataclass
class PagePassedOver:
    """A page read and parsed that its unit source chose not to store (a snapshot
    after ``-a until=``, or one stored already): the unit is settled, nothing written."""

    unit_id: int
    page: str
    reason: str
    url: str | None = None


@dataclass
class MapTeam:
    """One team of the map stats page's info box, in page order."""

    team_id: int | None = None
    team_name: str | None = None
    score: int | None = None  # rounds won on this map
    starting_side: str | None = None  # 'CT' | 'T'
    ct_rounds: int | None = None  # regulation halves only
    t_rounds: int | None = None
    ot_rounds: int | None = None
    team_rating: float | None = None
    first_kills: int | None = None
    clutches_won: int | None = None


@dataclass
class ScoreboardRow:
    """One player row of a ``totalstats`` scoreboard (traditional and eco-adjusted cells)."""

    player_id: int | None = None
    player_name: str | None = None
    team_id: int | None = None
    kills: int | None = None
    hs_kills: int | None = None
    assists: int | None = None
    flash_assists: int | None = None
    deaths: int | None = None
    traded_deaths: int | None = None
    kd_diff: int | None = None
    adr: float | None = None
    kast: float | None = None
    opening_kills: int | None = None
    opening_deaths: int | None = None
    fk_diff: int | None = None
    multi_kills: int | None = None
    clutch_wins: int | None = None
    round_swing: float | None = None  # Rating 3.0 pages only
    rating: float | None = None
    rating_version: str | None = None
    # eco-adjusted cells; None where the page shows `null` or `-`
    e_kills: int | None = None
    e_hs_kills: int | None = None
    e_deaths: int | None = None
    e_traded_deaths: int | None = None
    e_kd_diff: int | None = None
    e_adr: float | None = None
    e_kast: float | None = None
    e_opening_kills: int | None = None
    e_opening_deaths: int | None = None
    e_fk_diff: int | None = None


@dataclass
class RoundOutcome:
    round_number: int | None = None
    winner_side: str | None = None  # 'CT' | 'T'
    win_type: str | None = None  # 'elimination' | 'bomb_exploded' | 'bomb_defused' | 'time'
    winner_team_id: int | None = None


@dataclass
class MapStatsPage:
    page = MAPSTATS

    unit_id: int | None = None  # the mapstatsid, set by the spider
    url: str | None = None
    map_name: str | None = None
    event_id: int | None = None
    event_name: str | None = None
    date_unix_ms: int | None = None
    rating_version: str | None = None
    teams: list[MapTeam] = field(default_factory=list)  # page order: left, right
    players: list[ScoreboardRow] = field(default_factory=list)
    rounds: list[RoundOutcome] = field(default_factory=list)


# -- discovery pages: the results listing and the match page ------------------------

RESULTS = "results"
MATCH = "match"


@dataclass
class ResultEntry:
    """One regular entry of the results listing (never a featured duplicate)."""

    match_id: int | None = None
    slug: str | None = None  # the free text after the id in /matches/{id}/{slug}
    team1_name: str | None = None
    team2_name: str | None = None
    team1_score: int | None = None  # maps won (a BO1's rounds; 1-0 for a forfeit)
    team2_score: int | None = None
    event_name: str | None = None
    stars: int | None = None  # 0-5
    format: str | None = None  # the listing's map text: 'bo3', 'bo5', a BO1 map ('nuke'), 'def'
    best_of: int | None = None  # None for a forfeit ('def')
    is_forfeit: bool | None = None
    completed_unix_ms: int | None = None


@dataclass
class ResultsPage:
    page = RESULTS

    unit_id: int | None = None  # the offset, set by the spider
    url: str | None = None
    offset: int | None = None  # as the pagination says ("1 - 100 of N" -> 0)
    total: int | None = None  # results in the whole listing
    next_offset: int | None = None  # None on the last page
    entries: list[ResultEntry] = field(default_factory=list)


@dataclass
class MatchMap:
    """One ``.mapholder`` of a match page, in page order (map number = position)."""

    map_number: int | None = None
    map_name: str | None = None  # "Default" for a forfeited map
    mapstatsid: int | None = None  # only on played, non-forfeited maps
    played: bool | None = None
    is_forfeit: bool | None = None
    team1_rounds: int | None = None
    team2_rounds: int | None = None
    team1_ct_rounds: int | None = None
    team1_t_rounds: int | None = None
    team2_ct_rounds: int | None = None
    team2_t_rounds: int | None = None
    team1_ot_rounds: int | None = None
    team2_ot_rounds: int | None = None
    team1_starting_side: str | None = None  # 'CT' | 'T'


@dataclass
class VetoStep:
    step: int | None = None
    team_id: int | None = None  # None for the map left over
    team_name: str | None = None
    action: str | None = None  # 'removed' | 'picked' | 'left_over'
    map_name: str | None = None


@dataclass
class LineupPlayer:
    team_id: int | None = None
    player_id: int | None = None
    player_name: str | None = None


@dataclass
class MatchPage:
    page = MATCH

    unit_id: int | None = None  # the match id, set by the spider
    url: str | None = None
    match_id: int | None = None
    team1_id: int | None = None  # team 1 = the left team
    team1_name: str | None = None
    team2_id: int | None = None
    team2_name: str | None = None
    team1_score: int | None = None  # None on a full forfeit ("Match deleted")
    team2_score: int | None = None
    team1_rank: int | None = None  # world rank; None when unranked
    team2_rank: int | None = None
    best_of: int | None = None
    is_lan: bool | None = None
    event_id: int | None = None
    event_name: str | None = None
    date_unix_ms: int | None = None  # start time
    status: str | None = None  # the countdown text: "Match over", "Match deleted"
    format_text: str | None = None  # the first veto box, lines joined by "\n"
    stage: str | None = None  # its "* ..." line, e.g. "Grand final"
    is_forfeit: bool | None = None  # the match or one of its maps was forfeited
    demo_id: int | None = None  # its GOTV demo archive, /download/demo/{demo_id}; None: no link
    maps: list[MatchMap] = field(default_factory=list)
    vetoes: list[VetoStep] = field(default_factory=list)
    lineups: list[LineupPlayer] = field(default_factory=list)


# -- the world ranking: one weekly snapshot per page ---------------------------------

RANKING = "ranking"


@dataclass
class RankingPlayer:
    """One player of a ranked team's lineup, in page order; no id where the page links none."""

    player_id: int | None = None
    player_name: str | None = None


@dataclass
class RankingTeam:
    """One ranked team of a snapshot, in page order (ties share a rank)."""

    rank: int | None = None
    team_id: int | None = None
    team_name: str | None = None
    points: int | None = None
    rank_change: int | None = None  # places gained since the last snapshot; None: new or not shown
    is_new: bool | None = None  # the page marks the team new to the ranking
    players: list[RankingPlayer] = field(default_factory=list)


@dataclass
class RankingPage:
    page = RANKING

    unit_id: int | None = None  # the snapshot's date as the number YYYYMMDD, set by the spider
    url: str | None = None
    ranking_date: str | None = None  # ISO 'YYYY-MM-DD', as the page says
    prev_date: str | None = None  # the snapshot the page links as previous; None: none
    next_date: str | None = None  # None on the newest snapshot
    teams: list[RankingTeam] = field(default_factory=list)


# -- page bundles: the pages of one unit, as a stage's writer takes them ------------
#
# One field per page name of the stage (``Stage.pages``), so a writer reads
# ``pages.performance``, never ``pages["performance"]``.


@dataclass(frozen=True)
class ResultsPages:
    results: ResultsPage


@dataclass(frozen=True)
class MatchPages:
    match: MatchPage


@dataclass(frozen=True)
class MapStatsPages:
    mapstats: MapStatsPage


@dataclass(frozen=True)
class PerfEconomyPages:
    performance: PerformancePage
    economy: EconomyPage


@dataclass(frozen=True)
class RankingPages:
    ranking: RankingPage

