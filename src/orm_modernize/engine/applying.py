"""One pass's fixes applied: those whose edits do not overlap, each proven to
leave valid Python (or dropped and named), the statements they made too long
split again, and the module printed anew where they changed it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple, cast

import libcst as cst

from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import (
    Diagnostic,
    FileError,
    ImportSpec,
    Replacement,
    Violation,
)
from orm_modernize.engine.import_edits import add_and_remove
from orm_modernize.syntax.parsing import syntax_error
from orm_modernize.syntax.positions import Positions
from orm_modernize.syntax.replace import Origins, replaced
from orm_modernize.syntax.reprint import reprinted
from orm_modernize.syntax.rewrapping import rewrapped
from orm_modernize.syntax.tree import WalkedTree


class Where(NamedTuple):
    """The file being fixed."""

    path: Path
    compiles: bool  # by this Python (else LibCST's parser checks the fixes)
    packages: frozenset[str]  # the project's own, for where imports go
    line_length: int  # the project's, for where statements are split


class RuleError(Exception):
    """A rule, or applying its fixes, raised `__cause__`; the message names it."""


def fixed_pass(
    module: cst.Module,
    semantic: Semantic,
    wanted: list[tuple[Violation, Diagnostic]],
    where: Where,
    text: bytes,
    applied: list[Diagnostic],
    refused: set[tuple[str, str]],
    errors: list[FileError],
) -> bytes:
    """The module with the fixes `wanted` applied that do not overlap (the others
    wait for the next pass), for the next pass to read; `semantic`, the pass's
    analysis, is closed. Each fix applied is added to `applied`; one that would
    make invalid Python is dropped, said in `errors` and `refused` from then on."""
    chosen = _non_overlapping(wanted, semantic.positions)
    printed = Printed(
        text.decode(module.encoding),
        semantic.positions.statement_lines,
        semantic.walked,
    )
    semantic.close()
    fixed, failed = _apply_verified(module, [v for v, _ in chosen], where, printed)
    if len(failed) < len(chosen):
        # The statements the fixes made too long, split as black would split them.
        split = rewrapped(printed.text, fixed, where.line_length)
        if split != fixed and syntax_error(split, where.path, where.compiles) is None:
            fixed = split
    for violation, diagnostic in chosen:
        if violation in failed:
            refused.add((violation.code, module.code_for_node(violation.node)))
            errors.append(
                FileError(
                    "fix",
                    f"{diagnostic.line}:{diagnostic.column}: {violation.code}"
                    " fix dropped:"
                    f" it would produce invalid Python ({failed[violation]})",
                )
            )
        else:
            applied.append(diagnostic)
    return fixed.encode(module.encoding)


def _non_overlapping(
    wanted: list[tuple[Violation, Diagnostic]], positions: Positions
) -> list[tuple[Violation, Diagnostic]]:
    """Fixes whose edits touch disjoint ranges; the rest wait for the next pass."""
    taken: list[tuple[tuple[int, int], tuple[int, int]]] = []
    chosen = []
    shared: set[int] = set()  # fixes chosen: several findings may share one
    for violation, diagnostic in wanted:
        assert violation.fix is not None
        if id(violation.fix) in shared:
            chosen.append((violation, diagnostic))
            continue
        spans = []
        for edit in violation.fix.edits:
            where = positions[edit.node]
            spans.append(
                (
                    (where.start.line, where.start.column),
                    (where.end.line, where.end.column),
                )
            )
        if any(a[0] < b[1] and b[0] < a[1] for a in spans for b in taken):
            continue
        taken.extend(spans)
        shared.add(id(violation.fix))
        chosen.append((violation, diagnostic))
    return chosen


class Printed(NamedTuple):
    """The module's code, and the line each of its statements starts on: the
    statements that fixes leave as they were are not printed again."""

    text: str
    lines: Mapping[cst.CSTNode, int] | None
    walked: WalkedTree  # `tree.walk()` of the module: the replacer need not walk it


def _apply_verified(
    module: cst.Module, violations: list[Violation], where: Where, printed: Printed
) -> tuple[str, dict[Violation, str]]:
    """The code of `module` with the fixes applied; a fix whose output is not valid
    Python is left out and named."""
    path, compiles, packages, _ = where

    def code(chosen: list[Violation]) -> str:
        origins: Origins = {}
        fixed = _apply(module, chosen, packages, origins, printed.walked)
        return reprinted(module, printed.text, printed.lines, fixed, origins)

    def error(fixed: str) -> str | None:
        return syntax_error(fixed, path, compiles)

    try:
        fixed = code(violations)
    except Exception as crash:
        culprits = {v.code for v in violations if _crashes(module, v, packages)}
        codes = ", ".join(sorted(culprits or {v.code for v in violations}))
        raise RuleError(f"the fix of {codes}") from crash
    problem = error(fixed)
    if problem is None:
        return fixed, {}
    failed = {}
    for violation in violations:
        alone = error(code([violation]))
        if alone is not None:
            failed[violation] = alone
    survivors = [v for v in violations if v not in failed]
    fixed = code(survivors)
    if survivors and error(fixed) is not None:
        # Each is valid alone but not together: keep the file, report them all.
        return module.code, {v: problem for v in violations}
    return fixed, failed


def _crashes(
    module: cst.Module, violation: Violation, packages: frozenset[str]
) -> bool:
    try:
        _apply(module, [violation], packages)
    except Exception:
        return True
    return False


def _apply(
    module: cst.Module,
    violations: list[Violation],
    packages: frozenset[str],
    origins: Origins | None = None,
    walked: WalkedTree | None = None,
) -> cst.Module:
    """`module` with the fixes of `violations` applied; `packages`: the project's
    own, whose imports isort sorts apart from third-party ones; `origins` gets
    the nodes rebuilt around the edits."""
    edits: dict[int, Replacement] = {}
    needed: list[ImportSpec] = []
    freed: set[str] = set()
    for violation in violations:
        assert violation.fix is not None
        for edit in violation.fix.edits:
            edits[id(edit.node)] = edit.replacement
        needed.extend(violation.fix.imports)
        freed.update(violation.fix.unused)
    module = cast(cst.Module, replaced(module, edits, origins, walked))
    if not needed and not freed:
        return module
    return add_and_remove(module, needed, freed, packages)
