"""The project's version pins: where they are read from, and what they rule out."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from orm_modernize.analysis.pins import (
    Pin,
    admitting_below,
    parse_requirement,
    project_root,
    read_pins,
)
from orm_modernize.cli.commands import main


@pytest.mark.parametrize(
    ("requirement", "below", "admits"),
    [
        ("flask-sqlalchemy==2.5.1", "3.0", True),
        ("Flask_SQLAlchemy >= 2.5, < 3", "3.0", True),
        ("flask.sqlalchemy~=3.0", "3.0", False),
        ("Flask-SQLAlchemy[async]>3.0.1 ; python_version >= '3.8'", "3.0", False),
        ("flask-sqlalchemy==2.*", "3.0", True),
        ("flask-sqlalchemy ^2.5", "3.0", True),  # Poetry's caret
        # A one-part floor is the version with zeros: 3 is 3.0, 2 is 2.0. Read as
        # tuples, (3,) < (3, 0) took `>=3` for a pin admitting 2.x.
        ("flask-sqlalchemy>=3", "3.0", False),
        ("sqlalchemy>=2", "2.0", False),
        ("sqlalchemy>=1.2.9,<1.4", "1.4", True),
        ("sqlalchemy==1.3.24", "1.4", True),
        ("SQLAlchemy>=1.4,<2.1", "2.0", True),
        ("SQLAlchemy>=1.4,<2.1", "1.4", False),
        # No lower bound: an install gets the newest version under the cap.
        ("sqlalchemy<2", "2.0", True),
        ("sqlalchemy<2", "1.4", False),
        ("sqlalchemy<1.4", "1.4", True),
        ("sqlalchemy!=1.4.3", "1.4", False),
        # an inline comment, as setup.cfg allows (ihatemoney's pin was missed)
        ("SQLAlchemy>=1.3.0,<1.4  # New 1.4 changes API, see #728", "1.4", True),
    ],
)
def test_a_requirement_admits_versions_as_pep_440_says(
    requirement: str, below: str, admits: bool
) -> None:
    pin = parse_requirement(requirement, "requirements.txt")
    assert pin is not None and pin.admits_below(below) is admits


@pytest.mark.parametrize(
    "requirement",
    [
        "flask-sqlalchemy",
        "flask>=2.0",
        "flask-sqlalchemy-lite==1.0",
        "sqlalchemy (",  # does not parse
        # binds no Python that SQLAlchemy 1.4 runs on
        'sqlalchemy<1.4; python_version < "3"',
    ],
)
def test_unpinned_other_or_unusable_requirements_give_no_pin(requirement: str) -> None:
    assert parse_requirement(requirement, "requirements.txt") is None


def test_a_requirement_under_an_extra_counts() -> None:
    pin = parse_requirement('sqlalchemy<1.4; extra == "legacy"', "setup.py")
    assert pin is not None and pin.admits_below("1.4")


PYPROJECT_621 = """\
[project]
name = "app"
requires-python = ">=3.10"
dependencies = ["flask>=2", "Flask-SQLAlchemy>=3.0.2"]
[project.optional-dependencies]
legacy = ["sqlalchemy==1.4.54"]
[dependency-groups]
test = ["sqlalchemy>=2"]
"""
PYPROJECT_POETRY = """\
[tool.poetry.dependencies]
python = "^3.9"
flask-sqlalchemy = {version = "^2.5", extras = ["async"]}
[tool.poetry.group.dev.dependencies]
sqlalchemy = "*"
"""
SETUP_CFG = """\
[options]
python_requires = >=3.8
install_requires =
    flask-sqlalchemy>=2.4
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"pyproject.toml": PYPROJECT_621},
            [
                ("flask-sqlalchemy", ">=3.0.2", "pyproject.toml"),
                ("python", ">=3.10", "pyproject.toml"),
                ("sqlalchemy", "==1.4.54", "pyproject.toml"),
                ("sqlalchemy", ">=2", "pyproject.toml"),
            ],
        ),
        (
            {"pyproject.toml": PYPROJECT_POETRY},
            [
                ("flask-sqlalchemy", ">=2.5", "pyproject.toml"),
                ("python", ">=3.9", "pyproject.toml"),
            ],
        ),
        (
            {"setup.cfg": SETUP_CFG},
            [
                ("flask-sqlalchemy", ">=2.4", "setup.cfg"),
                ("python", ">=3.8", "setup.cfg"),
            ],
        ),
        (
            {"setup.py": "setup(install_requires=['Flask-SQLAlchemy==2.5.1'])\n"},
            [("flask-sqlalchemy", "==2.5.1", "setup.py")],
        ),
        (
            {
                "requirements.txt": "# pinned\nflask-sqlalchemy==3.1.1  # web\n",
                "requirements/old.txt": "-r ../requirements.txt\nflask-sqlalchemy<3\n",
            },
            [
                ("flask-sqlalchemy", "==3.1.1", "requirements.txt"),
                ("flask-sqlalchemy", "<3", "requirements/old.txt"),
            ],
        ),
        (  # includes, followed from the file that names them
            {
                "requirements.txt": "-r app/requirements.txt\n-c constraints/ci.txt\n",
                "app/requirements.txt": "--index-url https://x\n-e .\nflask\n"
                "sqlalchemy>=1.3,\\\n  <1.4\n",
                "constraints/ci.txt": "flask-sqlalchemy==2.5.1\n",
            },
            [
                ("flask-sqlalchemy", "==2.5.1", "constraints/ci.txt"),
                ("sqlalchemy", ">=1.3,<1.4", "app/requirements.txt"),
            ],
        ),
        (  # nested requirement folders
            {"requirements/python3/base.txt": "SQLAlchemy==1.3.24\n"},
            [("sqlalchemy", "==1.3.24", "requirements/python3/base.txt")],
        ),
    ],
)
def test_pins_are_read_from_the_project_and_the_files_it_includes(
    tmp_path: Path, files: dict[str, str], expected: list[tuple[str, str, str]]
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    package = tmp_path / "src" / "app"
    package.mkdir(parents=True)
    root = project_root(package / "models.py")
    assert root == tmp_path
    found = [(p.name, p.specifier, p.source) for p in read_pins(root)]
    assert found == expected


def test_the_most_permissive_source_counts() -> None:
    pins = [
        Pin("flask-sqlalchemy", ">=3.1", "pyproject.toml"),
        Pin("flask-sqlalchemy", ">=2.5", "requirements.txt"),
        Pin("flask-sqlalchemy", ">=2.4", "requirements/old.txt"),
    ]
    oldest = admitting_below(pins, "flask-sqlalchemy", "3.0")
    assert oldest is not None and oldest.source == "requirements/old.txt"
    assert admitting_below(pins, "flask-sqlalchemy", "2.0") is None
    assert admitting_below(pins, "sqlalchemy", "2.0") is None


def test_the_search_stops_at_the_repository_top(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask-sqlalchemy==2.5.1\n")
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    assert project_root(repository / "app.py") == repository
    assert read_pins(repository) == ()
    assert project_root(tmp_path / "elsewhere" / "app.py") == tmp_path


def test_project_metadata_owns_the_files_over_a_nearer_requirements_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "setup.py").write_text("setup(install_requires=['sqlalchemy>=1.4'])")
    (tmp_path / "pkg" / "requirements-dev.txt").parent.mkdir()
    (tmp_path / "pkg" / "requirements-dev.txt").write_text("sqlalchemy==2.0.30\n")
    assert project_root(tmp_path / "pkg" / "models.py") == tmp_path


APP = """\
from flask_sqlalchemy import SQLAlchemy


def helper():  # a compound statement before `db`, skipped when looking for `db`
    pass


db = SQLAlchemy()


class Author(db.Model):
    id = db.Column(db.Integer, primary_key=True)


def show(ident):
    return Author.query.get_or_404(ident)


def first():
    return Author.query.order_by(Author.id).first_or_404()
"""


@pytest.mark.parametrize(
    ("requirements", "helpers"),
    [
        ("flask-sqlalchemy==3.0.5\n", True),
        ("flask-sqlalchemy>=2.5\n", False),
        ("", True),  # no pin: the current Flask-SQLAlchemy
    ],
)
def test_flask_helpers_follow_the_projects_pin(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    requirements: str,
    helpers: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "app.py").write_text(APP)
    result = CliRunner().invoke(main, ["check", "--fix", "--jobs", "1", "app.py"])
    text = (tmp_path / "app.py").read_text()
    assert result.exit_code == 0, result.output
    if helpers:
        assert "return db.get_or_404(Author, ident)" in text
        assert "db.first_or_404(select(Author).order_by(Author.id).limit(1))" in text
    else:
        # Flask-SQLAlchemy 2.x has no `db.*_or_404()`: what its Query's ran.
        assert "from flask import abort\n" in text
        assert "return db.session.get(Author, ident) or abort(404)\n" in text
        assert (
            "return db.session.scalars(\n"
            "        select(Author).order_by(Author.id).limit(1)\n"
            "    ).first() or abort(404)\n"
        ) in text


LEGACY = """\
from sqlalchemy import create_engine, select
from sqlalchemy.ext.declarative import declarative_base
from sqlalchemy.orm import Session

Base = declarative_base()
engine = create_engine("sqlite://")


def rows(session: Session, table):
    return session.query(table).get(1), select([table])
"""


@pytest.mark.parametrize(
    "declared",
    [
        "setup(install_requires=['SQLAlchemy>=1.2.9,<1.4'])\n",
        "setup(install_requires=['sqlalchemy==1.3.24'])\n",
    ],
)
def test_a_project_pinned_below_1_4_gets_no_fix_and_one_line_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: str
) -> None:
    # `declarative_base` from sqlalchemy.orm, `Session.get` and positional
    # `select()` are 1.4's: as safe fixes they broke projects on 1.3.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "setup.py").write_text(declared)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(LEGACY)
    result = CliRunner().invoke(main, ["check", "--fix", "--unsafe-fixes", "."])
    assert (tmp_path / "app" / "models.py").read_text() == LEGACY
    assert result.exit_code == 1
    warnings = [line for line in result.stderr.splitlines() if "before 1.4" in line]
    assert warnings == [
        "orm-modernize: warning: setup.py: sqlalchemy"
        + declared.split("'")[1][len("sqlalchemy") :]
        + " admits SQLAlchemy before 1.4, which no fix runs on: findings are"
        " reported without fixes. Upgrade to SQLAlchemy 1.4 first, or pass"
        " --target-version 1.4."
    ]
    assert "[*]" not in result.stdout
    upgraded = CliRunner().invoke(
        main, ["check", "--fix", "--target-version", "1.4", "."]
    )
    # (ORM401 moved it into the module's own import from sqlalchemy.orm)
    assert (
        "from sqlalchemy.orm import Session, declarative_base\n"
        in (tmp_path / "app" / "models.py").read_text()
    )
    assert "before 1.4" not in upgraded.stderr


