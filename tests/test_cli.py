"""The command line, end to end in a temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from orm_modernize.cli.commands import main

LEGACY = """\
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"


def names(db):
    return db.query(User).all()


session = Session()
users = session.query(User).all()
"""
SAFE_FIXED_LINE = "users = session.scalars(select(User)).all()"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(LEGACY)
    (tmp_path / "app" / "clean.py").write_text("print('nothing legacy here')\n")
    return tmp_path


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", "--jobs", "1", *args])
    return result.exit_code, result.stdout, result.stderr


def test_findings_exit_1_and_are_listed(project: Path) -> None:
    code, out, _ = check("app")
    assert code == 1
    lines = out.splitlines()
    assert (
        "app/models.py:3:8: ORM402 `declarative_base()` is superseded by subclassing"
        " `DeclarativeBase`" in lines
    )
    assert (
        "app/models.py:15:9: ORM002 `Session.query()` is legacy in SQLAlchemy 2.0 [*]"
        in lines
    )
    assert "Found 3 errors." in lines
    assert "[*] 1 fixable with the `--fix` option." in lines
    assert "(2 hidden fixes can be enabled with the `--unsafe-fixes` option.)" in lines


def test_check_alone_writes_nothing(project: Path) -> None:
    check("app")
    assert (project / "app" / "models.py").read_text() == LEGACY


def test_clean_tree_exits_0(project: Path) -> None:
    code, out, _ = check("app/clean.py")
    assert (code, out) == (0, "All checks passed!\n")


def test_fix_writes_safe_fixes_only(project: Path) -> None:
    code, out, _ = check("--fix", "app")
    text = (project / "app" / "models.py").read_text()
    assert SAFE_FIXED_LINE in text
    assert "db.query(User).all()" in text  # unsafe: left alone
    assert code == 1
    assert "Found 3 errors (1 fixed, 2 remaining)." in out


def test_unsafe_fixes_apply_everything(project: Path) -> None:
    code, out, _ = check("--fix", "--unsafe-fixes", "app")
    text = (project / "app" / "models.py").read_text()
    assert "db.scalars(select(User)).all()" in text
    assert "class Base(DeclarativeBase):" in text
    assert code == 0
    assert "Found 3 errors (3 fixed, 0 remaining)." in out
    assert (
        check("--fix", "--unsafe-fixes", "app")[0] == 0
    )  # a second run: nothing to do


def test_diff_prints_and_writes_nothing(project: Path) -> None:
    code, out, err = check("--diff", "app")
    assert code == 1
    assert "--- a/app/models.py\n+++ b/app/models.py\n" in out
    assert f"+{SAFE_FIXED_LINE}\n" in out
    assert "Would fix 1 error." in err
    assert (project / "app" / "models.py").read_text() == LEGACY


def test_parse_error_exit_2_and_file_untouched(project: Path) -> None:
    broken = b"session.query(User).all(\n\xff"
    (project / "app" / "broken.py").write_bytes(broken)
    code, _, err = check("app")
    assert code == 2
    assert err.startswith("app/broken.py: cannot parse: ")
    assert len(err.splitlines()) == 1
    check("--fix", "--unsafe-fixes", "app")
    assert (project / "app" / "broken.py").read_bytes() == broken
    assert (
        SAFE_FIXED_LINE in (project / "app" / "models.py").read_text()
    )  # the rest ran


def test_missing_path_exit_2(project: Path) -> None:
    code, _, err = check("nowhere")
    assert code == 2 and "nowhere: no such file or directory" in err


def test_unknown_code_is_a_usage_error(project: Path) -> None:
    code, _, err = check("--select", "ORM5", "app")
    assert code == 2 and "unknown rule code or prefix: ORM5" in err


def test_select_and_ignore(project: Path) -> None:
    assert "ORM402" not in check("--select", "ORM0", "app")[1]
    out = check("--ignore", "ORM002", "app")[1]
    assert "ORM002" not in out and "ORM402" in out


def test_directories_nobody_wants_linted_are_skipped(project: Path) -> None:
    for skipped in (".venv/lib", "build", "node_modules/pkg", "__pycache__", "env"):
        folder = project / "app" / skipped
        folder.mkdir(parents=True)
        (folder / "legacy.py").write_text(LEGACY)
    (project / "app" / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    _, out, _ = check("app")
    assert {line.split(":")[0] for line in out.splitlines() if ": ORM" in line} == {
        "app/models.py"
    }


def test_json_output(project: Path) -> None:
    _, out, _ = check("--output-format", "json", "app")
    rows = json.loads(out)
    assert {r["code"] for r in rows} == {"ORM002", "ORM402"}
    assert rows[0]["filename"] == "app/models.py"
    assert {"location", "end_location", "fix", "message", "url"} <= set(rows[0])
    assert rows[0]["url"].endswith(f"docs/rules.md#{rows[0]['code'].lower()}")


def test_parallel_and_serial_runs_agree(project: Path) -> None:
    for n in range(6):
        (project / "app" / f"copy{n}.py").write_text(LEGACY)
    serial = CliRunner().invoke(main, ["check", "--no-cache", "-j", "1", "app"]).stdout
    parallel = (
        CliRunner().invoke(main, ["check", "--no-cache", "-j", "2", "app"]).stdout
    )
    assert serial == parallel


def test_fix_keeps_file_mode(project: Path) -> None:
    target = project / "app" / "models.py"
    os.chmod(target, 0o640)
    check("--fix", "app")
    assert target.stat().st_mode & 0o777 == 0o640
    assert [
        p.name for p in (project / "app").iterdir() if p.name.endswith(".tmp")
    ] == []


def test_rules_as_json_say_fix_availability_versions_and_docs() -> None:
    result = CliRunner().invoke(main, ["rules", "--output-format", "json"])
    rules = {rule["code"]: rule for rule in json.loads(result.stdout)}
    assert rules["ORM001"]["fix"] == "sometimes"
    assert rules["ORM001"]["fixed_code_runs_on"] == "1.4"
    assert rules["ORM210"]["fixed_code_runs_on"] == "2.0"
    assert rules["ORM208"]["fix"] == "sometimes"
    assert rules["ORM208"]["fixed_code_runs_on"] == "2.0"
    assert rules["ORM409"]["fix"] == "sometimes"  # a write-only collection: 2.0 only
    assert rules["ORM409"]["fixed_code_runs_on"] == "2.0"
    assert rules["ORM002"]["url"].endswith("docs/rules.md#orm002")
    assert "## Fix safety" in rules["ORM002"]["explanation"]


def test_rules_and_explain() -> None:
    out = CliRunner().invoke(main, ["rules"]).stdout
    assert "ORM002  legacy-query" in out
    explained = CliRunner().invoke(main, ["explain", "orm002"])
    assert explained.exit_code == 0 and "## Fix safety" in explained.stdout
    assert CliRunner().invoke(main, ["explain", "ORM777"]).exit_code == 2


def test_console_script_runs_in_a_subprocess(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orm_modernize", "check", "app/models.py"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "ORM002" in done.stdout


def test_missing_path_is_not_called_a_pass(project: Path) -> None:
    code, out, _ = check("nowhere")
    assert code == 2
    assert "All checks passed!" not in out


DATABASE = """\
from sqlalchemy import create_engine
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker

