"""`path:line:col: CODE message [*]`, then a ruff-style summary."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from orm_modernize.datatypes import FileResult, Settings


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def report(results: Sequence[FileResult], out: TextIO, settings: Settings) -> None:
    remaining = fixable = hidden = fixed = 0
    for result in results:
        fixed += len(result.applied)
        for d in result.diagnostics:
            remaining += 1
            applicable = d.applicability == "safe" or (
                d.applicability == "unsafe" and settings.unsafe_fixes
            )
            fixable += applicable
            hidden += d.applicability == "unsafe" and not settings.unsafe_fixes
            marker = " [*]" if applicable else ""
            out.write(
                f"{display_path(result.path)}:{d.line}:{d.column}:"
                f" {d.code} {d.message}{marker}\n"
            )
    total = remaining + fixed
    if total == 0:
        failed = sum(1 for r in results if r.errors)
        if failed:
            out.write(
                f"No findings, but {failed} file{'' if failed == 1 else 's'}"
                " could not be checked.\n"
            )
        else:
            out.write("All checks passed!\n")
        return
    s = "" if total == 1 else "s"
    if fixed:
        out.write(f"Found {total} error{s} ({fixed} fixed, {remaining} remaining).\n")
    else:
        out.write(f"Found {total} error{s}.\n")
    if fixable and not settings.fix:
        out.write(f"[*] {fixable} fixable with the `--fix` option.\n")
    if hidden:
        out.write(
            f"({hidden} hidden fix{'' if hidden == 1 else 'es'} can be enabled with the"
            " `--unsafe-fixes` option.)\n"
        )
