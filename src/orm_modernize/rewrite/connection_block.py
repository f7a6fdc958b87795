"""Moving a statement into `with engine.begin() as conn:`, for the rules that
replace connectionless and implicit execution (ORM202, ORM205).

1.x ran such a statement on a connection of its own that autocommitted writes;
`engine.begin()` does the same, on SQLAlchemy 1.4 and 2.x. The connection closes
at the end of the block, so a result kept in a name (`result = engine.execute(s)`)
takes its uses into the block: the statements after it up to its last use, when
they run nothing else that could need the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import libcst as cst

from orm_modernize.analysis.core_vocabulary import EXECUTE_METHODS
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Edit, Refused
from orm_modernize.syntax.nodes import code_of, root_name, walk

# What reads a result to the end (or needs nothing more of it) within the same
# expression, so the connection can close right after the statement.
CONSUMERS = frozenset(
    {"fetchall", "fetchone", "fetchmany", "first", "one", "one_or_none", "all"}
    | {"scalar", "scalar_one", "scalar_one_or_none", "close", "keys"}
    | {"rowcount", "inserted_primary_key", "lastrowid", "returns_rows"}
)
COLLECTORS = frozenset({"list", "tuple", "set", "sorted", "dict"})
# What the statements that use a kept result may call besides its own methods: no
# database, so holding the connection (and, for a write, not yet having committed)
# over them changes nothing they do.
BUILTINS = frozenset(
    {"print", "len", "repr", "str", "int", "float", "bool", "format", "sorted"}
    | {"list", "tuple", "set", "dict", "enumerate", "zip", "sum", "min", "max"}
    | {"any", "all", "isinstance", "range", "reversed"}
)

Movable = Union[cst.SimpleStatementLine, cst.For]


@dataclass(frozen=True)
class Move:
    """The statement to move into the block, and the statements after it that use
    the result it keeps (moved too, and removed where they were)."""

    statement: Movable
    uses: tuple[cst.BaseStatement, ...] = ()


def statement_to_move(call: cst.Call, semantic: Semantic) -> Move:
    """The statement holding `call` that moves into the block, with the uses of a
    result it keeps; Refused when the result outlives what can move."""
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
            return Move(parent)
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
                return Move(parent, _uses_of_kept(parent, call, semantic))
            return Move(parent)
        node = parent


def _uses_of_kept(
    line: cst.SimpleStatementLine, call: cst.Call, semantic: Semantic
) -> tuple[cst.BaseStatement, ...]:
    """The statements after `line` (`name = <call>`) up to the last use of
    `name`, in the same block; Refused unless every use is among them and they
    run nothing but builtins and methods of the result and its rows."""
    assign = line.body[0]
    if not (
        isinstance(assign, cst.Assign)
        and assign.value is call
        and len(assign.targets) == 1
        and isinstance(assign.targets[0].target, cst.Name)
    ):
        raise Refused("the result is kept after the statement")
    target = assign.targets[0].target
    bindings = semantic.assignments(target)
    if len(bindings) != 1:
        raise Refused(f"`{target.value}` is bound more than once")
    block = semantic.parent(line)
    siblings = list(getattr(block, "body", ()))
    start = next(i for i, s in enumerate(siblings) if s is line)
    last = start
    for access in bindings[0].references:
        index = _sibling_index(access.node, block, siblings, semantic)
        if index is None or index <= start:
            raise Refused(
                f"`{target.value}` is used outside the statements after it in its block"
            )
        last = max(last, index)
    uses = tuple(siblings[start + 1 : last + 1])
    rows = {target.value} | {
        n.target.value
        for u in uses
        for n in walk(u)
        if isinstance(n, cst.For)
        and isinstance(n.target, cst.Name)
        and isinstance(n.iter, cst.Name)
        and n.iter.value == target.value
    }
    for use in uses:
        for node in walk(use):
            if isinstance(node, cst.Call) and not _harmless(node, rows):
                raise Refused(
                    f"`{code_of(node.func)}()` runs before the last use of"
                    f" `{target.value}`, which 1.x had released (and committed)"
                )
            # A `return` leaves the block, which commits as 1.x had; a generator
            # or coroutine suspended inside it would hold the transaction open.
            if isinstance(node, (cst.Yield, cst.Await)):
                raise Refused(
                    f"a `{code_of(node).split()[0]}` runs before the last use of"
                    f" `{target.value}`"
                )
    return uses


def _sibling_index(
    node: cst.CSTNode,
    block: cst.CSTNode | None,
    siblings: list[cst.BaseStatement],
    semantic: Semantic,
) -> int | None:
    """The index among `siblings` of the statement holding `node`; None if it is
    elsewhere, or inside a function or class defined there."""
    parent = semantic.parent(node)
    while parent is not None:
        if parent is block:
            return next((i for i, s in enumerate(siblings) if s is node), None)
        if isinstance(parent, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return None
        node, parent = parent, semantic.parent(parent)
    return None


def _harmless(call: cst.Call, rows: set[str]) -> bool:
    """A call that needs no database: a builtin, or a method of the result or of
    a row read from it (`row.keys()`), or of a string."""
    func = call.func
    if isinstance(func, cst.Name):
        return func.value in BUILTINS
    if isinstance(func, cst.Attribute):
        if isinstance(func.value, (cst.SimpleString, cst.FormattedString)):
            return True
        root = root_name(func.value)
        return root is not None and root.value in rows
    return False


def in_begin_block(
    move: Move,
    call: cst.Call,
    engine: cst.BaseExpression,
    semantic: Semantic,
) -> cst.With:
    """`statement`, with `call` replaced by its run on a new connection, inside
    `with engine.begin() as conn:`. `call` must be an `x.execute(...)` or
    `x.scalar(...)` whose `x` becomes the connection."""
    assert isinstance(call.func, cst.Attribute)
    name = semantic.fresh_name("conn", move.statement)
    on_connection = call.with_changes(func=call.func.with_changes(value=cst.Name(name)))
    return in_begin_block_as(move, call, on_connection, engine, name)


def in_begin_block_as(
    move: Move,
    call: cst.Call,
    replacement: cst.BaseExpression,
    engine: cst.BaseExpression,
    name: str,
) -> cst.With:
    """The statement of `move` with `call` replaced by `replacement` (which runs
    on `name`), and the uses after it, inside `with engine.begin() as name:`."""
    assert isinstance(call.func, cst.Attribute)
    receiver = call.func.value
    statement = move.statement
    if any(
        n is not call and _executes(n, receiver)
        for s in (statement, *move.uses)
        for n in walk(s)
    ):
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
        body=cst.IndentedBlock([moved.with_changes(leading_lines=()), *move.uses]),
        leading_lines=statement.leading_lines,
    )


def block_fix_edits(move: Move, block: cst.With) -> tuple[Edit, ...]:
    """The edits that put `block` where the statement of `move` was and remove
    the uses it took in."""
    removed = tuple(Edit(use, cst.RemoveFromParent()) for use in move.uses)
    return (Edit(move.statement, block), *removed)


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