engine = create_engine("sqlite://")
db_session = scoped_session(sessionmaker(bind=engine))
Base = declarative_base()
Base.query = db_session.query_property()


def add_all(objects):
    db_session.add_all(objects)
"""
MODELS = """\
from sqlalchemy import Column, Integer, String

from database import Base


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String(30))
"""
VIEWS = """\
from database import Base, add_all, engine
from models import User

Base.metadata.create_all(engine)
add_all([User(name="bob"), User(name="ann")])
print([u.name for u in User.query.order_by(User.name)])
"""


def test_query_property_session_is_imported_where_the_model_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Base.query = db_session.query_property()` in one module, `User.query` in
    another: the fix imports `db_session` and still runs."""
    monkeypatch.chdir(tmp_path)
    for name, text in [
        ("database.py", DATABASE),
        ("models.py", MODELS),
        ("views.py", VIEWS),
    ]:
        (tmp_path / name).write_text(text)
    before = subprocess.run(
        [sys.executable, "views.py"], capture_output=True, text=True, check=True
    )
    code, out, _ = check("--fix", ".")
    assert code == 1 and "views.py:6:" in out  # matched by name: unsafe
    code, _, _ = check("--fix", "--unsafe-fixes", ".")
    assert code == 0
    # The run that converted its readers removes the property too (ORM005)
    assert "query_property" not in (tmp_path / "database.py").read_text()
    views = (tmp_path / "views.py").read_text()
    assert "from database import Base, add_all, db_session, engine" in views
    assert "db_session.scalars(select(User).order_by(User.name))" in views
    after = subprocess.run(
        [sys.executable, "-W", "error", "views.py"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert after.stdout == before.stdout == "['ann', 'bob']\n"


QUERIES = """\
from database import db_session
from models import User


def named(name):
    return db_session.query(User).filter_by(name=name)


def first_named(name):
    return named(name).first()
"""
REPORT = """\
from database import Base, add_all, engine
from models import User
from queries import first_named, named

Base.metadata.create_all(engine)
add_all([User(name="bob"), User(name="ann")])
print(first_named("ann").name, named("bob").count())
"""


def test_helper_imported_by_another_module_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`named()` returns a query that `report.py` finishes: converting `queries.py`
    alone would break `report.py`, so the helper is only reported while a module of
    the run imports it; run on `queries.py` alone, its fix is unsafe."""
    monkeypatch.chdir(tmp_path)
    for name, text in [
        ("database.py", DATABASE),
        ("models.py", MODELS),
        ("queries.py", QUERIES),
        ("report.py", REPORT),
    ]:
        (tmp_path / name).write_text(text)
    code, out, _ = check("--fix", "--unsafe-fixes", ".")
    assert code == 1
    assert "queries.py:6:12: ORM002" in out
    assert "`named()`, which another module imports and the session" in out
    assert (tmp_path / "queries.py").read_text() == QUERIES
    # Without report.py in the run, nothing says who imports it: the fix is
    # offered, as unsafe only.
    some = ("database.py", "models.py", "queries.py")
    code, out, _ = check(*some)
    assert code == 1 and "queries.py:6:12: ORM002" in out
    code, _, _ = check("--fix", *some)
    assert (tmp_path / "queries.py").read_text() == QUERIES
    code, _, _ = check("--fix", "--unsafe-fixes", *some)
    assert code == 0
    fixed = (tmp_path / "queries.py").read_text()
    assert "return select(User).filter_by(name=name)" in fixed
    assert "db_session.scalars(named(name).limit(1)).first()" in fixed


HELPER_MODELS = """\
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String(20))
    age = Column(Integer)


def make_session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    session = Session(engine)
    session.add_all([User(name="ann", age=30), User(name="bob", age=17)])
    session.add(User(name="cy", age=40))
    session.commit()
    return session
"""
HELPER = """\
from app.models import User


def adults(session):
    return session.query(User).filter(User.age >= 18)
"""
CALLERS = """\
from app.models import User
from app.queries import adults


def names(session):
    return [u.name for u in adults(session).order_by(User.name.desc()).all()]


def how_many(db_session):
    return adults(session=db_session).count()
"""
HELPER_MAIN = """\
from app.models import make_session
from app.views import how_many, names

session = make_session()
print(names(session), how_many(session))
"""


def helper_project(root: Path) -> Path:
    """The `app` package, and a program in `bin/` that the fixture runner can run
    (it puts the program's grandparent on `sys.path`)."""
    (root / "app").mkdir()
    (root / "bin").mkdir()
    for name, text in [
        ("app/__init__.py", ""),
        ("app/models.py", HELPER_MODELS),
        ("app/queries.py", HELPER),
        ("app/views.py", CALLERS),
        ("bin/main.py", HELPER_MAIN),
    ]:
        (root / name).write_text(text)
    return root / "bin/main.py"


def test_helper_finished_in_another_module_is_converted_with_its_callers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlalchemy14: Path,
    sqlalchemy2: str,
) -> None:
    """`adults()` returns a Query that `views.py` orders and counts: one run turns
    the helper into a `select()` and each call into its execution."""
    from conftest import run_program

    monkeypatch.chdir(tmp_path)
    main_py = helper_project(tmp_path)
    before = run_program(sqlalchemy14, main_py, strict=False)
    assert (before.returncode, before.stdout) == (0, "['cy', 'ann'] 2\n")
    code, out, _ = check("--select", "ORM002", "app")
    assert code == 1
    assert "app/views.py:6:29: ORM002" in out and "app/views.py:10:12: ORM002" in out
    assert "`adults()` returns a `Query`" in out
    code, out, _ = check("--select", "ORM002", "--fix", "app")  # unsafe: both wait
    assert (tmp_path / "app/queries.py").read_text() == HELPER
    assert (tmp_path / "app/views.py").read_text() == CALLERS
    code, out, _ = check("--select", "ORM002", "--fix", "--unsafe-fixes", "app")
    assert code == 0, out
    assert (
        "return select(User).where(User.age >= 18)"
        in (tmp_path / "app/queries.py").read_text()
    )
    views = (tmp_path / "app/views.py").read_text()
    # Laid out as ruff format would (the module keeps to 88 columns). `User` is
    # what `adults()` selects, imported here as there: no other FROM, and no
    # `.unique()`.
    scalars = "session.scalars(adults(session).order_by(User.name.desc())).all()"
    assert f"        for u in {scalars}\n" in views
    assert "select_from(adults(session=db_session).subquery())" in views
    after = run_program(sqlalchemy2, main_py, strict=True)
    assert (after.returncode, after.stdout) == (0, before.stdout), after.stderr
    assert check("--select", "ORM002", "--fix", "--unsafe-fixes", "app")[0] == 0
    assert (tmp_path / "app/views.py").read_text() == views


def test_helper_passed_on_by_another_module_is_left_at_both_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    helper_project(tmp_path)
    jobs = "from app.queries import adults\n\nHANDLERS = [adults]\n"
    (tmp_path / "app/jobs.py").write_text(jobs)
    code, out, _ = check("--select", "ORM002", "--fix", "--unsafe-fixes", "app")
    assert code == 1
    assert "which another module imports and does not always finish it" in out
    assert "`app.queries.adults()` is also used where its query cannot be" in out
    assert (tmp_path / "app/queries.py").read_text() == HELPER
    assert (tmp_path / "app/views.py").read_text() == CALLERS


BACKREF_FIRST = """\
from sqlalchemy import Column, ForeignKey, Integer, create_engine
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


class Author(Base):
    __tablename__ = "authors"
    id = Column(Integer, primary_key=True)


class Book(Base):
    __tablename__ = "books"
    id = Column(Integer, primary_key=True)
    author_id = Column(ForeignKey("authors.id"))
    author = relationship(Author, backref="books")


engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
print(Session(engine).query(Author).join(Author.books).all())
"""


def test_backref_attribute_makes_the_fix_unsafe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the fix is unsafe: as the program's first statement, the Query
    configured the mappers before `Author.books` was read; `select()` does not."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(BACKREF_FIRST)
    run = [sys.executable, "app.py"]
    assert subprocess.run(run, capture_output=True, text=True).stdout == "[]\n"
    code, out, _ = check("--select", "ORM002", "--fix", "app.py")
    assert code == 1 and "`Author.books` is made by a backref" in out
    assert (tmp_path / "app.py").read_text() == BACKREF_FIRST
    check("--select", "ORM002", "--fix", "--unsafe-fixes", "app.py")
    failed = subprocess.run(run, capture_output=True, text=True)
    assert "has no attribute 'books'" in failed.stderr


DECLARATIVE = """\
from sqlalchemy.orm import declarative_base

Base = declarative_base()
"""


@pytest.mark.parametrize(
    ("pin", "flag", "fixed"),
    [
        (None, (), True),  # no pin: 2.0
        ("sqlalchemy>=1.4,<2", (), False),  # the pin admits 1.4
        ("sqlalchemy>=2.0", (), True),
        ("sqlalchemy>=1.4,<2", ("--target-version", "2.0"), True),  # flag wins
        (None, ("--target-version", "1.4"), False),
    ],
)
def test_target_version_keeps_fixes_that_need_a_newer_sqlalchemy(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pin: str | None,
    flag: tuple[str, ...],
    fixed: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    if pin is not None:
        (tmp_path / "requirements.txt").write_text(pin + "\n")
    model = tmp_path / "models.py"
    model.write_text(DECLARATIVE)
    # ORM402's DeclarativeBase exists on 2.x only; ORM401's import runs on 1.4 too.
    result = CliRunner().invoke(
        main,
        ["check", "--fix", "--unsafe-fixes", "--select", "ORM402", *flag, "models.py"],
    )
    assert ("DeclarativeBase" in model.read_text()) is fixed
    if not fixed:
        assert result.exit_code == 1
        assert "no fix: it needs SQLAlchemy 2.0, the target is 1.4" in result.output


BOUND = """\
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select

engine = create_engine("sqlite://")
metadata = MetaData(bind=engine)
users = Table("users", metadata, Column("id", Integer), Column("name", String(9)))
metadata.create_all()
users.insert().execute(id=1, name="ann")
users.insert().execute({"id": 2, "name": "bob"}, {"id": 3, "name": "cy"})
print(select([users.c.name]).order_by(users.c.id).execute().fetchall())
"""


def test_bound_metadata_program_is_fixed_whole(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlalchemy14: Path,
    sqlalchemy2: str,
) -> None:
    """ORM205 moves the executions off the bind, ORM206 then removes it: one
    `--fix` turns a bound-metadata program into one that runs on 2.x."""
    from conftest import run_program

    monkeypatch.chdir(tmp_path)
    app = tmp_path / "app.py"
    app.write_text(BOUND)
    before = run_program(sqlalchemy14, app, strict=False)
    assert before.returncode == 0, before.stderr
    code, out, _ = check("--fix", "app.py")
    assert code == 0, out
    assert "bind" not in app.read_text()
    after = run_program(sqlalchemy2, app, strict=True)
    assert (after.returncode, after.stdout) == (0, before.stdout), after.stderr


ALIASED_STRING_JOIN = """\
from sqlalchemy import Column, ForeignKey, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


class Node(Base):
    __tablename__ = "nodes"
    id = Column(Integer, primary_key=True)
    parent_id = Column(ForeignKey("nodes.id"))
    name = Column(String(9))
    children = relationship("Node")


engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
session = Session(engine)
session.add(Node(name="root", children=[Node(name="a")]))
session.commit()
print(
    session.query(Node).join("children", aliased=True)
    .filter(Node.name == "a").one().name
)
"""


def test_string_join_with_aliased_flag_is_fixed_whole(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlalchemy14: Path,
    sqlalchemy2: str,
) -> None:
    """ORM003 names the relationship and keeps `aliased=True`, ORM002 then makes
    the alias and moves the criteria onto it: the parent is printed on both."""
    from conftest import run_program

    monkeypatch.chdir(tmp_path)
    app = tmp_path / "app.py"
    app.write_text(ALIASED_STRING_JOIN)
    before = run_program(sqlalchemy14, app, strict=False)
    assert (before.returncode, before.stdout) == (0, "root\n"), before.stderr
    code, out, _ = check("--select", "ORM002,ORM003", "--fix", "app.py")
    assert code == 0, out
    fixed = app.read_text()
    assert "node_alias = aliased(Node)" in fixed
    assert '.where(node_alias.name == "a")' in fixed
    after = run_program(sqlalchemy2, app, strict=True)
    assert (after.returncode, after.stdout) == (0, before.stdout), after.stderr


def test_bind_of_metadata_another_module_imports_is_an_unsafe_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "db.py").write_text(
        "from sqlalchemy import MetaData, create_engine\n"
        "engine = create_engine('sqlite://')\n"
        "metadata = MetaData(bind=engine)\n"
    )
    (tmp_path / "jobs.py").write_text("from db import metadata\n")
    code, out, _ = check("--select", "ORM206", "--fix", ".")
    assert code == 1
    assert "another module imports `metadata` and may rely on its bind" in out
    assert "MetaData(bind=engine)" in (tmp_path / "db.py").read_text()
    check("--select", "ORM206", "--fix", "--unsafe-fixes", ".")
    assert "MetaData()" in (tmp_path / "db.py").read_text()


def test_select_another_module_imports_gets_its_subquery_as_an_unsafe_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "queries.py").write_text(
        "from sqlalchemy import column, func, select, table\n"
        "t = table('t', column('a'))\n"
        "ids = select(t.c.a)\n"
        "total = select(func.count()).select_from(ids)\n"
    )
    (tmp_path / "report.py").write_text("from queries import ids\n")
    code, out, _ = check("--select", "ORM305", "--fix", ".")
    assert code == 1
    assert "another module imports `ids` and may run it as a statement" in out
    assert "ids = select(t.c.a)\n" in (tmp_path / "queries.py").read_text()
    check("--select", "ORM305", "--fix", "--unsafe-fixes", ".")
    assert "ids = select(t.c.a).subquery()\n" in (tmp_path / "queries.py").read_text()


