"""A legacy `Query` chain as one value: `receiver.query(...)`, the steps applied
to it, and the terminal that runs it; and the calls that rebuild one on a
receiver or a step. The rules decide *whether* a chain is rewritten (receiver
proof, known steps); the rewrite builders decide *how*, keeping the source's own
whitespace wherever a node survives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst

from orm_modernize.data.records import Evidence, ImportSpec
from orm_modernize.syntax.nodes import root_name

# Calls that end a Query chain: what follows applies to their result.
# Rows or a value, executed by the session:
ROW_TERMINALS = frozenset(
    {"all", "first", "one", "one_or_none", "scalar", "count", "value", "values"}
)
# The query used as SQL inside another statement: no session involved.
VALUE_TERMINALS = frozenset(
    {"subquery", "scalar_subquery", "as_scalar", "label", "cte", "exists"}
)
DML_TERMINALS = frozenset({"update", "delete"})  # ORM004
# Flask-SQLAlchemy's Query helpers that become `db.<name>(statement)`:
FLASK_TERMINALS = frozenset({"first_or_404", "one_or_404", "paginate"})
GET_TERMINALS = frozenset({"get", "get_or_404"})  # ORM001
TERMINALS = (
    ROW_TERMINALS | VALUE_TERMINALS | DML_TERMINALS | FLASK_TERMINALS | GET_TERMINALS
)


# Each terminal's signature on SQLAlchemy 1.4's Query (and Flask-SQLAlchemy's):
# (fewest positional arguments, most, keywords). A call that does not fit is a
# method of the same name on a custom query class (`query_class=`), with its own
# meaning: `Person.query.get(id, project)` is not `Query.get`.
SIGNATURES: dict[str, tuple[int, int, frozenset[str]]] = {
    **{name: (0, 0, frozenset()) for name in ROW_TERMINALS - {"value", "values"}},
    "value": (1, 1, frozenset({"column"})),
    "values": (1, 64, frozenset()),
    "subquery": (0, 3, frozenset({"name", "with_labels", "reduce_columns"})),
    "scalar_subquery": (0, 0, frozenset()),
    "as_scalar": (0, 0, frozenset()),
    "label": (1, 1, frozenset({"name"})),
    "cte": (0, 3, frozenset({"name", "recursive", "nesting"})),
    "exists": (0, 0, frozenset()),
    "update": (1, 3, frozenset({"values", "synchronize_session", "update_args"})),
    "delete": (0, 1, frozenset({"synchronize_session"})),
    "get": (1, 1, frozenset({"ident"})),
    "get_or_404": (1, 2, frozenset({"ident", "description"})),
    "first_or_404": (0, 1, frozenset({"description"})),
    "one_or_404": (0, 1, frozenset({"description"})),
    "paginate": (
        0,
        4,
        frozenset({"page", "per_page", "error_out", "max_per_page", "count"}),
    ),
}


def fits(name: str, call: cst.Call) -> bool:
    """The arguments of `call` can be those of the Query method `name` (any can,
    with `*args` or `**kwargs`, which say nothing)."""
    fewest, most, keywords = SIGNATURES.get(name, (0, 1 << 16, None))
    if any(arg.star for arg in call.args):
        return True
    positional = sum(arg.keyword is None for arg in call.args)
    named = [arg.keyword.value for arg in call.args if arg.keyword is not None]
    return (
        positional <= most
        and positional + len(named) >= fewest
        and (keywords is None or all(k in keywords for k in named))
    )


@dataclass(frozen=True)
class Step:
    name: str
    call: cst.Call


@dataclass(frozen=True)
class QueryChain:
    """`receiver.query(entities).step(...)....terminal()` as one value."""

    query: cst.Call  # receiver.query(...)
    steps: tuple[Step, ...]  # every call after query(), the terminal included
    # Flask-SQLAlchemy's `Model.query`: the real node the chain starts at (`query`
    # is then the `db.session.query(Model)` it stands for), how sure we are of the
    # session, and why the chain must not be rewritten, if so.
    origin: cst.BaseExpression | None = None
    evidence: Evidence | None = None
    refusal: str | None = None
    # What a fix must import to spell that session (`query_property()`'s session,
    # defined in another module).
    imports: tuple[ImportSpec, ...] = ()

    @property
    def receiver(self) -> cst.BaseExpression:
        assert isinstance(self.query.func, cst.Attribute)
        return self.query.func.value

    @property
    def receiver_root(self) -> cst.Name | None:
        """`session` in `session.query(...)` or `self.session.query(...)`."""
        return root_name(self.receiver)

    @property
    def entities(self) -> list[cst.BaseExpression]:
        return [arg.value for arg in self.query.args]

    @property
    def terminal(self) -> Step | None:
        return self.steps[-1] if self.steps else None

    def ends_in(self, name: str) -> bool:
        return self.terminal is not None and self.terminal.name == name

    @property
    def top(self) -> cst.BaseExpression:
        """The outermost node of the chain: what a fix replaces."""
        if self.steps:
            return self.steps[-1].call
        return self.origin if self.origin is not None else self.query

    @property
    def start(self) -> cst.BaseExpression:
        """The node the chain's steps are applied to."""
        return self.origin if self.origin is not None else self.query


