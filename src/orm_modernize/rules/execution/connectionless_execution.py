"""ORM202: `engine.execute(s)` -> `with engine.begin() as conn: conn.execute(s)`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import EXECUTE_METHODS
from orm_modernize.data.records import Evidence, Fix
from orm_modernize.rewrite.connection_block import (
    block_fix_edits,
    in_begin_block,
    statement_to_move,
)
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
    autocommitted writes, and runs on SQLAlchemy 1.4 as well as 2.x. A result
    read in the same expression (`.fetchall()`, `.scalar()`, `.rowcount`,
    `list(...)`) or iterated by a `for` loop (which moves with its body) needs
    nothing more. A result kept in a name (`result = engine.execute(...)`)
    takes its uses into the block: the statements after it, in its block, up to
    its last use, when they call nothing but builtins and methods of the result
    and its rows (1.x had released the connection and committed a write before
    anything else ran). Safe when the engine is proven (`create_engine(...)`);
    unsafe when it is only named like one (`self.engine`), or when a kept
    result's statement is not a proven SELECT: a use that raised would roll
    back the write, which 1.x had committed. Reported without a fix: a result
    used after its block, in a nested function, or past a call that may need
    the database or a `yield`, and a call in an `if` or `while` header.

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
    impact = "removed"
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
        move = statement_to_move(call, self.semantic)
        assert isinstance(call.func, cst.Attribute)
        block = in_begin_block(move, call, call.func.value, self.semantic)
        # A use that raises would roll back what the block wrote, which 1.x had
        # committed: safe only when nothing is written.
        reads = not move.uses or self._reads_only(call)
        return Fix(block_fix_edits(move, block), safe=evidence.proven and reads)

    def _reads_only(self, call: cst.Call) -> bool:
        """The call runs a proven SELECT (`engine.scalar()` only reads too)."""
        statement = call.args[0].value if call.args else None
        return statement is not None and self.semantic.shared(CoreObjects).is_select(
            statement
        )
