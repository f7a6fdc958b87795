"""Each fixture pair runs on SQLite: `before` on SQLAlchemy 1.4.54, `after` on 2.1
with SQLAlchemy's deprecation warnings as errors, and both print the same. A rule
whose fixes run on 1.4 too has its `after` run on 1.4.54 as well."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import Case, discover_cases, run_program

from orm_modernize.rules import RULES_BY_CODE

CASES = discover_cases()
PAIRS = [c for c in CASES if c.after is not None]
DUAL = [c for c in PAIRS if RULES_BY_CODE[c.code].fix_runs_on == "1.4"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_before_runs_on_sqlalchemy_14(case: Case, sqlalchemy14: Path) -> None:
    run = run_program(sqlalchemy14, case.before, strict=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip(), "a fixture must print what it computed"
    # A fix is proven only if its line runs: not in a function never called.
    fixed = {e.line for e in case.expected() if e.kind != "nofix"}
    assert fixed <= run.lines, f"fixable lines that never run: {fixed - run.lines}"


@pytest.mark.parametrize("case", PAIRS, ids=[c.id for c in PAIRS])
def test_after_behaves_like_before_on_sqlalchemy_2(
    case: Case, sqlalchemy14: Path, sqlalchemy2: str
) -> None:
    assert case.after is not None
    old = run_program(sqlalchemy14, case.before, strict=False)
    new = run_program(sqlalchemy2, case.after, strict=True)
    assert old.returncode == 0, old.stderr
    assert new.returncode == 0, new.stderr
    assert new.stdout == old.stdout
    # Every piece of code the fixes wrote runs (a line of each piece, at least).
    for rows in rewritten(case):
        assert rows & new.lines, f"{case.after.name}: lines {sorted(rows)} never run"


IMPORTED_NAME = re.compile(r"\s+\w+(\s+as\s+\w+)?,?\s*")


def rewritten(case: Case) -> list[set[int]]:
    """The line numbers of each run of lines the fixes wrote or changed in
    `case.after` that hold code (blank lines and comments aside)."""
    import difflib

    assert case.after is not None
    old = case.source().decode().splitlines()
    new = case.after.read_text().splitlines()
    pieces = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, _, _, first, last in matcher.get_opcodes():
        rows = {
            n + 1
            for n in range(first, last)
            if new[n].strip()
            and not new[n].strip().startswith("#")
            and not IMPORTED_NAME.fullmatch(new[n])  # `    select,` of an import
        }
        if tag in ("replace", "insert") and rows:
            pieces.append(rows)
    return pieces


@pytest.mark.parametrize("case", DUAL, ids=[c.id for c in DUAL])
def test_dual_compatible_after_runs_on_sqlalchemy_14(
    case: Case, sqlalchemy14: Path
) -> None:
    """For teams that upgrade in two steps: the fixed code still runs on 1.4, and
    is written in 2.0 style there: no `RemovedIn20Warning` with SQLALCHEMY_WARN_20
    set (strict filters, as on 2.1)."""
    assert case.after is not None
    old = run_program(sqlalchemy14, case.before, strict=False)
    new = run_program(sqlalchemy14, case.after, strict=True)
    assert new.returncode == 0, new.stderr
    assert new.stdout == old.stdout


TYPED = [c for c in PAIRS if c.code == "ORM407"]


@pytest.mark.parametrize("case", TYPED, ids=[c.id for c in TYPED])
def test_typed_models_create_the_same_tables(case: Case, sqlalchemy2: str) -> None:
    """`Mapped[]` annotations decide nullability and, without an explicit type, the
    SQL type: on the same SQLAlchemy, both files must emit the same DDL."""
    assert case.after is not None
    old = run_program(sqlalchemy2, case.before, strict=False)
    new = run_program(sqlalchemy2, case.after, strict=True)
    assert old.returncode == 0 and new.returncode == 0, old.stderr + new.stderr
    ddl = [s for s in old.stdout.split("\n\n") if s.startswith("CREATE TABLE")]
    assert ddl, "a typed-model fixture prints each CreateTable"
    assert old.stdout == new.stdout


def test_the_harness_sees_failures_and_isolates_programs(
    tmp_path: Path, sqlalchemy14: Path, sqlalchemy2: str
) -> None:
    """Programs run in forks of one interpreter (fixture_server.py): a program that
    raises, or warns under strict filters, fails; and what one program changes in
    the modules they share is gone for the next."""
    (tmp_path / "raises.py").write_text("print('partial')\nraise KeyError('x')\n")
    (tmp_path / "legacy.py").write_text(
        "from sqlalchemy import create_engine\n"
        "create_engine('sqlite://').connect().execute('select 1')\n"
    )
    (tmp_path / "row.py").write_text(
        "from sqlalchemy import create_engine, text\n"
        "with create_engine('sqlite://').connect() as c:\n"
        "    print(c.execute(text('select 1 as x')).first()['x'])\n"
    )
    (tmp_path / "taint.py").write_text(
        "import sqlalchemy\nsqlalchemy.tainted = True\nprint('tainted')\n"
    )
    (tmp_path / "clean.py").write_text(
        "import sqlalchemy\nprint(hasattr(sqlalchemy, 'tainted'))\n"
    )
    raised = run_program(sqlalchemy2, tmp_path / "raises.py", strict=False)
    assert (raised.returncode, raised.stdout) == (1, "partial\n")
    assert "KeyError: 'x'" in raised.stderr
    legacy = run_program(sqlalchemy14, tmp_path / "legacy.py", strict=True)
    assert legacy.returncode == 1 and "RemovedIn20Warning" in legacy.stderr
    # A 2.0 warning 1.4 raises only under SQLALCHEMY_WARN_20 (the Row's mapping
    # access by key), raised in strict mode.
    warned = run_program(sqlalchemy14, tmp_path / "row.py", strict=True)
    assert warned.returncode == 1 and "RemovedIn20Warning" in warned.stderr
    assert run_program(sqlalchemy14, tmp_path / "row.py", strict=False).returncode == 0
    legacy = run_program(sqlalchemy14, tmp_path / "legacy.py", strict=False)
    assert legacy.returncode == 0
    for python in (sqlalchemy14, sqlalchemy2):
        assert run_program(python, tmp_path / "taint.py", strict=False).stdout
        clean = run_program(python, tmp_path / "clean.py", strict=False)
        assert clean.stdout == "False\n"
