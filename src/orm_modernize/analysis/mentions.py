"""Which modules of the project name what rules follow by name alone: the
methods that may return a query (`module_facts.query_methods()`), converted with
their callers, and the dynamic relationships
(`relationship_facts.dynamic_relationships()`), made write-only with their uses.
One that no other module names is used in its own module only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from orm_modernize.analysis.module_facts import ModuleFacts

Mentions = tuple[tuple[str, tuple[str, ...]], ...]


def named_in(
    facts: Sequence[tuple[Path, ModuleFacts]],
    sources: Callable[[], Iterable[tuple[str, bytes]]],
) -> Mentions | None:
    """(name, the modules that name it) of each method (`.active` or "active")
    and each dynamic relationship (`.posts`, "posts" or an indented `posts =`) of the
    `facts`, searched in `sources()`: (absolute path, bytes) of every module of
    the project, read only when there is a name to look for (else None)."""
    methods = {n for _, f in facts for n in f.query_methods}
    attributes = {n for _, f in facts for n in f.dynamic} - methods
    patterns = []
    if methods:
        # `.active()` or "active": another module reaches a method only so (a
        # local variable `active` is not a use of it)
        names = b"|".join(map(re.escape, sorted(methods)))
        patterns.append(rb"\.(%s)\b|[\"'](%s)[\"']" % (names, names))
    if attributes:
        # `.posts`, "posts", and an indented `posts = ...`: another class's
        # attribute of that name, unless the module shows it is a local variable
        names = b"|".join(map(re.escape, sorted(attributes)))
        patterns.append(
            rb"\.(%s)\b|[\"'](%s)[\"']|^[ \t]+(%s)[ \t]*(?::|=(?!=))"
            % (names, names, names)
        )
    if not patterns:
        return None
    mention = re.compile(b"|".join(patterns), re.MULTILINE)
    found: dict[bytes, list[str]] = {n: [] for n in sorted(methods | attributes)}
    for where, source in sources():  # the one group that matched is the last set
        for name in {m[m.lastindex or 0] for m in mention.finditer(source)}:
            found[name].append(where)
    return tuple((n.decode("latin-1"), tuple(paths)) for n, paths in found.items())


def declared_once(
    facts: Sequence[tuple[Path, ModuleFacts]],
) -> tuple[tuple[str, str], ...]:
    """(name, the module (absolute path) declaring it) of each dynamic relationship
    that one module of the project declares, and no other."""
    declaring: dict[bytes, list[str]] = {}
    for path, module in facts:
        for name in module.dynamic:
            declaring.setdefault(name, []).append(os.path.abspath(path))
    return tuple(
        (name.decode("latin-1"), paths[0])
        for name, paths in sorted(declaring.items())
        if len(paths) == 1
    )
