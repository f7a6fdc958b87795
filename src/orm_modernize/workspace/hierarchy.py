"""Each file's configuration is that of the nearest configuration file above it,
as in ruff: a directory with a `pyproject.toml` of its own (with a
`[tool.orm-modernize]` table) has its settings, under the same inline `--config`
settings and flags as the run's; a `--config` file or `--isolated` rules every
file instead. So a file's findings do not depend on which files the run was
given (pre-commit passes them in batches, in any order)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from orm_modernize.workspace.config import (
    Configuration,
    Options,
    find_config,
    is_inline,
    layers_for,
    read_layers,
    resolve,
)


class Nested:
    """The configurations of the directories of a run by the nearest file that
    configures them, each resolved once, with the same flags and `--config`
    settings above it as the run's own."""

    def __init__(self, layers: Sequence[Options], fix: bool) -> None:
        self.layers = tuple(layers)  # the inline settings, then the flags
        self.fix = fix
        self._nearest: dict[str, Path | None] = {}
        self._resolved: dict[Path, Configuration] = {}
        # Each directory met, as spelt: a walk asks once for every entry
        self._ruling: dict[str, Configuration] = {}

    def ruling(self, run: Configuration, directory: str) -> Configuration:
        """The configuration of the files of `directory`: the run's own when
        its file is the nearest (or there is none)."""
        found = self._ruling.get(directory)
        if found is None:
            source = self.nearest(Path(directory))
            found = (
                run if source is None or source == run.source else self.resolved(source)
            )
            self._ruling[directory] = found
        return found

    def nearest(self, directory: Path) -> Path | None:
        return find_config([directory], self._nearest)

    def resolved(self, source: Path) -> Configuration:
        if source not in self._resolved:
            layers = [o for _, o in read_layers(source, table_required=True)]
            self._resolved[source] = resolve(
                [*layers, *self.layers], source, fix=self.fix
            )
        return self._resolved[source]


def configure(
    paths: Sequence[Path],
    flags: Options,
    *,
    config: Sequence[str] = (),
    isolated: bool = False,
    fix: bool = False,
) -> Configuration:
    """The configuration for a run over `paths`; raises ConfigError."""
    layers, source = layers_for(paths, flags, config=config, isolated=isolated)
    return hierarchical(layers, source, config=config, isolated=isolated, fix=fix)


def hierarchical(
    layers: Sequence[tuple[str, Options]],
    source: Path | None,
    *,
    config: Sequence[str],
    isolated: bool,
    fix: bool,
) -> Configuration:
    """The run's configuration from its `layers`, which also finds, for a file
    below a directory with a configuration file of its own, that one (ruff's
    hierarchy); not when a `--config` file or `--isolated` rules every file."""
    resolved = resolve([options for _, options in layers], source, fix=fix)
    if isolated or any(not is_inline(c) for c in config):
        return resolved
    above = [options for _, options in layers[len(layers) - _own_layers(config) :]]
    return replace(resolved, nested=Nested(above, fix))


def _own_layers(config: Sequence[str]) -> int:
    """How many of the last layers are not a file's: the inline settings and the
    command line."""
    return sum(1 for c in config if is_inline(c)) + 1
