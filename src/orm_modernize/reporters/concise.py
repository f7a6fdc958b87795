"""`path:line:col: CODE [*] message`, one line per finding, as ruff's `concise`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from orm_modernize.datatypes import FileResult, Settings
from orm_modernize.reporters.text import listing


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
    colour: bool = False,
) -> None:
    listing(results, out, settings, marker_first=True, quiet=quiet, colour=colour)
