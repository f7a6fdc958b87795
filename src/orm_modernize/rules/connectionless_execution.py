"""ORM202: `engine.execute(s)` -> `with engine.begin() as conn: conn.execute(s)`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.conversion import Refused
from orm_modernize.core_objects import EXECUTE_METHODS, CoreObjects
from orm_modernize.datatypes import Fix
from orm_modernize.rule import Rule
from orm_modernize.semantic import Evidence
from orm_modernize.transforms import code_of, walk

# What reads a result to the end (or needs nothing more of it) within the same
# expression, so the connection can close right after the statement.
CONSUMERS = frozenset(
    {"fetchall", "fetchone", "fetchmany", "first", "one", "one_or_none", "all"}
    | {"scalar", "scalar_one", "scalar_one_or_none", "close", "keys"}
    | {"rowcount", "inserted_primary_key", "lastrowid", "returns_rows"}
)
COLLECTORS = frozenset({"list", "tuple", "set", "sorted", "dict"})


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
        try:
            statement = self._statement(node)
            fix = self._fix(node, engine, statement, evidence)
        except Refused as why:
            self.report(node, message=f"{message} (no fix: {why})")
            return
        self.report(node, fix=fix, message=message)

    def _statement(self, call: cst.Call) -> cst.SimpleStatementLine | cst.For:
        """The statement that moves into the block; Refused when the result
        outlives it."""
        node: cst.CSTNode = call
        assert isinstance(call.func, cst.Attribute)
        consumed = call.func.attr.value == "scalar"  # returns a value, not a result
        while True:
            parent = self.semantic.parent(node)
            if parent is None:
                raise Refused("the call is not inside a statement")
            if not consumed and _consumes(node, parent, self.semantic.parent(parent)):
                consumed = True
            if isinstance(parent, cst.Expr) and parent.value is node:
                consumed = True  # the value is discarded
            if isinstance(parent, cst.For) and parent.iter is node:
                return parent
            if isinstance(parent, (cst.Lambda, cst.FunctionDef, cst.ClassDef)):
                raise Refused("the call is inside a function or lambda")
            if isinstance(parent, cst.CompFor) and parent.iter is node:
                # a list, set or dict comprehension reads it to the end at once
                comprehension = self.semantic.parent(parent)
                consumed = consumed or isinstance(
                    comprehension, (cst.ListComp, cst.SetComp, cst.DictComp)
                )
                node = parent
                continue
            if isinstance(parent, cst.CompFor):
                raise Refused("the call is inside a comprehension")
            if isinstance(parent, cst.BaseCompoundStatement):
                keyword = code_of(parent).split(maxsplit=1)[0]
                raise Refused(f"the call is part of a `{keyword} ...:` header")
            if isinstance(parent, cst.SimpleStatementLine):
                if len(parent.body) != 1:
                    raise Refused("the statement shares its line with others")
                if not consumed:
                    raise Refused(
                        "the result is kept after the statement; move its uses into a"
                        " `with engine.connect() as conn:` block"
                    )
                return parent
            node = parent

    def _fix(
        self,
        call: cst.Call,
        engine: cst.BaseExpression,
        statement: cst.SimpleStatementLine | cst.For,
        evidence: Evidence,
    ) -> Fix:
        assert isinstance(call.func, cst.Attribute)
        if any(n is not call and _is_engine_call(n, engine) for n in walk(statement)):
            raise Refused("the statement executes on the engine more than once")
        name = self.semantic.fresh_name("conn", statement)
        on_connection = call.with_changes(
            func=call.func.with_changes(value=cst.Name(name))
        )
        moved = statement.deep_replace(call, on_connection)
        assert isinstance(moved, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
        block = cst.With(
            items=[
                cst.WithItem(
                    cst.Call(cst.Attribute(engine, cst.Name("begin"))),
                    asname=cst.AsName(cst.Name(name)),
                )
            ],
            body=cst.IndentedBlock([moved.with_changes(leading_lines=())]),
            leading_lines=statement.leading_lines,
        )
        return Fix.replace(statement, block, safe=evidence is Evidence.PROVEN)


def _consumes(
    node: cst.CSTNode, parent: cst.CSTNode, grand: cst.CSTNode | None
) -> bool:
    """`node` (the result) is read to the end by `parent`: `.fetchall()`,
    `.rowcount`, `list(node)`."""
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return parent.attr.value in CONSUMERS
    return (
        isinstance(parent, cst.Arg)
        and isinstance(grand, cst.Call)
        and isinstance(grand.func, cst.Name)
        and grand.func.value in COLLECTORS
        and len(grand.args) == 1
    )


def _is_engine_call(node: cst.CSTNode, engine: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in EXECUTE_METHODS
        and node.func.value.deep_equals(engine)
    )
