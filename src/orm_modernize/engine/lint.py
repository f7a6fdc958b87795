"""The pure core: bytes in, `FileResult` out. No I/O, no printing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple, cast

import libcst as cst
from libcst._position import CodeRange  # no public name outside libcst.metadata

from orm_modernize.analysis.pins import target_of
from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import (
    Diagnostic,
    Exports,
    FileError,
    FileResult,
    ImportSpec,
    Replacement,
    Settings,
    Target,
    Violation,
)
from orm_modernize.rules.base import Rule
from orm_modernize.syntax import noqa, tree
from orm_modernize.syntax.parsing import Unparseable, parse, syntax_error
from orm_modernize.syntax.positions import Positions
from orm_modernize.syntax.replace import replaced
from orm_modernize.syntax.wrapping import rewrapped

# A fix can uncover another (a query nested in a query's arguments is rewritten on the
# next pass); real files settle in two or three passes.
MAX_PASSES = 10
UNUSED_NOQA = "ORM900"  # judges the noqa comments by what the others found


def lint_source(
    source: bytes,
    path: Path,
    settings: Settings,
    *,
    project: ProjectIndex | None = None,
    rules: Sequence[type[Rule]] | None = None,
    each_pass: Callable[[], None] | None = None,
) -> FileResult:
    """Check one file's bytes and, when `settings.fix`, rewrite them;
    `each_pass()` is called as each pass over the module starts (the runner
    gives each its own time budget)."""
    if not (project or ProjectIndex()).may_use_sqlalchemy(source):
        return FileResult(path, source=source)
    enabled = _enabled(source, settings, rules)
    active = [r for r in enabled if r.triggered(source, project)]
    if not active:
        return FileResult(path, source=source)
    try:
        module, compiles = parse(source, path)
    except Unparseable as error:
        return FileResult(path, source=source, errors=(FileError("parse", str(error)),))

    known = project or ProjectIndex()
    target = target_of(settings.target_version, known.pins_for(path))
    where = Where(
        path,
        compiles,
        known.packages,
        settings.line_length or known.line_length_for(path),
    )
    applied: list[Diagnostic] = []
    errors: list[FileError] = []
    refused: set[tuple[str, str]] = set()  # fixes that produced invalid Python
    first_pass: list[Diagnostic] | None = None
    # What the first pass learned for the runs over several modules (only the
    # facts: holding its Semantic would keep that pass's tree alive).
    exports = Exports()
    text = source
    for passes in range(MAX_PASSES):
        if each_pass is not None:
            each_pass()
        if passes:
            # Each pass reads what the last one printed, as a second run would, so
            # the last pass, with nothing left to fix, proves that a second run
            # changes nothing. A tree that fixes built is not enough: it may print
            # as code that parses differently, and it may share nodes, on whose
            # identity the analyses key.
            try:
                module, _ = parse(text, path)
            except Unparseable as error:
                codes = ", ".join(sorted({d.code for d in applied}))
                return _unchanged(
                    source, path, first_pass, f"the fixes of {codes}: {error}"
                )
            active = [r for r in enabled if r.triggered(text, project)]
        violations, semantic, silenced = _collect(
            module, active, project, target, settings, path, text
        )
        if passes == 0:
            exports = semantic.exports
        violations, diagnostics = _reported(violations, semantic, settings)
        # ORM900 judges the noqa comments by what the other rules found.
        stale = _unused_noqa(text, module.encoding, silenced, enabled, settings)
        if first_pass is None:
            first_pass = _in_order(diagnostics + _shown(stale, settings))
        wanted = [
            (v, d)
            for v, d in zip(violations, diagnostics)
            if settings.fix
            and _applicable(v, settings)
            and (v.code, module.code_for_node(v.node)) not in refused
        ]
        if not wanted:
            cleaned = _without_stale(text, module.encoding, stale, where, settings)
            if cleaned is not None:  # the next pass proves it changed nothing else
                semantic.close()
                text = cleaned
                applied.extend(_shown(stale, settings))
                continue
            if settings.edits:
                diagnostics = _with_edits(module, violations, diagnostics, semantic)
            semantic.close()
            diagnostics = _in_order(diagnostics + _shown(stale, settings))
            break
        chosen = _non_overlapping(wanted, semantic.positions)
        semantic.close()
        text = _fixed(module, chosen, where, text, applied, refused, errors)
    else:
        # Leave the file as it was and say which rules kept firing.
        codes = ", ".join(sorted({d.code for d in diagnostics}))
        return _unchanged(source, path, first_pass, f"fixes did not converge ({codes})")
    new = text if applied else None  # what the last pass read, and found done
    return FileResult(
        path,
        diagnostics=tuple(diagnostics),
        applied=tuple(applied),
        source=source,
        fixed=new if new != source else None,
        errors=tuple(errors),
        exports=exports,
    )


def _fixed(
    module: cst.Module,
    chosen: Sequence[tuple[Violation, Diagnostic]],
    where: Where,
    old: bytes,
    applied: list[Diagnostic],
    refused: set[tuple[str, str]],
    errors: list[FileError],
) -> bytes:
    """The module with the `chosen` fixes applied, for the next pass to read. Each
    fix applied is added to `applied`; one that would make invalid Python is
    dropped, said in `errors` and `refused` from then on."""
    fixed, failed = _apply_verified(module, [v for v, _ in chosen], where)
    if len(failed) < len(chosen):
        # The statements the fixes made too long, split as black would split them.
        split = rewrapped(old.decode(module.encoding), fixed, where.line_length)
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


def _unchanged(
    source: bytes, path: Path, diagnostics: list[Diagnostic] | None, why: str
) -> FileResult:
    """The file as it was, its first findings, and why its fixes were all dropped."""
    return FileResult(
        path,
        diagnostics=tuple(diagnostics or ()),
        source=source,
        errors=(FileError("fix", f"internal error: {why}; file left unchanged"),),
    )


class Where(NamedTuple):
    """The file being fixed."""

    path: Path
    compiles: bool  # by this Python (else LibCST's parser checks the fixes)
    packages: frozenset[str]  # the project's own, for where imports go
    line_length: int  # the project's, for where statements are split


class RuleError(Exception):
    """A rule, or applying its fixes, raised `__cause__`; the message names it."""


def _collect(
    module: cst.Module,
    rules: Sequence[type[Rule]],
    project: ProjectIndex | None,
    target: Target,
    settings: Settings,
    path: Path,
    source: bytes | None,
) -> tuple[list[Violation], Semantic, dict[int, set[str]]]:
    """`source`: what `module` was parsed from, if it is unchanged since; the fixes
    as the target version and the settings allow them."""
    walked = tree.walk(module)
    semantic = Semantic(module, project, path, walked, source)
    visitors = [rule(semantic) for rule in rules]
    try:
        tree.dispatch(walked[1], visitors)
    except tree.VisitorError as error:
        code = getattr(error.visitor, "code", str(error))
        raise RuleError(code) from error.__cause__
    violations = [
        _as_configured(_within(v, visitor, target), settings)
        for visitor in visitors
        for v in visitor.violations
    ]
    silenced: dict[int, set[str]] = {}  # the line of a noqa comment -> what it silenced
    if not violations:
        return violations, semantic, silenced
    code = semantic.text
    if "noqa" not in code and "NOQA" not in code:
        return violations, semantic, silenced
    suppressed = semantic.suppressions
    if not suppressed.found:
        return violations, semantic, silenced
    positions = semantic.positions
    kept = []
    for v in violations:
        line = positions[v.node].start.line
        if suppressed.suppresses(v.code, line):
            silenced.setdefault(suppressed.directive_line(line), set()).add(v.code)
        else:
            kept.append(v)
    return kept, semantic, silenced


def _unused_noqa(
    text: bytes,
    encoding: str,
    silenced: dict[int, set[str]],
    enabled: Sequence[type[Rule]],
    settings: Settings,
) -> list[Diagnostic]:
    """ORM900's findings, when it runs on the file: each `# noqa` whose codes of
    rules that run here silenced nothing, or that names no code of ours."""
    codes = {rule.code for rule in enabled}
    if UNUSED_NOQA not in codes or (b"noqa" not in text and b"NOQA" not in text):
        return []
    from orm_modernize.rules.meta.unused_noqa import unused_noqa

    found = unused_noqa(text.decode(encoding), silenced, codes.__contains__)
    # As `_as_configured` gives the other rules' fixes: none when not fixable,
    # graded by `extend-safe-fixes` / `extend-unsafe-fixes`.
    if not settings.fix_allowed(UNUSED_NOQA):
        return [replace(d, fix_title=None, applicability=None, edits=()) for d in found]
    if not settings.graded_safe(UNUSED_NOQA, True):
        return [replace(d, applicability="unsafe") for d in found]
    return found


def _enabled(
    source: bytes, settings: Settings, rules: Sequence[type[Rule]] | None
) -> list[type[Rule]]:
    """The rules that run on the file: selected, and not silenced by a file-level
    noqa comment."""
    if rules is None:
        from orm_modernize.rules import ALL_RULES

        rules = ALL_RULES
    exempt = noqa.file_exemption(source)
    if exempt is noqa.ALL:
        return []
    return [r for r in rules if settings.enabled(r.code) and r.code not in exempt]


def _without_stale(
    text: bytes,
    encoding: str,
    stale: list[Diagnostic],
    where: Where,
    settings: Settings,
) -> bytes | None:
    """`text` without the codes of unused noqa comments, when their fixes apply
    (once nothing else is left to fix: a comment has no bearing on what the other
    rules find); None when they do not."""
    if not (stale and settings.fix and stale[0].applicability is not None):
        return None
    if stale[0].applicability == "unsafe" and not settings.unsafe_fixes:
        return None
    from orm_modernize.rules.meta.unused_noqa import applied

    new = applied(text.decode(encoding), [e for d in stale for e in d.edits])
    if syntax_error(new, where.path, where.compiles) is not None:
        return None
    return new.encode(encoding)


def _shown(stale: list[Diagnostic], settings: Settings) -> list[Diagnostic]:
    """ORM900's findings as reported: with their edits only when asked."""
    return stale if settings.edits else [replace(d, edits=()) for d in stale]


