"""Moving a statement into `with engine.begin() as conn:`, for the rules that
replace connectionless and implicit execution (ORM202, ORM205).

1.x ran such a statement on a connection of its own that autocommitted writes;
`engine.begin()` does the same, on SQLAlchemy 1.4 and 2.x. The connection closes
at the end of the block, so the move is offered only where the result is not
needed after the statement.
"""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_vocabulary import EXECUTE_METHODS
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Refused
from orm_modernize.syntax.nodes import code_of, walk

# What reads a result to the end (or needs nothing more of it) within the same
# expression, so the connection can close right after the statement.
CONSUMERS = frozenset(
    {"fetchall", "fetchone", "fetchmany", "first", "one", "one_or_none", "all"}
    | {"scalar", "scalar_one", "scalar_one_or_none", "close", "keys"}
    | {"rowcount", "inserted_primary_key", "lastrowid", "returns_rows"}
)
COLLECTORS = frozenset({"list", "tuple", "set", "sorted", "dict"})


def statement_to_move(
    call: cst.Call, semantic: Semantic
) -> cst.SimpleStatementLine | cst.For:
    """The statement holding `call` that moves into the block; Refused when the
    result outlives it."""
    node: cst.CSTNode = call
    assert isinstance(call.func, cst.Attribute)
    consumed = call.func.attr.value == "scalar"  # returns a value, not a result
    while True:
        parent = semantic.parent(node)
        if parent is None:
            raise Refused("the call is not inside a statement")
        if not consumed and _consumes(node, parent, semantic.parent(parent)):
            consumed = True
        if isinstance(parent, cst.Expr) and parent.value is node:
            consumed = True  # the value is discarded
        if isinstance(parent, cst.For) and parent.iter is node:
            return parent
        if isinstance(parent, (cst.Lambda, cst.FunctionDef, cst.ClassDef)):
            raise Refused("the call is inside a function or lambda")
        if isinstance(parent, cst.CompFor) and parent.iter is node:
            # a list, set or dict comprehension reads it to the end at once
            comprehension = semantic.parent(parent)
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


def in_begin_block(
    statement: cst.SimpleStatementLine | cst.For,
    call: cst.Call,
    engine: cst.BaseExpression,
    semantic: Semantic,
) -> cst.With:
    """`statement`, with `call` replaced by its run on a new connection, inside
    `with engine.begin() as conn:`. `call` must be an `x.execute(...)` or
    `x.scalar(...)` whose `x` becomes the connection."""
    assert isinstance(call.func, cst.Attribute)
    name = semantic.fresh_name("conn", statement)
    on_connection = call.with_changes(func=call.func.with_changes(value=cst.Name(name)))
    return in_begin_block_as(statement, call, on_connection, engine, name)


def in_begin_block_as(
    statement: cst.SimpleStatementLine | cst.For,
    call: cst.Call,
    replacement: cst.BaseExpression,
    engine: cst.BaseExpression,
    name: str,
) -> cst.With:
    """`statement` with `call` replaced by `replacement` (which runs on `name`),
    inside `with engine.begin() as name:`."""
    assert isinstance(call.func, cst.Attribute)
    receiver = call.func.value
    if any(n is not call and _executes(n, receiver) for n in walk(statement)):
        raise Refused(f"the statement runs `{code_of(receiver)}` more than once")
    moved = statement.deep_replace(call, replacement)
    assert isinstance(moved, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
    return cst.With(
        items=[
            cst.WithItem(
                cst.Call(cst.Attribute(engine, cst.Name("begin"))),
                asname=cst.AsName(cst.Name(name)),
            )
        ],
        body=cst.IndentedBlock([moved.with_changes(leading_lines=())]),
        leading_lines=statement.leading_lines,
    )


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


def _executes(node: cst.CSTNode, receiver: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in EXECUTE_METHODS
        and node.func.value.deep_equals(receiver)
    )
