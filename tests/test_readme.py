"""The README's shell blocks, run: a README command that silently does nothing fails here.

Every command line of every ```sh block is classified. Those that run offline (the demo,
the replays, export and report) run in a copy of the project, in the README's order,
and what the README says they do is checked. Commands for the live site, scrapyd, a
server or another machine are not run; a `scrapy` one among them gets its arguments
checked (the command and stage exist, every option and `-a` argument is known, every
`HLTV_*` setting is one of ours). Left out entirely: `make test`, `make bench`,
installs that need root.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from argparse import ArgumentParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow

#: Lines never run nor checked: the suite and the benchmarks themselves, installs that
#: need root, a server's or scrapyd's administration, shell plumbing around them.
SKIPPED = re.compile(
    r"^(make (test|bench|browser|install|scrapyd)\b|sudo |git clone |apt-get |curl |printf |chmod |export |"
    r"\. ~/|for |done|set -- |cat > |TXT$|http://|# |\.venv/bin/python tools/bench\.py)"
)
_SCRAPY = re.compile(r"(?:\.venv/bin/)?scrapy\s")
_OPERATORS = set("();<>|&") | {"&&", "||", ">>"}


def scrapy_commands(line: str) -> list[list[str]]:
    """The ``scrapy`` invocations in a shell line, each as its words."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    found, current = [], None
    for token in lexer:
        if token in _OPERATORS:
            current = None
        elif current is not None:
            current.append(token)
        elif token in ("scrapy", ".venv/bin/scrapy"):
            current = [token]
            found.append(current)
    return found


