"""`make bench`: how fast and how lean the core job is, measured in one run.

    python tools/bench.py [--quick] [--large-export] [--only parse,sqlite,export] [--json bench-results.json]

1. parse   Parse cost per page (performance, economy, map stats of map 219128, ~6 MB
           each) against the floor of merely building an lxml tree of the same bytes,
           and the cost of the fallback to the whole page when the content section
           cannot be isolated.
2. replay  `scrapy crawl perf_economy` replaying an archive of --replay-maps maps (the
           ten fixture maps re-numbered): maps per second, and the time spent outside
           the parsers (engine, archive reads, pipeline, SQLite) per map.
3. memory  Peak RSS of the same replay with --memory-maps pending maps (small pages),
           each a `scrapy crawl` subprocess: pending maps must be streamed.
4. sqlite  Whole-map commits per second (Database.save of pre-parsed pages) on SQLite
           (WAL mode) and on PostgreSQL (a throwaway local server), and the database
           size per map.
5. several Maps per second with 1, 2 and 4 crawls sharing one database (PostgreSQL and
           SQLite) against a local server that answers after 200 ms.
6. processes  An offline re-parse by 1 and by 2 processes sharing one SQLite file.
7. export  `scrapy export` to Parquet and to DuckDB of databases of --export-maps maps
           (make demo's ten maps copied over; built first if missing), from SQLite and
           from PostgreSQL, each against its floor measured in the same run (the sqlite3
           shell's CSV dump of the same tables; COPY TO STDOUT): time, the multiple of
           the floor, peak RSS, which must stay flat in the size of the database
           (tools/bench_export.py).
8. progress  What the progress line's pending counts cost per 60 s interval on
           --progress-maps complete maps, SQLite and PostgreSQL (tools/_bench_progress.py).
9. export-large  The export of --large-export-maps (100,000) maps, the CS2 era, against
           the floor: only with --large-export (it takes ~10 minutes of its own).

`make bench` runs sections 1-8 (within 15 minutes on 2 cores); `make bench-quick`
(--quick) runs parse, the commits and the export at small sizes, within 3 minutes.
At the end each figure is printed beside its target and the previous run's figure,
read from the JSON file before it is written anew.

Prints a table and writes the same figures to the JSON file. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lxml  # noqa: E402
import lxml.html  # noqa: E402
import scrapy  # noqa: E402
from lxml import etree  # noqa: E402
from scrapy.http import HtmlResponse  # noqa: E402

from hltv_scraper.items import PerfEconomyPages  # noqa: E402
from hltv_scraper.parsers import PARSER_VERSION, _page  # noqa: E402
from hltv_scraper.parsers.economy import parse_economy  # noqa: E402
from hltv_scraper.parsers.mapstats import parse_mapstats  # noqa: E402
from hltv_scraper.parsers.performance import parse_performance  # noqa: E402
from hltv_scraper.stages import STAGES  # noqa: E402
from hltv_scraper.storage import Database  # noqa: E402
from hltv_scraper.validation import check_perf_economy  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tools import _bench_data as data  # noqa: E402
from tools import _bench_progress as progress  # noqa: E402
from tools import _bench_roundtrips as roundtrips  # noqa: E402
from tools import _bench_several as several  # noqa: E402
from tools import bench_export as export_bench  # noqa: E402
from tools._bench_several import table as _table  # noqa: E402

PARSERS = {"performance": parse_performance, "economy": parse_economy, "mapstats": parse_mapstats}
PARSE_MAP = 219128  # the biggest fixture pages, ~6 MB like the real site
SMALL_MAP = 206389  # its performance page is the smallest fixture page (220 KB)
CRAWL_SETTINGS = {
    "HLTV_REPLAY": 1,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": 0,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    "HLTV_MAPS_IN_FLIGHT": 32,
    "LOG_LEVEL": "INFO",
}
SUMMARY = re.compile(r"finished \((\w+)\): (\d+) maps requested, (\d+) committed, (\d+) failed")
MB = 1_000_000
try:
    _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _LIBC.malloc_trim  # glibc only
except (OSError, AttributeError):
    _LIBC = None


SECTIONS = ("parse", "replay", "memory", "sqlite", "several", "processes", "export", "progress", "export-large")
#: what `make bench` runs: every section but the 100,000-map export (--large-export)
DEFAULT_SECTIONS = SECTIONS[:-1]
#: `make bench-quick`: parse, commits and export at small sizes, within 3 minutes
QUICK = {"only": "parse,sqlite,export", "repeat": 3, "sqlite_maps": 500, "export_maps": "2000",
         "export_postgresql": False}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(DEFAULT_SECTIONS),
                        help="comma-separated sections to run (default: all but export-large)")
    parser.add_argument("--quick", action="store_true",
                        help="parse, commits and export at small sizes (make bench-quick, ~3 minutes)")
    parser.add_argument("--large-export", action="store_true",
                        help="also the export of --large-export-maps maps (section export-large, ~10 minutes)")
    parser.add_argument("--json", default=str(ROOT / "bench-results.json"),
                        help="where the figures go (the previous run's are read from it first)")
    parser.add_argument("--repeat", type=int, default=7, help="parse timings per page (median taken)")
    parser.add_argument("--replay-maps", type=int, default=2000)
    parser.add_argument("--memory-maps", default="200,5000",
                        help="pending maps of the small and the large memory run")
    parser.add_argument("--sqlite-maps", type=int, default=2000)
    parser.add_argument("--process-maps", type=int, default=500)
    parser.add_argument("--export-maps", default="2000,20000", help="database sizes of the export runs")
    parser.add_argument("--export-formats", default="parquet,duckdb")
    parser.add_argument("--no-export-postgresql", dest="export_postgresql", action="store_false",
                        help="export from SQLite only")
    parser.add_argument("--large-export-maps", type=int, default=100_000)
    parser.add_argument("--progress-maps", type=int, default=200_000)
    args = parser.parse_args()
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    sections = {s.strip() for s in args.only.split(",") if s.strip()}
    if args.large_export:
        sections.add("export-large")
    unknown = sections - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}")

    previous_file = Path(args.json)
    previous = json.loads(previous_file.read_text()) if previous_file.exists() else {}
    results: dict[str, Any] = {"environment": environment(), "section_seconds": {}}
    print(f"hltv-scraper bench: {describe(results['environment'])}\n", flush=True)
    timer = _SectionTimer(results["section_seconds"])
    with tempfile.TemporaryDirectory(prefix="hltv-bench-") as tmp:
        work = Path(tmp)
        if "parse" in sections:
            with timer("parse"):
                results["parse"] = bench_parse(args.repeat)
            print_parse(results["parse"])
        if "replay" in sections:
            with timer("replay"):
                results["replay"] = bench_replay(work / "replay", args.replay_maps)
            print_replay(results["replay"])
        if "memory" in sections:
            counts = [int(n) for n in args.memory_maps.split(",")]
            with timer("memory"):
                results["memory"] = bench_memory(work / "memory", counts)
            print_memory(results["memory"])
        wanted_postgres = sections & {"sqlite", "several", "progress"} or (
            args.export_postgresql and sections & {"export", "export-large"})
        postgres = PostgresServer().start() if wanted_postgres else None
        try:
            if "sqlite" in sections:
                with timer("sqlite"):
                    results["sqlite"] = bench_commits(work / "sqlite.sqlite3", args.sqlite_maps)
                    results["postgresql"] = bench_commits(postgres.new_database(), args.sqlite_maps)
                print_commits(results["sqlite"], results["postgresql"])
            if "several" in sections:
                with timer("several"):
                    results["several"] = several.bench_several(work / "several", postgres)
                several.print_several(results["several"])
            if "progress" in sections:
                with timer("progress"):
                    results["progress"] = [
                        progress.bench_progress(work / "progress.sqlite3", args.progress_maps),
                        progress.bench_progress(postgres.new_database(), args.progress_maps),
                    ]
                progress.print_progress(results["progress"])
            if "processes" in sections:
                with timer("processes"):
                    results["processes"] = several.bench_processes(work / "processes", args.process_maps)
                several.print_processes(results["processes"])
            export_server = postgres if args.export_postgresql else None
            if "export" in sections:
                print("\n8. Export: time against the floor (same run), and peak RSS, by database size", flush=True)
                with timer("export"):
                    results["export"] = export_bench.bench_export(
                        demo_database(), work / "export", [int(n) for n in args.export_maps.split(",")],
                        args.export_formats.split(","), export_server,
                    )
            if "export-large" in sections:
                print(f"\n9. Export of {args.large_export_maps:,} maps (the CS2 era): time against the floor, "
                      "peak RSS", flush=True)
                with timer("export-large"):
                    results["export_large"] = export_bench.bench_export(
                        demo_database(), work / "export-large", [args.large_export_maps],
                        args.export_formats.split(","), None,
                    )
        finally:
            if postgres is not None:
                postgres.stop()
    print_figures(results, previous)
    # the sections not run this time keep their last figures: a `make bench-quick` or
    # `make bench-large` after a `make bench` leaves the other sections' figures to
    # compare the next run with
    kept = {k: v for k, v in previous.items() if k not in results and k not in ("environment", "section_seconds")}
    Path(args.json).write_text(json.dumps({**kept, **results}, indent=2) + "\n")
    print(f"\nfigures written to {args.json} ({sum(results['section_seconds'].values()) / 60:.1f} minutes)")
    return 0


class _SectionTimer:
    """How long each section took, bench data included (``section_seconds``)."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    def __call__(self, name: str) -> Any:
        timer = self

        class _Timing:
            def __enter__(self) -> None:
                self.started = time.perf_counter()

            def __exit__(self, *exc: Any) -> None:
                timer.seconds[name] = round(time.perf_counter() - self.started, 1)

        return _Timing()


