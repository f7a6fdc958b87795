"""Messages say what is there: a refusal names the construct the code has."""

from __future__ import annotations

from pathlib import Path

from orm_modernize.data.records import Settings
from orm_modernize.engine.lint import lint_source

MODELS = """\
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String)


session = Session()
"""


def messages(code: str) -> list[str]:
    result = lint_source((MODELS + code).encode(), Path("app.py"), Settings())
    return [d.message for d in result.diagnostics if d.code == "ORM002"]


def test_a_refused_filter_by_without_a_join_does_not_mention_one() -> None:
    code = "rows = session.query(User.id, User.name).filter_by(id=1).all()\n"
    (message,) = messages(code)
    assert "join" not in message
    assert "the entity `filter_by()` filters here cannot be named" in message


def test_a_refused_filter_by_after_a_join_says_so() -> None:
    code = "rows = session.query(User.name).join(User.id).filter_by(id=1).all()\n"
    (message,) = messages(code)
    assert "filters after a join cannot be named" in message


def test_spread_arguments_are_called_so() -> None:
    code = "def f(t):\n    return session.query(User).join(*t).all()\n"
    (message,) = messages(code)
    assert "`join(*args)` arguments are not checked" in message
    code = "def f(o):\n    return session.query(User).options(**o).all()\n"
    (message,) = messages(code)
    assert "`options(**kwargs)` arguments are not checked" in message
    # `filter_by(**values)` converts on one entity; after a join it cannot.
    code = (
        "def f(kw):\n"
        "    return session.query(User).join(User.addresses).filter_by(**kw).all()\n"
    )
    (message,) = messages(code)
    assert "`filter_by(**values)` after a join or on several entities" in message


FLASK = """\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)


def first(uid):
    return User.query.filter_by(id=uid).first()


def every():
    return db.session.query(User).all()
"""


def test_a_flask_model_query_is_named_as_written() -> None:
    result = lint_source(FLASK.encode(), Path("app.py"), Settings())
    found = sorted(d.message for d in result.diagnostics if d.code == "ORM002")
    assert found == [
        "`Session.query()` is legacy in SQLAlchemy 2.0",
        "`User.query` is legacy in SQLAlchemy 2.0",
    ]
