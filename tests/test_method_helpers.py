"""A method returning a query (a repository's) is converted with its callers only
when no other module of the project names it: the whole project is searched,
whichever files are passed, and a cached run sees a caller added since."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_package

from orm_modernize.analysis.module_facts import query_methods
from orm_modernize.cli.commands import main

REPOSITORY = """\
from sqlalchemy.orm import Session

from app.models import Ticket


class Tickets:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open_ones(self):
        return self.session.query(Ticket).filter(Ticket.status == "open")

    def count_open(self):
        return self.open_ones().count()
"""
MODELS = """\
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Ticket(Base):
    __tablename__ = "tickets"
    id = Column(Integer, primary_key=True)
    status = Column(String)
"""
VIEW = """\
from app.repository import Tickets


def listing(session):
    return Tickets(session).open_ones().all()
"""
REFUSED = "which other modules of the project may call (app/views.py)"


def check(*args: str) -> str:
    result = CliRunner().invoke(
        main, ["check", "--select", "ORM002", "--unsafe-fixes", *args]
    )
    assert result.exit_code in (0, 1), result.output
    return result.stdout


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_package(
        tmp_path, {"models.py": MODELS, "repository.py": REPOSITORY}, pin=">=2.0"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("cache", ["--no-cache", "--isolated"])
def test_a_method_no_other_module_names_is_converted_with_its_calls(
    app: Path, cache: str
) -> None:
    whole, alone = check(cache, "."), check(cache, "app/repository.py")
    assert "app/repository.py:11:16: ORM002" in whole and "[*]" in whole
    assert alone == whole

    check(cache, "--fix", "app/repository.py")
    fixed = (app / "app/repository.py").read_text()
    assert 'return select(Ticket).where(Ticket.status == "open")' in fixed
    assert "self.session.scalar(\n" in fixed and ".subquery()" in fixed


def test_a_method_another_module_names_is_left_and_said_why(app: Path) -> None:
    assert "[*]" in check(".")  # cached: the caller below changes the project
    (app / "app/views.py").write_text(VIEW)

    whole, alone = check("."), check("app/repository.py")
    assert REFUSED in whole and "[*]" not in whole
    assert alone == whole
    before = (app / "app/repository.py").read_bytes()
    check("--fix", ".")
    assert (app / "app/repository.py").read_bytes() == before


def test_a_local_variable_of_the_methods_name_elsewhere_is_no_call(
    app: Path,
) -> None:
    # FlaskBB: `involved_users = User.query...` in a view, a method elsewhere.
    (app / "app/views.py").write_text(
        "def listing(rows):\n    open_ones = [r for r in rows]\n    return open_ones\n"
    )

    assert "[*]" in check(".")
    (app / "app/views.py").write_text(VIEW.replace(".open_ones()", ".open_ones"))
    assert REFUSED in check(".")  # reached as an attribute, not called: still a use


def test_the_facts_name_the_methods_that_may_return_a_query() -> None:
    source = b"""\
class Repository:
    def by_status(self, status):
        return self.session.query(Ticket).filter_by(status=status)

    async def flask_style(self):
        return Ticket.query.filter(Ticket.open)

    def url_part(self):
        return self.parsed.query

    def last(self):
        return self.x


Result.query.__doc__ = "a query of a class, after the class"
"""
    assert query_methods(source) == {b"by_status", b"flask_style"}


def test_a_call_on_a_keyword_only_parameter_is_refused(app: Path) -> None:
    (app / "app/repository.py").write_text(
        REPOSITORY
        + "\n\ndef report(*, tickets):\n    return tickets.open_ones().all()\n"
    )
    found = check("--no-cache", "app/repository.py")
    assert "which is used other than as `self.open_ones()`" in found
