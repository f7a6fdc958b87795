"""A small sample of real files with all the syntax of many.

The tests that compare our tree walk, positions and scopes with LibCST's own
metadata pay about a second of LibCST per file. Running them on every module of
the tool and every fixture found nothing that a much smaller set misses: what can
differ is a construct, or a construct inside another. So they run on the fewest
files (greedy, weighed by size) that together hold every Python node type and
every parent → child pair of node types that the whole set holds.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _constructs(path: Path) -> frozenset[object]:
    try:
        module = ast.parse(path.read_bytes())
    except SyntaxError:  # a fixture of bad input: no construct to compare
        return frozenset()
    found: set[object] = set()
    for node in ast.walk(module):
        found.add(type(node).__name__)
        found.update(
            (type(node).__name__, type(child).__name__)
            for child in ast.iter_child_nodes(node)
        )
    return frozenset(found)


def covering(paths: Iterable[Path]) -> list[Path]:
    """The files, in path order, of a greedy cover of `paths`' constructs."""
    held = {path: _constructs(path) for path in sorted(paths)}
    size = {path: path.stat().st_size + 2_000 for path in held}  # + a parse's cost
    wanted = set().union(*held.values())
    chosen: list[Path] = []
    while wanted:
        best = max(held, key=lambda p: len(held[p] & wanted) / size[p])
        chosen.append(best)
        wanted -= held[best]
    return sorted(chosen)


@cache
def own_code_and_fixtures() -> tuple[Path, ...]:
    """The sample of the tool's own modules and the fixtures."""
    own = (ROOT / "src" / "orm_modernize").rglob("*.py")
    fixtures = (ROOT / "fixtures").rglob("*.py")
    return tuple(covering([*own, *fixtures]))
