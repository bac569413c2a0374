"""The world ranking (``/ranking/teams/{year}/{month}/{day}``): one weekly snapshot.

A snapshot is its date, the links to the previous and next snapshots, and one
``.ranked-team`` block per team in rank order: rank (ties share one), team id and name,
points, the change since the last snapshot and the lineup. The date is read from the
page's heading ("... World ranking on December 1st, 2025"), else from its canonical or
requested URL, never from the clock: ``/ranking/teams`` shows whichever week is current.

Only what a snapshot cannot be stored without is required: a date, and each team's rank,
id, name and points. A team without points is a page cut short; the page is refused
naming the team, and so is a page that ends before anything that follows the ranking.
HLTV restyles its pages, so the pieces are found by class name and label with the older
generations' spellings as fallbacks (team id from the logo URL or ``.name[data-url]``,
points without brackets, an unsigned change with its direction in a class name, player
links ``/player/{id}-{nick}``).
"""

from __future__ import annotations

import calendar
import datetime
import re
from typing import TYPE_CHECKING

from hltv_scraper.items import RankingPage, RankingPlayer, RankingTeam
from hltv_scraper.parsers._page import (
    ParseError,
    node_text,
    page_selector,
    section_selector,
    whole_number,
)

if TYPE_CHECKING:
    from parsel import Selector
    from scrapy.http import TextResponse

_TEAM_CSS = ".ranked-team"
# what only a ranking page has besides its teams: a page of them and no team is cut short
_RANKING_PARTS_CSS = ".regional-ranking-header, .ranking-prev-next, .ranking-teams"
# what a whole page has after its last team; a page cut inside the ranking has none of it
_AFTER_THE_TEAMS = re.compile(rb"ranking-prev-next|<aside\b|<footer\b|</body\s*>|</html\s*>", re.I)
_HEADER_CSS = ".regional-ranking-header-text, .regional-ranking-header"
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTH = "(" + "|".join(_MONTHS) + ")"
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"
# "December 1st, 2025"; "1st December 2025" as a fallback
_HEADER_DATE = re.compile(rf"\b{_MONTH}\s+{_ORDINAL}\s*,?\s*(\d{{4}})\b", re.I)
_HEADER_DAY_FIRST = re.compile(rf"\b{_ORDINAL}\s+(?:of\s+)?{_MONTH}\s*,?\s*(\d{{4}})\b", re.I)
# the world ranking's dated URL; HLTV's Valve ranking has the same shape
_URL_DATE = re.compile(r"/(?:valve-)?ranking/teams/(\d{4})/([a-z]+)/(\d{1,2})(?![\d])", re.I)
_TEAM_HREF = re.compile(r"^(?:(?:https?:)?//(?:www\.)?hltv\.org)?/team/(\d{1,18})(?:[/?#]|$)")
_LOGO_ID = re.compile(r"/(\d{1,18})(?:\.\w+)?(?:[?#].*)?$")
_PLAYER_HREF = re.compile(r"/player/(\d{1,18})(?:[/?#-]|$)")
_QUOTED_NICK = re.compile(r"'([^']+)'")
_RANK = re.compile(r"^(?:#|T-?)?\s*(\d{1,6})\.?$", re.I)  # "#7"; a tie as "T7" or "T-7"
_POINTS = re.compile(
    r"(\d[\d,.\s]*?)\s*(?:hltv\s+)?(?:points?|pts)\b|^\(?\s*(\d[\d,]*)\s*\)?$", re.I
)
_CHANGE = re.compile(r"^([+\-\u2212\u2013]?)\s*(\d{1,6})$")
_NO_MOVE = {"-", "\u2212", "\u2013", "0", "=", "\u2014"}
_DOWN = {"down", "negative", "decrease", "red"}


