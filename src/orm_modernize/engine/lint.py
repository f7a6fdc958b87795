"""The pure core: bytes in, `FileResult` out. No I/O, no printing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

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
    Settings,
    Target,
    Violation,
)
from orm_modernize.engine.applying import RuleError, Where, fixed_pass
from orm_modernize.rules.base import Rule
from orm_modernize.syntax import noqa, tree
from orm_modernize.syntax.parsing import Unparseable, parse, syntax_error

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
            # identity the analyses key. (The fixes' check compiled it.)
            try:
                module, _ = parse(text, path, compiled=where.compiles)
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
        text = fixed_pass(
            module, semantic, wanted, where, text, applied, refused, errors
        )
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
