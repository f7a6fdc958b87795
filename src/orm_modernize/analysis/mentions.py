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
    """(name, the modules that name it) of each method or query function
    (`.active` or "active") and each dynamic relationship (`.posts`, "posts" or
    an indented `posts =`) of the `facts`, searched in `sources()`: (absolute
    path, bytes) of every module of the project, read only when there is a name
    to look for (else None)."""
    methods = {n for _, f in facts for n in f.query_methods | f.query_functions}
    attributes = {n for _, f in facts for n in f.dynamic} - methods
    if not methods and not attributes:
        return None
    # `.active()` or "active": another module reaches a method or an attribute
    # only so (a local variable `active` is not a use of it). One pattern per
    # spelling, each beginning with a literal that `re` skips ahead to: an
    # alternation of them all was tried at every byte, four times as slow.
    names = _alternation(methods | attributes)
    spellings = [
        re.compile(spelling % names)
        for spelling in (rb"\.(%s)\b", rb'"(%s)["\']', rb"'(%s)[\"']")
    ]
    # An indented `posts = ...` or `posts: ...`: another class's attribute of
    # that name, unless the module shows it is a local variable.
    assigned = (
        re.compile(rb"(%s)[ \t]*(?::|=(?!=))" % _alternation(attributes))
        if attributes
        else None
    )
    found: dict[bytes, list[str]] = {n: [] for n in sorted(methods | attributes)}
    for where, source in sources():
        named = {m[1] for spelling in spellings for m in spelling.finditer(source)}
        if assigned is not None:
            named.update(
                m[1] for m in assigned.finditer(source) if _indented(source, m.start())
            )
        for name in named:
            found[name].append(where)
    return tuple((n.decode("latin-1"), tuple(paths)) for n, paths in found.items())


def _alternation(names: Iterable[bytes]) -> bytes:
    """A pattern matching any of `names` (one at least), factored as a trie
    (`re` tries the branches of an alternation one by one)."""
    trie: dict[int, dict] = {}  # type: ignore[type-arg]
    for name in names:
        node = trie
        for byte in name:
            node = node.setdefault(byte, {})
        node[-1] = {}  # a name ends here

    def pattern(node: dict[int, dict]) -> bytes:  # type: ignore[type-arg]
        branches = [
            re.escape(bytes([byte])) + pattern(below)
            for byte, below in sorted(node.items())
            if byte != -1
        ]
        if not branches:
            return b""
        body = branches[0] if len(branches) == 1 else b"(?:%s)" % b"|".join(branches)
        return b"(?:%s)?" % body if -1 in node else body

    return pattern(trie)


def _indented(source: bytes, at: int) -> bool:
    """Whether `at` follows a line's indentation, and nothing else."""
    line = source.rfind(b"\n", 0, at) + 1
    return line < at and not source[line:at].strip(b" \t")


def declared_once(
    facts: Sequence[tuple[Path, ModuleFacts]],
) -> tuple[tuple[str, str], ...]:
    """(name, the module (absolute path) declaring it) of each dynamic relationship
    that one module of the project declares, and no other."""
    return tuple(
        (name, paths[0])
        for name, paths in _defining(facts, lambda module: module.dynamic)
        if len(paths) == 1
    )


def methods_named_elsewhere(
    facts: Sequence[tuple[Path, ModuleFacts]], mentions: Mentions
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(name, the modules (absolute paths) defining it) of each method of the
    `facts` that may return a query and that a module other than those names."""
    named = dict(mentions)
    return tuple(
        (name, tuple(paths))
        for name, paths in _defining(facts, lambda module: module.query_methods)
        if set(named.get(name, ())) - set(paths)
    )


def _defining(
    facts: Sequence[tuple[Path, ModuleFacts]],
    names: Callable[[ModuleFacts], Iterable[bytes]],
) -> list[tuple[str, list[str]]]:
    """(name, the modules (absolute paths) whose `names()` hold it), sorted."""
    defining: dict[bytes, list[str]] = {}
    for path, module in facts:
        for name in names(module):
            defining.setdefault(name, []).append(os.path.abspath(path))
    return [(n.decode("latin-1"), paths) for n, paths in sorted(defining.items())]
