"""Where a query ends up, and queries built over several statements.

A `Query` value is finished in one of a few ways: a terminal call (`.all()`), a
loop or `list()`, a slice, or as SQL inside another statement (`.subquery()`,
`in_(q)`). `use_of` names which; `find_flow` follows a query through a variable:

    q = session.query(User)
    if name:
        q = q.filter_by(name=name)
    return q.all()

The flow is converted only when every binding of `q` in the function is the query
or the query refined, and every read of `q` finishes it in one of those ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

from orm_modernize.analysis.model_query import model_query_at
from orm_modernize.analysis.query_chain import (
    DML_TERMINALS,
    FLASK_TERMINALS,
    GET_TERMINALS,
    ROW_TERMINALS,
    TERMINALS,
    VALUE_TERMINALS,
    QueryChain,
    Step,
    chain_at,
    steps_from,
)
from orm_modernize.analysis.scopes import Assignment, BaseAssignment, ClassScope, Scope
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Refused
from orm_modernize.rewrite.query_to_select import SET_OPERATIONS
from orm_modernize.syntax.nodes import code_of, walk

# Builtins that consume an iterable: `list(session.query(User))`,
# `sorted(q, key=...)`, `dict(session.query(User.id, User.name))`, `any(q)`.
CONSUMERS = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "enumerate", "dict"}
    | {"any", "all", "min", "max", "sum"}
)
# Those whose second positional argument is not compared with the iterable's
# items (`enumerate(q, 1)`, `sum(q, start)`); `min(q, x)` compares q itself.
WITH_START = frozenset({"enumerate", "sum"})
# Terminals that may be taken as a callable: `assert_raises(NoResultFound, q.one)`.
DEFERRABLE = frozenset({"all", "first", "one", "one_or_none", "scalar", "count"})
# Column operators whose argument may be a query: `User.id.in_(q)`.
IN_OPERATORS = frozenset({"in_", "not_in", "notin_"})
SELECTS = frozenset({"sqlalchemy.select", "sqlalchemy.future.select"})


UseKind = Literal["rows", "value", "slice", "compiled", "deferred"]


@dataclass(frozen=True)
class QueryUse:
    """How a query value is finished."""

    # "rows" (terminal or iteration), "value" (SQL), "slice", "compiled" (compiled
    # to a string the way a Query compiles: tables-plus-columns labels), or
    # "deferred" (a terminal taken as a bound method, `q.all`, called later)
    kind: UseKind
    steps: tuple[Step, ...]  # refinements before the end
    terminal: Step | None  # the terminal call, None for iteration/slices/SQL
    node: cst.CSTNode  # what the fix replaces
    slice: cst.Subscript | None = None


def use_of(
    start: cst.CSTNode, steps: tuple[Step, ...], semantic: Semantic
) -> QueryUse | None:
    """How the query `start.<steps>` is finished, or None if it is passed on."""
    terminal = steps[-1] if steps and _is_terminal(steps[-1]) else None
    if terminal is not None:
        kind: UseKind = "value" if terminal.name in VALUE_TERMINALS else "rows"
        return QueryUse(kind, steps[:-1], terminal, terminal.call)
    if steps and steps[-1].name in GET_TERMINALS | DML_TERMINALS:
        return None
    top = steps[-1].call if steps else start
    parent = semantic.parent(top)
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is top:
        return QueryUse("rows", steps, None, top)
    if isinstance(parent, cst.Subscript) and parent.value is top:
        return QueryUse("slice", steps, None, parent, parent)
    if isinstance(parent, cst.Attribute) and parent.value is top:
        # Not called, or steps_from() would have taken it as a step.
        if parent.attr.value == "statement":
            return QueryUse("value", steps, None, parent)
        if parent.attr.value in DEFERRABLE:
            terminal = Step(parent.attr.value, cst.Call(parent))
            return QueryUse("deferred", steps, terminal, parent)
    if isinstance(parent, cst.Arg) and parent.keyword is None and not parent.star:
        call = semantic.parent(parent)
        if _is_assert_compile(call, parent, semantic):
            return QueryUse("compiled", steps, None, top)
        if isinstance(call, cst.Call) and _consumes(call, parent, semantic):
            if code_of(call.func) == "dict":
                # dict() reads a Result as a mapping (it has keys()): give it the
                # list of rows, which it reads as pairs, as it read the Query.
                rows = cst.Attribute(parent.value, cst.Name("all"))
                listed = Step("all", cst.Call(rows))
                return QueryUse("rows", steps, listed, top)
            return QueryUse("rows", steps, None, top)
        if isinstance(call, cst.Call) and len(call.args) == 1:
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value in IN_OPERATORS:
                return QueryUse("value", steps, None, top)
        if _in_set_operation(call, semantic):
            return QueryUse("value", steps, None, top)
    return None


def _consumes(call: cst.Call, arg: cst.Arg, semantic: Semantic) -> bool:
    """`call` is a builtin that iterates `arg`, its first argument, and takes the
    rest by keyword (or a start, for `enumerate()` and `sum()`)."""
    func = call.func
    if not (
        isinstance(func, cst.Name)
        and func.value in CONSUMERS
        and call.args[0] is arg
        and semantic.qualified_names(func) == {f"builtins.{func.value}"}
    ):
        return False
    rest = call.args[1:]
    if func.value in WITH_START and rest and rest[0].keyword is None:
        rest = rest[1:]
    return all(a.keyword is not None and not a.star for a in rest)


def _in_set_operation(call: cst.CSTNode | None, semantic: Semantic) -> bool:
    """`q1.union(q)` or `union(stmt, q)`: a query that is one side of a compound
    select. As a statement it reads the same there, whether the other side is
    still a Query (which accepts statements) or a converted `union()`."""
    if not isinstance(call, cst.Call) or any(a.keyword or a.star for a in call.args):
        return False
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value in SET_OPERATIONS and _is_sql(func.value, semantic, 3)
    return semantic.is_one_of(func, {f"sqlalchemy.{n}" for n in SET_OPERATIONS})


def _is_sql(expr: cst.BaseExpression, semantic: Semantic, depth: int) -> bool:
    """A query or a `select()`, possibly refined, possibly through variables (not
    a Python `set`, whose `union()` would iterate the query)."""
    node = expr
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if chain_at(node, semantic.parent) is not None:
            return True
        node = node.func.value
    if isinstance(node, cst.Call):
        return semantic.is_one_of(node.func, SELECTS)
    if isinstance(node, cst.Attribute):
        return model_query_at(node, semantic) is not None
    if isinstance(node, cst.Name) and depth > 0:
        values = list(semantic.assigned_values(node))
        return bool(values) and all(
            isinstance(v, cst.BaseExpression) and _is_sql(v, semantic, depth - 1)
            for v in values
        )
    return False


def passed_to(node: cst.CSTNode, semantic: Semantic) -> str:
    """Where a query value that is not finished goes, for the finding's message."""
    parent = semantic.parent(node)
    if isinstance(parent, cst.Return):
        return "is returned"
    if isinstance(parent, cst.Arg):
        call = semantic.parent(parent)
        if isinstance(call, cst.Call):
            return f"is passed to `{code_of(call.func)}()`"
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return f"is used through `.{parent.attr.value}`"
    if isinstance(parent, (cst.AssignTarget, cst.Assign)):
        return "is stored"
    return "is passed on"


