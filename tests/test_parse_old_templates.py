"""The parsers against the other template generation, field by field.

``old-mapstats-{id}`` are map stats pages laid out as HLTV served them in 2022;
``variant-performance-{id}`` and ``variant-economy-{id}`` are today's pages with optional
pieces removed and the rest reordered; ``variant-mr15-mapstats-188093`` is a 2022 page
whose round history has a slot for every regulation round of an MR15 map, empty after
the last round played. ``tools/make_page_variants.py`` makes them and
their expected values (``expected-{variant}.json``) from today's fixture pages and truth
files; the tests below check the parsers against those values, the values against the
truth they come from, and the committed files against what the tool makes.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from hltv_scraper.items import (
    EconomyPage,
    EconomyRound,
    KillMatrixEntry,
    MapStatsPage,
    MapTeam,
    PerformancePage,
    PlayerPerformance,
    RoundOutcome,
    ScoreboardRow,
    TeamOverview,
)
from hltv_scraper.parsers import ParseError
from hltv_scraper.parsers.economy import parse_economy
from hltv_scraper.parsers.mapstats import parse_mapstats
from hltv_scraper.parsers.performance import parse_performance
from tests.support.pages import PAGES_DIR, load_expected, load_page, mutated, with_text

OLD_MAPSTATS = [219128, 162345, 206389, 173424]
MR15_SLOTS = "variant-mr15-mapstats-188093"  # the 2022 page, a slot for each of 30 rounds
PERFORMANCE_VARIANTS = [219128, 162345]
ECONOMY_VARIANTS = [219128, 162345]
# What a 2022 scoreboard does not show (no MKs, 1vsX, Swing, traded count, eco-adjusted
# cells); everything else it shows, opening kills and deaths in the FK Diff title.
NOT_ON_2022_SCOREBOARDS = {"multi_kills", "clutch_wins", "traded_deaths", "round_swing"} | {
    f.name for f in fields(ScoreboardRow) if f.name.startswith("e_")
}
TOOL = Path(__file__).resolve().parent.parent / "tools" / "make_page_variants.py"


def expected(name: str) -> dict:
    return json.loads((PAGES_DIR / f"expected-{name}.json").read_text("utf-8"))


@functools.cache
def parsed(name: str):
    kind = name.split("-")[1]
    parser = {"mapstats": parse_mapstats, "performance": parse_performance, "economy": parse_economy}
    return parser[kind](load_page(name))


def assert_fields(got: object, want: dict, item_class: type, where: object) -> None:
    """Every field of the item as expected, and the expected values name no other field."""
    names = [f.name for f in fields(item_class)]
    assert sorted(want) == sorted(names), where
    for name in names:
        assert getattr(got, name) == want[name], (where, name)


# -- map stats, 2022 template -------------------------------------------------------------


@pytest.mark.parametrize("mapstatsid", OLD_MAPSTATS)
def test_old_mapstats_page_is_the_2022_template(mapstatsid):
    text = load_page(f"old-mapstats-{mapstatsid}").text
    for gone in ("st-opkd", "st-mks", "st-clutches", "st-roundSwing", "eco-adjusted-data",
                 'class="bottom-stats"'):
        assert gone not in text, gone
    assert '</div>\n<div class="match-info-row">' in text  # the rows follow the box
    for column in ("st-kills", "st-kdratio", "st-kddiff", "st-fkdiff", "st-rating"):
        assert f'<th class="{column}" title="' in text, column


@pytest.mark.parametrize("mapstatsid", OLD_MAPSTATS)
def test_old_mapstats_page_field_by_field(mapstatsid):
    page: MapStatsPage = parsed(f"old-mapstats-{mapstatsid}")
    want = expected(f"old-mapstats-{mapstatsid}")["item"]
    for name in ("map_name", "event_id", "event_name", "date_unix_ms", "rating_version"):
        assert getattr(page, name) == want[name], name
    assert len(page.teams) == 2
    for team, team_want in zip(page.teams, want["teams"]):
        assert_fields(team, team_want, MapTeam, team_want["team_name"])
    assert [p.player_id for p in page.players] == [p["player_id"] for p in want["players"]]
    for player, player_want in zip(page.players, want["players"]):
        assert_fields(player, player_want, ScoreboardRow, player_want["player_name"])
    assert len(page.rounds) == len(want["rounds"])
    for outcome, round_want in zip(page.rounds, want["rounds"]):
        assert_fields(outcome, round_want, RoundOutcome, round_want["round_number"])


@pytest.mark.parametrize("mapstatsid", OLD_MAPSTATS)
def test_old_mapstats_expected_values_are_the_truth_less_what_2022_did_not_show(mapstatsid):
    truth, derived = load_expected(mapstatsid), expected(f"old-mapstats-{mapstatsid}")
    assert derived["derived_from"] == f"expected-{mapstatsid}.json"
    assert set(derived["not_on_this_page"]["players"]) == NOT_ON_2022_SCOREBOARDS
    want = derived["item"]
    assert [want[k] for k in ("map_name", "event_id", "event_name", "date_unix_ms")] == [
        truth["match"][k] for k in ("map_name", "event_id", "event_name", "date_unix_ms")
    ]
    assert want["rating_version"] == truth["rating_version"]
    assert want["teams"] == [{k: team[k] for k in want["teams"][0]} for team in truth["teams"]]
    for player, true_player in zip(want["players"], truth["players"], strict=True):
        for name, value in player.items():
            assert value == (None if name in NOT_ON_2022_SCOREBOARDS else true_player[name]), name
    assert want["rounds"] == [{k: r[k] for k in want["rounds"][0]} for r in truth["rounds"]]


def test_an_mr15_map_ending_before_round_30_is_read_exactly():
    page: MapStatsPage = parse_mapstats(load_page(MR15_SLOTS))
    derived = expected(MR15_SLOTS)
    assert derived["derived_from"] == "expected-188093.json"
    want = derived["item"]
    assert want["rounds"] == [{f.name: r[f.name] for f in fields(RoundOutcome)}
                              for r in load_expected(188093)["rounds"]]
    assert [r.round_number for r in page.rounds] == list(range(1, 18))  # 4-13: 17 rounds
    for outcome, round_want in zip(page.rounds, want["rounds"], strict=True):
        assert_fields(outcome, round_want, RoundOutcome, round_want["round_number"])
    for team, team_want in zip(page.teams, want["teams"], strict=True):
        assert_fields(team, team_want, MapTeam, team_want["team_name"])
    for player, player_want in zip(page.players, want["players"], strict=True):
        assert_fields(player, player_want, ScoreboardRow, player_want["player_name"])


def test_the_mr15_variant_has_a_slot_for_every_regulation_round():
    text = load_page(MR15_SLOTS).text
    rows = text.split('class="round-history-team-row"')[1:]
    assert len(rows) == 2
    for row in rows:
        row = row.split('class="round-history-con"')[0].split("</table>")[0]
        slots = re.findall(r'round-history-outcome" src="[^"]*/(\w+)\.svg|round-history-bar', row)
        assert len([slot for slot in slots if slot]) == 30
        assert slots.index("", 1) == 16  # the half marker after 15 slots (the first is the row's)
        assert slots[-13:] == ["emptyHistory"] * 13


def test_a_gap_before_the_last_round_is_a_parse_error_naming_the_round():
    # Round 5 of 188093 (Falcon Ridge won it): emptied, it is a slot before round 17.
    response = load_page(MR15_SLOTS)
    text = response.text
    rows = text.split('class="round-history-team-row"')
    assert len(rows) == 3
    falcon_ridge = rows[2]
    icons = re.findall(r'src="/img/static/scoreboard/\w+\.svg"', falcon_ridge)
    assert icons[4] != 'src="/img/static/scoreboard/emptyHistory.svg"'
    at = [m.start() for m in re.finditer(r'src="/img/static/scoreboard/', falcon_ridge)][4]
    emptied = (falcon_ridge[:at] + 'src="/img/static/scoreboard/emptyHistory.svg"'
               + falcon_ridge[at + len(icons[4]):])
    broken = 'class="round-history-team-row"'.join([*rows[:2], emptied])
    with pytest.raises(ParseError, match=r"round 5 has no outcome .*round 17 was played"):
        parse_mapstats(with_text(response, broken))


def test_a_round_after_the_last_slots_is_still_a_round():
    # A win in slot 20 after two empty slots: slots 18 and 19 are a gap, not the end.
    response = load_page(MR15_SLOTS)
    rows = response.text.split('class="round-history-team-row"')
    empties = [m.start() for m in re.finditer("emptyHistory.svg", rows[2])]
    at = empties[-11]  # slot 20 of Falcon Ridge's row
    rows[2] = rows[2][:at] + "t_win.svg" + rows[2][at + len("emptyHistory.svg"):]
    with pytest.raises(ParseError, match="round 18 has no outcome"):
        parse_mapstats(with_text(response, 'class="round-history-team-row"'.join(rows)))


def test_old_mapstats_opening_kills_come_from_the_fk_diff_title():
    # 219128's Kaiis: Op.K-D "1 : 2" today; "-1" with title "1 first kills, 2 first deaths".
    kaiis = next(p for p in parsed("old-mapstats-219128").players if p.player_id == 14094)
    assert (kaiis.opening_kills, kaiis.opening_deaths, kaiis.fk_diff) == (1, 2, -1)
    assert (kaiis.kills, kaiis.hs_kills, kaiis.deaths, kaiis.traded_deaths) == (18, 6, 10, None)
    assert (kaiis.kast, kaiis.kd_diff, kaiis.multi_kills) == (83.3, 8, None)


def test_old_mapstats_whole_page_fallback_gives_the_same_item():
    page = mutated("old-mapstats-206389", ("contentCol", "content-column"))
    assert asdict(parse_mapstats(page)) == asdict(parsed("old-mapstats-206389"))


# -- performance and economy, optional pieces removed or reordered ------------------------


@pytest.mark.parametrize("mapstatsid", PERFORMANCE_VARIANTS)
def test_performance_variant_field_by_field(mapstatsid):
    page: PerformancePage = parsed(f"variant-performance-{mapstatsid}")
    want = expected(f"variant-performance-{mapstatsid}")["item"]
    assert (page.event_name, page.rating_version) == (want["event_name"], want["rating_version"])
    assert len(page.teams) == len(want["teams"])
    for team, team_want in zip(page.teams, want["teams"]):
        assert_fields(team, team_want, TeamOverview, team_want["team_name"])
    got = {player.player_id: player for player in page.players}
    assert sorted(got) == sorted(p["player_id"] for p in want["players"])
    for player_want in want["players"]:
        assert_fields(got[player_want["player_id"]], player_want, PlayerPerformance,
                      player_want["player_id"])
    cells = {tuple(asdict(cell).values()) for cell in page.kill_matrix}
    assert len(page.kill_matrix) == len(want["kill_matrix"]) == 75
    assert cells == {tuple(cell[f.name] for f in fields(KillMatrixEntry)) for cell in want["kill_matrix"]}


@pytest.mark.parametrize("mapstatsid", PERFORMANCE_VARIANTS)
def test_performance_variant_expected_values_are_the_truth_less_what_was_removed(mapstatsid):
    truth, derived = load_expected(mapstatsid), expected(f"variant-performance-{mapstatsid}")
    removed = derived["not_on_this_page"]
    want = derived["item"]
    names = {team["team_id"]: team["team_name"] for team in truth["teams"]}
    for player, true_player in zip(want["players"], truth["players"], strict=True):
        for name, value in player.items():
            true_value = names[true_player["team_id"]] if name == "team_name" else true_player[name]
            assert value == (None if name in removed["players"] else true_value), name
    if removed.get("teams") == ["all"]:
        assert want["teams"] == []
    else:
        for team, true_team in zip(want["teams"], truth["teams"], strict=True):
            for name, value in team.items():
                assert value == (None if name in removed["teams"] else true_team[name]), name
    event = None if "event_name" in removed.get("page", []) else truth["match"]["event_name"]
    assert want["event_name"] == event
    assert len(want["kill_matrix"]) == len(truth["kill_matrix"])


@pytest.mark.parametrize("mapstatsid", ECONOMY_VARIANTS)
def test_economy_variant_field_by_field(mapstatsid):
    page: EconomyPage = parsed(f"variant-economy-{mapstatsid}")
    derived = expected(f"variant-economy-{mapstatsid}")
    want = derived["item"]
    assert derived["not_on_this_page"] == {}  # the chart alone says everything
    assert page.team_names == want["team_names"] == [t["team_name"] for t in load_expected(mapstatsid)["teams"]]
    assert want["rounds"] == [{f.name: e[f.name] for f in fields(EconomyRound)}
                              for e in load_expected(mapstatsid)["economy"]]
    got = {(entry.round_number, entry.team_name): entry for entry in page.rounds}
    assert len(got) == len(page.rounds) == len(want["rounds"])
    for entry_want in want["rounds"]:
        key = (entry_want["round_number"], entry_want["team_name"])
        assert_fields(got[key], entry_want, EconomyRound, key)


# -- the committed files are what the tool makes ------------------------------------------


@pytest.mark.slow
def test_committed_variants_are_what_the_tool_makes():
    spec = importlib.util.spec_from_file_location("make_page_variants", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    made = tool.variants()
    # the ranking variants are tools/make_ranking_variants.py's, checked by its own test
    on_disk = sorted(p.name.removesuffix(".html.gz") for p in PAGES_DIR.glob("*.html.gz")
                     if p.name.startswith(("old-", "variant-")) and "-ranking-" not in p.name)
    assert sorted(made) == on_disk
    for name, (page, values) in made.items():
        assert load_page(name).body == page, name
        assert (PAGES_DIR / f"expected-{name}.json").read_text("utf-8") == tool.expected_json(values), name
