"""Receiver proof: one row per heuristic, with the evidence it must give."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from orm_modernize.analysis.models import Shape
from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.analysis.query_chain import is_query_call
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Evidence

MODELS = """
from sqlalchemy.orm import declarative_base
Base = declarative_base()
class User(Base):
    pass
"""


def evidence_of(code: str, project: ProjectIndex | None = None) -> Evidence:
    """Evidence for the receiver of the last `x.query(...)` call in `code`."""
    module = cst.parse_module(textwrap.dedent(code))
    semantic = Semantic(module, project)
    calls = [n for n in _walk(module) if isinstance(n, cst.Call) and is_query_call(n)]
    query = calls[-1]
    assert isinstance(query.func, cst.Attribute)
    return semantic.session_evidence(query.func.value, [a.value for a in query.args])


def _walk(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from _walk(child)


PROVEN_ROWS = {
    "session_constructor": "from sqlalchemy.orm import Session\ns = Session(e)\ns.query(X)",
    "aliased_class": "from sqlalchemy.orm import Session as DB\ns = DB(e)\ns.query(X)",
    "module_alias": "import sqlalchemy as sa\ns = sa.orm.Session(e)\ns.query(X)",
    "orm_module": "from sqlalchemy import orm\ns = orm.Session(e)\ns.query(X)",
    "sessionmaker_call": "from sqlalchemy.orm import sessionmaker\nF = sessionmaker()\n"
    "def f():\n    s = F()\n    s.query(X)",
    "factory_named_Session": "from sqlalchemy.orm import sessionmaker\n"
    "Session = sessionmaker()\nsession = Session()\nsession.query(X)",
    "scoped_session": "from sqlalchemy.orm import scoped_session, sessionmaker\n"
    "db = scoped_session(sessionmaker())\ndb.query(X)",
    "with_session": "from sqlalchemy.orm import Session\nwith Session(e) as s:\n    s.query(X)",
    "with_factory_begin": "from sqlalchemy.orm import sessionmaker\nF = sessionmaker()\n"
    "with F.begin() as s:\n    s.query(X)",
    "annotated_param": "from sqlalchemy.orm import Session\ndef f(s: Session):\n    s.query(X)",
    "optional_param": "from typing import Optional\nfrom sqlalchemy.orm import Session\n"
    "def f(s: Optional[Session]):\n    s.query(X)",
    "inline_session": "from sqlalchemy.orm import Session\nSession(e).query(X)",
    "flask_sqlalchemy": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n"
    "db.session.query(X)",
}

LIKELY_ROWS = {
    "self_session": "import sqlalchemy\nclass R:\n    def f(self):\n        self.session.query(X)",
    "db_session": "import sqlalchemy\ndb.session.query(X)",
    "param_named_session_with_model": MODELS
    + "def f(session):\n    session.query(User)",
    "param_named_db_with_column": MODELS + "def f(db):\n    db.query(User.id)",
    "request_dbsession": "import sqlalchemy\nrequest.dbsession.query(X)",
}

NONE_ROWS = {
    "param_named_session_unknown_class": "def f(session):\n    session.query(Thing)",
    "attribute_session_without_sqlalchemy": "db.session.query(Thing)",
    "requests_session": MODELS + "import requests\nsession = requests.Session()\n"
    "session.query(User)",
    "unrelated_name": MODELS + "def f(index):\n    index.query(User)",
    "sessionmaker_itself": "from sqlalchemy.orm import sessionmaker\nF = sessionmaker()\n"
    "F.query(X)",
}


@pytest.mark.parametrize("code", PROVEN_ROWS.values(), ids=PROVEN_ROWS.keys())
def test_proven_receivers(code: str) -> None:
    assert evidence_of(code) is Evidence.PROVEN


@pytest.mark.parametrize("code", LIKELY_ROWS.values(), ids=LIKELY_ROWS.keys())
def test_likely_receivers(code: str) -> None:
    assert evidence_of(code) is Evidence.LIKELY


@pytest.mark.parametrize("code", NONE_ROWS.values(), ids=NONE_ROWS.keys())
def test_not_sqlalchemy(code: str) -> None:
    assert evidence_of(code) is Evidence.NONE


def test_mapped_class_imported_from_the_project_counts() -> None:
    code = "from .models import User\ndef f(session):\n    session.query(User)"
    assert evidence_of(code) is Evidence.NONE
    project = ProjectIndex(packages=frozenset({"app"}), mapped=frozenset({"User"}))
    assert evidence_of(code, project) is Evidence.LIKELY
    absolute = "from app.models import User\ndef f(session):\n    session.query(User)"
    assert evidence_of(absolute, project) is Evidence.LIKELY
    third_party = (
        "from other.models import User\ndef f(session):\n    session.query(User)"
    )
    assert evidence_of(third_party, project) is Evidence.NONE


@pytest.mark.parametrize(
    ("expression", "shape"),
    [
        ("User", Shape.ENTITY),
        ("User.name", Shape.COLUMN),
        ("func.count(User.id)", Shape.COLUMN),
        ("User.name.label('n')", Shape.COLUMN),
        ("aliased(User)", Shape.ENTITY),
        ("Unknown", Shape.UNKNOWN),
        ("thing.attr", Shape.UNKNOWN),
        ("bundle", Shape.COLUMN),  # rows that hold the bundle
        ("single", Shape.UNKNOWN),  # returned alone, like an entity, but not one
    ],
)
def test_shapes(expression: str, shape: Shape) -> None:
    code = MODELS + "from sqlalchemy import func\nfrom sqlalchemy.orm import aliased\n"
    code += "from sqlalchemy.orm import Bundle\nbundle = Bundle('b', User.id)\n"
    code += "single = Bundle('s', User.id, single_entity=True)\n"
    module = cst.parse_module(code + f"value = {expression}\n")
    semantic = Semantic(module)
    statement = module.body[-1]
    assert isinstance(statement, cst.SimpleStatementLine)
    assign = statement.body[0]
    assert isinstance(assign, cst.Assign)
    assert semantic.shape(assign.value) is shape


def orm_function_evidence(code: str) -> Evidence:
    """Evidence that the callee of the last call in `code` is `relationship`."""
    module = cst.parse_module(textwrap.dedent(code))
    semantic = Semantic(module)
    call = [n for n in _walk(module) if isinstance(n, cst.Call)][-1]
    return semantic.orm_function(call.func, ("relationship",))


ORM_FUNCTION_ROWS = {
    "imported": (
        "from sqlalchemy.orm import relationship\nrelationship('A')",
        "PROVEN",
    ),
    "aliased": ("from sqlalchemy.orm import relationship as r\nr('A')", "PROVEN"),
    "through_module": ("import sqlalchemy as sa\nsa.orm.relationship('A')", "PROVEN"),
    "flask_db_here": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n"
    "db.relationship('A')",
    "flask_db_imported": (
        "from app import db\nclass A(db.Model):\n    pass\ndb.relationship('A')",
        "LIKELY",
    ),
    "db_imported_no_orm_in_sight": ("from app import db\ndb.relationship('A')", "NONE"),
    "other_object": ("import graph\ng = graph.G()\ng.relationship('A')", "NONE"),
    "own_function": ("def relationship(x):\n    pass\nrelationship('A')", "NONE"),
}


@pytest.mark.parametrize(
    "row", ORM_FUNCTION_ROWS.values(), ids=ORM_FUNCTION_ROWS.keys()
)
def test_orm_function_evidence(row: str | tuple[str, str]) -> None:
    code, expected = (row, "PROVEN") if isinstance(row, str) else row
    assert orm_function_evidence(code) is Evidence[expected]
