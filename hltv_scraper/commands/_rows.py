"""Reading the units a user adds by hand: one from the command line, or a CSV file.

A file is checked whole before anything is stored: every bad row is reported with its
line number, and nothing of the file is imported.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scrapy.exceptions import UsageError


def positive_id(text: str | None, column: str, where: str) -> int:
    text = (text or "").strip()
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"{where}: {column} must be a positive whole number, got {text!r}")
    return int(text)


def read_csv(
    path: Path,
    *,
    required: tuple[str, ...],
    parse_row: Callable[[dict[str, str | None], str], Any],
    keys: Callable[[Any], dict[str, Any]],
) -> list[Any]:
    """Every row of the file through ``parse_row(row, where)``, or UsageError listing
    every bad row. ``keys(entry)`` names what must not appear twice with other values."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    entries, errors, seen = [], [], {}
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(f"{path}: the header row lacks {', '.join(missing)}")
        for row in reader:
            where = f"line {reader.line_num}"
            try:
                entry = parse_row(row, where)
            except UsageError as exc:
                errors.append(str(exc))
                continue
            for what, key in keys(entry).items():
                if (what, key) in seen and seen[(what, key)][0] != entry:
                    errors.append(f"{where}: {what} also on {seen[(what, key)][1]} with other values")
                seen.setdefault((what, key), (entry, where))
            entries.append(entry)
    if errors:
        raise UsageError(f"{path}: nothing imported, {len(errors)} bad rows:\n  " + "\n  ".join(errors))
    return list(dict.fromkeys(entries))
