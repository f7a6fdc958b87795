"""`path:line:col: CODE message [*]`, then a ruff-style summary."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from orm_modernize.data.records import Diagnostic, FileResult, Settings


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def fixable(d: Diagnostic, settings: Settings) -> bool:
    """Would `--fix` (with this run's `--unsafe-fixes`) apply its fix?"""
    return d.applicability == "safe" or (
        d.applicability == "unsafe" and settings.unsafe_fixes
    )


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
    colour: bool = False,
) -> None:
    listing(results, out, settings, marker_first=False, quiet=quiet, colour=colour)


def listing(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    marker_first: bool,
    quiet: bool,
    colour: bool = False,
) -> None:
    """A line per finding, `[*]` after the message (or, as ruff's `concise`,
    before it) when `--fix` would fix it; then the summary, unless `quiet`."""
    paint = painter(colour)
    for result in results:
        if not result.diagnostics:
            continue  # a relpath() per clean file was a tenth of a warm run
        path = paint(display_path(result.path), bold=True)
        for d in result.diagnostics:
            marker = paint("[*]", fg="cyan") if fixable(d, settings) else ""
            if marker_first:
                text = f"{marker} {d.message}" if marker else d.message
            else:
                text = f"{d.message} {marker}" if marker else d.message
            colon = paint(":", fg="cyan")
            where = f"{path}{colon}{d.line}{colon}{d.column}{colon}"
            out.write(f"{where} {paint(d.code, fg='red', bold=True)} {text}\n")
    if not quiet:
        summary(results, out, settings)


def painter(colour: bool) -> Callable[..., str]:
    """`paint(text, fg=..., bold=...)`: ANSI styles when `colour`, else the text."""
    if not colour:
        return lambda text, **_: text
    import click

    def paint(text: str, fg: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold)

    return paint


def fixed(results: Sequence[FileResult], out: TextIO, colour: bool = False) -> None:
    """What `--fix` applied, per file and rule (ruff's `--show-fixes`)."""
    from orm_modernize.rules import RULES_BY_CODE

    paint = painter(colour)
    total = sum(len(r.applied) for r in results)
    if not total:
        return
    out.write(f"Fixed {total} error{'' if total == 1 else 's'}:\n")
    for result in results:
        if not result.applied:
            continue
        out.write(f"- {paint(display_path(result.path), bold=True)}:\n")
        counts: dict[str, int] = {}
        for d in result.applied:
            counts[d.code] = counts.get(d.code, 0) + 1
        for code, count in sorted(counts.items()):
            rule = RULES_BY_CODE.get(code)
            name = f" ({rule.name})" if rule is not None else ""
            out.write(f"    {count} × {paint(code, fg='red', bold=True)}{name}\n")
    out.write("\n")


def summary(results: Sequence[FileResult], out: TextIO, settings: Settings) -> None:
    """`Found N errors.`, how many `--fix` would fix, how many fixes are hidden."""
    findings = [d for r in results for d in r.diagnostics]
    fixed = sum(len(r.applied) for r in results)
    fixes = sum(fixable(d, settings) for d in findings)
    hidden = sum(
        d.applicability == "unsafe" and not settings.unsafe_fixes for d in findings
    )
    total = len(findings) + fixed
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
        out.write(
            f"Found {total} error{s} ({fixed} fixed, {len(findings)} remaining).\n"
        )
    else:
        out.write(f"Found {total} error{s}.\n")
    if fixes and not settings.fix:
        out.write(f"[*] {fixes} fixable with the `--fix` option.\n")
    if hidden:
        out.write(
            f"({hidden} hidden fix{'' if hidden == 1 else 'es'} can be enabled with the"
            " `--unsafe-fixes` option.)\n"
        )
    for reason, count in _repeated_refusals(findings):
        unlock = " Raising that pin unlocks them." if PIN_REASON.search(reason) else ""
        out.write(f"{count} findings have no fix because {reason}.{unlock}\n")


# "(no fix: why)" at the end of a message
REFUSAL = re.compile(r" \(no fix: (?P<why>.+)\)$")
# A reason that the project's version pins give
PIN_REASON = re.compile(r" admits older versions$|, the target is \S+ \(")


def _repeated_refusals(findings: Sequence[Diagnostic]) -> list[tuple[str, int]]:
    """The reasons for no fix that many findings share, most first: said once
    here, a team sees what one change (often a pin) would unlock."""
    reasons = Counter(
        found["why"]
        for d in findings
        if d.applicability is None and (found := REFUSAL.search(d.message))
    )
    return [(why, n) for why, n in reasons.most_common(3) if n >= REPEATED]


REPEATED = 5  # fewer are read on their own lines


def statistics(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    output_format: str = "text",
) -> None:
    """How many findings of each code, most first, with `[*]` where every one of
    them is fixable and `[-]` where some are (ruff's `--statistics`); with
    `output_format` "json", as ruff's JSON statistics."""
    from orm_modernize.rules import RULES_BY_CODE

    by_code: dict[str, list[Diagnostic]] = {}
    for d in (d for r in results for d in r.diagnostics):
        by_code.setdefault(d.code, []).append(d)
    ordered = sorted(by_code.items(), key=lambda item: (-len(item[1]), item[0]))
    rows = []
    for code, found in ordered:
        rule = RULES_BY_CODE.get(code)
        fixes = sum(fixable(d, settings) for d in found)
        rows.append((code, rule.name if rule is not None else "", len(found), fixes))
    if output_format == "json":
        import json

        counted = [
            {
                "code": code,
                "name": name,
                "count": count,
                "fixable": fixes > 0,
                "fixable_count": fixes,
            }
            for code, name, count, fixes in rows
        ]
        out.write(json.dumps(counted, indent=2) + "\n")
        return
    width = max((len(str(count)) for _, _, count, _ in rows), default=1)
    for code, name, count, fixes in rows:
        marker = "[*]" if fixes == count else "[-]" if fixes else "[ ]"
        out.write(f"{count:>{width}}\t{code}\t{marker} {name}".rstrip() + "\n")
