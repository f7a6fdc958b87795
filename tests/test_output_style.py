"""Fixed code a reviewer merges as is: it keeps to the project's own ruff
configuration (isort's import order, the line length) and is laid out as
`ruff format` (black) lays it out."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, run_program

from orm_modernize.analysis.line_length import read_line_length
from orm_modernize.cli.commands import main
from orm_modernize.syntax.rewrapping import rewrapped
from orm_modernize.syntax.wrapping import wrapped

PROJECT = FIXTURES / "_formatted"


def ruff(*args: str, cwd: Path, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_project_that_keeps_to_its_ruff_configuration_still_does(
    tmp_path: Path, sqlalchemy14: Path, sqlalchemy2: str
) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(PROJECT, shop)
    ruff("check", ".", cwd=shop)  # the fixture itself passes, before
    ruff("format", "--check", ".", cwd=shop)
    before = run_program(sqlalchemy14, shop / "bin/main.py", strict=False)

    result = CliRunner().invoke(
        main,
        ["check", "--no-cache", "--fix", "--unsafe-fixes", str(shop)],
        catch_exceptions=False,
    )

    assert "Found 10 errors (9 fixed, 1 remaining)" in result.stdout, result.stdout
    ruff("check", ".", cwd=shop)  # E501 at 88 and isort's I001
    ruff("format", "--check", ".", cwd=shop)
    queries = (shop / "shop/queries.py").read_text()
    assert "session.query" not in queries
    # Only the join and the joined eager load can repeat rows.
    assert queries.count(".unique()") == 2
    assert "from sqlalchemy import func, select, text, update\n" in queries
    reports = (shop / "shop/reports.py").read_text()
    assert reports.startswith("from sqlalchemy import select\n\nfrom shop.db import")
    after = run_program(sqlalchemy2, shop / "bin/main.py", strict=True)
    assert (after.returncode, after.stdout) == (0, before.stdout), after.stderr


LONG = [
    "users = session.scalars(select(User).where(User.active == True)"
    ".order_by(User.name)).all()",
    "users = session.scalars(select(User).where(User.active == True)"
    ".order_by(User.name)).unique().all()",
    "return session.execute(select(User.id, User.name)"
    ".where(User.active == True)).scalar_one_or_none()",
    "print([u.name for u in session.scalars(select(User)"
    ".where(User.active == True).order_by(User.name))])",
    "users = session.scalars(select(User).where(User.active == True)"
    '.where(User.name == "aaaaaaaaaa").order_by(User.name)).all()',
    "pagination = db.paginate(select(Post).where(Post.author_id == user.id)"
    ".order_by(Post.timestamp.desc()), page=page, per_page=20, error_out=False)",
    "return session.scalars(select(User).where(User.active == True)"
    ".order_by(User.name)).all()[0].name",
    "count = db.session.scalar(select(func.count()).select_from(User)"
    ".where(User.name == name))",
    "session.execute(update(User).where(User.age < 18)"
    '.values({"minor": True, "name": "aaaaaaaaaaaaaaaaaaaaaaa"}))',
    # An argument too long: split at its chain's dots, past its trailing comma
    "eq_(session.scalars(select(Engineer).join(Person.paperwork).where(Engineer.x"
    " == 1)).unique().all(), [e1, e2, e3])",
    # Flask-SQLAlchemy 2.x's helpers, as the fixes spell them
    "found = db.session.scalars(select(Author).filter_by(name=name)"
    '.order_by(Author.id).limit(1)).first() or abort(404, description=f"no {name}")',
    "return db.session.get(AuthorWithAVeryLongName, identifier_of_the_author)"
    " or abort(404)",
    "x = db.session.get(AuthorWithAVeryLongNameIndeed, identifier_of_the_author_given)"
    " or abort(404)",
    "return db.session.execute(select(Author.name).order_by(Author.id).limit(1))"
    ".first() or abort(404)",
    "return (db.session.execute(select(Author.name).order_by(Author.id).limit(1))"
    ".first() or abort(404)).name",
]


@pytest.mark.parametrize("statement", LONG)
def test_a_long_statement_is_split_as_ruff_format_splits_it(
    statement: str, tmp_path: Path
) -> None:
    line = f"    {statement}"
    split = wrapped(line, 88)
    assert split is not None and split != line
    source = f"def f():\n{line}\n"
    assert ruff("format", "--isolated", "-", cwd=tmp_path, stdin=source) == (
        f"def f():\n{split}\n"
    )


def test_a_statement_changed_over_several_lines_is_joined_or_split_as_ruff_does(
    tmp_path: Path,
) -> None:
    old = (
        "def f(session):\n"
        "    return (\n"
        "        session.query(Item)\n"
        "        .filter(Item.quantity < threshold)\n"
        "        .order_by(Item.quantity, Item.name)\n"
        "        .all()\n"
        "    )\n"
    )
    new = (
        "def f(session):\n"
        "    return (\n"
        "        session.scalars(select(Item)\n"
        "        .where(Item.quantity < threshold)\n"
        "        .order_by(Item.quantity, Item.name)){unique}\n"
        "        .all()\n"
        "    )\n"
    )
    for unique in ("", ".unique()"):
        fixed = rewrapped(old, new.format(unique=unique), 88)
        assert fixed != new.format(unique=unique)
        assert ruff("format", "--isolated", "-", cwd=tmp_path, stdin=fixed) == fixed


def test_a_module_that_does_not_keep_to_the_limit_is_left_as_the_fix_made_it() -> None:
    old = "x = 1\nsession.query(User).filter(User.name == 'a').all()\n" + (
        "y = [" + ", ".join(str(n) for n in range(40)) + "]\n"
    )
    new = old.replace(
        "session.query(User).filter(User.name == 'a').all()",
        "session.scalars(select(User).where(User.name == 'a').order_by(User.id)"
        ".limit(10).offset(20)).all()",
    )
    assert rewrapped(old, new, 88) == new
    kept = old.replace("y = [", "# y = [")
    assert rewrapped(kept, new.replace("y = [", "# y = ["), 88) != new


def test_the_line_length_is_the_projects_formatters(tmp_path: Path) -> None:
    assert read_line_length(tmp_path) == 88
    (tmp_path / "setup.cfg").write_text("[flake8]\nmax-line-length = 90\n")
    assert read_line_length(tmp_path) == 90
    # black lays the code out at its default, whatever flake8 allows.
    (tmp_path / "tox.ini").write_text("[testenv:black]\ncommands = black --check .\n")
    assert read_line_length(tmp_path) == 88
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    assert read_line_length(tmp_path) == 100
    (tmp_path / "pyproject.toml").write_text(
        "[tool.black]\nline-length = 100\n[tool.ruff]\nline-length = 120\n"
    )
    assert read_line_length(tmp_path) == 120
    (tmp_path / "ruff.toml").write_text("line-length = 99\n")
    assert read_line_length(tmp_path) == 99


# What the own layout does not cover is laid out by black: comparisons and
# operators, and statements a magic trailing comma or a comment keeps on several
# lines (FitTrackee's code, fixed, failed `ruff format --check` on these).
REWRAPPED = [
    (
        "def f(query, jti):\n"
        "    if jti:\n"
        "        return db.session.query(query).filter_by(jti=jti).first()"
        " is not None\n",
        "def f(query, jti):\n"
        "    if jti:\n"
        "        return db.session.execute(query.filter_by(jti=jti))"
        ".scalar_one_or_none() is not None\n",
    ),
    (
        "def f(equipment):\n"
        "    db.session.query(Preference).filter(\n"
        "        Preference.user_id == user.id,\n"
        "        UserSportPreferenceEquipment.c.equipment_type_identifier\n"
        "        == equipment_item.id,\n"
        '    ).delete(synchronize_session="evaluate")\n',
        "def f(equipment):\n"
        "    db.session.execute(delete(Preference).where(\n"
        "        Preference.user_id == user.id,\n"
        "        UserSportPreferenceEquipment.c.equipment_type_identifier\n"
        "        == equipment_item.id,\n"
        '    ).execution_options(synchronize_session="evaluate"))\n',
    ),
    (
        "def f(user):\n"
        '    for f in user.followers.filter(Follower.name == "a"):  # the first\n'
        "        pass\n"
        "    if x:\n"
        "        pass\n"
        "    elif user in target_object.mentioned_users.all():\n"
        "        pass\n",
        "def f(user):\n"
        "    for f in object_session(user).scalars(user.followers.select()"
        '.where(Follower.name == "a")):  # the first\n'
        "        pass\n"
        "    if x:\n"
        "        pass\n"
        "    elif user in object_session(target_object).scalars("
        "target_object.mentioned_users.select()).all():\n"
        "        pass\n",
    ),
]


@pytest.mark.parametrize("old, new", REWRAPPED)
def test_what_the_own_layout_does_not_cover_is_laid_out_as_ruff_does(
    old: str, new: str, tmp_path: Path
) -> None:
    # A docstring's long line and an argument with nothing to split at do not
    # make the module one that ignores the limit.
    preamble = (
        "def serve():\n"
        '    """Serve it.\n\n'
        "    GET /api/workouts/kjxavSTUrJvoAh2wvCeGEF/chart/segment/C4asMMbRJsxTirSj"
        'TVWeWU HTTP/1.1\n    """\n'
        "    return call(\n"
        '        "key",\n'
        "        Some.very_long.attribute_name_that_does_not_fit.at_all_indented(),\n"
        "    )\n\n\n"
    )

    def formatted(code: str) -> str:
        return ruff(
            "format", "--isolated", "--line-length", "79", "-", cwd=tmp_path, stdin=code
        )

    assert formatted(preamble + old) == preamble + old
    fixed = rewrapped(preamble + old, preamble + new, 79)
    assert fixed != preamble + new
    assert formatted(fixed) == fixed