# -- the figures against their targets ------------------------------------------------


def _export_figure(key: str, database: str, file_format: str, field: str) -> Callable[[dict], Any]:
    """The figure ``field`` of the largest export of ``file_format`` from ``database``."""

    def pick(results: dict) -> Any:
        runs = [r for r in results.get(key) or [] if r.get("database", "SQLite") == database
                and r["format"] == file_format]
        if not runs:
            return None
        largest = max(runs, key=lambda r: r["maps"])
        if field == "ratio" and largest.get("target_ratio") is None:
            return _Unjudged(largest[field])  # too small to hold against the target
        return largest.get(field)

    return pick


class _Unjudged(float):
    """A figure shown but not held against its target (an export of fewer maps than
    tools/bench_export.py's TARGET_FROM_MAPS, where start-up is most of it)."""


def _dig(*path: Any) -> Callable[[dict], Any]:
    def pick(results: dict) -> Any:
        value: Any = results
        for step in path:
            if isinstance(value, dict):
                value = value.get(step)
            elif isinstance(value, list) and isinstance(step, int) and step < len(value):
                value = value[step]
            else:
                return None
        return value

    return pick


def _commit_share(results: dict) -> Any:
    sqlite, postgresql = results.get("sqlite"), results.get("postgresql")
    if not sqlite or not postgresql:
        return None
    return round(postgresql["commits_per_second"] / sqlite["commits_per_second"], 2)