def is_query_call(node: cst.Call) -> bool:
    """`x.query(A, B.c, ...)`: positional, non-literal arguments only.

    The argument check is the second guard: pandas' `df.query("a > 1")` and search
    clients' `es.query(index="x")` never match.
    """
    func = node.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "query"
        and bool(node.args)
        and all(
            arg.keyword is None
            and arg.star == ""
            and not isinstance(arg.value, (cst.BaseString, cst.Dict, cst.Integer))
            for arg in node.args
        )
    )


def chain_at(
    node: cst.Call, parent: Callable[[cst.CSTNode], cst.CSTNode | None]
) -> QueryChain | None:
    """The Query chain that starts at `node`, if `node` is `x.query(...)`."""
    return parse_chain(node, parent) if is_query_call(node) else None


def parse_chain(
    query: cst.Call, parent: Callable[[cst.CSTNode], cst.CSTNode | None]
) -> QueryChain:
    """Walk up from `x.query(...)` through every `.method(...)` applied to it."""
    return QueryChain(query, steps_from(query, parent))


def steps_from(
    node: cst.CSTNode, parent: Callable[[cst.CSTNode], cst.CSTNode | None]
) -> tuple[Step, ...]:
    """The `.method(...)` calls applied to `node`, up to and including a terminal."""
    steps: list[Step] = []
    while True:
        attribute = parent(node)
        if not (isinstance(attribute, cst.Attribute) and attribute.value is node):
            break
        call = parent(attribute)
        if not (isinstance(call, cst.Call) and call.func is attribute):
            break
        if attribute.attr.value in TERMINALS:
            if fits(attribute.attr.value, call):
                steps.append(Step(attribute.attr.value, call))
            break  # what follows applies to the result, not to the Query
        steps.append(Step(attribute.attr.value, call))
        node = call
    return tuple(steps)


def on_receiver(chain: QueryChain, name: str, *args: cst.BaseExpression) -> cst.Call:
    """`receiver.<name>(args)`, keeping the receiver's own spelling and whitespace."""
    func = chain.query.func
    assert isinstance(func, cst.Attribute)
    return on_session(func, name, *args)


def on_session(
    query_func: cst.Attribute, name: str, *args: cst.BaseExpression
) -> cst.Call:
    """`session.<name>(args)` from the `session.query` attribute of a query. A
    sole argument in parentheses of its own (a chain wrapped to span lines) gives
    them up to the call's, keeping the lines: `session.execute((...))` is noise."""
    func = query_func.with_changes(attr=cst.Name(name))
    if len(args) == 1 and len(args[0].lpar) == 1 and len(args[0].rpar) == 1:
        (lpar,), (rpar,) = args[0].lpar, args[0].rpar
        return cst.Call(
            func=func,
            args=[
                cst.Arg(
                    args[0].with_changes(lpar=(), rpar=()),
                    whitespace_after_arg=rpar.whitespace_before,
                )
            ],
            whitespace_before_args=lpar.whitespace_after,
        )
    return cst.Call(func=func, args=[cst.Arg(a) for a in args])


def then(
    step: Step,
    value: cst.BaseExpression,
    name: str | None = None,
    args: Sequence[cst.Arg] | None = None,
) -> cst.Call:
    """Re-attach a step's call (keeping its whitespace) to a new `value`, renamed to
    `name` and with new `args` when given."""
    func = step.call.func
    assert isinstance(func, cst.Attribute)
    changes = (
        {"value": value} if name is None else {"value": value, "attr": cst.Name(name)}
    )
    call = step.call.with_changes(func=func.with_changes(**changes))
    return call if args is None else call.with_changes(args=list(args))
