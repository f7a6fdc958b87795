"""Which files git ignores, read as ruff's `respect-gitignore` reads them: the
user's global excludes (`$XDG_CONFIG_HOME/git/ignore`), the repository's
`.git/info/exclude`, and every `.gitignore` from the repository's top down to
the file, a deeper one overriding a shallower one (negation included). Outside
a repository, only the `.gitignore` files of the walked tree count.

The patterns are matched by `pathspec`, which implements git's own rules.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orm_modernize.workspace.git_index import repository_top

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


@dataclass(frozen=True)
class Ignored:
    """The rules that apply in one directory of a walk, shallowest first: each is
    (the directory it is relative to, absolute with a trailing `/`, its spec)."""

    rules: tuple[tuple[str, Rules], ...] = ()
    reads: bool = True  # False: `respect-gitignore = false`, no file is read

    def below(self, directory: str) -> Ignored:
        """The rules of `directory` (absolute, with a trailing `/`): these and its
        own `.gitignore`, if it has one."""
        if not self.reads:
            return self
        rules = _read(directory + ".gitignore")
        return self if rules is None else Ignored((*self.rules, (directory, rules)))

    def ignores(self, path: str, is_directory: bool) -> bool:
        """Whether git ignores `path` (absolute): the deepest rule that says
        anything decides."""
        decided = None
        for base, rules in self.rules:
            if path.startswith(base):
                relative = path[len(base) :] + ("/" if is_directory else "")
                if rules.any.match(relative) is None:
                    continue  # most paths: no pattern of the file matches at all
                include = rules.spec.check_file(relative).include
                if include is not None:
                    decided = include
        return bool(decided)


NOTHING = Ignored(reads=False)


def at(root: str) -> Ignored:
    """The rules in force at `root` (absolute), the directory a walk starts in:
    those of the repository above it, and its own `.gitignore`."""
    top = repository_top(root)
    if top is None:
        return Ignored().below(os.path.join(root, ""))
    rules = Ignored()
    base = os.path.join(top, "")
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    for source in (os.path.join(config, "git", "ignore"), top + "/.git/info/exclude"):
        found = _read(source)
        if found is not None:
            rules = Ignored((*rules.rules, (base, found)))
    directory = base
    rules = rules.below(directory)
    for part in os.path.relpath(root, top).split(os.sep):
        if part not in ("", "."):
            directory = os.path.join(directory, part, "")
            rules = rules.below(directory)
    return rules


@dataclass(frozen=True)
class Rules:
    """One ignore file's patterns, and one regex that any of them matches: asking
    pathspec which pattern decides costs microseconds a pattern, and a walk asks
    for every file of the project."""

    spec: GitIgnoreSpec
    any: re.Pattern[str]


def _read(path: str) -> Rules | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            lines = file.read().splitlines()
    except OSError:  # none there (the common case), or unreadable: no rules
        return None
    # 16 ms of imports, only for a tree that has an ignore file
    from pathspec import GitIgnoreSpec
    from pathspec.pattern import RegexPattern

    spec = GitIgnoreSpec.from_lines(lines)
    active = [p for p in spec.patterns if p.include is not None]
    if not active:
        return None
    regexes = [
        # pathspec's own regexes, whose named groups may not repeat in one
        GROUP.sub("(?:", p.regex.pattern)
        for p in active
        if isinstance(p, RegexPattern) and p.regex is not None
    ]
    if len(regexes) < len(active):  # a pattern without a regex: no shortcut
        return Rules(spec, re.compile(""))
    return Rules(spec, re.compile("|".join(f"(?:{r})" for r in regexes)))


GROUP = re.compile(r"\(\?P<\w+>")