def _reported(
    violations: list[Violation], semantic: Semantic, settings: Settings
) -> tuple[list[Violation], list[Diagnostic]]:
    """The violations and their diagnostics, in the order of their positions."""
    pairs = sorted(
        ((v, _diagnostic(v, semantic.positions[v.node], settings)) for v in violations),
        key=lambda pair: _place(pair[1]),
    )
    return [v for v, _ in pairs], [d for _, d in pairs]


def _in_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=_place)


def _place(diagnostic: Diagnostic) -> tuple[int, int, str]:
    return diagnostic.line, diagnostic.column, diagnostic.code


def _within(violation: Violation, rule: Rule, target: Target) -> Violation:
    """The violation without its fix when the fixed code needs a newer SQLAlchemy
    than the target: still reported, never applied."""
    if violation.fix is None or _version(rule.fix_runs_on) <= _version(target.version):
        return violation
    why = f" ({target.source})" if target.pinned else ""
    return replace(
        violation,
        fix=None,
        message=f"{violation.message} (no fix: it needs SQLAlchemy"
        f" {rule.fix_runs_on}, the target is {target.version}{why})",
    )


def _as_configured(violation: Violation, settings: Settings) -> Violation:
    """The violation's fix as the configuration wants it: none for an unfixable
    rule, graded by `extend-safe-fixes` and `extend-unsafe-fixes`."""
    fix = violation.fix
    if fix is None:
        return violation
    if not settings.fix_allowed(violation.code):
        return replace(violation, fix=None)
    safe = settings.graded_safe(violation.code, fix.safe)
    return (
        violation
        if safe == fix.safe
        else replace(violation, fix=replace(fix, safe=safe))
    )


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _applicable(violation: Violation, settings: Settings) -> bool:
    fix = violation.fix
    return fix is not None and (fix.safe or settings.unsafe_fixes)