# -- output formats and exit codes -------------------------------------------------
SELECT_LIST = """\
from sqlalchemy import Column, Integer, MetaData, Table, select

t = Table("t", MetaData(), Column("id", Integer))
stmt = select([t])
"""


def test_concise_output_puts_the_fix_marker_before_the_message(project: Path) -> None:
    code, out, _ = check("--output-format", "concise", "app")
    assert code == 1
    lines = out.splitlines()
    assert (
        "app/models.py:15:9: ORM002 [*] `Session.query()` is legacy in SQLAlchemy 2.0"
        in lines
    )
    assert "Found 3 errors." in lines


def test_quiet_prints_the_findings_only(project: Path) -> None:
    code, out, _ = check("--quiet", "app")
    assert code == 1
    assert len(out.splitlines()) == 3
    assert all(line.startswith("app/models.py:") for line in out.splitlines())


def test_json_lines_has_one_json_finding_per_line(project: Path) -> None:
    _, out, _ = check("--output-format", "json-lines", "app")
    _, whole, _ = check("--output-format", "json", "app")
    assert [json.loads(line) for line in out.splitlines()] == json.loads(whole)


def test_github_annotations(project: Path) -> None:
    code, out, _ = check("--output-format", "github", "app")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3  # a help line is escaped, never a second line
    absolute = project.resolve() / "app" / "models.py"
    assert lines[2] == (
        f"::error title=orm-modernize (ORM002),file={absolute},line=15,col=9,"
        "endLine=15,endColumn=28::app/models.py:15:9: ORM002 `Session.query()` is"
        " legacy in SQLAlchemy 2.0%0A  help: Use `select()` with `Session.scalars()`"
        " or `Session.execute()`"
    )


