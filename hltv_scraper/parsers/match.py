"""The match page (``/matches/{id}/{slug}``): teams, format, vetoes, lineups and its maps.

It is where a match's maps are found: one ``.mapholder`` per map of the format, with
the mapstatsid of each map that has stats. Only what a match cannot be stored without
is required (the match id, both teams' ids and names, a name for every map holder);
anything else the page does not show is ``None`` or empty, never 0. Team 1 is the left
team everywhere on the page: its number comes first in every score. A map's half scores
must add up to its score, and the match's GOTV demo id is read wherever the page links
``/download/demo/{id}``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from hltv_scraper.items import LineupPlayer, MatchMap, MatchPage, VetoStep
from hltv_scraper.parsers.loaders import (
    LineupPlayerLoader,
    MatchMapLoader,
    MatchPageLoader,
    VetoStepLoader,
    load,
)
from hltv_scraper.parsers._page import (
    ParseError,
    clean_text,
    id_from_href,
    node_text,
    page_selector,
    section_selector,
    whole_number,
)

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from parsel import Selector, SelectorList
    from scrapy.http import TextResponse

# The lineups come last of what is read: if they are in the content section, so is the
# rest. A page without lineups is read from its team boxes on.
_LAST_CSS = ".lineups .lineup"
# A lineup anywhere in the raw page: a section without one was cut short.
_LINEUP_CLASS = re.compile(rb"""<[^<>]*\sclass\s*=\s*["']?[^"'<>=]*\blineup(?![\w-])""", re.I)
_TEAMS_CSS = ".teamsBox"
_TEAMS = (".team1-gradient", ".team2-gradient")
_ROUND_DIGITS = 4  # no team wins 10,000 rounds on a map
_BEST_OF = re.compile(r"best\s+of\s+(\d+)", re.I)
_VENUE = re.compile(r"\(\s*(lan|online)\s*\)", re.I)
_STAGE = re.compile(r"\*(?!\*)\s*(.+)")  # "* Grand final"; "** ..." lines are notes
_STEP = re.compile(r"\d+\s*\.\s*\S")
_PICK = re.compile(r"(\d+)\s*\.\s*(.+?)\s+(removed|picked)\s+(.+)", re.I)
_LEFT_OVER = re.compile(r"(\d+)\s*\.\s*(.+?)\s+was\s+left\s+over", re.I)
_RANK = re.compile(r"#\s*(\d+)")
_HALF_TOKEN = re.compile(r"\d+|[();]")
_SIDE_CLASSES = {"ct": "CT", "ct-color": "CT", "t": "T", "t-color": "T"}
_FORFEITED_MAP = "default"
_DELETED = "match deleted"
#: A map holder of a match whose maps are not decided yet.
_UNDECIDED_MAP = "tba"
#: The status of a match not over yet, for the countdown of one not started ("18h :
#: 10m : 7s", "2d : 4h : 10m : 7s") and HLTV's "LIVE".
UPCOMING, LIVE = "Upcoming", "Live"
_COUNTDOWN = re.compile(r"(?:\d+\s*[dhms]\s*:\s*)*\d+\s*[dhms]", re.I)
# The GOTV demo archive, linked relative or absolute, from any attribute: ``href`` (2022
# pages, the fixtures), ``data-demo-link`` (2025 pages). Other ``/download/`` links and
# demo links of other sites are not it.
_DEMO_ATTRIBUTES = "//@*[contains(., '/download/demo/')]"
_DEMO_LINK = re.compile(
    r"(?:(?:https?:)?//(?:www\.)?hltv\.org)?/download/demo/(\d+)/?(?:[?#]\S*)?", re.I
)
# The same link as an attribute value in the raw bytes: is it worth reading the page?
_DEMO_IN_BYTES = re.compile(
    rb"""=\s*["']?\s*(?:(?:https?:)?//(?:www\.)?hltv\.org)?/download/demo/\d""", re.I
)


class _Team(NamedTuple):
    id: int
    name: str
    score: int | None


def parse_match(response: TextResponse) -> MatchPage:
    root, is_section = _root(response)
    box = root.css(_TEAMS_CSS)[0]
    teams = [_team(box, css) for css in _TEAMS]
    if teams[0].id == teams[1].id:
        raise ParseError(f"match: both teams have the id {teams[0].id}")
    when = _time_and_event(box.css(".timeAndEvent") or root.css(".timeAndEvent"))
    if when["status"] is None and teams[0].score is None and teams[1].score is None:
        # no countdown text (a page saved before its script ran) and no result: not played
        when["status"] = UPCOMING
    over = when["status"] not in (UPCOMING, LIVE)
    maps = [_map(holder, number, over=over) for number, holder in enumerate(root.css(".mapholder"), 1)]
    lineups, ranks = _lineups(root, teams)
    page = load(
        MatchPageLoader, "match",
        match_id=_match_id(response),
        team1_id=teams[0].id, team1_name=teams[0].name, team1_score=teams[0].score,
        team2_id=teams[1].id, team2_name=teams[1].name, team2_score=teams[1].score,
        team1_rank=ranks.get(teams[0].id), team2_rank=ranks.get(teams[1].id),
        is_forfeit=(when["status"] or "").casefold() == _DELETED
        or any(m.is_forfeit for m in maps),
        demo_id=_demo_id(root, response, is_section=is_section),
        **when,
        **_format(root),
    )
    page.url = response.url
    page.maps, page.vetoes, page.lineups = maps, _vetoes(root, teams), lineups
    return page


def _root(response: TextResponse) -> tuple[Selector, bool]:
    """The selector to read, parsed once, and whether it is the content section alone.

    The section holds the whole match when its lineups are in it, or when the page has
    no lineup at all (a match not played yet, some forfeits); otherwise it may have been
    cut short and the whole page is read instead.
    """
    section = section_selector(response)
    if section is not None and section.css(_TEAMS_CSS) and (
        section.css(_LAST_CSS) or not _has_lineup(response.body)
    ):
        return section, True
    page = page_selector(response)
    if not page.css(_TEAMS_CSS):
        raise ParseError(f"match: no team boxes ({_TEAMS_CSS})")
    return page, False


def _has_lineup(body: bytes) -> bool:
    """Whether a tag of the raw page has the class ``lineup``.

    Each occurrence of the word is checked in its own tag: one expression over the
    page would try every class attribute of megabytes of chrome.
    """
    at = body.find(b"lineup")
    while at != -1:
        tag = body.rfind(b"<", 0, at)
        if tag != -1 and _LINEUP_CLASS.match(body, tag, at + len(b"lineup") + 1):
            return True
        at = body.find(b"lineup", at + 1)
    return False


def _demo_id(root: Selector, response: TextResponse, *, is_section: bool) -> int | None:
    """The id of the match's GOTV demo link (``/download/demo/{id}``); ``None`` for none.

    Read wherever the page links it: the "Rewatch" box of today's pages, a link of older
    ones. Outside the content section it is looked for only when the raw page has such
    a link. One match has one archive: a page linking two different ids says nothing
    certain, so the id is unknown (None), not a guess; the match itself is still whole.
    """
    found = _demo_ids(root)
    if (not found and is_section and b"/download/demo/" in response.body
            and _DEMO_IN_BYTES.search(response.body)):
        found = _demo_ids(page_selector(response))
    return found.pop() if len(found) == 1 else None


def _demo_ids(root: Selector) -> set[int]:
    ids = set()
    for value in root.xpath(_DEMO_ATTRIBUTES).getall():
        match = _DEMO_LINK.fullmatch(value.strip())
        if match:
            ids.add(whole_number(match.group(1), "match: demo link"))
    return ids


def _id(href: str | None, kind: str, what: str) -> int | None:
    """The id of a ``/{kind}/{id}/`` link; ``None`` for no such link; absurd ids refused."""
    found = id_from_href(href, kind)
    if found is None and href and re.search(rf"/{kind}/\d", href):
        raise ParseError(f"{what}: no id of at most 18 digits in {href[:100]!r}")
    return found


def _match_id(response: TextResponse) -> int:
    """The id in the page's canonical link, or else in the URL it was fetched from."""
    for href in (_canonical_href(response.body), response.url):
        found = _id(href, "matches", "match: match id")
        if found is not None:
            return found
    raise ParseError("match: no match id (neither a canonical /matches/ link nor the URL)")


def _canonical_href(body: bytes) -> str | None:
    """``<link rel="canonical" href=...>`` from the head, found in the raw bytes."""
    head_end = body.find(b"</head>")
    at = body.find(b"canonical", 0, max(head_end, 0))
    while at != -1:
        start, end = body.rfind(b"<", 0, at), body.find(b">", at)
        tag = body[start : end + 1].decode("ascii", "replace")
        if tag[:5].lower() == "<link" and re.search(r"\brel\s*=\s*[\"']?canonical\b", tag, re.I):
            href = re.search(r"\bhref\s*=\s*[\"']?([^\"'\s>]+)", tag, re.I)
            return href.group(1) if href else None
        at = body.find(b"canonical", at + 1, head_end)
    return None


def _team(box: Selector, css: str) -> _Team:
    gradient = box.css(css)
    if not gradient:
        raise ParseError(f"match: no {css} in {_TEAMS_CSS}")
    link = gradient.css("a[href*='/team/']")
    if not link:
        raise ParseError(f"match: no /team/ link in {css}")
    team_id = _id(link[0].attrib["href"], "team", f"match: {css} team link")
    if team_id is None:
        raise ParseError(f"match: no team id in the {css} link {link[0].attrib['href'][:100]!r}")
    name = node_text(gradient.css(".teamName")) or node_text(link[0])
    if name is None:
        raise ParseError(f"match: no team name (.teamName) in {css}")
    # maps won (a BO1's rounds); a full forfeit shows no score at all
    score = node_text(gradient.css(".won, .lost, .tie")[:1])
    return _Team(team_id, name, whole_number(score, f"match: {css} score"))


def _time_and_event(info: SelectorList) -> dict[str, int | str | None]:
    """Start time, event and status from ``.timeAndEvent``; each is optional."""
    event = info.css(".event a[href*='/events/']")[:1]
    unix = info.css(".date::attr(data-unix)").get() or info.css("::attr(data-unix)").get()
    return {
        "event_id": _id(event.attrib.get("href"), "events", "match: event link") if event else None,
        "event_name": (node_text(event) or event.attrib.get("title")) if event
        else node_text(info.css(".event")),
        "date_unix_ms": whole_number(unix, "match: date (data-unix)"),
        "status": _status(node_text(info.css(".countdown"))),
    }


def _status(text: str | None) -> str | None:
    """The countdown's text ("Match over", "Match deleted"); a match not over is
    :data:`UPCOMING` (the countdown to its start) or :data:`LIVE`, never the countdown."""
    if text is None:
        return None
    if _COUNTDOWN.fullmatch(text):
        return UPCOMING
    return LIVE if text.casefold() == "live" else text


def _format(root: Selector) -> dict[str, int | bool | str | None]:
    """Best of, venue, stage and all lines of the first ``.preformatted-text`` box.

    The box reads "Best of 3 (LAN)", then "* Grand final" (the stage), then "** ..."
    notes (forfeits, replays).
    """
    box = root.css(".veto-box .preformatted-text")[:1] or root.css(".preformatted-text")[:1]
    # a line ends at a newline, a <br> or where a block element starts
    parts = [
        node.root if isinstance(node.root, str) else "\n"
        for node in box.xpath(".//text() | .//br | .//div | .//p")
    ]
    lines = [line for line in (clean_text(part) for part in "".join(parts).splitlines()) if line]
    head = next((line for line in lines if _BEST_OF.search(line)), None)
    best_of, venue = (_BEST_OF.search(head), _VENUE.search(head)) if head else (None, None)
    stages = (match.group(1) for line in lines if (match := _STAGE.fullmatch(line)))
    return {
        "best_of": whole_number(best_of.group(1), "match: best of") if best_of else None,
        "is_lan": venue.group(1).lower() == "lan" if venue else None,
        "format_text": "\n".join(lines) or None,
        "stage": next(stages, None),
    }


# -- maps --------------------------------------------------------------------------


def _map(holder: Selector, number: int, *, over: bool = True) -> MatchMap:
    """One map holder. Of a match not over (upcoming, live) only a map with a score is
    played; a map still to be decided ("TBA") never is."""
    piece = f"match: map {number}"
    name = node_text(holder.css(".mapname")) or clean_text(
        holder.css(".map-name-holder img::attr(alt)").get()
    )
    if name is None:
        raise ParseError(f"{piece} has no name (.mapname)")
    rounds = [
        whole_number(node_text(holder.css(f"{css} .results-team-score")),
                     f"{piece}: {css} score", digits=_ROUND_DIGITS)
        for css in (".results-left", ".results-right")
    ]
    played = (
        True if holder.css(".played") else False if holder.css(".optional")
        else None not in rounds
    )
    if name.casefold() == _UNDECIDED_MAP or not over:
        played = played and None not in rounds
    # Only this holder's own link: the page repeats the stats links further down.
    stats = holder.css("a.results-stats[href], a[href*='/mapstatsid/']")[:1]
    mapstatsid = None
    if stats:
        href = stats[0].attrib["href"]
        mapstatsid = _id(href, "mapstatsid", f"{piece}: stats link")
        if mapstatsid is None:
            raise ParseError(f"{piece}: stats link without a mapstatsid {href[:100]!r}")
    return load(
        MatchMapLoader, piece,
        map_number=number, map_name=name, mapstatsid=mapstatsid,
        played=played, is_forfeit=name.casefold() == _FORFEITED_MAP,
        team1_rounds=rounds[0], team2_rounds=rounds[1],
        **_half_scores(holder, piece, name, rounds),
    )


def _half_scores(
    holder: Selector, piece: str, name: str, rounds: list[int | None]
) -> dict[str, int | str | None]:
    """Per-side and overtime rounds from ``(ct 7 : t 5; t 6 : ct 6) (7 : 5)``.

    Each group holds team 1's number, then team 2's; a side class on a number says
    which side that team played the half on. Groups without side classes are
    overtime (on a page without any side classes: the groups after the first two).
    An unplayed or forfeited map shows no groups: everything is ``None``.
    """
    groups = _half_groups(holder, piece)
    if not groups:
        return {}
    sided = [group for group in groups if all(side for _, side in group)]
    unsided = [group for group in groups if not any(side for _, side in group)]
    if len(sided) + len(unsided) != len(groups):
        raise ParseError(f"{piece}: a half score group has a side on one number only")
    halves, overtime = (sided, unsided) if sided else (groups[:2], groups[2:])
    ot_rounds = _overtime(halves, overtime, rounds, f"{piece} ({name})")
    values: dict[str, int | str | None] = {
        "team1_ot_rounds": ot_rounds[0], "team2_ot_rounds": ot_rounds[1],
    }
    if not sided:
        return values  # the halves' numbers without their sides say nothing storable
    values["team1_starting_side"] = sided[0][0][1]
    for index, team in enumerate(("team1", "team2")):
        for side in ("CT", "T"):
            values[f"{team}_{side.lower()}_rounds"] = sum(
                group[index][0] for group in sided if group[index][1] == side
            )
    return values


_Groups = list[list[tuple[int, str | None]]]


def _overtime(
    halves: _Groups, overtime: _Groups, rounds: list[int | None], piece: str
) -> list[int]:
    """Each team's overtime rounds; the halves and overtime must add up to the score.

    As on the map stats page, a short overtime may have no group of its own: then the
    rounds beyond the halves are overtime, which is only played after a tied
    regulation. Nothing here knows a regulation length: the halves are what the page
    shows. A score the page does not show ("-") checks nothing.
    """
    regulation = [sum(group[index][0] for group in halves) for index in (0, 1)]
    extra = [sum(group[index][0] for group in overtime) for index in (0, 1)]
    if None in rounds:
        return extra
    if not overtime and regulation != rounds and regulation[0] == regulation[1]:
        extra = [score - played for score, played in zip(rounds, regulation)]
    if min(extra) < 0 or [r + o for r, o in zip(regulation, extra)] != rounds:
        raise ParseError(
            f"{piece}: halves {regulation[0]}:{regulation[1]} and overtime "
            f"{extra[0]}:{extra[1]} do not add up to the score {rounds[0]}:{rounds[1]}"
        )
    return extra


def _half_groups(holder: Selector, piece: str) -> list[list[tuple[int, str | None]]]:
    """The bracketed groups of ``.results-center-half-score``: [[(rounds, side) x2], ...]."""
    node = holder.css(".results-center-half-score")
    groups: list[list[tuple[int, str | None]]] = []
    current: list[tuple[int, str | None]] = []
    for token, side in _half_tokens(node[0].root) if node else ():
        if token.isdigit():
            rounds = whole_number(token, f"{piece}: half score", digits=_ROUND_DIGITS)
            current.append((rounds, side))
        elif current:  # "(", ";" or ")": a group ends here
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    for group in groups:
        if len(group) != 2:
            shown = " : ".join(str(rounds) for rounds, _ in group)
            raise ParseError(f"{piece}: half score group ({shown}) is not 'team 1 : team 2'")
    return groups


def _half_tokens(element: HtmlElement, side: str | None = None) -> Iterator[tuple[str, str | None]]:
    """Numbers and brackets in document order, each with the side class around it."""
    classes = (element.get("class") or "").split()
    side = next((_SIDE_CLASSES[name] for name in classes if name in _SIDE_CLASSES), side)
    for token in _HALF_TOKEN.findall(element.text or ""):
        yield token, side
    for child in element:
        if isinstance(child.tag, str):  # not a comment
            yield from _half_tokens(child, side)
        for token in _HALF_TOKEN.findall(child.tail or ""):
            yield token, side


# -- vetoes and lineups -------------------------------------------------------------


def _name_key(name: str | None) -> str | None:
    # the veto lines may escape a name differently from the team box ("Smoke &amp; Mirrors")
    return (clean_text(html.unescape(name)) or "").casefold() if name else None


def _vetoes(root: Selector, teams: list[_Team]) -> list[VetoStep]:
    by_name = {_name_key(team.name): team for team in teams}
    steps = []
    for text in _step_texts(root):
        if match := _LEFT_OVER.fullmatch(text):
            number, team_name, action, map_name = match.group(1), None, "left_over", match.group(2)
        elif match := _PICK.fullmatch(text):
            number, team_name, action, map_name = match.groups()
            action = action.lower()
        else:
            continue  # not a step this parser knows how to read
        team = by_name.get(_name_key(team_name))
        steps.append(load(
            VetoStepLoader, f"match: veto {text!r}",
            step=whole_number(number, f"match: veto {text[:40]!r}"),
            team_id=team.id if team else None, team_name=team_name,
            action=action, map_name=map_name,
        ))
    return steps


def _step_texts(root: Selector) -> list[str]:
    """The text of each element holding one whole veto step ("1. 9z removed Anubis").

    That is the innermost element whose text starts like a step: its parent's text runs
    all steps together, its children may hold only part of one (a linked team name).
    """
    texts = []
    for element in root.css(".veto-box *"):
        text = clean_text(element.xpath("string()").get())
        if not text or not _STEP.match(text):
            continue
        children = (clean_text(child.xpath("string()").get()) for child in element.xpath("*"))
        if not any(child and _STEP.match(child) for child in children):
            texts.append(text)
    return texts


def _lineups(root: Selector, teams: list[_Team]) -> tuple[list[LineupPlayer], dict[int, int]]:
    """The players of each ``.lineup`` in page order, and world ranks by team id."""
    players: list[LineupPlayer] = []
    ranks: dict[int, int] = {}
    for index, lineup in enumerate(root.css(".lineups .lineup")):
        link = lineup.css("a[href*='/team/']")[:1]
        team_id = _id(link.attrib.get("href"), "team", "match: lineup team link") if link else None
        if team_id is None and index < len(teams):
            team_id = teams[index].id  # no team link: the lineups come in team order
        if team_id not in {team.id for team in teams}:
            continue  # a lineup of neither team: no guessing whose it is
        rank = _RANK.search(node_text(lineup.css(".teamRanking a")) or "")
        if rank:
            ranks[team_id] = whole_number(rank.group(1), "match: world rank")
        # each player is linked twice (photo, then name): one entry, named by the text
        names: dict[int, str | None] = {}
        for anchor in lineup.css("a[href*='/player/']"):
            player_id = _id(anchor.attrib.get("href"), "player", "match: lineup player link")
            if player_id is not None and names.get(player_id) is None:
                names[player_id] = node_text(anchor)
        players.extend(
            load(LineupPlayerLoader, f"match: lineup player {player_id}",
                 team_id=team_id, player_id=player_id, player_name=name)
            for player_id, name in names.items()
        )
    return players, ranks