def parse_ranking(response: TextResponse) -> RankingPage:
    root = _root(response)
    ranking_date = _ranking_date(root, response)
    teams: dict[int, RankingTeam] = {}
    last_rank = 0
    for index, block in enumerate(root.css(_TEAM_CSS), start=1):
        if (_shown_rank(block) or last_rank) < last_rank:
            break  # the ranks start again: another list (a regional tab), not this one
        team = _team(block, index)
        last_rank = team.rank
        # a team listed twice in the run keeps its first place
        teams.setdefault(team.team_id, team)
    # every team read whole, but the page may end between two of them
    if not _AFTER_THE_TEAMS.search(response.body, response.body.rfind(b"ranked-team")):
        raise ParseError("ranking: the page ends inside its ranking: cut short")
    return RankingPage(
        url=response.url,
        ranking_date=ranking_date,
        prev_date=_linked_date(root, "prev", ranking_date),
        next_date=_linked_date(root, "next", ranking_date),
        teams=list(teams.values()),
    )


def _root(response: TextResponse) -> Selector:
    """The content section when it holds the teams, else the whole page (parsed once)."""
    section = section_selector(response)
    if section is not None and section.css(_TEAM_CSS):
        return section
    page = page_selector(response)
    if page.css(_TEAM_CSS):
        return page
    if page.css(_RANKING_PARTS_CSS):
        raise ParseError(f"ranking: the ranking page shows no team ({_TEAM_CSS})")
    raise ParseError(f"ranking: not a ranking page (no {_TEAM_CSS} block)")


# -- the snapshot's date and its neighbours ------------------------------------------


def _ranking_date(root: Selector, response: TextResponse) -> str:
    """The heading's date, else the canonical URL's, else the requested URL's."""
    for header in root.css(_HEADER_CSS):
        text = node_text(header) or ""
        found = _HEADER_DATE.search(text)
        if found:
            return _iso(found.group(3), found.group(1), found.group(2), "heading")
        found = _HEADER_DAY_FIRST.search(text)
        if found:
            return _iso(found.group(3), found.group(2), found.group(1), "heading")
    canonical = root.css('link[rel="canonical"]::attr(href)').get()
    for url in (canonical, response.url):
        found = _URL_DATE.search(url or "")
        if found:
            return _iso(*found.groups(), url)
    raise ParseError("ranking: no date in the heading nor the URL")


def _linked_date(root: Selector, direction: str, ranking_date: str) -> str | None:
    """The date the previous/next link leads to; ``None`` for an inactive or odd link.

    Other ``/ranking/`` links share the page (Valve ranking, country filters, details):
    only the pagination links count, and only toward the right side of the date.
    """
    for href in root.css(
        f"a.pagination-{direction}::attr(href), .ranking-prev-next a.{direction}::attr(href)"
    ).getall():
        found = _URL_DATE.search(href)
        if not found:
            continue
        try:
            date = _iso(*found.groups(), href)
        except ParseError:
            continue
        if (date < ranking_date) if direction == "prev" else (date > ranking_date):
            return date
    return None


def _iso(year: str, month: str, day: str, where: str | None) -> str:
    number = _MONTHS.get(month.lower())
    try:
        if number is None:
            raise ValueError(month)
        return datetime.date(int(year), number, int(day)).isoformat()
    except ValueError:
        raise ParseError(f"ranking: no such date {year}/{month}/{day} in {where}") from None


# -- one ranked team -----------------------------------------------------------------


def _team(block: Selector, index: int) -> RankingTeam:
    name = node_text(block.css(".teamLine .name, .ranking-header .name")[:1]) or block.css(
        ".team-logo img::attr(alt), .team-logo img::attr(title)"
    ).get()
    name = name.strip() if name else None
    what = f"ranking: team {name!r}" if name else f"ranking: team #{index} on the page"
    if not name:
        raise ParseError(f"{what} has no name")
    rank = _rank(block, what)
    points = _points(block, what)  # first: a page cut off inside a team ends before them
    return RankingTeam(
        rank=rank,
        team_id=_team_id(block, what),
        team_name=name,
        points=points,
        **_change(block, what),
        players=_players(block),
    )


def _rank(block: Selector, what: str) -> int:
    rank = _shown_rank(block)
    if rank is None:
        raise ParseError(f"{what} has no rank: {node_text(block.css('.position')[:1])!r}")
    return rank


def _shown_rank(block: Selector) -> int | None:
    found = _RANK.match(node_text(block.css(".position")[:1]) or "")
    return int(found.group(1)) if found else None


