"""``scrapy addmaps``: tell the project which maps to collect, when their ids are known.

One map::

    scrapy addmaps --match-id 2389951 --map-number 1 --mapstatsid 219128

Many, from a CSV with a header row ``match_id,map_number,mapstatsid``::

    scrapy addmaps --csv maps.csv

A file is checked whole before anything is stored: any bad row is reported with its
line number and nothing of the file is imported. Adding a known map changes nothing.
(Usually the results and match stages find the maps: see ``scrapy collect``.)
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from hltv_scraper.commands._base import DatabaseCommand
from hltv_scraper.commands._rows import positive_id, read_csv

_COLUMNS = ("match_id", "map_number", "mapstatsid")


class Command(DatabaseCommand, ScrapyCommand):
    creates = True

    def syntax(self) -> str:
        return "(--match-id ID --map-number N --mapstatsid ID | --csv FILE)"

    def short_desc(self) -> str:
        return "Add maps (match id, map number, mapstatsid) for the crawls to collect"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--match-id", dest="match_id", metavar="ID", help="the map's match id (with the next two)")
        parser.add_argument("--map-number", dest="map_number", metavar="N", help="the map's number in its match: 1, 2, ...")
        parser.add_argument("--mapstatsid", dest="mapstatsid", metavar="ID", help="the map's id in its stats page URL")
        parser.add_argument("--csv", dest="csv_file", metavar="FILE",
                            help="a UTF-8 CSV file with the header row match_id,map_number,mapstatsid")

    def execute(self, opts: Namespace) -> None:
        single = (opts.match_id, opts.map_number, opts.mapstatsid)
        if opts.csv_file and any(single):
            raise UsageError("give either --csv or the three --match-id/--map-number/--mapstatsid")
        if opts.csv_file:
            maps = read_csv(
                Path(opts.csv_file), required=_COLUMNS, parse_row=_parse_row,
                keys=lambda m: {"mapstatsid": m[2], "match_id/map_number": m[:2]},
            )
        elif all(single):
            maps = [_parse_row(dict(zip(_COLUMNS, single)), "arguments")]
        else:
            raise UsageError("give --csv FILE, or all of --match-id, --map-number and --mapstatsid")
        with self.database() as db:
            try:
                added, known = db.add_maps(maps)
            except ValueError as exc:
                raise UsageError(f"nothing added: {exc}") from None
        print(f"{db.location}: {added} maps added, {known} already known")


def _parse_row(row: dict[str, str | None], where: str) -> tuple[int, int, int]:
    match_id, map_number, mapstatsid = (positive_id(row.get(c), c, where) for c in _COLUMNS)
    return match_id, map_number, mapstatsid
