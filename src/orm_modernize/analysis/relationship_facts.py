"""What a module's `relationship()` calls say, read by regular expressions as the
rest of `module_facts`: the attributes of two-way pairs, the relationships loaded
by a join, and the dynamic ones. Each search for the call around a keyword stays
within `CALL` bytes of it, whatever the module's size.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator

# relationship(..., backref="user") / backref=backref("user", ...)
BACKREF = re.compile(
    rb"""backref(?<!\wbackref)\s*=\s*(?:[\w.]*backref\(\s*)?["'](\w+)["']"""
)


# relationship(..., back_populates="user"): each side of a pair names the other,
# so these names are every attribute of the pairs (a backref that ORM406 wrote
# out is as two-way as it was, though no backref makes it)
BACK_POPULATES = re.compile(
    rb"""back_populates(?<!\wback_populates)\s*=\s*["'](\w+)["']"""
)


# `name = relationship(` (`name: Mapped[...] = db.relationship(`, ...): the
# attribute a relationship() call is assigned to, read back from the call's name
ASSIGNED_TO = re.compile(rb"(\w+)\s*(?::[^=\n]*)?=\s*(?:[\w.]+\.)?$")


# `relationship(..., lazy="joined")` or `lazy=False` (a `backref()` too): loaded
# by a join whenever its class is; a collection so loaded repeats that class's
# rows, so that 2.x refuses to fetch them without `unique()`
JOINED_EAGER = re.compile(rb"""lazy\s*=\s*(?:["']joined["']|False\b)""")
RELATIONSHIP_CALLS = (b"relationship(", b"relation(", b"backref(")
# The longest stretch of a relationship() call read on either side of its
# `lazy=`: every search stays within it, whatever the module's size
CALL = 5_000
FIRST_ARGUMENT = re.compile(rb"""\(\s*["']?([A-Za-z_][\w.]*)""")
# A relationship to one object: `uselist=False`, or `foreign_keys=` naming a
# column of its own class (a bare name: many-to-one)
SCALAR = re.compile(rb"uselist\s*=\s*False|foreign_keys\s*=\s*\[?\s*[a-z_]\w*\s*[\],)]")


# `lazy="dynamic"`: a relationship whose attribute is a query
DYNAMIC = re.compile(rb"""\blazy\s*=\s*["']dynamic["']""")


def dynamic_relationships(source: bytes) -> frozenset[bytes]:
    """The attributes assigned a call with `lazy="dynamic"` (`posts =
    relationship(Post, lazy="dynamic")`): a rule may make them write-only
    collections with every use of them."""
    if b"dynamic" not in source:
        return frozenset()
    return frozenset(_assigned(source, DYNAMIC.finditer(source)))


def paired(source: bytes, backref: bool) -> frozenset[bytes]:
    """The attributes of two-way relationships that need not be made by a
    backref: every `back_populates=` name, and the attribute a relationship with
    a `backref=` is assigned to (`backref`: whether the module says backref)."""
    found = set(BACK_POPULATES.findall(source) if b"back_populates" in source else ())
    if backref:
        found.update(_assigned(source, BACKREF.finditer(source)))
    return frozenset(found)


def _assigned(source: bytes, keywords: Iterable[re.Match[bytes]]) -> Iterator[bytes]:
    """The attribute assigned each `relationship()` (not `backref()`) call that
    holds one of the `keywords`."""
    for match in keywords:
        at = match.start()
        enclosing = _enclosing_call(source, max(0, at - CALL), at)
        if enclosing is None or enclosing[0] == b"backref(":
            continue
        name, start, _ = enclosing
        called = start - len(name) + 1
        line = source.rfind(b"\n", 0, called) + 1
        assigned = ASSIGNED_TO.search(source, line, called)
        if assigned:
            yield assigned.group(1)


def joined(
    source: bytes, starts: list[tuple[int, bytes]]
) -> tuple[tuple[tuple[bytes, bytes, bool], ...], bool]:
    """The relationships loaded by a join, each in the top-level class above it,
    and whether some cannot be told apart."""
    found: list[tuple[bytes, bytes, bool]] = []
    begins = [start for start, _ in starts]
    for match in JOINED_EAGER.finditer(source):
        at = match.start()
        above = bisect.bisect_left(begins, at)
        if not above:
            return tuple(found), True
        # A call's arguments are not this long: the search back is bounded.
        enclosing = _enclosing_call(source, max(begins[above - 1], at - CALL), at)
        if enclosing is None or enclosing[0] == b"backref(":
            return tuple(found), True
        _, start, end = enclosing
        call = source[start:end]
        target = FIRST_ARGUMENT.match(call)
        found.append(
            (
                starts[above - 1][1],
                target.group(1).rsplit(b".", 1)[-1] if target else b"",
                SCALAR.search(call) is None,
            )
        )
    return tuple(found), False


def _enclosing_call(
    source: bytes, begin: int, at: int
) -> tuple[bytes, int, int] | None:
    """(name, where its "(" opens, where it closes) of the innermost
    `relationship()`, `relation()` or `backref()` call around `at`, searched
    back to `begin`."""
    calls = sorted(
        (position, name)
        for name in RELATIONSHIP_CALLS
        for position in _occurrences(source, name, begin, at)
    )
    for position, name in reversed(calls):
        start = position + len(name) - 1
        end = _closing(source, start, at + CALL)
        if end > at:
            return name, start, end
    return None


def _occurrences(source: bytes, word: bytes, begin: int, end: int) -> list[int]:
    found = []
    position = source.find(word, begin, end)
    while position >= 0:
        found.append(position)
        position = source.find(word, position + 1, end)
    return found


def _closing(source: bytes, start: int, stop: int) -> int:
    """Where the bracket opened at `start` closes, searched up to `stop` (which
    it returns when the bracket is still open there)."""
    depth = 0
    for index in range(start, min(stop, len(source))):
        char = source[index]
        if char in b"([{":
            depth += 1
        elif char in b")]}":
            depth -= 1
            if depth == 0:
                return index
    return min(stop, len(source))
