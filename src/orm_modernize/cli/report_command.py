"""`orm-modernize report`: the migration report of PATHS (see migration_report.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orm_modernize.cli.running import (
    CONFIG_OPTION,
    ISOLATED_OPTION,
    JOBS_OPTION,
    NO_CACHE_OPTION,
)
from orm_modernize.data.records import FileResult
from orm_modernize.workspace.config import Options

if TYPE_CHECKING:
    from orm_modernize.cli.migration_report import Progress


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "html"]),
    default="markdown",
    show_default=True,
    help="Markdown (a pull request comment) or one self-contained HTML page.",
)
@click.option(
    "-o",
    "--output-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Measure progress against the findings this baseline file records.",
)
@CONFIG_OPTION
@ISOLATED_OPTION
@NO_CACHE_OPTION
@JOBS_OPTION
def report(
    paths: tuple[Path, ...],
    output_format: str,
    output_file: Path | None,
    baseline: Path | None,
    config_options: tuple[str, ...],
    isolated: bool,
    no_cache: bool,
    jobs: int | None,
) -> None:
    """Write the migration report of PATHS: legacy sites per rule and package, what
    SQLAlchemy 2.x does to them, what the fixes cover, what unlocks the rest."""
    from orm_modernize.cli import migration_report
    from orm_modernize.cli.outcomes import EXIT_ERROR, write_report
    from orm_modernize.cli.running import cache_for, check_paths, configuration
    from orm_modernize.cli.summary import print_errors

    roots = paths or (Path("."),)
    config, _ = configuration(roots, Options(), config_options, isolated, False)
    cache = None if no_cache else cache_for(config.cache_dir, roots)
    results = check_paths(roots, config, cache, jobs, False, quiet=True)
    print_errors(results, verbose=False, quiet=True)
    progress = None
    if baseline is not None:
        progress = _progress(results, baseline)
        if progress is None:
            sys.exit(EXIT_ERROR)
    built = migration_report.build(results, progress)
    text = (
        migration_report.markdown(built)
        if output_format == "markdown"
        else migration_report.html_page(built)
    )
    if output_file is None:
        click.echo(text, nl=False)
    else:
        write_report(output_file, text)


def _progress(results: list[FileResult], path: Path) -> Progress | None:
    """Progress against the baseline at `path`; None (said) when it cannot be read."""
    from orm_modernize.cli.migration_report import progress_since
    from orm_modernize.workspace import baseline

    try:
        recorded = baseline.load(path)
    except baseline.BaselineError as error:
        click.echo(f"orm-modernize: error: {error}", err=True)
        return None
    return progress_since(results, recorded, path)
