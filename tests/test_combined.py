"""The whole model layer at once: a 1.x application with every seed idiom, fixed
by the real CLI with all rules and the opt-in ORM407, comes out in 2.0 style and
prints on SQLAlchemy 2.1 (deprecation warnings as errors) what it printed on 1.4."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES, run_program

LEGACY = FIXTURES / "_combined" / "legacy_app.py"


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "orm_modernize",
            "check",
            "--isolated",
            "--no-cache",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_legacy_app_comes_out_in_2_0_style_and_behaves_the_same(
    tmp_path: Path, sqlalchemy14: Path, sqlalchemy2: str
) -> None:
    app = tmp_path / "app.py"
    shutil.copy(LEGACY, app)
    selected = ("--select", "ORM,ORM407")

    fixed = _check(*selected, "--fix", "--unsafe-fixes", str(app))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    again = _check(*selected, str(app))
    assert again.returncode == 0 and "All checks passed" in again.stdout, again.stdout

    code = app.read_text()
    for modern in (
        "(DeclarativeBase)",
        "Mapped[int] = mapped_column(",
        "back_populates=",
        'comments: Mapped[List["Comment"]]',
        "session.scalars(select(",
        "session.get(User, 1)",
        "joinedload(",
    ):
        assert modern in code, modern
    for legacy in (
        "declarative_base",
        "backref",
        "relation(",
        "eagerload",
        ".query(",
        "Column(Integer",
        "lazy=False",
        "lazy=True",
        "Post.comments =",
    ):
        assert legacy not in code, legacy

    old = run_program(sqlalchemy14, LEGACY, strict=False)
    new = run_program(sqlalchemy2, app, strict=True)
    assert old.returncode == 0, old.stderr
    assert new.returncode == 0, new.stderr
    assert new.stdout == old.stdout and old.stdout.count("\n") == 7


def test_inherited_columns_keep_their_place(
    tmp_path: Path, sqlalchemy14: Path, sqlalchemy2: str
) -> None:
    # ORM402 turns the bases into DeclarativeBase classes and ORM410 ranks the
    # columns of the base and the mixins: on 2.1 every table has 1.4's columns
    # in 1.4's order (2.0 puts inherited columns last, #9297).
    legacy = FIXTURES / "_combined" / "declarative_columns.py"
    app = tmp_path / "app.py"
    shutil.copy(legacy, app)
    fixed = _check("--select", "ORM", "--fix", "--unsafe-fixes", str(app))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    code = app.read_text()
    assert "class Base(DeclarativeBase):" in code and "as_declarative" not in code
    assert code.count("sort_order=") == 3
    old = run_program(sqlalchemy14, legacy, strict=False)
    new = run_program(sqlalchemy2, app, strict=True)
    assert old.returncode == 0, old.stderr
    assert new.returncode == 0, new.stderr
    assert new.stdout == old.stdout
    assert "note ['id', 'kind', 'created', 'body', 'parent_id']" in old.stdout