def _team_id(block: Selector, what: str) -> int:
    """From the team profile link; on older pages from ``.name[data-url]`` or the logo URL."""
    for href in block.css("a::attr(href), .name::attr(data-url)").getall():
        found = _TEAM_HREF.match(href.strip())
        if found:
            return int(found.group(1))
    for src in block.css(".team-logo img::attr(src)").getall():
        # older logos were /images/team/logo/{id}; today's are hashes
        if "/team/logo/" in src or "/teamlogo/" in src:
            found = _LOGO_ID.search(src)
            if found:
                return int(found.group(1))
    raise ParseError(f"{what} has no team id (no /team/{{id}} link)")


def _points(block: Selector, what: str) -> int:
    text = node_text(block.css(".points")[:1])
    found = _POINTS.search(text or "")
    if not found:
        raise ParseError(f"{what} has no points" + (f": {text!r}" if text else ""))
    digits = re.sub(r"[,.\s]", "", found.group(1) or found.group(2))
    points = whole_number(digits, f"{what} points", digits=9)
    assert points is not None
    return points


def _change(block: Selector, what: str) -> dict[str, int | bool | None]:
    """``rank_change`` and ``is_new`` from the change indicator.

    "-" is no move, "+2"/"-3" a move; a "New"/"NEW TEAM" label (or a ``new`` class) has
    no previous rank. Older pages wrote an unsigned number with the direction as a class
    (``up``/``down``) on the indicator or an element inside it. No indicator at all is
    unknown, not zero.
    """
    node = block.css(".change")[:1]
    if not node:
        return {"rank_change": None, "is_new": False}
    text = node_text(node) or ""
    classes = set(" ".join(node.xpath("descendant-or-self::*/@class").getall()).lower().split())
    if "new" in classes or re.search(r"\bnew\b", text, re.I):
        return {"rank_change": None, "is_new": True}
    if text in _NO_MOVE or not text and classes & {"neutral", "same"}:
        return {"rank_change": 0, "is_new": False}
    if not text:
        return {"rank_change": None, "is_new": False}
    found = _CHANGE.match(text)
    if not found:
        raise ParseError(f"{what}: unreadable change {text[:40]!r}")
    sign, places = found.group(1), int(found.group(2))
    if sign:
        return {"rank_change": places if sign == "+" else -places, "is_new": False}
    if classes & _DOWN:
        return {"rank_change": -places, "is_new": False}
    return {"rank_change": places, "is_new": False}


def _players(block: Selector) -> list[RankingPlayer]:
    """The lineup: the nicknames shown, with ids from the hidden lineup's player links.

    A nickname is paired with the link of the same nick; the rest are paired in order
    when as many links as nicknames are left, else they keep no id. Without a nickname
    line the links are the lineup.
    """
    linked = [_linked_player(a) for a in block.css(".lineup-con a[href*='/player/']")]
    if not linked:
        linked = [_linked_player(a) for a in block.css("a[href*='/player/']")]
    linked = [p for p in linked if p.player_id is not None]
    shown = block.css(".rankingNicknames span") or block.css(".rankingNicknames")
    nicks = [text for text in (node_text(n) for n in shown) if text]
    if not nicks:
        return linked
    players = [RankingPlayer(player_name=nick) for nick in nicks]
    free = list(linked)
    for player in players:
        same = next(
            (p for p in free if (p.player_name or "").casefold() == player.player_name.casefold()),
            None,
        )
        if same is not None:
            player.player_id = same.player_id
            free.remove(same)
    unpaired = [p for p in players if p.player_id is None]
    if unpaired and len(unpaired) == len(free):
        for player, link in zip(unpaired, free):
            player.player_id = link.player_id
    return players


def _linked_player(link: Selector) -> RankingPlayer:
    found = _PLAYER_HREF.search(link.attrib.get("href", ""))
    name = node_text(link.css(".nick")) or node_text(link)
    if not name:
        alt = link.css("img::attr(alt)").get() or ""
        quoted = _QUOTED_NICK.search(alt)
        name = quoted.group(1) if quoted else None
    return RankingPlayer(player_id=int(found.group(1)) if found else None, player_name=name)
