"""Reading the units a user adds by hand: one from the command line, or a CSV file.

A file is checked whole before anything is stored: every bad row is reported with its
line number, and nothing of the file is imported. Spreadsheets save "CSV UTF-8" with a
byte-order mark and headers in any case; both are accepted. A file that is not UTF-8
text is refused by name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scrapy.exceptions import UsageError

#: Bad rows named in the error; the rest are counted.
_MOST_SHOWN = 10


def positive_id(text: str | None, column: str, where: str) -> int:
    text = (text or "").strip()
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"{where}: {column} must be a positive whole number, got {text!r}")
    return int(text)


def ids_option(values: list[str], option: str) -> list[int]:
    """Ids given to ``option`` as ``1 2`` or ``1,2``, each a positive whole number, once."""
    parts = [part for value in values for part in value.split(",") if part.strip()]
    return list(dict.fromkeys(positive_id(part, "the id", option) for part in parts))


def read_csv(
    path: Path,
    *,
    required: tuple[str, ...],
    parse_row: Callable[[dict[str, str | None], str], Any],
    keys: Callable[[Any], dict[str, Any]],
) -> list[Any]:
    """Every row of the file through ``parse_row(row, where)``, or UsageError listing
    every bad row. ``keys(entry)`` names what must not appear twice with other values."""
    text = _text_of(path)
    entries, errors, seen = [], [], {}
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise UsageError(f"{path}: not a CSV file ({exc})") from None
    reader.fieldnames = [(name or "").strip().lower() for name in header]
    missing = [c for c in required if c not in reader.fieldnames]
    if missing:
        raise UsageError(f"{path}: the header row lacks {', '.join(missing)} (it has {', '.join(header) or 'nothing'})")
    try:
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
    except csv.Error as exc:
        raise UsageError(f"{path}: not a CSV file, line {reader.line_num}: {exc}") from None
    if errors:
        shown = "; ".join(errors[:_MOST_SHOWN]) + (f"; and {len(errors) - _MOST_SHOWN} more" if len(errors) > _MOST_SHOWN else "")
        raise UsageError(f"{path}: nothing imported, {len(errors)} bad rows: {shown}")
    return list(dict.fromkeys(entries))


def _text_of(path: Path) -> str:
    """The file's text (UTF-8, a byte-order mark dropped), or UsageError naming it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file (UTF-8 CSV expected)") from None
    if "\x00" in text:
        raise UsageError(f"{path} is not a text file (UTF-8 CSV expected)")
    return text
