"""`path:line:col: CODE [*] message`, one line per finding, as ruff's `concise`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from orm_modernize.cli.reporters.text import listing
from orm_modernize.data.records import FileResult, Settings


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
    colour: bool = False,
) -> None:
    listing(results, out, settings, marker_first=True, quiet=quiet, colour=colour)
