"""Core receiver proof: one row per heuristic, with the evidence it must give for
the expression `target` on the last line of the snippet."""

from __future__ import annotations

import libcst as cst
import pytest

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import Core
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Evidence

P, L, N = Evidence.PROVEN, Evidence.LIKELY, Evidence.NONE
SA = "import sqlalchemy as sa\nfrom sqlalchemy import Table, create_engine\n"

ROWS = {
    # tables
    "table_call": ("t = Table('t', md)\ntarget(t)", Core.TABLE, P),
    "lightweight_table": ("t = sa.table('t')\ntarget(t)", Core.TABLE, P),
    "model_table": (
        "from sqlalchemy.orm import declarative_base\nB = declarative_base()\n"
        "class U(B):\n    pass\ntarget(U.__table__)",
        Core.TABLE,
        P,
    ),
    "unknown_class_table": ("target(Thing.__table__)", Core.TABLE, L),
    "none_placeholder_then_table": (
        "t = None\ndef setup():\n    global t\n    t = Table('t', md)\ntarget(t)",
        Core.TABLE,
        P,
    ),
    "only_none_is_no_table": ("t = None\ntarget(t)", Core.TABLE, N),
    "testing_table": (
        "from sqlalchemy.testing.schema import Table as T\nt = T('t', md)\ntarget(t)",
        Core.TABLE,
        P,
    ),
    "metadata_tables": ("t = md.tables['t']\ntarget(t)", Core.TABLE, L),
    "local_object_is_no_table": (
        "class Store:\n    pass\nt = Store()\ntarget(t)",
        Core.TABLE,
        N,
    ),
    # metadata and statements
    "metadata_call": ("md = sa.MetaData()\ntarget(md)", Core.METADATA, P),
    "base_metadata": (
        "from sqlalchemy.orm import declarative_base\nB = declarative_base()\n"
        "target(B.metadata)",
        Core.METADATA,
        P,
    ),
    "other_metadata_attribute": ("target(thing.metadata)", Core.METADATA, N),
    "select_call": ("target(sa.select(x).where(y))", Core.STATEMENT, P),
    "table_insert": (
        "t = Table('t', md)\ns = t.insert().values(a=1)\ntarget(s)",
        Core.STATEMENT,
        P,
    ),
    "query_is_no_statement": ("target(session.query(U).filter(y))", Core.STATEMENT, N),
    "object_select_is_no_statement": (
        "class Job:\n    pass\ntarget(Job().select())",
        Core.STATEMENT,
        N,
    ),
    # engines
    "create_engine": ("e = create_engine('sqlite://')\ntarget(e)", Core.ENGINE, P),
    "annotated_engine": (
        "from sqlalchemy.engine import Engine\ndef f(e: Engine):\n    target(e)",
        Core.ENGINE,
        P,
    ),
    "engine_named_param": ("def f(engine):\n    target(engine)", Core.ENGINE, L),
    "engine_attribute": ("target(self.engine)", Core.ENGINE, L),
    "private_attribute": ("target(self._conn)", Core.CONNECTION, L),
    "other_param": ("def f(client):\n    target(client)", Core.ENGINE, N),
    # connections
    "with_connect": (
        "e = create_engine('x')\nwith e.connect() as c:\n    target(c)",
        Core.CONNECTION,
        P,
    ),
    "with_begin": (
        "e = create_engine('x')\nwith e.begin() as c:\n    target(c)",
        Core.CONNECTION,
        P,
    ),
    "connect_call": (
        "e = create_engine('x')\nc = e.connect()\ntarget(c)",
        Core.CONNECTION,
        P,
    ),
    "connect_on_param_engine": (
        "def f(engine):\n    c = engine.connect()\n    target(c)",
        Core.CONNECTION,
        L,
    ),
    "conn_param": ("def f(conn):\n    target(conn)", Core.CONNECTION, L),
    "sqlite3_connection": (
        "import sqlite3\nc = sqlite3.connect(':memory:')\ntarget(c)",
        Core.CONNECTION,
        N,
    ),
    "session_connection": (
        "from sqlalchemy.orm import Session\ns = Session()\n"
        "c = s.connection()\ntarget(c)",
        Core.CONNECTION,
        P,
    ),
    # results and rows
    "executed": (
        "e = create_engine('x')\nwith e.connect() as c:\n"
        "    r = c.execute(s)\n    target(r)",
        Core.RESULT,
        P,
    ),
    "fetched_row": (
        "e = create_engine('x')\nwith e.connect() as c:\n"
        "    row = c.execute(s).fetchone()\n    target(row)",
        Core.ROW,
        P,
    ),
    "iterated_row": (
        "e = create_engine('x')\nwith e.connect() as c:\n"
        "    for row in c.execute(s):\n        target(row)",
        Core.ROW,
        P,
    ),
    "row_of_fetchall": (
        "e = create_engine('x')\nwith e.connect() as c:\n"
        "    rows = c.execute(s).fetchall()\n    target(rows[0])",
        Core.ROW,
        P,
    ),
    "comprehension_row": (
        "e = create_engine('x')\nc = e.connect()\n[target(r) for r in c.execute(s)]",
        Core.ROW,
        P,
    ),
    "dict_item_is_no_row": ("row = {'a': 1}\ntarget(row)", Core.ROW, N),
    "cycle": ("x = 1\nx = x.connect()\ntarget(x)", Core.CONNECTION, N),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_core_evidence(row: tuple[str, Core, Evidence]) -> None:
    code, kind, expected = row
    module = cst.parse_module(SA + code + "\n")
    semantic = Semantic(module)
    target = next(
        n
        for n in _walk(module)
        if isinstance(n, cst.Call)
        and isinstance(n.func, cst.Name)
        and n.func.value == "target"
    )
    assert semantic.shared(CoreObjects).evidence(target.args[0].value, kind) is expected


def _walk(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from _walk(child)