def test_the_target_assumed_without_a_pin_is_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(LEGACY)
    result = CliRunner().invoke(
        main, ["check", "--fix", "--unsafe-fixes", "--jobs", "1", "."]
    )
    assert result.stderr.count("so the fixes target SQLAlchemy 2.0") == 1
    # a fix that runs on 1.4 as well assumes nothing worth saying
    (tmp_path / "c.py").write_text(LEGACY)
    only = CliRunner().invoke(main, ["check", "--fix", "--select", "ORM401", "c.py"])
    assert "target SQLAlchemy 2.0" not in only.stderr
    assert "from sqlalchemy.orm import Session, declarative_base\n" in (
        (tmp_path / "c.py").read_text()
    )


def test_the_pin_that_counts_does_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CI-only requirements file pins 2.0, the package's metadata admits 1.4:
    # the most permissive counts, wherever the tool is started from.
    (tmp_path / "requirements-ci.txt").write_text("sqlalchemy==2.0.30\n")
    (tmp_path / "setup.py").write_text("setup(install_requires=['sqlalchemy>=1.4'])")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "models.py").write_text(LEGACY)
    outputs = []
    for cwd, path in ((tmp_path, "pkg/models.py"), (package, "models.py")):
        monkeypatch.chdir(cwd)
        result = CliRunner().invoke(main, ["check", "--no-cache", path])
        outputs.append(result.stdout.replace("pkg/", ""))
    assert outputs[0] == outputs[1]
    assert "the target is 1.4 (setup.py: sqlalchemy>=1.4)" in outputs[0]


@pytest.mark.parametrize(
    ("requirement", "fixed"),
    [("sqlalchemy>=2.0\n", False), ("sqlalchemy>=2.0.4\n", True), ("", True)],
)
def test_sort_order_needs_the_2_0_release_that_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, requirement: str, fixed: bool
) -> None:
    # mapped_column(sort_order=) came in 2.0.4: a project admitting 2.0.0 gets
    # ORM410 reported, and why, not a fix that raises TypeError there.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text(requirement)
    source = "from sqlalchemy import Column, Integer\n\n\nclass Keyed:\n"
    source += "    id = Column(Integer, primary_key=True)\n"
    (tmp_path / "models.py").write_text(source)
    result = CliRunner().invoke(
        main, ["check", "--fix", "--unsafe-fixes", "--select", "ORM410", "models.py"]
    )
    text = (tmp_path / "models.py").read_text()
    if fixed:
        assert result.exit_code == 0, result.output
        assert "id = mapped_column(Integer, primary_key=True, sort_order=-1)" in text
    else:
        assert result.exit_code == 1 and text == source
        assert "(no fix: `sort_order=` needs SQLAlchemy 2.0.4 and" in result.output
        assert "requirements.txt" in result.output