def test_a_base_made_a_class_inside_a_block_is_spaced_as_ruff_spaces_it(
    tmp_path: Path,
) -> None:
    """One blank line before a class opening a `with` or `for` block (none in a
    function's), one after it, and no spaces on either."""
    source = (
        "from sqlalchemy.orm import declarative_base\n"
        "\n"
        "\n"
        "def make(warnings, metadata):\n"
        "    Base = declarative_base()\n"
        "    with warnings:\n"
        "        Other = declarative_base(metadata=metadata)\n"
        "    for _ in range(2):\n"
        "        Third = declarative_base()\n"
        "        print(Third)\n"
        "    return Base, Other\n"
    )
    (tmp_path / "models.py").write_text(source)
    ruff("format", "--check", "--isolated", "models.py", cwd=tmp_path)

    result = CliRunner().invoke(
        main,
        ["check", "--isolated", "--no-cache", "--select", "ORM402", "--fix"]
        + ["--unsafe-fixes", str(tmp_path / "models.py")],
    )

    assert "Found 3 errors (3 fixed, 0 remaining)" in result.output, result.output
    fixed = (tmp_path / "models.py").read_text()
    assert "    with warnings:\n\n        class Other(DeclarativeBase):\n" in fixed
    ruff("format", "--check", "--isolated", "models.py", cwd=tmp_path)


def test_black_lays_out_nothing_in_a_module_black_did_not_lay_out() -> None:
    """`mapper(User, users, properties={` leaves two brackets open on a line,
    which black never does: the project does not use black, and a statement
    black would explode keeps the layout the fix gave it."""
    old = (
        "mapper(User, users, properties={\n"
        '    "addresses": relationship(Address),\n'
        "})\n"
    )
    new = old.replace("mapper(", "registry.map_imperatively(")
    assert rewrapped(old, new, 88) == new
    # In a module black may have laid out, black lays it out.
    assert rewrapped("pass\n", new, 88) == (
        "registry.map_imperatively(\n"
        "    User,\n"
        "    users,\n"
        "    properties={\n"
        '        "addresses": relationship(Address),\n'
        "    },\n"
        ")\n"
    )