def test_github_escapes_what_a_workflow_command_cannot_hold() -> None:
    from orm_modernize.cli.reporters import github

    assert github._property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    assert github._data("50%: a\r\nb") == "50%25: a%0D%0Ab"


def test_gitlab_fingerprints_survive_moved_lines(project: Path) -> None:
    _, out, _ = check("--output-format", "gitlab", "app")
    before = json.loads(out)
    models = project / "app" / "models.py"
    models.write_text("# a comment\n\n" + LEGACY)
    _, out, _ = check("--output-format", "gitlab", "app")
    after = json.loads(out)
    assert len({i["fingerprint"] for i in before}) == len(before) == 3
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]
    begin = [i["location"]["positions"]["begin"]["line"] for i in after]
    assert begin == [5, 13, 17]
    assert after[0]["check_name"] == "ORM402"
    assert after[0]["location"]["path"] == "app/models.py"
    assert [i["location"]["lines"]["begin"] for i in after] == begin  # required


def test_gitlab_and_sarif_name_files_from_the_repository_top(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run from a subdirectory: GitLab reads paths from the repository's top, and
    # the fingerprints (SARIF's too) must not depend on where the run started.
    (project / ".git").mkdir()
    _, top, _ = check("--output-format", "gitlab", "app")
    monkeypatch.chdir(project / "app")
    _, inside, _ = check("--output-format", "gitlab", ".")
    assert json.loads(inside) == json.loads(top)
    assert {i["location"]["path"] for i in json.loads(inside)} == {"app/models.py"}
    _, sarif, _ = check("--output-format", "sarif", ".")
    prints = {
        r["partialFingerprints"]["ormModernize/v1"]
        for r in json.loads(sarif)["runs"][0]["results"]
    }
    assert prints == {i["fingerprint"] for i in json.loads(top)}


def test_junit_report(project: Path) -> None:
    import xml.etree.ElementTree as ET

    _, out, _ = check("--output-format", "junit", "app")
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    assert root.get("tests") == root.get("failures") == "3"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["app/models.py"]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == [
        "org.orm-modernize.ORM402",
        "org.orm-modernize.ORM002",
        "org.orm-modernize.ORM002",
    ]
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("message") == "`Session.query()` is legacy in SQLAlchemy 2.0"
    assert failure.text == (
        "line 15, col 9, `Session.query()` is legacy in SQLAlchemy 2.0"
    )


def test_junit_of_a_clean_project_has_no_failures(project: Path) -> None:
    code, out, _ = check("--output-format", "junit", "--select", "ORM3", "app")
    assert code == 0
    assert '<testsuites name="orm-modernize" tests="0" failures="0"' in out


def test_statistics_count_the_findings_of_each_rule(project: Path) -> None:
    code, out, _ = check("--statistics", "app")
    assert code == 1
    assert out.splitlines() == [
        "2\tORM002\t[-] legacy-query",
        "1\tORM402\t[ ] declarative-base-function",
    ]
    _, out, _ = check("--statistics", "--unsafe-fixes", "app")
    assert out.splitlines()[0] == "2\tORM002\t[*] legacy-query"
    # As ruff's `--statistics --output-format json`.
    _, out, _ = check("--statistics", "--output-format", "json", "app")
    assert json.loads(out) == [
        {
            "code": "ORM002",
            "name": "legacy-query",
            "count": 2,
            "fixable": True,
            "fixable_count": 1,
        },
        {
            "code": "ORM402",
            "name": "declarative-base-function",
            "count": 1,
            "fixable": False,
            "fixable_count": 0,
        },
    ]


def test_exit_zero_with_findings_but_not_with_an_error(project: Path) -> None:
    assert check("--exit-zero", "app")[0] == 0
    (project / "app" / "broken.py").write_text("import sqlalchemy\nsession.query(\n")
    assert check("--exit-zero", "app")[0] == 2


def test_exit_non_zero_on_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.py").write_text(SELECT_LIST)
    code, out, _ = check("--fix", "--exit-non-zero-on-fix", "q.py")
    assert "Found 1 error (1 fixed, 0 remaining)." in out
    assert code == 1
    (tmp_path / "q.py").write_text(SELECT_LIST)
    assert check("--fix", "q.py")[0] == 0


def test_sarif_output_is_valid_sarif_2_1_0(project: Path) -> None:
    from pydantic import ValidationError
    from pydantic_sarif.model import (
        StaticAnalysisResultsFormatSarifVersion210JsonSchema as Sarif,
    )

    _, out, _ = check("--output-format", "sarif", "app")
    log = json.loads(out)
    Sarif.model_validate(log)  # the models generated from the OASIS JSON schema
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    found = {
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    }
    assert ("ORM002", "app/models.py", 15) in found
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    assert rules[0]["helpUri"].endswith("docs/rules.md#orm001")
    # A fixable finding carries its fix as replacements.
    fixes = {r["ruleId"]: r.get("fixes") for r in run["results"]}
    (fix,) = fixes["ORM002"] or [None]
    assert fix["description"]["text"].endswith(("(safe fix)", "(unsafe fix)"))
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "app/models.py"
    assert "select(" in "".join(
        r["insertedContent"]["text"] for r in change["replacements"]
    )
    # The validation bites: a result without its message is refused.
    del log["runs"][0]["results"][0]["message"]
    with pytest.raises(ValidationError):
        Sarif.model_validate(log)


def test_stdin_is_checked_as_the_named_file(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.orm-modernize.per-file-ignores]\n"scripts/*" = ["ORM301"]\n'
    )
    result = CliRunner().invoke(
        main, ["check", "-", "--stdin-filename", "app/new.py"], input=SELECT_LIST
    )
    assert result.exit_code == 1
    assert result.stdout.startswith("app/new.py:4:8: ORM301 ")
    ignored = CliRunner().invoke(
        main, ["check", "-", "--stdin-filename", "scripts/x.py"], input=SELECT_LIST
    )
    assert (ignored.exit_code, ignored.stdout) == (0, "All checks passed!\n")


