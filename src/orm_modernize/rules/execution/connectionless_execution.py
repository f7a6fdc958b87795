"""ORM202: `engine.execute(s)` -> `with engine.begin() as conn: conn.execute(s)`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import EXECUTE_METHODS
from orm_modernize.data.records import Evidence, Fix
from orm_modernize.rewrite.connection_block import in_begin_block, statement_to_move
from orm_modernize.rules.base import Rule


class ConnectionlessExecution(Rule):
    """
    ## What it does
    Checks for statements executed on the `Engine` itself: `engine.execute(...)`
    and `engine.scalar(...)`.

    ## Why is this bad?
    SQLAlchemy 2.0 removed connectionless execution (`AttributeError` on 2.x).
    A statement runs on a `Connection` that the code opens and closes, and writes
    are committed explicitly: 1.x committed INSERT, UPDATE, DELETE and DDL on its
    own ("library-level autocommit").

    ## Example
        total = engine.scalar(select(func.count()).select_from(users))

    ## Use instead
        with engine.begin() as conn:
            total = conn.scalar(select(func.count()).select_from(users))

    ## Fix safety
    The statement moves into a `with engine.begin() as conn:` block: it runs on
    its own connection in a transaction committed at the end of the block, as 1.x
    autocommitted writes, and runs on SQLAlchemy 1.4 as well as 2.x. This is done
    only where the result is not needed after the statement: the call's value is
    discarded, read to the end in the same expression (`.fetchall()`,
    `.scalar()`, `.rowcount`, `list(...)`), or iterated by a `for` loop, which
    moves into the block with its body. A result kept in a variable is reported
    without a fix (its uses must move into the block by hand). Safe when the
    engine is proven (`create_engine(...)`); unsafe when it is only named like
    one (`self.engine`).

    ## References
    - SQLAlchemy 2.0 migration guide, "Implicit and Connectionless Execution,
      'bound metadata' removed", and "Library-level (but not driver level)
      'Autocommit' removed from both Core and ORM"
    """

    code = "ORM202"
    name = "connectionless-execution"
    message = (
        "`{method}()` on an `Engine` (connectionless execution) was removed in"
        " SQLAlchemy 2.0"
    )
    fix_title = "Run it on a connection: `with engine.begin() as conn:`"
    fix_availability = "sometimes"
    fix_runs_on = "1.4"
    triggers = (b".execute(", b".scalar(")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in EXECUTE_METHODS):
            return
        engine = func.value
        kind, evidence = self.semantic.shared(CoreObjects).executor(engine)
        if kind != "engine":
            return
        message = self.message.format(method=func.attr.value)
        self.report_fix(node, lambda: self._fix(node, evidence), message=message)

    def _fix(self, call: cst.Call, evidence: Evidence) -> Fix:
        statement = statement_to_move(call, self.semantic)
        assert isinstance(call.func, cst.Attribute)
        block = in_begin_block(statement, call, call.func.value, self.semantic)
        return Fix.replace(statement, block, safe=evidence.proven)
