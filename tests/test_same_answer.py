"""The project is the unit: a file gets the same findings whether it is checked
alone (as pre-commit passes it), through stdin, or with the whole project.

Every module under the project's root (its `pyproject.toml`, `setup.cfg`,
`setup.py`, requirement files or repository top) is indexed whatever paths are
passed; only the files passed are checked. Before, the index was built from the
paths given: a module querying a model mapped in another module got nothing
alone and a finding in the whole run, so the pre-commit hook let through what CI
then failed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = {
    "app/__init__.py": "",
    "app/extensions.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n",
    "app/models.py": """\
from app.extensions import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)


class Admin(User):
    level = db.Column(db.Integer)
""",
    "app/queries.py": """\
from app.models import Admin, User


def names(session):
    return session.query(User).all()


def first_admin(session):
    return session.query(Admin).filter_by(level=1).first()
""",
    "app/schemas.py": """\
from .models import User


def load(db_session, ident):
    return db_session.query(User).get(ident)
""",
    "app/plain.py": "def query(x):\n    return x.query(1)\n",
}
CHECK = [sys.executable, "-m", "orm_modernize", "check", "--isolated", "--exit-zero"]
FORMAT = ["--output-format", "json"]


def findings(output: str) -> dict[str, list[tuple[object, ...]]]:
    found: dict[str, list[tuple[object, ...]]] = {}
    for item in json.loads(output):
        fix = item["fix"] or {}
        found.setdefault(item["filename"], []).append(
            (
                item["code"],
                item["location"]["row"],
                item["location"]["column"],
                item["message"],
                fix.get("applicability"),
                json.dumps(fix.get("edits")),
            )
        )
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the repository's top: the project root
    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize("cache", [["--no-cache"], []], ids=["no-cache", "cache"])
def test_each_file_alone_or_through_stdin_gets_the_whole_projects_findings(
    project: Path, cache: list[str]
) -> None:
    def run(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [*CHECK, *cache, *FORMAT, *args],
            capture_output=True,
            text=True,
            cwd=project,
            input=stdin,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    whole = findings(run("."))
    assert set(whole) == {"app/queries.py", "app/schemas.py"}
    for name in PROJECT:
        alone = findings(run(name)).get(name, [])
        assert alone == whole.get(name, []), name
        text = (project / name).read_text()
        piped = findings(run("--stdin-filename", name, "-", stdin=text)).get(name, [])
        assert piped == whole.get(name, []), name
