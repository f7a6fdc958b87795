"""Path patterns of the configuration: globs relative to the directory of the
file that gives them (the working directory for flags). A pattern without a `/`
matches a file or directory of that name anywhere, one with a `/` matches a path
from that directory, and a pattern that matches a directory matches everything
in it."""

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


def _combined(globs: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{_glob(g)})" for g in globs))


def _glob(glob: str) -> str:
    """A glob as a regex: `*` and `?` stay within a name, `**` spans directories,
    `[...]` is a class (`[!...]` negated), `{a,b}` an alternation."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in glob[i + 2 :]:
            end = glob.index("]", i + 2)
            body = glob[i + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
            i = end
        elif char == "{" and "}" in glob[i:]:
            end = glob.index("}", i)
            out.append("(?:" + "|".join(_glob(p) for p in glob[i + 1 : end].split(",")))
            out.append(")")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _posix(path: str) -> str:
    return path.replace(os.sep, "/") if os.sep != "/" else path
