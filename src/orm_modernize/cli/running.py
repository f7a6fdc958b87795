"""What the commands that check a project share: its configuration (or a one-line
error), its cache (unless git tracks it), and the run over its files."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orm_modernize.cli.outcomes import EXIT_ERROR
from orm_modernize.cli.terminal import interruptible, progress_bar
from orm_modernize.data.records import FileResult
from orm_modernize.workspace.config import (
    ConfigError,
    Configuration,
    Options,
    layers_for,
)
from orm_modernize.workspace.hierarchy import hierarchical

if TYPE_CHECKING:
    from orm_modernize.workspace.cache import Cache

# The options of the commands that check a project, spelt once for all of them
CONFIG_OPTION = click.option(
    "--config",
    "config_options",
    multiple=True,
    metavar="FILE | KEY=VALUE",
    help="A configuration file to use instead of the nearest pyproject.toml, or a"
    " TOML `key = value` overriding one setting. Repeatable.",
)
ISOLATED_OPTION = click.option(
    "--isolated", is_flag=True, help="Ignore every configuration file."
)
JOBS_OPTION = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Worker processes [default: all cores].",
)
NO_CACHE_OPTION = click.option(
    "--no-cache", is_flag=True, help="Neither read nor write the cache of results."
)


def configuration(
    where: Sequence[Path],
    flags: Options,
    config_options: tuple[str, ...],
    isolated: bool,
    fix: bool,
) -> tuple[Configuration, list[tuple[str, Options]]]:
    """The configuration for `where` and the layers it resolves (each with where
    it comes from), or a one-line error and exit status 2."""
    try:
        layers, source = layers_for(
            where, flags, config=config_options, isolated=isolated
        )
    except ConfigError as problem:
        click.echo(f"orm-modernize: error: {problem}", err=True)
        sys.exit(EXIT_ERROR)
    built = hierarchical(
        layers, source, config=config_options, isolated=isolated, fix=fix
    )
    return built, layers


def cache_for(directory: Path | None, where: Sequence[Path]) -> Cache | None:
    """The cache in `directory` (by default, the project's), unless git tracks it:
    a crafted cache committed with a change could hide findings from the gate
    that reads it."""
    from orm_modernize.workspace.cache import default_directory, trusted

    directory = directory or default_directory(where)
    cache = trusted(directory)
    if cache is None:
        click.echo(
            f"warning: not using the cache in {directory}: git tracks files in it,"
            " and a committed cache could hide findings",
            err=True,
        )
    return cache


def check_paths(
    roots: Sequence[Path],
    config: Configuration,
    cache: Cache | None,
    jobs: int | None,
    write: bool,
    quiet: bool,
) -> list[FileResult]:
    from orm_modernize.workspace.runner import run

    progress = None if quiet else progress_bar()
    with interruptible():
        results = run(
            roots, config, jobs=jobs, write=write, cache=cache, progress=progress
        )
    if progress is not None:
        progress(0, 0)  # clears the bar
    migrations = sum(r.skipped == "migration" for r in results)
    if migrations and not quiet:
        click.echo(
            f"{migrations} Alembic migration{'' if migrations == 1 else 's'} not"
            " checked: rewriting one changes what it did (--include-migrations"
            " checks them).",
            err=True,
        )
    return results
