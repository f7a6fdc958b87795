"""What a run prints on stderr and stdout besides its exit code: the findings in
the chosen format, each file's errors, notes on the SQLAlchemy version the fixes
were written for, and `--diff`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

import click

from orm_modernize.cli.reporters import reporter
from orm_modernize.cli.reporters.text import display_path
from orm_modernize.cli.terminal import colour_for
from orm_modernize.data.records import Diagnostic, FileResult, Settings


def print_findings(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    output_format: str,
    statistics: bool,
    show_fixes: bool,
    quiet: bool,
) -> None:
    colour = colour_for(out)
    if show_fixes:
        from orm_modernize.cli.reporters.text import fixed as list_fixes

        list_fixes(results, out, colour=colour)
    if statistics:
        from orm_modernize.cli.reporters.text import statistics as count

        count(results, out, settings, output_format)
    else:
        reporter(output_format)(results, out, settings, quiet=quiet, colour=colour)


def print_errors(results: Sequence[FileResult], *, verbose: bool, quiet: bool) -> None:
    """Each file's errors, the targets assumed, and how to report a crash."""
    for result in results:
        for error in result.errors:
            click.echo(f"{display_path(result.path)}: {error}", err=True)
        if verbose and result.crash is not None:
            click.echo(result.crash, err=True, nl=False)
    if not quiet:
        for note in _target_notes(results):
            click.echo(f"orm-modernize: {note}", err=True)
    if not verbose and any(r.crash is not None for r in results):
        click.echo(
            "An internal error is a bug: --verbose prints its traceback to report.",
            err=True,
        )


def _target_notes(results: Sequence[FileResult]) -> list[str]:
    """What a user must know of the SQLAlchemy version the fixes were written for:
    a pin that rules every fix out, once per pin; the version assumed when
    nothing pins SQLAlchemy and a fix that needs 2.0 was written."""
    notes: dict[str, None] = {}
    for result in results:
        target = result.target
        if target is None:
            continue
        if target.version == "1.3" and result.diagnostics:
            notes[
                f"warning: {target.source} admits SQLAlchemy before 1.4, which no fix"
                " runs on: findings are reported without fixes. Upgrade to"
                " SQLAlchemy 1.4 first, or pass --target-version 1.4."
            ] = None
        if not target.source and result.applied and _needs_2(result.applied):
            notes[
                "note: nothing pins SQLAlchemy (pyproject.toml, setup.cfg, setup.py,"
                " requirements files), so the fixes target SQLAlchemy 2.0; pass"
                " --target-version 1.4 for code that must still run on 1.4."
            ] = None
    return list(notes)


def _needs_2(applied: Sequence[Diagnostic]) -> bool:
    """Some fix applied writes code that needs SQLAlchemy 2.0. (The rules import
    LibCST: only a run that fixed something pays for it here.)"""
    from orm_modernize.rules import RULES_BY_CODE

    return any(RULES_BY_CODE[d.code].fix_runs_on == "2.0" for d in applied)


def print_diff(results: Sequence[FileResult], *, quiet: bool) -> bool:
    """The fixes as a unified diff, and how many; whether any file would change."""
    import difflib  # not at start: only `--diff` needs it

    changed = False
    for result in results:
        if not result.changed or result.fixed is None or result.source is None:
            continue
        changed = True
        name = display_path(result.path)
        old = result.source.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        new = result.fixed.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        for line in difflib.unified_diff(old, new, f"a/{name}", f"b/{name}"):
            click.echo(
                line
                if line.endswith("\n")
                else line + "\n\\ No newline at end of file\n",
                nl=False,
            )
    fixes = sum(len(r.applied) for r in results)
    if not quiet:
        click.echo(f"Would fix {fixes} error{'' if fixes == 1 else 's'}.", err=True)
    return changed
