"""ORM101 across modules. An autocommit session or factory at module level is
left as it is when another module of the project imports it: its uses there are
not seen. A `with session.begin(subtransactions=True):` block is written out
only when no module of the project sets `autocommit`: an autocommit session
committed a transaction at its outermost block, which the flush written out
does not. Checked alone or with the project, the answer is the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_package

from orm_modernize.analysis.module_facts import names_autocommit
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

# A module whose factory's sessions are in the default mode
PLAIN_DATABASE = """\
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite://")
Factory = sessionmaker(bind=engine)
# Its sessions are not in autocommit mode.
"""
SUBTRANSACTION = """\
from app.database import Factory


def rename(user, name):
    session = Factory()
    with session.begin(subtransactions=True):
        user.name = name
        session.add(user)
    return session
"""


def check(*args: str, status: int = 1) -> str:
    result = CliRunner().invoke(
        main, ["check", "--no-cache", "--select", "ORM101", "--unsafe-fixes", *args]
    )
    assert result.exit_code == status, result.output
    return result.stdout


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_package(tmp_path, {"database.py": DATABASE}, pin=">=1.4")
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


@pytest.mark.parametrize("paths", [["app/user.py"], ["."]])
def test_autocommit_set_in_another_module_refuses_the_fix(
    app: Path, paths: list[str]
) -> None:
    (app / "app/user.py").write_text(SUBTRANSACTION)  # database.py sets autocommit

    found = check(*paths)

    assert "app/user.py:6:10: ORM101" in found
    assert "(no fix: `autocommit` is named in app/database.py" in found


@pytest.mark.parametrize("paths", [["app/user.py"], ["."]])
def test_without_autocommit_the_block_is_written_out(
    app: Path, paths: list[str]
) -> None:
    (app / "app/database.py").write_text(PLAIN_DATABASE)  # a comment is no setting
    (app / "app/user.py").write_text(SUBTRANSACTION)

    check("--fix", *paths, status=0)

    assert (app / "app/user.py").read_text() == SUBTRANSACTION.replace(
        "    with session.begin(subtransactions=True):\n"
        "        user.name = name\n"
        "        session.add(user)\n",
        "    try:\n"
        "        user.name = name\n"
        "        session.add(user)\n"
        "        session.flush()\n"
        "    except BaseException:\n"
        "        session.rollback()\n"
        "        raise\n",
    )


@pytest.mark.parametrize(
    ("source", "named"),
    [
        (b"sessionmaker(autocommit=True)", True),
        (b"Session(bind=e, autocommit = False)", True),
        (b"SQLAlchemy(session_options={'autocommit': True})", True),
        (b'options = dict(**{"autocommit": True})', True),
        (b"session.autocommit = True", True),
        (b"# 1.x's autocommit mode, removed in 2.0", False),
        (b"if session.autocommit == flag: pass", False),
        (b"conn.execution_options(isolation_level='AUTOCOMMIT')", False),
    ],
)
def test_autocommit_is_a_setting_not_a_word(source: bytes, named: bool) -> None:
    assert names_autocommit(source) is named
