"""What `check` does with a run's results besides listing them: the baseline,
`--add-noqa`, `--show-files` and `-o`, and the exit status they all end in."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from orm_modernize.cli.summary import print_errors
from orm_modernize.data.records import FileResult
from orm_modernize.workspace.config import Configuration, Options

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def add_noqa_comments(
    results: list[FileResult], reason: str | None, *, verbose: bool, quiet: bool
) -> NoReturn:
    """`--add-noqa`: the comments written, the files that could not take them
    reported, and exit."""
    from orm_modernize.workspace.runner import add_noqa

    added, failed = add_noqa(results, reason)
    results = results + failed
    print_errors(results, verbose=verbose, quiet=quiet)
    if not quiet:
        plural = "" if added == 1 else "s"
        click.echo(f"Added {added} noqa directive{plural}.", err=True)
    sys.exit(exit_code(results, False))


def show_file_list(roots: Sequence[Path], config: Configuration) -> NoReturn:
    """`--show-files`: one line a file (or left-out directory), and exit."""
    from orm_modernize.cli.reporters.text import display_path
    from orm_modernize.workspace.runner import show_files

    for path, why in show_files(roots, config):
        shown = display_path(path)
        click.echo(shown if why is None else f"{shown}  (skipped: {why})")
    sys.exit(EXIT_CLEAN)


def write_report(path: Path, text: str) -> None:
    """The report written whole (a reader never sees half of it), or one line
    saying why not and exit status 2."""
    from orm_modernize.workspace.atomic import write_atomically

    try:
        write_atomically(path, text.encode())
    except OSError as error:
        reason = error.strerror or str(error)
        click.echo(f"orm-modernize: error: cannot write {path}: {reason}", err=True)
        sys.exit(EXIT_ERROR)


def against_baseline(
    results: list[FileResult], path: Path, update: bool, quiet: bool
) -> list[FileResult]:
    """The results less what the baseline records; with `update`, record them all
    and exit."""
    from orm_modernize.workspace import baseline

    try:
        entries = baseline.load(path) if not update or path.exists() else []
        if update:
            count = baseline.write(path, results, entries)
    except (baseline.BaselineError, OSError) as error:
        click.echo(f"orm-modernize: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    if update:
        if not quiet:
            plural = "" if count == 1 else "s"
            click.echo(f"Recorded {count} finding{plural} in {path}.", err=True)
        sys.exit(exit_code(results, False))
    filtered = baseline.without_known(results, entries, path)
    if not quiet and (filtered.matched or filtered.stale):
        note = f"{filtered.matched} finding(s) recorded in {path} not shown."
        if filtered.stale:
            note += (
                f" {filtered.stale} recorded finding(s) no longer occur:"
                " --update-baseline drops them."
            )
        click.echo(note, err=True)
    return filtered.results


def exit_code(results: Sequence[FileResult], found: bool) -> int:
    if any(r.errors for r in results):
        return EXIT_ERROR
    return EXIT_FINDINGS if found else EXIT_CLEAN


def show_settings_of(
    path: Path, configuration: Configuration, layers: Sequence[tuple[str, Options]]
) -> NoReturn:
    """`--show-settings FILE`: the settings for FILE and their layers, and exit."""
    from orm_modernize.workspace.settings_report import report

    click.echo(report(path, configuration, layers), nl=False)
    sys.exit(EXIT_CLEAN)
