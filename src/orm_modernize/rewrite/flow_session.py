"""The session a query's flow runs on, once converted: made apart when the query
was `Session().query(...)`, the same binding wherever the query ends, and names
that a terminal taken as a bound method (`q.all`) reads when it is called."""

from __future__ import annotations

import dataclasses

import libcst as cst

from orm_modernize.analysis.query_chain import QueryChain
from orm_modernize.analysis.scopes import Assignment
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Refused
from orm_modernize.rewrite.query_flow import Flow
from orm_modernize.syntax.nodes import code_of, walk

# `q = Session().query(...)` as (the line, a line keeping the session, the chain
# as if made by that session)
Hoisted = tuple[cst.SimpleStatementLine, cst.SimpleStatementLine, QueryChain]


def hoisted_session(semantic: Semantic, flow: Flow) -> Hoisted | None:
    """For `q = Session().query(...)`: the line `q = ...`, a new line that keeps
    the session (`session = Session()`), and the chain as if made by it."""
    first = flow.origins[0]
    if not isinstance(first.receiver, cst.Call):
        return None
    if len(flow.origins) > 1:
        raise Refused("the query comes from several sessions")
    assign = semantic.parent(first.top)
    line = semantic.parent(assign) if assign is not None else None
    if not (
        isinstance(assign, cst.Assign)
        and isinstance(line, cst.SimpleStatementLine)
        and len(line.body) == 1
    ):
        raise Refused("the query's session is made inside a larger statement")
    name = semantic.fresh_name("session", line)
    assign_session = cst.SimpleStatementLine(
        [cst.Assign([cst.AssignTarget(cst.Name(name))], first.receiver)],
        leading_lines=line.leading_lines,
    )
    query = first.query
    assert isinstance(query.func, cst.Attribute)
    made_by_it = dataclasses.replace(
        first,
        query=query.with_changes(func=query.func.with_changes(value=cst.Name(name))),
    )
    return line, assign_session, made_by_it


def check_deferrable(semantic: Semantic, node: cst.CSTNode, chain: QueryChain) -> None:
    """`q.all` taken as a callable becomes `lambda: session.scalars(stmt).all()`.

    The bound method held the query built when it was taken; the lambda reads
    its names when called. That is the same only if none of them can change in
    between: each is bound at most once, and not in a loop.
    """
    names = [n for n in walk(node) if isinstance(n, cst.Name)]
    root = chain.receiver_root
    if root is not None:
        names.append(root)
    for name in names:
        if _is_load(name, semantic) and len(semantic.assignments(name)) > 1:
            raise Refused(
                f"`{code_of(node)}` is called later and `{name.value}` is"
                " rebound; call it where it is taken"
            )
    if _in_loop(node, semantic):
        raise Refused(
            f"`{code_of(node)}` is taken in a loop and called later; call it"
            " where it is taken"
        )


def stable_receiver(semantic: Semantic, chain: QueryChain, flow: Flow) -> bool:
    """The session expression means the same object wherever the query ends:
    its root name is bound once, or never rebound between the origin and a
    read of the query (all of them statements of one block)."""
    if chain.origin is not None:
        return True  # Flask-SQLAlchemy's `db.session`: one global, scoped session
    root = chain.receiver_root
    if root is None:
        return False
    scope = semantic.scope(root)
    if scope is None:
        return False
    bindings = list(scope[root.value])
    if len(bindings) <= 1:
        return True
    block = _block(semantic, chain.query)
    if block is None:
        return False
    start = _index_in(semantic, block, chain.query)
    ends = [_index_in(semantic, block, read) for read, _ in flow.uses]
    if (
        start is None
        or None in ends
        or any(semantic.scope(read) is not scope for read, _ in flow.uses)
    ):
        return False
    last = max([start, *(e for e in ends if e is not None)])
    for binding in bindings:
        if not isinstance(binding, Assignment):
            return False
        where = _index_in(semantic, block, binding.node)
        if where is not None and start <= where <= last:
            return False
    return True


def _block(semantic: Semantic, node: cst.CSTNode) -> cst.CSTNode | None:
    return semantic.enclosing(node, (cst.IndentedBlock, cst.Module))


def _index_in(semantic: Semantic, block: cst.CSTNode, node: cst.CSTNode) -> int | None:
    """Index of the statement of `block` that holds `node`."""
    current: cst.CSTNode | None = node
    while current is not None:
        parent = semantic.parent(current)
        if parent is block:
            body = block.body  # type: ignore[attr-defined]
            return next(i for i, s in enumerate(body) if s is current)
        current = parent
    return None


def same_receiver(semantic: Semantic, origin: QueryChain, read: cst.CSTNode) -> bool:
    """The session's name means the same binding at `read` (a nested function
    could have its own)."""
    if origin.origin is not None:
        return True  # Flask-SQLAlchemy's `db.session`
    root = origin.receiver_root
    assert root is not None  # checked by _stable_receiver first
    return semantic.binds_same(root, read)


def _is_load(name: cst.Name, semantic: Semantic) -> bool:
    """A name that is read: not an attribute, keyword or parameter name."""
    parent = semantic.parent(name)
    if isinstance(parent, cst.Attribute) and parent.attr is name:
        return False
    if isinstance(parent, cst.Arg) and parent.keyword is name:
        return False
    return not isinstance(parent, cst.Param)


def _in_loop(node: cst.CSTNode, semantic: Semantic) -> bool:
    """Inside a loop or comprehension of its own function."""
    current = semantic.parent(node)
    while current is not None and not isinstance(
        current, (cst.FunctionDef, cst.Lambda, cst.Module)
    ):
        if isinstance(current, (cst.For, cst.While, cst.CompFor)):
            return True
        current = semantic.parent(current)
    return False
