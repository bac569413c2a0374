"""Writing what a user asked for when the disk is full or the reader has gone.

An export or a report that cannot write its file (a full disk, a quota, a size limit)
raises :class:`CannotWrite`, one line naming the file, after removing what it had
written; the command prints that line and exits 1. Output into a pipe the reader closed
(``scrapy summary | head``) ends quietly: what the reader wanted it has.
"""

from __future__ import annotations

import errno
import os
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: errno -> what the line says: the disk, not the program, is at fault
_FULL = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large",
}
#: how DuckDB (whose errors are not OSErrors) says the same
_FULL_TEXT = {os.strerror(number): why for number, why in _FULL.items()}


class CannotWrite(Exception):
    """A file the user asked for could not be written; nothing of it is left."""


def disk_full(error: BaseException) -> str | None:
    """What ``error`` says about the disk ("no space left on device"), None when it is
    about something else (a bug keeps its traceback)."""
    number = getattr(error, "errno", None)
    if number in _FULL:
        return _FULL[number]
    text = str(error)
    if isinstance(error, OSError) or type(error).__module__.startswith(("duckdb", "_duckdb")):
        # pyarrow's and DuckDB's I/O errors carry the system's words, not always an errno
        return next((why for words, why in _FULL_TEXT.items() if words in text), None)
    return None


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn the disk being full while writing ``path`` into :class:`CannotWrite`."""
    try:
        yield
    except Exception as exc:
        why = disk_full(exc)
        if why is None:
            raise
        raise CannotWrite(f"cannot write {path}: {why}") from None


@contextmanager
def standard_output() -> Iterator[list[str]]:
    """Run a command's printing: a closed pipe ends it quietly; a full disk under
    ``> file`` is one line in the list this yields (the command exits 1 with it)."""
    problems: list[str] = []
    try:
        yield problems
        sys.stdout.flush()  # here, not at exit, where a failure is a traceback
    except BrokenPipeError:
        _stdout_to_devnull()
    except OSError as exc:
        why = disk_full(exc)
        if why is None:
            raise
        _stdout_to_devnull()
        problems.append(f"cannot write the standard output: {why}")


def _stdout_to_devnull() -> None:
    """Python flushes stdout once more at exit: let that write go nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
