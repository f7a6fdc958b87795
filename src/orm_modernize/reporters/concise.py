"""`path:line:col: CODE [*] message`, one line per finding, as ruff's `concise`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from orm_modernize.datatypes import FileResult, Settings
from orm_modernize.reporters.text import display_path, fixable, summary


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
) -> None:
    for result in results:
        for d in result.diagnostics:
            marker = "[*] " if fixable(d, settings) else ""
            out.write(
                f"{display_path(result.path)}:{d.line}:{d.column}:"
                f" {d.code} {marker}{d.message}\n"
            )
    if not quiet:
        summary(results, out, settings)
