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
import contextlib
import hashlib
import json
import os
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


# The last sample chosen, by a digest of the files it was chosen from: each worker
# chooses it while collecting the suite, which parses 500 files (1.5 s).
CHOSEN = ROOT / ".fixture-envs" / "syntax-sample.json"


@cache
def own_code_and_fixtures() -> tuple[Path, ...]:
    """The sample of the tool's own modules and the fixtures."""
    own = (ROOT / "src" / "orm_modernize").rglob("*.py")
    fixtures = (ROOT / "fixtures").rglob("*.py")
    paths = sorted([*own, *fixtures])
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path.relative_to(ROOT)}\0".encode() + path.read_bytes())
    key = digest.hexdigest()
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        known = json.loads(CHOSEN.read_text())
        if known["key"] == key:
            return tuple(ROOT / name for name in known["sample"])
    sample = covering(paths)
    with contextlib.suppress(OSError):
        CHOSEN.parent.mkdir(exist_ok=True)
        written = CHOSEN.with_suffix(f".{os.getpid()}.tmp")
        names = [str(p.relative_to(ROOT)) for p in sample]
        written.write_text(json.dumps({"key": key, "sample": names}))
        os.replace(written, CHOSEN)  # whole, for another worker reading it
    return tuple(sample)
