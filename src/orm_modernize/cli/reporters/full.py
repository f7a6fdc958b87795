"""Each finding with the line it points at, a caret under what it flags, and the
fix it offers, as ruff's default `full` output; then the summary. A fix that
exists but is unsafe says so on the finding, not only in the summary's count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from orm_modernize.cli.reporters.text import display_path, fixable, painter, summary
from orm_modernize.data.records import Diagnostic, FileResult, Settings
from orm_modernize.syntax.noqa import source_lines


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
    colour: bool = False,
) -> None:
    paint = painter(colour)
    for result in results:
        if not result.diagnostics:
            continue
        lines = source_lines(result.source)
        path = paint(display_path(result.path), bold=True)
        for d in result.diagnostics:
            marker = f"{paint('[*]', fg='cyan')} " if fixable(d, settings) else ""
            code = paint(d.code, fg="red", bold=True)
            out.write(f"{path}:{d.line}:{d.column}: {code} {marker}{d.message}\n")
            out.write(_snippet(d, lines))
            if d.fix_title:
                out.write(f"{_gutter(d)} = help: {d.fix_title}\n")
            if d.applicability == "unsafe" and not settings.unsafe_fixes:
                out.write(
                    f"{_gutter(d)} = note: the fix is unsafe; --unsafe-fixes"
                    " applies it\n"
                )
            out.write("\n")
    if not quiet:
        summary(results, out, settings)


def _gutter(d: Diagnostic) -> str:
    return " " * len(str(d.line))


def _snippet(d: Diagnostic, lines: list[str]) -> str:
    """The flagged line with a caret under the finding (to the line's end when it
    spans several)."""
    if not 0 < d.line <= len(lines):
        return ""
    line = lines[d.line - 1].rstrip("\r\n")
    start = max(d.column - 1, 0)
    end = d.end_column - 1 if d.end_line == d.line else len(line)
    # Tabs kept, so that the caret lands under the same column on any terminal.
    pad = "".join(c if c == "\t" else " " for c in line[:start])
    caret = "^" * max(end - start, 1)
    gutter = _gutter(d)
    return (
        f"{gutter} |\n{d.line} | {line}\n{gutter} | {pad}{caret} {d.code}\n{gutter} |\n"
    )