def test_stdin_with_fix_prints_the_fixed_source_only(project: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--fix", "-"], input=SELECT_LIST)
    assert result.exit_code == 0
    assert result.stdout == SELECT_LIST.replace("select([t])", "select(t)")
    assert "Found 1 error (1 fixed, 0 remaining)." in result.stderr
    unchanged = CliRunner().invoke(main, ["check", "--fix", "-"], input="x = 1\n")
    assert unchanged.stdout == "x = 1\n"


def test_stdin_must_be_the_only_path(project: Path) -> None:
    code, _, err = check("-", "app")
    assert code == 2 and "must be the only path" in err


def test_show_fixes_lists_what_was_fixed(project: Path) -> None:
    (project / "app" / "queries.py").write_text(SELECT_LIST)
    _, out, _ = check("--fix", "--show-fixes", "app")
    assert (
        "Fixed 2 errors:\n"
        "- app/models.py:\n"
        "    1 × ORM002 (legacy-query)\n"
        "- app/queries.py:\n"
        "    1 × ORM301 (select-column-list)\n"
    ) in out


def _in_terminal(args: list[str], env: dict[str, str]) -> str:
    """What the command writes to stdout and stderr when both are a terminal."""
    import pty

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "orm_modernize", *args],
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, **env},
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the command has exited and closed the terminal
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=120)
    os.close(controller)
    return output.decode()


