"""`orm-modernize clean`: delete the cache of results, as `ruff clean` does."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from orm_modernize.cli.outcomes import EXIT_ERROR


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The cache to delete [default: .orm_modernize_cache in the project root].",
)
def clean(paths: tuple[Path, ...], cache_dir: Path | None) -> None:
    """Delete the cache that `check` keeps for PATHS' project (default: here)."""
    from orm_modernize.workspace.cache import default_directory, remove

    directory = cache_dir or default_directory(paths or (Path("."),))
    try:
        removed = remove(directory)
    except (ValueError, OSError) as error:
        click.echo(f"orm-modernize: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(f"Removed {directory}" if removed else f"No cache in {directory}")