def readme_blocks() -> list[list[str]]:
    """Each ```sh block's logical lines (continuations joined, comments and blanks dropped)."""
    blocks, current = [], None
    for line in (ROOT / "README.md").read_text("utf-8").splitlines():
        if current is None and re.match(r"^```(sh|bash|shell)\s*$", line):
            current = []
        elif current is not None and line.startswith("```"):
            blocks.append(_logical(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _logical(lines: list[str]) -> list[str]:
    joined, out = "", []
    for line in lines:
        if line.rstrip().endswith("\\"):
            joined += line.rstrip()[:-1] + " "
            continue
        text = (joined + line).strip()
        joined = ""
        if text and not text.startswith("#"):
            out.append(re.sub(r"\s+#\s.*$", "", text))  # a trailing comment
    return out


def is_offline(line: str) -> bool:
    """Runs without the network, root or a path outside the project."""
    if line == "make demo":
        return True
    if not _SCRAPY.match(line) or "/srv/" in line or "$" in line:
        return False
    words = shlex.split(line)
    return "HLTV_REPLAY=1" in words or words[1] in ("export", "report", "summary")


def test_every_readme_command_is_run_or_checked():
    offline, checked = [], []
    for block in readme_blocks():
        for line in block:
            if is_offline(line):
                offline.append(line)
            elif _SCRAPY.search(line):
                checked.extend(scrapy_commands(line))
            else:
                assert SKIPPED.match(line), f"README line neither run nor checked: {line!r}"
    assert "make demo" in offline and any("collect" in line for line in offline)
    assert len(checked) >= 10, checked
    for line in checked:
        check_arguments(line)


def check_arguments(words: list[str]) -> None:
    """A command the test does not run: its command, stage, options and names exist."""
    from scrapy.cmdline import _get_commands_dict
    from scrapy.commands import ScrapyHelpFormatter
    from scrapy.utils.project import get_project_settings

    line = shlex.join(words)
    words = words[1:]
    settings = get_project_settings()
    commands = _get_commands_dict(settings, inproject=True)
    assert words[0] in commands, line
    command = commands[words[0]]
    parser = ArgumentParser(formatter_class=ScrapyHelpFormatter, conflict_handler="resolve")
    command.settings = settings
    command.add_options(parser)
    opts, rest = parser.parse_known_args(words[1:])
    for setting in getattr(opts, "set", []):
        name = setting.split("=", 1)[0]
        assert not name.startswith("HLTV_") or name in known_settings(), f"{line}: unknown setting {name}"
    if words[0] == "crawl":
        assert len(rest) == 1, f"{line}: stray arguments {rest[1:]}"
        spider = settings_loader(settings).load(rest[0])
        for argument in opts.spargs:
            name = argument.split("=", 1)[0]
            assert name in spider_arguments(spider), f"{line}: {spider.name} takes no -a {name}"
    else:
        assert rest == [], f"{line}: stray arguments {rest}"


def known_settings() -> set[str]:
    """Every HLTV_* name the project's code reads or documents."""
    names: set[str] = set()
    for path in (ROOT / "hltv_scraper").rglob("*.py"):
        names.update(re.findall(r"\bHLTV_[A-Z_]+[A-Z]\b", path.read_text("utf-8")))
    return names


def settings_loader(settings):
    from scrapy.spiderloader import get_spider_loader

    return get_spider_loader(settings)


def spider_arguments(spider: type) -> set[str]:
    """The ``-a`` names a stage's spider takes, as its unit source declares them, and the
    one scrapyd adds to every job."""
    unit = spider.stage.unit
    return {"_job", *unit.source.arguments(unit.named_argument)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of the project as a user clones it: no data/, the same code."""
    copy = tmp_path / "hltv-scraper"
    copy.mkdir()
    for name in ("hltv_scraper", "fixtures", "tools", "scrapy.cfg", "Makefile", "setup.py", "pyproject.toml",
                 "requirements.txt"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(BIN.parent)
    return copy


def run(line: str, project: Path) -> subprocess.CompletedProcess:
    if line == "make demo":
        # what `make demo` runs, taken from the Makefile (never `make` itself: its install
        # step would install into the shared virtualenv)
        recipe = subprocess.run(["make", "-n", "demo"], cwd=project, capture_output=True, text=True, check=True)
        demo = [step for step in recipe.stdout.splitlines() if "tools/demo.py" in step]
        assert demo == [".venv/bin/python tools/demo.py --workdir data/demo"], recipe.stdout
        line = demo[0]
    elif line.startswith("scrapy "):
        line = ".venv/bin/" + line  # the README: "or activate the virtualenv"
    return subprocess.run(line, shell=True, cwd=project, capture_output=True, text=True, timeout=600)


def test_the_offline_commands_do_what_the_readme_says(project):
    lines = [line for block in readme_blocks() for line in block if is_offline(line)]
    for line in lines:
        if line.split()[1:2] in (["export"], ["report"]) and not (project / "data" / "hltv.sqlite3").exists():
            # "On your own database": one made the way the README makes one offline
            made = run("scrapy collect -s HLTV_REPLAY=1 -s HLTV_ARCHIVE_DIR=fixtures/archive", project)
            assert made.returncode == 0, made.stderr[-2000:]
        done = run(line, project)
        output = done.stdout + done.stderr
        if "HLTV_ARCHIVE_DIR" not in line and "HLTV_REPLAY=1" in line:
            # a replay of your own archive: on a fresh clone there is none, and it says so
            assert done.returncode == 2, output[-2000:]
            assert f"the archive folder {project / 'data/archive'} does not exist" in done.stderr.splitlines()[-1]
            assert not (project / "data" / "rebuilt.sqlite3").exists()
            continue
        assert done.returncode == 0, f"{line}\n{output[-3000:]}"
        assert "Traceback" not in output
        if line == "make demo":
            assert (project / "data/demo/export/player_maps.parquet").is_file()
            assert (project / "data/demo/report.html").is_file()
        elif "rebuilt.sqlite3" in line:
            with sqlite3.connect(project / "data" / "rebuilt.sqlite3") as db:
                assert db.execute("SELECT count(*) FROM maps WHERE mapstatsid IS NOT NULL").fetchone()[0] == 10
        elif " export " in f" {line} ":
            assert (project / "export" / "player_maps.parquet").is_file()
        elif " report " in f" {line} ":
            assert "<html" in (project / "report.html").read_text("utf-8").lower()