def test_colour_only_on_a_terminal_and_never_with_no_color(project: Path) -> None:
    plain = {"NO_COLOR": "", "FORCE_COLOR": "", "CI": ""}
    coloured = _in_terminal(["check", "--no-cache", "app"], plain)
    assert "\x1b[1mapp/models.py\x1b[0m" in coloured
    assert "\x1b[" not in check("app")[1]  # a pipe
    no_color = _in_terminal(["check", "--no-cache", "app"], {**plain, "NO_COLOR": "1"})
    assert "\x1b[" not in no_color and "app/models.py:15:9: ORM002" in no_color


def test_progress_bar_only_for_many_files_on_a_terminal(project: Path) -> None:
    plain = {"NO_COLOR": "1", "FORCE_COLOR": "", "CI": ""}
    for n in range(201):
        (project / "many" / f"m{n}.py").parent.mkdir(exist_ok=True)
        (project / "many" / f"m{n}.py").write_text(SELECT_LIST)
    shown = _in_terminal(["check", "--no-cache", "--statistics", "many"], plain)
    # Drawn, then its line cleared (and the cursor shown again) for the report.
    assert "Checking  [####" in shown and "]  201/201" in shown
    assert "\r\x1b[K\x1b[?25h201\tORM301" in shown
    assert "Checking" not in _in_terminal(["check", "--no-cache", "app"], plain)
    ci = _in_terminal(["check", "--no-cache", "many"], {**plain, "CI": "true"})
    assert "/201" not in ci
    _, _, err = check("--no-cache", "many")  # stderr is a pipe
    assert "Checking" not in err