def _is_assert_compile(
    call: cst.CSTNode | None, arg: cst.Arg, semantic: Semantic
) -> bool:
    """`self.assert_compile(query, "SELECT ...")` of SQLAlchemy's test suite, which
    compiles a Query as its `select()` with tables-plus-columns labels."""
    return (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Attribute)
        and call.func.attr.value == "assert_compile"
        and bool(call.args)
        and call.args[0] is arg
        and semantic.imports_sqlalchemy_testing
    )


def _is_terminal(step: Step) -> bool:
    return (
        step.name in ROW_TERMINALS
        or step.name in VALUE_TERMINALS
        or step.name in FLASK_TERMINALS
    )


@dataclass(frozen=True)
class Derived:
    """`q = q.filter(...)`: a binding that refines the query."""

    root: cst.Name
    steps: tuple[Step, ...]
    node: cst.CSTNode  # the assigned value


@dataclass(frozen=True)
class Flow:
    origins: tuple[QueryChain, ...]
    derived: tuple[Derived, ...]
    uses: tuple[tuple[cst.Name, QueryUse], ...]
    # `return q` / `return q.filter(...)`: the query leaves a helper function, whose
    # callers must finish it
    returned: tuple[Derived, ...] = ()


def find_flow(semantic: Semantic, target: cst.Name) -> Flow:
    """The flow of the variable bound at `target` (`q` in `q = session.query(...)`),
    with the variables refined from it in the same function (`r = q.join(...)`)."""
    scope = semantic.scope(target)
    if scope is None or isinstance(scope, ClassScope):
        raise Refused("the query is a class attribute")
    search = _FlowSearch(semantic, scope)
    pending, live = [target.value], _live_range(semantic, target)
    while pending:
        variable = pending.pop()
        if variable in search.variables:
            continue
        search.variables.add(variable)
        # Only what the binding at `target` reaches, when that is known.
        within = live if variable == target.value and live is not None else _ALL
        for read in sorted(
            search.bindings(variable, within), key=semantic.source_position
        ):
            other = search.read(read, variable)
            if other is not None:  # refines the query into `other`, of the flow
                pending.append(other.value)
    return search.flow()


