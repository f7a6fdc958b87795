"""Shared CST builders: a legacy `Query` chain, parsed once and emitted as `select()`.

The rules decide *whether* a chain is rewritten (receiver proof, known steps); this
module decides *how*, keeping the source's own whitespace wherever a node survives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, cast

import libcst as cst

from orm_modernize import tree
from orm_modernize.datatypes import Replacement
from orm_modernize.tree import children

if TYPE_CHECKING:
    from orm_modernize.datatypes import ImportSpec
    from orm_modernize.semantic import Evidence

# Calls that end a Query chain: what follows applies to their result.
# Rows or a value, executed by the session:
ROW_TERMINALS = frozenset(
    {"all", "first", "one", "one_or_none", "scalar", "count", "value"}
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
    **{name: (0, 0, frozenset()) for name in ROW_TERMINALS - {"value"}},
    "value": (1, 1, frozenset({"column"})),
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


def method(value: cst.BaseExpression, name: str, *args: cst.BaseExpression) -> cst.Call:
    return cst.Call(
        func=cst.Attribute(value=value, attr=cst.Name(name)),
        args=[cst.Arg(a) for a in args],
    )


def keyword_argument(call: cst.Call, name: str) -> cst.Arg | None:
    """The `name=...` argument of `call`, if it has one."""
    return next(
        (a for a in call.args if a.keyword is not None and a.keyword.value == name),
        None,
    )


def keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    """`name=value`, without spaces around `=`."""
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )


def on_receiver(chain: QueryChain, name: str, *args: cst.BaseExpression) -> cst.Call:
    """`receiver.<name>(args)`, keeping the receiver's own spelling and whitespace."""
    func = chain.query.func
    assert isinstance(func, cst.Attribute)
    return on_session(func, name, *args)


def on_session(
    query_func: cst.Attribute, name: str, *args: cst.BaseExpression
) -> cst.Call:
    """`session.<name>(args)` from the `session.query` attribute of a query."""
    return cst.Call(
        func=query_func.with_changes(attr=cst.Name(name)),
        args=[cst.Arg(a) for a in args],
    )


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


def keep_parentheses(old: cst.CSTNode, new: cst.BaseExpression) -> cst.BaseExpression:
    """`new` wrapped in the parentheses that surrounded `old`."""
    if isinstance(old, cst.BaseExpression) and old.lpar:
        return new.with_changes(lpar=old.lpar, rpar=old.rpar)
    return new


def called_name(node: cst.CSTNode) -> str | None:
    """`f` of a call `f(...)` or `x.f(...)`; None for anything else."""
    if not isinstance(node, cst.Call):
        return None
    if isinstance(node.func, cst.Name):
        return node.func.value
    return node.func.attr.value if isinstance(node.func, cst.Attribute) else None


def is_constant(node: cst.CSTNode, value: str) -> bool:
    """`node` is the constant `True`, `False` or `None` named by `value`."""
    return isinstance(node, cst.Name) and node.value == value


def string_value(node: cst.CSTNode) -> str | None:
    """The text of a plain string literal (`"x"`, `'x'`, `r"x"`); None for anything
    else, f-strings, concatenations and bytes included."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def root_name(expr: cst.BaseExpression) -> cst.Name | None:
    """The name a dotted expression starts with: `sa` in `sa.orm.Session`; None
    when it starts with anything else (a call, a subscript)."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr if isinstance(expr, cst.Name) else None


def imported_root(expr: cst.BaseExpression) -> tuple[str, ...]:
    """`Fix.unused` for a fix that drops `expr`: the import its root name may be."""
    root = root_name(expr)
    return (root.value,) if root is not None else ()


def code_of(node: cst.CSTNode) -> str:
    """The source text of a node, for comparing expressions by spelling."""
    return cst.Module([]).code_for_node(node)


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and every node below it."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def eager_names(node: cst.CSTNode) -> list[cst.Name]:
    """Names evaluated when the expression runs (not inside lambdas or strings)."""
    collector = _EagerNames()
    node.visit(collector)
    return collector.names


class _EagerNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[cst.Name] = []

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False  # the attribute name itself is not a variable

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False  # a keyword is not a variable

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)


def class_body_names(body: cst.IndentedBlock) -> set[str]:
    """The names a class body binds at its top: assignments, defs, classes."""
    names: set[str] = set()
    for statement in body.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                elif isinstance(small, cst.AnnAssign):
                    targets = [small.target]
                else:
                    continue
                names.update(t.value for t in targets if isinstance(t, cst.Name))
    return names


class Replacer(cst.CSTTransformer):
    """Swaps nodes by identity; never descends into a node it replaces."""

    def __init__(self, edits: Mapping[int, Replacement]) -> None:
        self.edits = edits

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) not in self.edits

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> Replacement:
        return self.edits.get(id(original_node), updated_node)


def replaced(root: cst.CSTNode, edits: Mapping[int, Replacement]) -> cst.CSTNode:
    """`root.visit(Replacer(edits))`, rebuilding only the nodes on the way from
    the root to each node replaced (LibCST's visit rebuilds every node: seconds
    for each fix pass over a large module). A node removed or flattened into a
    sequence is dropped or spliced as LibCST does; anything else goes through
    the visitor."""
    parents, order = tree.walk(root)
    found = [node for node in order if id(node) in edits]
    if len(found) != len(edits):  # an edit of a node the walk leaves out
        return cast(cst.CSTNode, root.visit(Replacer(edits)))
    dirty: set[int] = set()
    for node in found:
        parent = parents.get(node)
        while parent is not None and id(parent) not in dirty:
            dirty.add(id(parent))
            parent = parents.get(parent)
    try:
        return _rebuilt(root, edits, dirty)
    except _NotInSequence:
        return cast(cst.CSTNode, root.visit(Replacer(edits)))


class _NotInSequence(Exception):
    """A removal or flattening of a node that is not in a sequence."""


def _rebuilt(
    node: cst.CSTNode, edits: Mapping[int, Replacement], dirty: set[int]
) -> cst.CSTNode:
    if id(node) not in dirty:
        return node
    changes: dict[str, object] = {}
    for field in fields(node):
        value = getattr(node, field.name)
        new: object
        if isinstance(value, cst.CSTNode):
            new = _new(value, edits, dirty)
            if not isinstance(new, cst.CSTNode):
                raise _NotInSequence
        elif isinstance(value, (tuple, list)) and any(
            id(v) in dirty or id(v) in edits for v in value
        ):
            items: list[object] = []
            for old in value:
                if not isinstance(old, cst.CSTNode):
                    items.append(old)
                    continue
                got = _new(old, edits, dirty)
                if isinstance(got, cst.RemovalSentinel):
                    continue
                # As LibCST's visit: a statement emptied by a removal goes too.
                items.extend(
                    n
                    for n in (got if isinstance(got, cst.FlattenSentinel) else [got])
                    if old._is_removable() or not n._is_removable()
                )
            new = type(value)(items)
        else:
            continue
        if new is not value:
            changes[field.name] = new
    return node.with_changes(**changes) if changes else node


def _new(
    node: cst.CSTNode, edits: Mapping[int, Replacement], dirty: set[int]
) -> Replacement:
    """What `node` becomes: its edit, or itself rebuilt around edits below it."""
    if id(node) in edits:
        return edits[id(node)]
    return _rebuilt(node, edits, dirty)