def _at_most(bound: float) -> Callable[[Any], bool]:
    return lambda value: value <= bound


def _at_least(bound: float) -> Callable[[Any], bool]:
    return lambda value: value >= bound


#: (figure, how it is read from the results, target as shown, whether it is met)
FIGURES: list[tuple[str, Callable[[dict], Any], str, Callable[[Any], bool] | None]] = [
    *[(f"parse {page}: x lxml floor", _dig("parse", page, "ratio"), "<= 0.2x", _at_most(0.2))
      for page in PARSERS],
    ("replay: maps/s", _dig("replay", "maps_per_second"), "-", None),
    ("replay: ms outside parsing per map", _dig("replay", "overhead_ms_per_map"), "< parse per map",
     lambda value: value < 0),  # replaced below by the run's own verdict
    ("memory: peak RSS growth %, large vs small",
     lambda r: None if _dig("memory", "growth")(r) is None else round(r["memory"]["growth"] * 100, 1),
     "<= 10", _at_most(10)),
    ("commits/s SQLite", _dig("sqlite", "commits_per_second"), "-", None),
    ("commits/s PostgreSQL", _dig("postgresql", "commits_per_second"), "-", None),
    ("PostgreSQL commits vs SQLite's", _commit_share, ">= 0.5x", _at_least(0.5)),
    ("round trips per whole-map commit", _dig("postgresql", "round_trips", "commit"), "<= 3", _at_most(3)),
    ("round trips per claim", _dig("postgresql", "round_trips", "claim"), "<= 3", _at_most(3)),
    ("round trips per renewal", _dig("postgresql", "round_trips", "renewal"), "<= 3", _at_most(3)),
    ("4 crawls vs 1, PostgreSQL", lambda r: next((x["speedup"] for x in _dig("several", "runs")(r) or []
                                                   if x["backend"] == "postgresql" and x["crawls"] == 4), None),
     "-", None),
    ("2 processes vs 1, SQLite re-parse", _dig("processes", "speedup"), "-", None),
    *[(f"export {db} {fmt} x floor{' (largest)' if key == 'export' else ' (100k maps)'}",
       _export_figure(key, db, fmt, "ratio"), f"<= {export_bench.TARGET_RATIO[fmt]:.0f}x",
       _at_most(export_bench.TARGET_RATIO[fmt]))
      for key in ("export", "export_large") for db in ("SQLite", "PostgreSQL") for fmt in ("parquet", "duckdb")],
    *[(f"export {fmt} peak RSS MB{' (100k maps)' if key == 'export_large' else ''}",
       _export_figure(key, "SQLite", fmt, "peak_rss_mb"), f"< {export_bench.TARGET_PEAK_RSS_MB}",
       _at_most(export_bench.TARGET_PEAK_RSS_MB))
      for key in ("export", "export_large") for fmt in ("parquet", "duckdb")],
    *[(f"progress {n}: worst s per 60 s interval", _dig("progress", i, "worst_interval_s"), "<= 0.6 s",
       _at_most(0.6)) for i, n in enumerate(("SQLite", "PostgreSQL"))],
]