@dataclass
class _FlowSearch:
    """What `find_flow` has found so far."""

    semantic: Semantic
    scope: Scope
    variables: set[str] = field(default_factory=set)
    origins: list[QueryChain] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    roots: set[cst.Name] = field(default_factory=set)  # reads refined into a variable
    uses: list[tuple[cst.Name, QueryUse]] = field(default_factory=list)
    returned: list[Derived] = field(default_factory=list)

    def bindings(
        self, variable: str, within: tuple[Position, Position]
    ) -> set[cst.Name]:
        """Record each binding of `variable` within the range (an origin or a
        refinement); the reads of those bindings."""
        semantic, reads = self.semantic, set[cst.Name]()
        # In source order, so the first refusal met (the finding's message) is the
        # same on every run.
        for binding in sorted(
            self.scope[variable], key=lambda b: _position(semantic, b)
        ):
            if not within[0] <= _position(semantic, binding) < within[1]:
                continue
            value = _assigned_value(semantic, binding)
            if value is None:
                raise Refused(f"`{variable}` is also bound another way")
            origin = origin_of(semantic, value)
            if origin is not None:
                self.origins.append(origin)
            else:
                root, steps = _refinement(semantic, value)
                if root is None:
                    raise Refused(f"`{variable}` is also bound to another value")
                self.derived.append(Derived(root, steps, value))
            assert isinstance(binding, Assignment)
            reads.update(
                access.node
                for access in binding.references
                if isinstance(access.node, cst.Name)
                and within[0] <= semantic.source_position(access.node) < within[1]
            )
        return reads

    def read(self, read: cst.Name, variable: str) -> cst.Name | None:
        """Record what a read of the query does with it: a use, a return, or a
        refinement into another variable of the same scope (returned)."""
        semantic = self.semantic
        steps = steps_from(read, semantic.parent)
        use = use_of(read, steps, semantic)
        if use is not None:
            self.uses.append((read, use))
            return None
        top = steps[-1].call if steps else read
        finished = bool(steps) and steps[-1].name in TERMINALS
        if isinstance(semantic.parent(top), cst.Return) and not finished:
            self.returned.append(Derived(read, steps, top))
            return None
        other = assigned_to(semantic, top)
        if other is None or semantic.scope(other) is not self.scope or finished:
            where = passed_to(top, semantic)
            raise Refused(
                f"`{variable}` {where} as a Query; convert the code that"
                " finishes it too"
            )
        self.roots.add(read)
        return other

    def flow(self) -> Flow:
        if not self.origins:
            raise Refused("no origin")
        if any(
            d.root.value not in self.variables or d.root not in self.roots
            for d in self.derived
        ):
            raise Refused("the query is refined from another value")
        uses = [(read, use) for read, use in self.uses if read not in self.roots]
        return Flow(
            tuple(self.origins), tuple(self.derived), tuple(uses), tuple(self.returned)
        )


Position = tuple[int, int]
_ALL: tuple[Position, Position] = ((0, 0), (1 << 62, 0))


def _live_range(
    semantic: Semantic, target: cst.Name
) -> tuple[Position, Position] | None:
    """Where only the binding at `target` (and its refinements) can be read, or
    None if that is not plain: from its statement to the next statement of the same
    block that rebinds the variable to something else. Statements of one block run
    in order, so the binding kills earlier ones and the rebinding kills it.

        q = session.query(User)       # target: the range starts here
        q = q.filter(...)             # a refinement: still in range
        eq_(q.all(), [...])
        q = session.query(User.id)    # another query: the range ends here
    """
    assign = semantic.parent(semantic.parent(target) or target)
    statement = semantic.parent(assign) if assign is not None else None
    block = semantic.parent(statement) if statement is not None else None
    if not isinstance(statement, cst.SimpleStatementLine) or not isinstance(
        block, (cst.IndentedBlock, cst.Module)
    ):
        return None
    body = list(block.body)
    index = next(i for i, s in enumerate(body) if s is statement)
    start = semantic.source_position(statement)
    for later in body[index + 1 :]:
        kind = _rebinding(semantic, later, target.value)
        if kind == "fresh":
            return start, semantic.source_position(later)
        if kind == "unknown":
            return None
    # The end of the function (or module): nothing else can reach its reads.
    function_body = isinstance(block, cst.Module) or isinstance(
        semantic.parent(block), cst.FunctionDef
    )
    return (start, _ALL[1]) if function_body else None