def _applied(text: str, edits: list[dict]) -> str:
    """`text` with ruff-shaped JSON edits applied (1-based rows and columns)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(at: dict) -> int:
        return starts[at["row"] - 1] + at["column"] - 1

    ordered = sorted(edits, key=lambda e: offset(e["location"]), reverse=True)
    for edit in ordered:
        begin, end = offset(edit["location"]), offset(edit["end_location"])
        text = text[:begin] + edit["content"] + text[end:]
    return text


def test_json_fix_edits_give_the_fixed_code(project: Path) -> None:
    (project / "q.py").write_text(SELECT_LIST)
    _, out, _ = check("--output-format", "json", "q.py")
    (row,) = json.loads(out)
    assert row["fix"]["edits"] == [
        {
            "content": "select(t)",
            "location": {"row": 4, "column": 8},
            "end_location": {"row": 4, "column": 19},
        }
    ]
    check("--fix", "q.py")
    assert _applied(SELECT_LIST, row["fix"]["edits"]) == (project / "q.py").read_text()


def test_each_findings_edits_alone_remove_it_and_compile(project: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    for example in sorted(examples.glob("*.py")):
        source = example.read_text()
        (project / example.name).write_text(source)
        _, out, _ = check("--output-format", "json", "--unsafe-fixes", example.name)
        rows = [r for r in json.loads(out) if r["fix"] is not None]
        assert rows
        for row in rows:
            fixed = _applied(source, row["fix"]["edits"])
            compile(fixed, example.name, "exec")
            (project / example.name).write_text(fixed)
            _, again, _ = check("--output-format", "json", example.name)
            # That finding is gone (a fix may uncover another, of another code).
            left = [r["code"] for r in json.loads(again)]
            before = [r["code"] for r in json.loads(out)]
            assert left.count(row["code"]) < before.count(row["code"]), fixed
            (project / example.name).write_text(source)


@pytest.mark.parametrize("verbose", [False, True])
@pytest.mark.parametrize("command", [["check", "--exit-zero"], ["rules"]])
def test_a_crash_of_any_command_exits_2_with_one_line(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    verbose: bool,
) -> None:
    # A bug outside any one file's analysis (here the run's discovery, or the
    # rules' docs): CI must not read it as findings (1) nor, with --exit-zero, as
    # a clean run.
    import orm_modernize.cli.rule_docs
    import orm_modernize.workspace.runner

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("broken\nbadly")

    monkeypatch.setattr(orm_modernize.workspace.runner, "discover", broken)
    monkeypatch.setattr(orm_modernize.cli.rule_docs, "runs_on_text", broken)
    args = command + (["--verbose"] if verbose and command[0] == "check" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    last = result.stderr.splitlines()[-1]
    assert last == (
        "orm-modernize: internal error: ValueError: broken badly"
        " (a bug: --verbose prints its traceback to report)"
    )
    assert ("Traceback" in result.stderr) == (verbose and command[0] == "check")


def test_a_reader_that_leaves_early_ends_the_run_quietly(project: Path) -> None:
    # `orm-modernize rules | head -1`: the reader is gone before the first write
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "orm_modernize", "rules"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


def test_small_conveniences_of_a_ruff_user(tmp_path: Path) -> None:
    """`explain` takes a rule's name; a run over no Python file says so; a float
    target version says it must be a string."""
    named = CliRunner().invoke(main, ["explain", "legacy-query"])
    assert named.exit_code == 0 and named.stdout.startswith("# ORM002 legacy-query")
    typo = CliRunner().invoke(main, ["explain", "legacy_querry"])
    assert typo.exit_code == 2 and "did you mean `legacy-query`?" in typo.output
    empty = CliRunner().invoke(main, ["check", "--isolated", str(tmp_path)])
    assert empty.exit_code == 0
    assert "No Python files found" in empty.stderr
    (tmp_path / "pyproject.toml").write_text(
        "[tool.orm-modernize]\ntarget-version = 2.0\n"
    )
    (tmp_path / "m.py").write_text("x = 1\n")
    floated = CliRunner().invoke(main, ["check", str(tmp_path / "m.py")])
    assert floated.exit_code == 2
    assert 'a string, `target-version = "2.0"`' in floated.stderr


def test_output_file_gets_the_report_and_stdout_nothing(project: Path) -> None:
    code, out, err = check("--output-format", "json", "-o", "report.json", "app")
    assert code == 1 and out == "" and err == ""
    written = json.loads((project / "report.json").read_text())
    assert written and {f["code"] for f in written} >= {"ORM002"}
    # the same report as on standard output
    assert json.loads(check("--output-format", "json", "app")[1]) == written


def test_an_output_file_that_cannot_be_written_is_one_line_and_exit_2(
    project: Path,
) -> None:
    code, out, err = check("-o", "missing/report.txt", "app")
    assert code == 2 and out == ""
    assert err == (
        "orm-modernize: error: cannot write missing/report.txt:"
        " No such file or directory\n"
    )


UNPARSEABLE = "from sqlalchemy.ext.declarative import declarative_base\ndef f(:\n"


def _reported_error(output_format: str, out: str) -> str:
    """The error of bad.py as the format carries it, as text."""
    if output_format in ("json", "json-lines"):
        rows = (
            json.loads(out)
            if output_format == "json"
            else [json.loads(line) for line in out.splitlines()]
        )
        (row,) = [r for r in rows if r["code"] is None]
        assert (row["filename"], row["location"]) == ("bad.py", {"row": 2, "column": 7})
        return str(row["message"])
    if output_format == "gitlab":
        (issue,) = [i for i in json.loads(out) if i["severity"] == "blocker"]
        assert issue["location"]["positions"]["begin"] == {"line": 2, "column": 7}
        return str(issue["description"])
    if output_format == "sarif":
        from pydantic_sarif.model import (
            StaticAnalysisResultsFormatSarifVersion210JsonSchema as Sarif,
        )

        log = json.loads(out)
        Sarif.model_validate(log)
        (invocation,) = log["runs"][0]["invocations"]
        assert invocation["executionSuccessful"] is False
        (note,) = invocation["toolExecutionNotifications"]
        return str(note["message"]["text"])
    if output_format == "junit":
        import xml.etree.ElementTree as ET

        root = ET.fromstring(out)
        assert root.get("errors") == "1"
        (error,) = root.iter("error")
        return str(error.get("message"))
    assert output_format == "github"
    (line,) = [line for line in out.splitlines() if "bad.py" in line]
    assert line.startswith("::error ") and ",line=2,col=7::" in line
    return line


@pytest.mark.parametrize(
    "output_format", ["json", "json-lines", "github", "gitlab", "sarif", "junit"]
)
def test_a_file_that_cannot_be_parsed_is_in_every_machine_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output_format: str
) -> None:
    # A CI dashboard reads the format, not stderr: it must not show a clean run.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.py").write_text(UNPARSEABLE)
    (tmp_path / "good.py").write_text(SELECT_LIST)
    code, out, err = check("--no-cache", "--output-format", output_format, ".")
    assert code == 2 and "bad.py: cannot parse: invalid syntax" in err
    assert "cannot parse: invalid syntax" in _reported_error(output_format, out)


def test_a_reason_for_no_fix_that_many_findings_share_is_summed_up_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text(
        "sqlalchemy==1.4.54\nflask-sqlalchemy>=2.5\n"
    )
    views = "".join(
        f"def view{n}(page):\n    return User.query.order_by(User.id).paginate(page)\n"
        for n in range(6)
    )
    (tmp_path / "app.py").write_text(
        "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\n"
        "class User(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n\n\n"
        + views
    )
    code, out, _ = check("--no-cache", "app.py")
    assert code == 1
    assert out.count("needs Flask-SQLAlchemy 3.0 and requirements.txt admits") == 7
    assert out.endswith(
        "6 findings have no fix because `db.paginate()` needs Flask-SQLAlchemy"
        " 3.0 and requirements.txt admits older versions. Raising that pin unlocks"
        " them.\n"
    )


def test_full_output_shows_the_code_a_finding_points_at(project: Path) -> None:
    code, out, _ = check("--no-cache", "--output-format", "full", "app")
    assert code == 1
    # The unsafe fix of ORM002 in `names()`: said on the finding itself.
    assert (
        "app/models.py:11:12: ORM002 `Session.query()` is legacy in SQLAlchemy 2.0\n"
        "   |\n"
        "11 |     return db.query(User).all()\n"
        "   |            ^^^^^^^^^^^^^^ ORM002\n"
        "   |\n"
        "   = help: Use `select()` with `Session.scalars()` or `Session.execute()`\n"
        "   = note: the fix is unsafe; --unsafe-fixes applies it\n"
    ) in out
    assert out.endswith(
        "[*] 1 fixable with the `--fix` option.\n"
        "(2 hidden fixes can be enabled with the `--unsafe-fixes` option.)\n"
    )


def test_full_output_is_the_default_on_a_terminal(project: Path) -> None:
    plain = {"NO_COLOR": "1", "FORCE_COLOR": "", "CI": ""}
    shown = _in_terminal(["check", "--no-cache", "app"], plain)
    assert "\n   = help: Use `select()`" in shown.replace("\r\n", "\n")
    assert "   |" not in check("--no-cache", "app")[1]  # a pipe: a line each


def test_full_output_numbers_lines_as_python_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A form feed ends no line for Python; str.splitlines() would split there.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.py").write_text("x = 1  # \x0c page\n" + SELECT_LIST)
    _, out, _ = check("--no-cache", "--output-format", "full", "q.py")
    assert "5 | stmt = select([t])\n" in out
