"""Hand-made variants of the fixture world ranking pages, with their truth.

    python tools/make_ranking_variants.py           # (re)write the variants in fixtures/pages
    python tools/make_ranking_variants.py --check   # exit 1 if the committed ones differ

Each variant is a fixed text edit of a fixture snapshot (``fixtures/pages/ranking-*``),
and its truth an edit of that snapshot's truth file, never a parser's output:

``variant-old-ranking-2019-04-29``: the 2025-11-17 snapshot laid out as the project's
notes say older generations were ("World ranking pages"): a "CS:GO World ranking on
April 29th, 2019" heading without the inner text element, ``.position`` without
``wide-position``, points "901 points" without brackets, the change as an unsigned
number with its direction in a class (on the indicator for a rise, on an icon inside it
for a fall), no team profile links (the id in ``.name[data-url]`` for the first half of
the teams, in a ``/images/team/logo/{id}`` logo for the rest), player links
``/player/{id}-{nick}``, and dated links moved to 2019.

``variant-tie-ranking-2025-11-24``: the 2025-11-24 snapshot with the #8 team tied at #7,
one player link gone from a hidden lineup (that player keeps his nick, no id), and the
#1 team re-listed after the last one under a second position (a regional tab's
duplicate: the first listing is the team's rank).
"""

from __future__ import annotations

import copy
import gzip
import json
import re
import sys
from pathlib import Path

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"


def read(name: str) -> tuple[str, dict]:
    text = gzip.decompress((PAGES / f"{name}.html.gz").read_bytes()).decode("utf-8")
    truth = json.loads((PAGES / f"expected-{name}.json").read_text("utf-8"))
    return text, truth


def replace(text: str, old: str, new: str, count: int | None = None) -> str:
    """``old`` replaced by ``new``; it must be there (``count`` times, if given)."""
    found = text.count(old)
    assert found and (count is None or found == count), (old, found)
    return text.replace(old, new)


def sub(pattern: str, new, text: str) -> str:
    result, made = re.subn(pattern, new, text)
    assert made, pattern
    return result


def old_template() -> tuple[str, str, dict]:
    text, truth = read("ranking-2025-11-17")
    text = replace(
        text,
        '<div class="regional-ranking-header"><div class="regional-ranking-header-text">'
        "CS2 World ranking on November 17th, 2025</div>",
        '<div class="regional-ranking-header">CS:GO World ranking on April 29th, 2019',
        1,
    )
    for old, new in (("november/10", "april/22"), ("november/17", "april/29"), ("november/24", "may/6")):
        text = text.replace(f"/ranking/teams/2025/{old}", f"/ranking/teams/2019/{new}")
    text = replace(text, 'class="position wide-position"', 'class="position"')
    text = sub(r'<span class="points">\((\d+) points\)</span>', r'<span class="points">\1 points</span>', text)
    text = sub(r'<div class="change positive">\+(\d+)</div>', r'<div class="change up">\1</div>', text)
    text = sub(
        r'<div class="change negative">-(\d+)</div>',
        r'<div class="change"><i class="fa fa-caret-down down"></i> \1</div>',
        text,
    )
    text = sub(r'href="/player/(\d+)/([^"]+)"', r'href="/player/\1-\2"', text)
    ids = [team["team_id"] for team in truth["teams"]]
    blocks = text.split('<div class="ranked-team standard-box">')
    assert len(blocks) == len(ids) + 1
    for number, team_id in enumerate(ids, start=1):
        block = sub(r'<div class="more">.*?</div>', "", blocks[number])
        if number <= len(ids) // 2:
            block = replace(block, '<span class="name">', f'<span class="name" data-url="/team/{team_id}/x">', 1)
        else:
            block = sub(
                r'src="https://img-cdn\.hltv\.org/teamlogo/[^"]+"',
                f'src="https://static.hltv.org/images/team/logo/{team_id}"',
                block,
            )
        blocks[number] = block
    text = '<div class="ranked-team standard-box">'.join(blocks)
    truth = {
        **truth,
        "ranking_date": "2019-04-29",
        "url_path": "/ranking/teams/2019/april/29",
        "prev": "2019-04-22",
        "prev_url_path": "/ranking/teams/2019/april/22",
        "next": "2019-05-06",
        "template": "old (made by tools/make_ranking_variants.py)",
    }
    return "variant-old-ranking-2019-04-29", text, truth


def tie_and_gaps() -> tuple[str, str, dict]:
    text, truth = read("ranking-2025-11-24")
    truth = copy.deepcopy(truth)
    text = replace(text, '<span class="position wide-position">#8</span>', '<span class="position wide-position">#7</span>', 1)
    truth["teams"][7]["rank"] = 7
    truth["ties"] = [7]
    # the second team's third player loses his link in the hidden lineup
    player = truth["teams"][1]["players"][2]
    text = sub(
        rf'<a class="pointer" href="/player/{player["player_id"]}/[^"]+">(.*?)</a>',
        r'<span class="pointer">\1</span>',
        text,
    )
    player["player_id"] = None
    # the first team's block again, after the last team, under another position
    first = re.search(r'<div class="ranked-team standard-box">.*?</div>\n</div>\n', text, re.S)
    assert first
    again = first.group(0).replace(">#1<", ">#4<")
    last = text.rindex('<div class="ranking-prev-next">')
    text = text[:last] + again + text[last:]
    truth["template"] = "current (made by tools/make_ranking_variants.py)"
    return "variant-tie-ranking-2025-11-24", text, truth


def main(check: bool) -> int:
    differ = []
    for name, text, truth in (old_template(), tie_and_gaps()):
        truth = {**truth, "file": f"{name}.html.gz"}
        truth.pop("bytes", None)
        files = {
            PAGES / f"{name}.html.gz": gzip.compress(text.encode("utf-8"), mtime=0),
            PAGES / f"expected-{name}.json": (json.dumps(truth, indent=1, ensure_ascii=False) + "\n").encode("utf-8"),
        }
        for path, data in files.items():
            if check:
                if not path.exists() or path.read_bytes() != data:
                    differ.append(path.name)
            else:
                path.write_bytes(data)
    for name in differ:
        print(f"differs: {name}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
