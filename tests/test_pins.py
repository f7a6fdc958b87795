"""The project's version pins: where they are read from, and what they rule out."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from orm_modernize.cli import main
from orm_modernize.pins import Pin, lowest_floor, parse_requirement, read_pins


@pytest.mark.parametrize(
    ("requirement", "floor"),
    [
        ("flask-sqlalchemy==2.5.1", (2, 5, 1)),
        ("Flask_SQLAlchemy >= 2.5, < 3", (2, 5)),
        ("flask.sqlalchemy~=3.0", (3, 0)),
        ("Flask-SQLAlchemy[async]>3.0.1 ; python_version >= '3.8'", (3, 0, 1)),
        ("flask-sqlalchemy==2.*", (2,)),
        ("flask-sqlalchemy<3", (0,)),  # no lower bound: anything older is allowed
        ("flask-sqlalchemy ^2.5", (2, 5)),  # Poetry's caret
        ("SQLAlchemy>=1.4,<2.1", (1, 4)),
    ],
)
def test_a_requirement_is_reduced_to_the_lowest_version_it_admits(
    requirement: str, floor: tuple[int, ...]
) -> None:
    pin = parse_requirement(requirement, "requirements.txt")
    assert pin is not None and pin.floor == floor


@pytest.mark.parametrize(
    "requirement", ["flask-sqlalchemy", "flask>=2.0", "flask-sqlalchemy-lite==1.0"]
)
def test_unpinned_or_other_libraries_give_no_pin(requirement: str) -> None:
    assert parse_requirement(requirement, "requirements.txt") is None


PYPROJECT_621 = """\
[project]
name = "app"
requires-python = ">=3.10"
dependencies = ["flask>=2", "Flask-SQLAlchemy>=3.0.2"]
[project.optional-dependencies]
legacy = ["sqlalchemy==1.4.54"]
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
                Pin("flask-sqlalchemy", (3, 0, 2), "pyproject.toml"),
                Pin("python", (3, 10), "pyproject.toml"),
                Pin("sqlalchemy", (1, 4, 54), "pyproject.toml"),
            ],
        ),
        (
            {"pyproject.toml": PYPROJECT_POETRY},
            [
                Pin("flask-sqlalchemy", (2, 5), "pyproject.toml"),
                Pin("python", (3, 9), "pyproject.toml"),
            ],
        ),
        (
            {"setup.cfg": SETUP_CFG},
            [
                Pin("flask-sqlalchemy", (2, 4), "setup.cfg"),
                Pin("python", (3, 8), "setup.cfg"),
            ],
        ),
        (
            {"setup.py": "setup(install_requires=['Flask-SQLAlchemy==2.5.1'])\n"},
            [Pin("flask-sqlalchemy", (2, 5, 1), "setup.py")],
        ),
        (
            {
                "requirements.txt": "# pinned\nflask-sqlalchemy==3.1.1  # web\n",
                "requirements/old.txt": "-r ../requirements.txt\nflask-sqlalchemy<3\n",
            },
            [
                Pin("flask-sqlalchemy", (0,), "requirements/old.txt"),
                Pin("flask-sqlalchemy", (3, 1, 1), "requirements.txt"),
            ],
        ),
    ],
)
def test_pins_are_read_from_the_nearest_project_files(
    tmp_path: Path, files: dict[str, str], expected: list[Pin]
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    package = tmp_path / "src" / "app"
    package.mkdir(parents=True)
    assert list(read_pins([package])) == expected


def test_the_oldest_admitted_version_wins(tmp_path: Path) -> None:
    pins = [
        Pin("flask-sqlalchemy", (3, 1), "pyproject.toml"),
        Pin("flask-sqlalchemy", (2, 5), "requirements.txt"),
    ]
    oldest = lowest_floor(pins, "flask-sqlalchemy")
    assert oldest is not None and oldest.source == "requirements.txt"
    assert lowest_floor(pins, "sqlalchemy") is None


def test_the_search_stops_at_the_repository_top(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask-sqlalchemy==2.5.1\n")
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    assert read_pins([repository]) == ()


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
    ("requirements", "fixed"),
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
    fixed: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "app.py").write_text(APP)
    result = CliRunner().invoke(main, ["check", "--fix", "--jobs", "1", "app.py"])
    text = (tmp_path / "app.py").read_text()
    if fixed:
        assert result.exit_code == 0, result.output
        assert "return db.get_or_404(Author, ident)" in text
        assert "db.first_or_404(select(Author).order_by(Author.id).limit(1))" in text
    else:
        assert result.exit_code == 1
        assert text == APP
        assert result.output.count("requirements.txt admits older versions") == 2
