"""Path patterns of the configuration: globs relative to the directory of the
file that gives them (the working directory for flags). A pattern without a `/`
matches a file or directory of that name anywhere, one with a `/` matches a path
from that directory, and a pattern that matches a directory matches everything
in it. Globs mean what they mean to ruff, read by `wcmatch`."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True)
class Patterns:
    """Globs anchored at `root` (see the module's docstring)."""

    root: str  # absolute, with `/` separators
    names: re.Pattern[str] | None  # patterns without a `/`: a name at any depth
    paths: re.Pattern[str] | None  # patterns with one: a path below `root`
    globs: tuple[str, ...] = ()  # as written, for --show-settings

    @classmethod
    def compile(cls, globs: Sequence[str], root: Path) -> Patterns:
        names = [g.strip("/") for g in globs if "/" not in g.strip("/")]
        paths = [g.strip("/").removeprefix("./") for g in globs if "/" in g.strip("/")]
        return cls(
            _posix(os.path.abspath(root)),
            _combined(names) if names else None,
            _combined(paths) if paths else None,
            tuple(globs),
        )

    def match(self, path: str) -> bool:
        """Whether `path` (absolute, or relative to the working directory), or a
        directory above it within `root`, matches."""
        path = _posix(os.path.abspath(path))
        below = self._below
        if not path.startswith(below):
            return self._matches(path.rsplit("/", 1)[-1], None)
        relative = path[len(below) :]
        parts = relative.split("/")
        return any(
            self._matches(parts[i], "/".join(parts[: i + 1])) for i in range(len(parts))
        )

    def match_walked(self, directory: str, name: str) -> bool:
        """Whether the entry `name` of `directory` (absolute and normalized, with a
        trailing separator), met by a walk, matches: its own name or path, the
        walk has pruned the directories that match. This runs for every file of
        a project, so it takes no detour."""
        if self.names is not None and self.names.fullmatch(name):
            return True
        if self.paths is None:
            return False
        path, below = _posix(directory + name), self._below
        return (
            path.startswith(below)
            and self.paths.fullmatch(path[len(below) :]) is not None
        )

    @cached_property
    def _below(self) -> str:
        return self.root.rstrip("/") + "/"

    def _matches(self, name: str, relative: str | None) -> bool:
        if self.names is not None and self.names.fullmatch(name):
            return True
        return (
            relative is not None
            and self.paths is not None
            and self.paths.fullmatch(relative) is not None
        )


# What wcmatch's globs mean here, as in ruff's (globset): `**` spans directories,
# `{a,b}` is an alternation, and `*` matches a leading dot too.
FLAGS_NAMES = ("GLOBSTAR", "BRACE", "DOTGLOB", "FORCEUNIX")
# A name, or `*` and a suffix (`*.egg-info`): most globs, the default exclusions
# among them, which need no library (wcmatch's import costs a one-file run 7%).
SIMPLE = re.compile(r"\*?[^*?\[\]{}!\\/]+")


def _combined(globs: Sequence[str]) -> re.Pattern[str]:
    simple = [g for g in globs if SIMPLE.fullmatch(g)]
    regexes = [
        ("[^/]*" + re.escape(g[1:])) if g.startswith("*") else re.escape(g)
        for g in simple
    ]
    others = [g for g in globs if g not in simple]
    if others:
        from wcmatch import glob

        flags = 0
        for name in FLAGS_NAMES:
            flags |= getattr(glob, name)
        regexes.extend(glob.translate(others, flags=flags)[0])
    return re.compile("|".join(f"(?:{r})" for r in regexes))


def _posix(path: str) -> str:
    return path.replace(os.sep, "/") if os.sep != "/" else path