def print_figures(results: dict[str, Any], previous: dict[str, Any]) -> None:
    """Each figure of this run beside its target and the previous run's figure."""
    when = (previous.get("environment") or {}).get("when", "none")
    print(f"\nFigures against their targets (previous run: {when}; absolute times depend on the load "
          "on the machine, ratios measured in one run far less)")
    rows = [("figure", "this run", "target", "met", "previous run")]
    for label, pick, target, met in FIGURES:
        value = pick(results)
        if value is None:
            continue
        before = pick(previous)
        verdict = "-" if met is None or isinstance(value, _Unjudged) else "yes" if met(value) else "NO"
        if label.startswith("replay: ms outside"):  # against this run's parse time
            verdict = "yes" if results["replay"]["target_met"] else "NO"
        rows.append((label, _shown(value), target, verdict, "-" if before is None else _shown(before)))
    rows.append(("bench time, minutes", _shown(sum(results["section_seconds"].values()) / 60),
                 "<= 15 (make bench)", "-",
                 _shown(sum((previous.get("section_seconds") or {}).values()) / 60)
                 if previous.get("section_seconds") else "-"))
    _table(rows)


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def demo_database() -> Path:
    """make demo's database, the export runs' source: made by `make demo` if missing."""
    database = ROOT / "data" / "demo" / "hltv.sqlite3"
    if not database.exists():
        subprocess.run([sys.executable, str(ROOT / "tools" / "demo.py")], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    return database


def environment() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "lxml": ".".join(map(str, lxml.etree.LXML_VERSION)),
        "sqlite": __import__("sqlite3").sqlite_version,
        "platform": platform.platform(),
        "parser_version": PARSER_VERSION,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def describe(env: dict[str, Any]) -> str:
    return (f"{env['cpus']} CPUs, Python {env['python']}, Scrapy {env['scrapy']}, "
            f"lxml {env['lxml']}, SQLite {env['sqlite']}")


# -- 1. parse cost --------------------------------------------------------------------


def response(page: str, body: bytes, mapstatsid: int = PARSE_MAP) -> HtmlResponse:
    """A fresh response, as the downloader hands it over (text not decoded yet)."""
    kind = "" if page == "mapstats" else f"{page}/"
    return HtmlResponse(
        url=f"https://www.hltv.org/stats/matches/{kind}mapstatsid/{mapstatsid}/x",
        body=body,
        headers={"Content-Type": "text/html; charset=UTF-8"},
    )


def lxml_tree(body: bytes) -> Any:
    """The floor: an lxml HTML tree of the bytes, as parsel builds one for a response."""
    return etree.fromstring(body, parser=lxml.html.HTMLParser(recover=True, encoding="utf-8"))


class _patched:
    """Swap a module attribute for the duration of a ``with``."""

    def __init__(self, name: str, value: Any) -> None:
        self.name, self.value = name, value

    def __enter__(self) -> None:
        self.saved = getattr(_page, self.name)
        setattr(_page, self.name, self.value)

    def __exit__(self, *exc: Any) -> None:
        setattr(_page, self.name, self.saved)


def _median_ms(runs: list[float]) -> float:
    return round(statistics.median(runs) * 1000, 2)


def bench_parse(repeat: int) -> dict[str, Any]:
    results = {}
    for page, parse in PARSERS.items():
        body = data.page_bytes(page, PARSE_MAP)
        fallbacks: dict[str, Callable[[], Any]] = {
            # no .contentCol at all: the whole page is parsed
            "no_section": lambda: _patched("_content_section", lambda response: None),
            # a section that ends before the parser's last piece: section, then whole page
            "cut_short": lambda: _patched("_CONTENT_END", re.compile(rb"")),
        }
        timings: dict[str, list[float]] = {"parse": [], "floor": [], "free": [], **{k: [] for k in fallbacks}}
        for round_ in range(repeat + 1):  # the first round warms up and is dropped
            _settle()
            measured = {"parse": _timed(lambda: parse(response(page, body)))}
            _settle()
            # The tree is freed after its clock stops (that costs another ~14 ms for a
            # 6 MB page, reported apart): the floor is the build alone, the lowest bar.
            measured["floor"], tree = _timed(lambda: [lxml_tree(body)], keep=True)
            measured["free"] = _free(tree)
            _settle()
            for name, patch in fallbacks.items():
                with patch():
                    measured[name] = _timed(lambda: parse(response(page, body)))
                _settle()
            if round_:
                for name, seconds in measured.items():
                    timings[name].append(seconds)
        floor_ms = _median_ms(timings["floor"])
        results[page] = {
            "mapstatsid": PARSE_MAP,
            "bytes": len(body),
            "parse_ms": _median_ms(timings["parse"]),
            "floor_ms": floor_ms,
            "floor_free_ms": _median_ms(timings["free"]),
            "ratio": round(_median_ms(timings["parse"]) / floor_ms, 3),
            **{f"fallback_{name}_ms": _median_ms(timings[name]) for name in fallbacks},
            **{f"fallback_{name}_ratio": round(_median_ms(timings[name]) / floor_ms, 3) for name in fallbacks},
            "target_ratio": 0.2,
        }
        results[page]["target_met"] = results[page]["ratio"] <= 0.2
    return results


def _timed(work: Callable[[], Any], keep: bool = False) -> Any:
    """Seconds ``work`` took (and its result with ``keep``: freed after the clock)."""
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    return (seconds, result) if keep else seconds


def _settle() -> None:
    """Let the heap settle between two timings, so that what one left to clean up (a
    freed tree's memory glibc consolidates on the next big allocation, tens of ms after
    a whole-page tree) is not billed to the next."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _free(holder: list) -> float:
    """Seconds it takes to free the object ``holder`` holds alone."""
    start = time.perf_counter()
    holder.clear()
    return time.perf_counter() - start


def print_parse(results: dict[str, Any]) -> None:
    print(f"1. Parse cost per page (map {PARSE_MAP}; median; floor = lxml tree of the same bytes)")
    rows = [("page", "size", "parse", "floor", "ratio", "fallback: no section", "fallback: cut short")]
    for page, r in results.items():
        rows.append((
            page, f"{r['bytes'] / MB:.1f} MB", f"{r['parse_ms']:.1f} ms", f"{r['floor_ms']:.1f} ms",
            f"{r['ratio']:.2f}x {'ok' if r['target_met'] else '> 0.2x'}",
            f"{r['fallback_no_section_ms']:.1f} ms ({r['fallback_no_section_ratio']:.2f}x)",
            f"{r['fallback_cut_short_ms']:.1f} ms ({r['fallback_cut_short_ratio']:.2f}x)",
        ))
    _table(rows)


# -- 2. replay throughput ----------------------------------------------------------


def _settings(**extra: Any) -> list[str]:
    return [item for name, value in {**CRAWL_SETTINGS, **extra}.items() for item in ("-s", f"{name}={value}")]


def prepare(work: Path, count: int, sources: list[int], pages: dict | None = None) -> tuple[Path, Path]:
    work.mkdir(parents=True, exist_ok=True)
    copies = data.plan(count, sources)
    archive, db = work / "archive", work / "hltv.sqlite3"
    data.build_archive(archive, copies, pages)
    data.seed(db, copies)
    return archive, db


def bench_replay(work: Path, count: int) -> dict[str, Any]:
    archive, db = prepare(work, count, data.FIXTURE_MAPS)
    out = work / "crawl.json"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "_bench_crawl.py"), str(out), "crawl", "perf_economy",
         *_settings(HLTV_ARCHIVE_DIR=archive, HLTV_DB_PATH=db)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"replay crawl failed ({done.returncode}):\n{done.stderr[-3000:]}")
    crawl = json.loads(out.read_text())
    stats = crawl["stats"]
    maps = stats.get("hltv/maps/committed", 0)
    parse = sum(crawl["parse_seconds"].values())
    seconds = crawl["crawl_seconds"]
    overhead = seconds - parse
    return {
        "maps": count,
        "committed": maps,
        "failed": stats.get("hltv/maps/failed", 0),
        "pages_bytes_per_map": round(sum(
            len(data.page_bytes(p, m)) for m in data.FIXTURE_MAPS for p in ("performance", "economy")
        ) / len(data.FIXTURE_MAPS)),
        "wall_seconds": round(wall, 2),
        "crawl_seconds": round(seconds, 2),
        "cpu_seconds": round(crawl["cpu_seconds"], 2),
        "maps_per_second": round(maps / seconds, 2),
        "parse_ms_per_map": round(parse / maps * 1000, 2),
        "parse_ms_per_page": {
            page: round(crawl["parse_seconds"][page] / crawl["parse_calls"][page] * 1000, 2)
            for page in crawl["parse_seconds"]
        },
        "overhead_ms_per_map": round(overhead / maps * 1000, 2),
        "overhead_share": round(overhead / seconds, 3),
        "peak_rss_mb": round(crawl["max_rss_kb"] / 1024, 1),
        "target_met": overhead < parse,
    }


def print_replay(r: dict[str, Any]) -> None:
    print(f"\n2. Offline replay: scrapy crawl perf_economy, {r['maps']} maps "
          f"({r['pages_bytes_per_map'] / MB:.1f} MB of pages per map)")
    _table([
        ("maps committed", "crawl time", "maps/s", "parse/map", "rest/map (engine+pipeline+SQLite)",
         "share outside parsing"),
        (f"{r['committed']} of {r['maps']}", f"{r['crawl_seconds']:.1f} s", f"{r['maps_per_second']:.1f}",
         f"{r['parse_ms_per_map']:.1f} ms", f"{r['overhead_ms_per_map']:.1f} ms "
         f"{'< parse: ok' if r['target_met'] else '>= parse'}", f"{r['overhead_share']:.0%}"),
    ])


# -- 3. memory ---------------------------------------------------------------------


def bench_memory(work: Path, counts: list[int]) -> dict[str, Any]:
    pages = {
        "performance": data.page_bytes("performance", SMALL_MAP),
        "economy": data.content_only(data.page_bytes("economy", SMALL_MAP)),
    }
    runs = []
    for count in counts:
        run_dir = work / str(count)
        prepared = time.perf_counter()
        archive, db = prepare(run_dir, count, [SMALL_MAP], pages)
        prepared = time.perf_counter() - prepared
        log = run_dir / "crawl.log"
        started = time.perf_counter()
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "scrapy", "crawl", "perf_economy",
                 *_settings(HLTV_ARCHIVE_DIR=archive, HLTV_DB_PATH=db)],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
            )
            peak_kb, samples = _poll_peak_rss(process)
        seconds = time.perf_counter() - started
        summary = SUMMARY.findall(log.read_text())
        if process.returncode != 0 or not summary:
            raise SystemExit(f"memory crawl of {count} maps failed:\n{log.read_text()[-3000:]}")
        reason, requested, committed, failed = summary[-1]
        runs.append({
            "maps": count,
            "committed": int(committed),
            "failed": int(failed),
            "close_reason": reason,
            "peak_rss_mb": round(peak_kb / 1024, 1),  # MiB, as the kernel counts
            "rss_mb_over_time": samples,
            "seconds": round(seconds, 1),
            "prepare_seconds": round(prepared, 1),
        })
    small, large = runs[0], runs[-1]
    growth = large["peak_rss_mb"] / small["peak_rss_mb"] - 1
    return {
        "pages": {name: len(body) for name, body in pages.items()},
        "runs": runs,
        "growth": round(growth, 3),
        "target_met": growth <= 0.10,
    }


def _poll_peak_rss(process: subprocess.Popen, every: float = 0.05) -> tuple[int, list]:
    """The child's peak RSS (VmHWM, its own high-water mark) polled until it exits, and
    its RSS every ~10 s.

    Not ``RUSAGE_CHILDREN``/``wait4`` ``ru_maxrss``: Linux carries a process's peak RSS
    over fork and exec, so a child started from this process (hundreds of MB after
    seeding 20,000 maps) would report this process's peak, not its own.
    """
    peak, samples, started, next_sample = 0, [], time.monotonic(), 0.0
    status_file = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            fields = dict(line.split(":", 1) for line in status_file.read_text().splitlines())
            peak = max(peak, int(fields["VmHWM"].split()[0]))
            elapsed = time.monotonic() - started
            if elapsed >= next_sample:
                samples.append((round(elapsed), round(int(fields["VmRSS"].split()[0]) / 1024, 1)))
                next_sample += 10
        except (OSError, KeyError, ValueError):  # exiting
            pass
        time.sleep(every)
    return peak, samples


def print_memory(r: dict[str, Any]) -> None:
    sizes = ", ".join(f"{name} {size // 1024} KB" for name, size in r["pages"].items())
    print(f"\n3. Peak RSS of the replay by pending maps (small pages: {sizes})")
    rows = [("pending maps", "committed", "time", "peak RSS")]
    for run in r["runs"]:
        rows.append((f"{run['maps']:,}", f"{run['committed']:,}", f"{run['seconds']:.0f} s",
                     f"{run['peak_rss_mb']:.1f} MB"))
    _table(rows)
    print(f"   largest vs smallest: {r['growth']:+.1%} ({'ok' if r['target_met'] else 'over'} the 10% bound)")


# -- 4. whole-map commits -------------------------------------------------------------


def bench_commits(location: Path | str, count: int, round_trip_maps: int = 100) -> dict[str, Any]:
    """Database.save of ``count`` pre-parsed maps, one transaction each; on PostgreSQL,
    the round trips of a whole-map commit, a claim and a renewal, counted on the wire
    over ``round_trip_maps`` more maps (through a relay: not while commits are timed)."""
    if isinstance(location, Path):
        location.parent.mkdir(parents=True, exist_ok=True)
    sqlite = isinstance(location, Path)
    copies = data.plan(count + (0 if sqlite else round_trip_maps), data.FIXTURE_MAPS)
    data.seed(location, copies)
    copies, counted = copies[:count], copies[count:]
    seeded = data.database_bytes(location) if sqlite else None
    parsed = {
        m: PerfEconomyPages(**{page: PARSERS[page](response(page, data.page_bytes(page, m), m))
                               for page in ("performance", "economy")})
        for m in data.FIXTURE_MAPS
    }
    db = Database.open(location)
    try:
        started = time.perf_counter()
        for copy in copies:
            db.save(STAGES["perf_economy"], copy.mapstatsid, parsed[copy.source],
                    parser_version=PARSER_VERSION, overwrite=False, check=check_perf_economy)
        seconds = time.perf_counter() - started
        settings = (f"journal_mode={db.sql.value('PRAGMA journal_mode')}, "
                    f"synchronous={db.sql.value('PRAGMA synchronous')}") if sqlite else (
                    f"synchronous_commit={db.sql.value('SHOW synchronous_commit')}, "
                    f"fsync={db.sql.value('SHOW fsync')}")
        version = db.sql.value("SELECT sqlite_version()" if sqlite else "SHOW server_version")
    finally:
        db.close()
    result = {
        "database": "SQLite" if sqlite else "PostgreSQL",
        "version": version,
        "settings": settings,
        "maps": count,
        "seconds": round(seconds, 2),
        "commits_per_second": round(count / seconds, 1),
        "ms_per_commit": round(seconds / count * 1000, 2),
    }
    if not sqlite:
        result["round_trips"] = count_round_trips(location, counted, parsed)
    if sqlite:
        stored = data.database_bytes(location)
        result.update({
            "bytes_per_map_scoreboard": round(seeded / count),
            "bytes_per_map_total": round(stored / count),
            "bytes_per_map_perf_economy": round((stored - seeded) / count),
        })
    return result


def count_round_trips(location: str, copies: list[Any], parsed: dict[int, Any]) -> dict[str, float]:
    """Round trips per whole-map commit, per claim of 16 units and per renewal of their
    leases, counted by a relay between this client and the server."""
    port = int(location.rsplit(":", 1)[1].split("/")[0])
    stage = STAGES["perf_economy"]
    with roundtrips.CountingRelay(port) as relay:
        db = Database.open(relay.url(location))
        try:
            def per_call(calls: list[Callable[[], Any]]) -> float:
                before = relay.round_trips
                for call in calls:
                    call()
                return round((relay.round_trips - before) / len(calls), 2)

            claims: list[list[Any]] = []
            claim = lambda: claims.append(db.claim(  # noqa: E731
                stage, worker="bench", lease_seconds=600, max_attempts=3, limit=16,
                parser_version=PARSER_VERSION))
            found = {
                "claim": per_call([claim] * 4),
                "renewal": per_call([lambda units=units: db.renew(
                    stage, [u.id for u in units], worker="bench", lease_seconds=600) for units in claims]),
                "commit": per_call([lambda copy=copy: db.save(
                    stage, copy.mapstatsid, parsed[copy.source], parser_version=PARSER_VERSION,
                    overwrite=False, check=check_perf_economy) for copy in copies]),
            }
        finally:
            db.close()
    return found


def print_commits(sqlite: dict[str, Any], postgresql: dict[str, Any]) -> None:
    print(f"\n4. Whole-map commits: Database.save of {sqlite['maps']} maps, pages parsed beforehand")
    rows = [("database", "settings", "commits/s", "per commit")]
    for r in (sqlite, postgresql):
        rows.append((f"{r['database']} {r['version']}", r["settings"], f"{r['commits_per_second']:.0f}",
                     f"{r['ms_per_commit']:.2f} ms"))
    _table(rows)
    print(f"   SQLite size per map: map stats stage {sqlite['bytes_per_map_scoreboard'] / 1024:.1f} KB, "
          f"+ perf_economy {sqlite['bytes_per_map_perf_economy'] / 1024:.1f} KB, "
          f"total {sqlite['bytes_per_map_total'] / 1024:.1f} KB")
    print("   (the PostgreSQL server is the suite's throwaway one: fsync and synchronous_commit off)")
    trips = postgresql.get("round_trips")
    if trips:
        print(f"   PostgreSQL round trips, counted on the wire: {trips['commit']:.1f} per whole-map commit, "
              f"{trips['claim']:.1f} per claim of 16 units, {trips['renewal']:.1f} per renewal (target: <= 3 each)")
        print(f"   PostgreSQL commits at {postgresql['commits_per_second'] / sqlite['commits_per_second']:.2f}x "
              "SQLite's rate (target: >= 0.5x)")


if __name__ == "__main__":
    sys.exit(main())
