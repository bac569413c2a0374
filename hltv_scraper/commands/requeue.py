"""``scrapy requeue``: make a stage's failed units pending again, by hand.

    scrapy requeue --stage STAGE [--reason TEXT] [--mapstatsid ID ...] [--match-id ID ...]

A unit that failed ``HLTV_MAX_ATTEMPTS`` times is left alone by later crawls. When the
cause is gone (HLTV fixed the page, a parser fix shipped without a new parser version),
this resets the attempts of the stage's units that have failures on record: all of
them, those whose latest failure's reason contains ``--reason`` (any case), or those
named by id (``--match-id`` names a match's maps in the map stages). Their pages are
fetched anew on the next attempt, not served from the archive (the archived copy may be
what failed). A new PARSER_VERSION gives attempts back by itself for units that failed
under an older one.

    scrapy requeue --release-leases [--worker W] [--stage STAGE]

frees the leases of a crawl that will not give them back (its machine died): every
lease, or those of worker ``W`` (as ``scrapy summary`` names it). Run it only for
crawls that are gone: a live crawl would go on with units another can claim. A crawl
on the same host frees the leases of a process that is gone by itself.
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from hltv_scraper.commands._base import DatabaseCommand
from hltv_scraper.commands._rows import ids_option
from hltv_scraper.stages import STAGES, tracked

#: Stages whose units are rows with attempts (results pages are walked, never pending).
TRACKED = [stage.name for stage in tracked()]


class Command(DatabaseCommand, ScrapyCommand):
    def syntax(self) -> str:
        return (f"--stage {{{','.join(TRACKED)}}} [--reason TEXT] [--mapstatsid ID ...] [--match-id ID ...] "
                "| --release-leases [--worker W] [--stage STAGE]")

    def short_desc(self) -> str:
        return "Make a stage's failed units pending again (attempts reset)"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--stage", help=f"the stage whose failed units to requeue (required): one of {', '.join(TRACKED)}")
        parser.add_argument("--reason", help="only units whose latest failure's reason contains this text")
        parser.add_argument("--mapstatsid", nargs="+", action="extend", default=[], metavar="ID",
                            help="only these maps (ids separated by spaces or commas; map stages)")
        parser.add_argument("--release-leases", dest="release_leases", action="store_true",
                            help="free the leases of crawls that are gone (a machine that died) instead")
        parser.add_argument("--worker", metavar="W", help="with --release-leases: only this worker's leases")
        parser.add_argument("--match-id", dest="match_id", nargs="+", action="extend", default=[], metavar="ID",
                            help="only these matches (in the map stages: their maps)")

    def execute(self, opts: Namespace) -> None:
        if opts.release_leases:
            self._release_leases(opts)
            return
        if opts.worker is not None:
            raise UsageError("--worker goes with --release-leases (whose leases to free)")
        if opts.stage is None:
            raise UsageError(f"--stage is required: one of {', '.join(TRACKED)}")
        if opts.stage not in TRACKED:
            raise UsageError(f"--stage must be one of {', '.join(TRACKED)}, got {opts.stage!r}")
        stage = STAGES[opts.stage]
        rows = stage.rows
        assert rows is not None
        mapstatsids = ids_option(opts.mapstatsid, "--mapstatsid")
        match_ids = ids_option(opts.match_id, "--match-id")
        if mapstatsids and rows.key != "mapstatsid":
            how = "name them with --match-id" if rows.key == "match_id" else "--mapstatsid names none"
            raise UsageError(f"the {stage.name} stage's units are {rows.called}: {how}")
        if match_ids and not rows.of_match:
            raise UsageError(f"the {stage.name} stage's units are {rows.called}, of no match: --match-id names none")
        if opts.reason is not None and not opts.reason.strip():
            raise UsageError("--reason needs some text to look for")
        # a match is the matches stage's unit; in the map stages it names its maps
        unit_ids, of_matches = (match_ids, None) if rows.key == "match_id" else (mapstatsids, match_ids)
        with self.database() as db:
            try:
                reset = db.requeue(stage, reason=opts.reason, unit_ids=unit_ids, match_ids=of_matches)
            except KeyError as exc:
                column, missing = exc.args
                raise UsageError(
                    f"nothing requeued: {column} {', '.join(map(str, missing))} not in the database {db.location}"
                ) from None
        print(f"{db.location}: {len(reset)} failed {rows.called} pending again for {stage.name}"
              + (f": {_listed(reset)}" if reset else ""))

    def _release_leases(self, opts: Namespace) -> None:
        if opts.reason is not None or opts.mapstatsid or opts.match_id:
            raise UsageError("--release-leases frees leases; it takes only --worker and --stage")
        if opts.stage is not None and opts.stage not in TRACKED:
            raise UsageError(f"--stage must be one of {', '.join(TRACKED)}, got {opts.stage!r}")
        worker = opts.worker.strip() if opts.worker is not None else None
        if worker == "":
            raise UsageError("--worker needs the worker's name (scrapy summary lists who holds leases)")
        stages = [STAGES[name] for name in ([opts.stage] if opts.stage else TRACKED)]
        with self.database() as db:
            held = db.free_leases(stages, of=lambda holder: worker is None or holder == worker)
        if worker is not None and not held:
            print(f"{db.location}: {worker} holds no lease" + (f" on {opts.stage}" if opts.stage else ""))
            return
        freed = ", ".join(f"{row['units']} {row['units_of']} of {row['worker']}" for row in held)
        print(f"{db.location}: freed {sum(int(row['units']) for row in held)} leases" + (f" ({freed})" if held else ""))


def _listed(ids: list[int], most: int = 20) -> str:
    shown = ", ".join(map(str, ids[:most]))
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")