def _rebinding(semantic: Semantic, statement: cst.BaseStatement, name: str) -> str:
    """How `statement` rebinds `name`: "none" (or only refines the query),
    "fresh" (`name = <anything else>` that does not read it, unconditionally), or
    "unknown"."""
    if (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Assign)
        and len(statement.body[0].targets) == 1
    ):
        assign = statement.body[0]
        target = assign.targets[0].target
        if isinstance(target, cst.Name) and target.value == name:
            if _refines(semantic, assign.value, name):
                return "none"
            reads = any(
                isinstance(n, cst.Name) and n.value == name for n in walk(assign.value)
            )
            return "unknown" if reads else "fresh"
    for node in walk(statement):
        bound: cst.CSTNode | None = None
        if isinstance(node, (cst.AssignTarget, cst.AugAssign, cst.For)):
            bound = node.target
        elif isinstance(node, (cst.WithItem, cst.ImportAlias)):
            bound = node.asname
        elif isinstance(node, (cst.ExceptHandler, cst.FunctionDef, cst.ClassDef)):
            bound = node.name
        if bound is not None and any(
            isinstance(n, cst.Name) and n.value == name for n in walk(bound)
        ):
            holder = semantic.parent(node)
            if (
                isinstance(node, cst.AssignTarget)
                and isinstance(holder, cst.Assign)
                and _refines(semantic, holder.value, name)
            ):
                continue
            return "unknown"
        if isinstance(node, (cst.NamedExpr, cst.Global, cst.Nonlocal, cst.Del)):
            return "unknown"
        if (
            isinstance(node, cst.ImportAlias)
            and node.asname is None
            and code_of(node.name).split(".", 1)[0] == name
        ):
            return "unknown"
    return "none"


def _refines(semantic: Semantic, value: cst.BaseExpression, name: str) -> bool:
    """`value` is `name` or `name.filter(...)...`: the query, refined."""
    root, _ = _refinement(semantic, value)
    return root is not None and root.value == name


def _position(semantic: Semantic, binding: BaseAssignment) -> tuple[int, int]:
    """Where a binding is made (builtins and the like first: they are refused)."""
    if isinstance(binding, Assignment):
        return semantic.source_position(binding.node)
    return (0, 0)


def assigned_to(semantic: Semantic, node: cst.CSTNode) -> cst.Name | None:
    """`x` in `x = node`."""
    parent = semantic.parent(node)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
        if isinstance(target, cst.Name):
            return target
    return None


def _assigned_value(semantic: Semantic, binding: object) -> cst.BaseExpression | None:
    if not isinstance(binding, Assignment) or not isinstance(binding.node, cst.Name):
        return None
    holder = semantic.parent(binding.node)
    assign = semantic.parent(holder) if holder is not None else None
    if (
        isinstance(holder, cst.AssignTarget)
        and isinstance(assign, cst.Assign)
        and len(assign.targets) == 1
    ):
        return assign.value
    return None


def origin_of(semantic: Semantic, value: cst.BaseExpression) -> QueryChain | None:
    """`session.query(...).steps` without a terminal, assigned as it is."""
    node: cst.BaseExpression = value
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        chain = chain_at(node, semantic.parent)
        if chain is not None:
            return chain if chain.top is value else None
        node = node.func.value
    if isinstance(node, cst.Attribute):  # `Model.query`
        chain = model_query_at(node, semantic)
        if chain is not None and chain.top is value:
            return chain
    return None


def _refinement(
    semantic: Semantic, value: cst.BaseExpression
) -> tuple[cst.Name | None, tuple[Step, ...]]:
    """`q.filter(...)....` (or `q` itself) assigned to a variable: its root and
    steps."""
    node: cst.BaseExpression = value
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        node = node.func.value
    if not isinstance(node, cst.Name):
        return None, ()
    steps = steps_from(node, semantic.parent)
    if node is value:
        return node, ()
    if not steps or steps[-1].call is not value or steps[-1].name in TERMINALS:
        return None, ()
    return node, steps


def use_of_helper_call(semantic: Semantic, name: str, call: cst.Call) -> QueryUse:
    """How the caller finishes the query the helper `name` returns."""
    steps = steps_from(call, semantic.parent)
    use = use_of(call, steps, semantic)
    if use is None or use.kind == "deferred":
        line = semantic.source_position(call)[0]
        where = passed_to(steps[-1].call if steps else call, semantic)
        raise Refused(
            f"the query `{name}()` returns {where} (line {line}) as a Query;"
            " convert the code that finishes it too"
        )
    return use
