"""``scrapy addmaps``: tell the project which maps to collect.

One map::

    scrapy addmaps --match-id 2389951 --map-number 1 --mapstatsid 219128

Many, from a CSV with a header row ``match_id,map_number,mapstatsid``::

    scrapy addmaps --csv maps.csv

A file is checked whole before anything is stored: any bad row is reported with its
line number and nothing of the file is imported. Adding a known map changes nothing.
"""

from __future__ import annotations

import csv
from argparse import ArgumentParser, Namespace
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from hltv_scraper.config import HltvConfig
from hltv_scraper.storage import Database

_COLUMNS = ("match_id", "map_number", "mapstatsid")


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "(--match-id ID --map-number N --mapstatsid ID | --csv FILE)"

    def short_desc(self) -> str:
        return "Add maps (match id, map number, mapstatsid) for the crawls to collect"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--match-id", dest="match_id")
        parser.add_argument("--map-number", dest="map_number")
        parser.add_argument("--mapstatsid", dest="mapstatsid")
        parser.add_argument("--csv", dest="csv_file", metavar="FILE")

    def run(self, args: list[str], opts: Namespace) -> None:
        single = (opts.match_id, opts.map_number, opts.mapstatsid)
        if opts.csv_file and any(single):
            raise UsageError("give either --csv or the three --match-id/--map-number/--mapstatsid")
        if opts.csv_file:
            maps = read_csv(Path(opts.csv_file))
        elif all(single):
            maps = [_parse_row(dict(zip(_COLUMNS, single)), where="arguments")]
        else:
            raise UsageError("give --csv FILE, or all of --match-id, --map-number and --mapstatsid")
        db = Database.open(HltvConfig.from_settings(self.settings).database)
        try:
            added, known = db.add_maps(maps)
        except ValueError as exc:
            raise UsageError(f"nothing added: {exc}") from None
        finally:
            db.close()
        print(f"{db.location}: {added} maps added, {known} already known")


def read_csv(path: Path) -> list[tuple[int, int, int]]:
    """Every row of the file, or UsageError listing every bad row by line number."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    maps, errors, seen = [], [], {}
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(f"{path}: the header row lacks {', '.join(missing)}")
        for row in reader:
            where = f"line {reader.line_num}"
            try:
                entry = _parse_row(row, where=where)
            except UsageError as exc:
                errors.append(str(exc))
                continue
            for key, what in ((entry[2], "mapstatsid"), (entry[:2], "match_id/map_number")):
                if key in seen and seen[key][0] != entry:
                    errors.append(f"{where}: {what} also on {seen[key][1]} with other values")
                seen.setdefault(key, (entry, where))
            maps.append(entry)
    if errors:
        raise UsageError(f"{path}: nothing imported, {len(errors)} bad rows:\n  " + "\n  ".join(errors))
    return list(dict.fromkeys(maps))


def _parse_row(row: dict[str, str | None], *, where: str) -> tuple[int, int, int]:
    values = []
    for column in _COLUMNS:
        text = (row.get(column) or "").strip()
        if not text.isdigit() or int(text) < 1:
            raise UsageError(f"{where}: {column} must be a positive whole number, got {text!r}")
        values.append(int(text))
    return values[0], values[1], values[2]
