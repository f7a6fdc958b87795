"""A method returning a query (a repository's) is converted with its calls in
every module of the project, or not at all: the whole project is searched,
whichever files are passed, and a cached run sees a caller added since. The
executed proof is `fixtures/_projects/repository`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, copy_project, run_program, write_package

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
CALLED = "app/views.py:5:12: ORM002 `Session.query()` is legacy in SQLAlchemy 2.0:"


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


def test_a_method_another_module_calls_is_converted_in_both(app: Path) -> None:
    assert "[*]" in check(".")  # cached: the caller below changes the project
    (app / "app/views.py").write_text(VIEW)

    whole = check(".")
    assert "app/repository.py:11:16: ORM002" in whole and f"{CALLED} `Tickets" in whole
    assert "[*] 2 fixable" in whole
    for name in ("app/repository.py", "app/views.py"):
        alone = check(name)
        assert alone.splitlines()[:-2] == [
            line for line in whole.splitlines() if line.startswith(name)
        ]

    # The diff of a module parsed only for the run converting both ends
    assert "+++ b/app/views.py" in check("--diff", ".")
    check("--fix", ".")
    views = (app / "app/views.py").read_text()
    assert "return session.scalars(Tickets(session).open_ones()).all()" in views
    assert "select(Ticket)" in (app / "app/repository.py").read_text()


def test_fixing_without_every_module_leaves_both_and_says_which(app: Path) -> None:
    (app / "app/views.py").write_text(VIEW)
    before = {p: p.read_bytes() for p in app.rglob("*.py")}

    for alone, other, how in [
        ("app/repository.py", "app/views.py", "calls"),
        ("app/views.py", "app/repository.py", "defines"),
    ]:
        found = check("--fix", alone)
        why = f"{other}, which {how} `Tickets.open_ones()`, is not checked"
        assert why in found and "[*]" not in found
        assert {p: p.read_bytes() for p in app.rglob("*.py")} == before


@pytest.mark.parametrize(
    "views, why",
    [
        # Reached as an attribute, not called: still a use
        (
            VIEW.replace(".open_ones()", ".open_ones"),
            "which other modules of the project may call (app/views.py) and does"
            " not always finish it",
        ),
        # On an object of a class it cannot place: the name is all it goes by
        (
            "def listing(tickets):\n    return tickets.open_ones().all()\n",
            "`tickets.open_ones()` is called on `tickets`, which is not bound once",
        ),
    ],
)
def test_a_call_another_module_cannot_finish_keeps_both_as_they_are(
    app: Path, views: str, why: str
) -> None:
    (app / "app/views.py").write_text(views)

    found = check("--fix", ".")

    assert why in found and "[*]" not in found
    assert (app / "app/repository.py").read_text() == REPOSITORY
    assert (app / "app/views.py").read_text() == views


def test_a_local_variable_of_the_methods_name_elsewhere_is_no_call(
    app: Path,
) -> None:
    # FlaskBB: `involved_users = User.query...` in a view, a method elsewhere.
    (app / "app/views.py").write_text(
        "def listing(rows):\n    open_ones = [r for r in rows]\n    return open_ones\n"
    )

    found = check(".")
    assert "[*]" in found and "app/views.py" not in found


def test_a_repository_used_across_a_package_behaves_the_same(
    tmp_path: Path, sqlalchemy14: Path, sqlalchemy2: str
) -> None:
    project = FIXTURES / "_projects" / "repository"
    root = copy_project("repository", tmp_path)
    old = run_program(sqlalchemy14, project / "bin/main.py", strict=False)
    assert old.returncode == 0, old.stderr

    found = check("--isolated", "--no-cache", "--fix", str(root))

    assert "Found 8 errors (8 fixed, 0 remaining)" in found, found
    for name in ("views.py", "reports.py", "repository.py"):
        assert ".query(" not in (root / "shop" / name).read_text()
    new = run_program(sqlalchemy2, root / "bin/main.py", strict=True)
    assert (new.returncode, new.stdout) == (0, old.stdout), new.stderr
    assert "(3, [Ticket('address'), Ticket('invoice')], 3)" in old.stdout


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


def test_a_method_of_a_class_with_subclasses_is_left(app: Path) -> None:
    # `self.open_ones()` in `count_open()` may run the subclass's method.
    archive = (
        "from app.repository import Tickets\n\n\nclass Archived(Tickets):\n"
        "    def open_ones(self):\n        return []\n"
    )
    (app / "app/archive.py").write_text(archive)

    found = check("--fix", ".")

    assert "the method `open_ones()`, of `Tickets`, which has subclasses" in found
    assert (app / "app/repository.py").read_text() == REPOSITORY


@pytest.mark.parametrize(
    "repository",
    [
        # Not the parameter as it is
        REPOSITORY.replace("self.session = session", "self.session = session or None"),
        # A class decorator may write another `__init__`
        REPOSITORY.replace("class Tickets:", "@register\nclass Tickets:"),
        # Set again elsewhere
        REPOSITORY + "\n\ndef rebind(tickets, other):\n    tickets.session = other\n",
    ],
)
def test_an_object_made_in_the_call_needs_init_to_keep_its_session(
    app: Path, repository: str
) -> None:
    (app / "app/repository.py").write_text(repository)
    (app / "app/views.py").write_text(VIEW)

    found = check("--fix", ".")

    assert "`Tickets.__init__()` is not seen to keep its session" in found
    assert (app / "app/views.py").read_text() == VIEW
