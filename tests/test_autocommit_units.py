"""An autocommit session or factory at module level is left as it is when
another module of the project imports it: its uses there are not seen. Checked
alone or with the project, the answer is the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from orm_modernize.cli.commands import main

DATABASE = """\
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite://")
Factory = sessionmaker(bind=engine, autocommit=True)


def ping():
    with Factory.begin() as session:
        session.connection()
"""
USER = """\
from app.database import Factory


def leaky():
    session = Factory()
    return session.connection()
"""


def check(*args: str, status: int = 1) -> str:
    result = CliRunner().invoke(
        main, ["check", "--no-cache", "--select", "ORM101", "--unsafe-fixes", *args]
    )
    assert result.exit_code == status, result.output
    return result.stdout


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["sqlalchemy>=1.4"]\n'
    )
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "database.py").write_text(DATABASE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_factory_used_in_units_only_loses_autocommit(app: Path) -> None:
    assert "[*]" in check("app/database.py")
    check("--fix", "app/database.py", status=0)
    assert "sessionmaker(bind=engine)\n" in (app / "app/database.py").read_text()


def test_a_factory_another_module_imports_is_left(app: Path) -> None:
    (app / "app/user.py").write_text(USER)
    whole, alone = check("."), check("app/database.py")
    assert "(no fix: other modules may import `Factory`)" in whole
    assert alone == whole
