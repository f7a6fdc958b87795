"""ORM205: `users.insert().execute(...)` -> `with engine.begin() as conn: ...`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.metadata_binds import MetadataBinds
from orm_modernize.data.records import Fix, Refused
from orm_modernize.rewrite.connection_block import (
    block_fix_edits,
    in_begin_block_as,
    statement_to_move,
)
from orm_modernize.rewrite.parameters import Style, distilled
from orm_modernize.rules.base import Rule


class ImplicitExecution(Rule):
    """
    ## What it does
    Checks for statements that execute themselves: `stmt.execute()`,
    `stmt.scalar()`, `users.insert().execute(name="ann")`.

    ## Why is this bad?
    SQLAlchemy 2.0 removed implicit execution, with the "bound metadata" it
    relied on: a statement ran on the engine its tables' `MetaData` was bound
    to. On 2.x the call raises `AttributeError`. A statement runs on a
    connection the code opens; 1.x committed the writes it made on its own.

    ## Example
        users.insert().execute(name="ann")  # users' metadata is bound to engine

    ## Use instead
        with engine.begin() as conn:
            conn.execute(users.insert(), {"name": "ann"})

    ## Fix safety
    Safe when the statement's tables belong to a `MetaData` the module binds
    to one engine (`MetaData(bind=engine)`, `MetaData(engine)`,
    `metadata.bind = engine`, `declarative_base(bind=engine)`) that is known
    where the statement runs: a module-level metadata bound at module level,
    or in a function that declares it `global` to an imported or module-level
    engine (as in `setup_class`); or a function's local metadata, bound in the
    function's own body before the statement. The statement
    moves into a `with engine.begin() as conn:` block, which commits as 1.x's
    autocommit did, and its parameters become one dict or a list of dicts. A
    result kept in a name takes its uses into the block as for ORM202 (unsafe
    for anything but a proven SELECT). Reported without a fix when the engine
    is not known (bound to a parameter, under an `if`, to several engines, or
    an imported metadata) or the result cannot be followed (see ORM202). The
    new form runs on SQLAlchemy 1.4 as well as 2.x. ORM206 then removes the
    bind itself.

    ## References
    - SQLAlchemy 2.0 migration guide, "Implicit and Connectionless Execution,
      'bound metadata' removed"
    """

    code = "ORM205"
    name = "implicit-execution"
    message = (
        "`{method}()` on a statement (implicit execution) was removed in SQLAlchemy 2.0"
    )
    fix_title = "Run it on a connection: `with engine.begin() as conn:`"
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b".execute(", b".scalar(")

    def visit_Call(self, node: cst.Call) -> None:
        if not self.semantic.shared(CoreObjects).executes_itself(node):
            return
        func = node.func
        assert isinstance(func, cst.Attribute)
        statement = func.value
        message = self.message.format(method=func.attr.value)
        self.report_fix(node, lambda: self._fix(node, statement), message=message)

    def _fix(self, call: cst.Call, statement: cst.BaseExpression) -> Fix:
        engine = self.semantic.shared(MetadataBinds).statement_engine(statement, call)
        if engine is None:
            raise Refused(
                "the engine its tables are bound to is not known here; run it as"
                " `conn.execute(stmt)` on a connection of that engine"
            )
        parameters = distilled(call.args)
        if parameters.style not in (Style.NONE, Style.NAMED):
            raise Refused("positional values suit only `exec_driver_sql()`")
        move = statement_to_move(call, self.semantic)
        name = self.semantic.fresh_name("conn", move.statement)
        assert isinstance(call.func, cst.Attribute)
        arguments = [cst.Arg(statement)]
        if parameters.value is not None:
            arguments.append(cst.Arg(parameters.value))
        on_connection = cst.Call(
            cst.Attribute(cst.Name(name), call.func.attr), arguments
        )
        block = in_begin_block_as(move, call, on_connection, engine, name)
        # A use that raises would roll back what the block wrote, which 1.x had
        # committed: safe only when nothing is written.
        reads = not move.uses or self.semantic.shared(CoreObjects).is_select(statement)
        return Fix(block_fix_edits(move, block), safe=reads)
