"""Every fixture case: findings equal the markers, fixes give the `after` file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import Case, Expected, discover_cases, discover_noops, fixture_index

from orm_modernize.data.records import FileResult, Settings
from orm_modernize.engine.lint import lint_source

CASES = discover_cases()
NOOPS = discover_noops()


def lint(case: Case, source: bytes, **settings: bool) -> FileResult:
    result = lint_source(
        source,
        case.before,
        Settings(select=(case.code,), **settings),
        project=fixture_index(case.before),
    )
    assert result.errors == ()
    return result


def fixed(result: FileResult) -> bytes:
    return result.fixed if result.fixed is not None else result.source or b""


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_findings_equal_markers(case: Case) -> None:
    result = lint(case, case.source())
    found = [
        Expected(d.code, d.line, d.applicability or "nofix") for d in result.diagnostics
    ]
    assert found == case.expected()
    assert found, "a _before file must hold at least one finding"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fix_gives_after(case: Case) -> None:
    result = lint(case, case.source(), fix=True, unsafe_fixes=True)
    expected = case.after.read_bytes() if case.after else case.source()
    assert fixed(result).decode() == expected.decode()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_safe_fixes_leave_only_unsafe_and_nofix_findings(case: Case) -> None:
    result = lint(case, case.source(), fix=True)
    left = Counter((d.code, d.applicability or "nofix") for d in result.diagnostics)
    wanted = Counter((e.code, e.kind) for e in case.expected() if e.kind != "safe")
    assert left == wanted
    assert all(d.applicability != "safe" for d in result.diagnostics)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixing_after_changes_nothing(case: Case) -> None:
    after = case.after.read_bytes() if case.after else case.source()
    compile(after, str(case.after or case.before), "exec")
    result = lint(case, after, fix=True, unsafe_fixes=True)
    assert result.fixed is None
    assert result.applied == ()


@pytest.mark.parametrize(
    "noop", NOOPS, ids=[f"{p.parent.name}/{p.stem}" for p in NOOPS]
)
def test_noop_gives_no_finding(noop: Path) -> None:
    source = noop.read_bytes()
    compile(source, str(noop), "exec")
    result = lint_source(
        source,
        noop,
        Settings(select=(noop.parent.name,), fix=True, unsafe_fixes=True),
        project=fixture_index(noop),
    )
    assert result.errors == ()
    assert result.diagnostics == ()
    assert result.fixed is None