def _diagnostic(
    violation: Violation, where: CodeRange, settings: Settings
) -> Diagnostic:
    fix = violation.fix
    return Diagnostic(
        code=violation.code,
        message=violation.message,
        line=where.start.line,
        column=where.start.column + 1,
        end_line=where.end.line,
        end_column=where.end.column + 1,
        fix_title=violation.fix_title if fix else None,
        applicability=None if fix is None else ("safe" if fix.safe else "unsafe"),
    )


def _with_edits(
    module: cst.Module,
    violations: list[Violation],
    diagnostics: list[Diagnostic],
    semantic: Semantic,
) -> list[Diagnostic]:
    """Each fixable finding with its fix as text edits."""
    from orm_modernize.engine.text_edits import TextEdits
    from orm_modernize.syntax.statements import top_level_statement

    edits = TextEdits(
        module,
        semantic.positions,
        lambda node: top_level_statement(node, semantic.parent),
    )
    return [
        d if v.fix is None else replace(d, edits=edits.of(v))
        for v, d in zip(violations, diagnostics)
    ]


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


def _apply_verified(
    module: cst.Module, violations: list[Violation], where: Where
) -> tuple[str, dict[Violation, str]]:
    """The code of `module` with the fixes applied; a fix whose output is not valid
    Python is left out and named."""
    path, compiles, packages, _ = where

    def code(chosen: list[Violation]) -> str:
        return _apply(module, chosen, packages).code

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
    module: cst.Module, violations: list[Violation], packages: frozenset[str]
) -> cst.Module:
    """`module` with the fixes of `violations` applied; `packages`: the project's
    own, whose imports isort sorts apart from third-party ones."""
    edits: dict[int, Replacement] = {}
    needed: list[ImportSpec] = []
    freed: set[str] = set()
    for violation in violations:
        assert violation.fix is not None
        for edit in violation.fix.edits:
            edits[id(edit.node)] = edit.replacement
        needed.extend(violation.fix.imports)
        freed.update(violation.fix.unused)
    module = cast(cst.Module, replaced(module, edits))
    if not needed and not freed:
        return module
    # LibCST's codemod package and its matchers: 0.15 s that a check never needs.
    from orm_modernize.engine import import_edits

    return import_edits.add_and_remove(module, needed, freed, packages)
