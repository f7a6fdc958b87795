"""ORM305: a SELECT used as a FROM clause, or its `.c` columns, without
`.subquery()`."""

from __future__ import annotations

import enum

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.scopes import Assignment
from orm_modernize.data.records import Fix
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import code_of

COLUMNS = frozenset({"c", "columns"})
JOINS = frozenset({"join", "outerjoin"})
JOIN_FUNCTIONS = frozenset(
    f"{module}.{name}"
    for module in ("sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression")
    for name in JOINS
)


class SelectUse(enum.Enum):
    """How a SELECT is used where 1.x made it a subquery."""

    COLUMNS = "columns"  # `s.c.x`: the columns of 1.x's implicit subquery
    FROM = "from"  # `select_from(s)`, `t.join(s, ...)`
    STATEMENT = "statement"  # anything else: executed, refined, passed on


class ImplicitSubquery(Rule):
    """
    ## What it does
    Checks for a SELECT used where a FROM clause belongs
    (`select_from(sel)`, `table.join(sel, ...)`, `join(sel, table)`) and for
    the `.c` / `.columns` of a SELECT.

    ## Why is this bad?
    SQLAlchemy 1.x turned such a SELECT into an anonymous subquery behind your
    back. 1.4 and 2.0 warn, and 2.1 removed it: a SELECT used as a FROM raises
    `ArgumentError` and `Select.c` raises `AttributeError`. The subquery is made
    explicitly with `.subquery()`.

    ## Example
        counts = select(t.c.a, func.count().label("n")).group_by(t.c.a)
        stmt = select(counts.c.a).select_from(counts).where(counts.c.n > 1)

    ## Use instead
        counts = select(t.c.a, func.count().label("n")).group_by(t.c.a).subquery()
        stmt = select(counts.c.a).select_from(counts).where(counts.c.n > 1)

    ## Fix safety
    1.x made one implicit subquery per SELECT object and reused it for every
    `.c` and every FROM, so the fix is safe where it keeps that: a name bound
    once to a SELECT that is only ever used as a FROM or through its columns
    gets `.subquery()` where it is bound, and a SELECT written in place gets
    it in place. A SELECT that is also executed or refined keeps its name:
    each FROM use gets its own `.subquery()` (safe when it is the only use of
    that SELECT in the statement), but its `.c` is reported with no fix, since
    `sel.c.x` there may mean the subquery's column or the statement's own
    (`sel.selected_columns.x`), which differ as row keys. The fix runs on
    SQLAlchemy 1.4 as well as 2.x.

    ## References
    - SQLAlchemy 1.4 migration notes, "A SELECT statement is no longer
      implicitly considered to be a FROM clause"
    - SQLAlchemy 2.1 changelog: `SelectBase.c` and the implicit coercion of a
      SELECT into a FROM removed
    """

    code = "ORM305"
    name = "implicit-subquery"
    message = (
        "a SELECT used as a FROM clause or through `.c` needs `.subquery()`"
        " in SQLAlchemy 2.1"
    )
    fix_title = "Call `.subquery()`"
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b".c.", b".columns", b"select_from(", b"join(")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value not in COLUMNS or self._called(node):
            return
        if self._objects.is_select(node.value):
            self._judge(node.value, SelectUse.COLUMNS, node)

    def visit_Call(self, node: cst.Call) -> None:
        for arg in self._from_arguments(node):
            if self._objects.is_select(arg.value):
                self._judge(arg.value, SelectUse.FROM, arg)

    @property
    def _objects(self) -> CoreObjects:
        return self.semantic.shared(CoreObjects)

    def _called(self, node: cst.Attribute) -> bool:
        parent = self.semantic.parent(node)
        return isinstance(parent, cst.Call) and parent.func is node

    def _from_arguments(self, call: cst.Call) -> list[cst.Arg]:
        """The arguments of `call` that 1.x read as FROM clauses."""
        positional = [a for a in call.args if a.keyword is None and not a.star]
        func = call.func
        if self.semantic.is_one_of(func, JOIN_FUNCTIONS):
            return positional[:2]
        if not isinstance(func, cst.Attribute):
            return []
        if func.attr.value == "select_from":
            return positional
        # `Select.join()` never took a SELECT (1.4 raises), so only a table's
        # or a join's `join()` is one
        if func.attr.value in JOINS and not self._objects.is_select(func.value):
            return positional[:1]
        return []

    def _judge(
        self, select: cst.BaseExpression, use: SelectUse, at: cst.CSTNode
    ) -> None:
        what = (
            f"`{code_of(at)}` reads the columns of a SELECT"
            if use is SelectUse.COLUMNS
            else f"`{code_of(select)}`, a SELECT, is used as a FROM clause"
        )
        message = f"{what}: SQLAlchemy 2.1 removed the implicit subquery"
        if not isinstance(select, cst.Name):
            self.report(
                at,
                fix=Fix.replace(select, _subquery(select), safe=True),
                message=message,
            )
            return
        binding = self._single_binding(select)
        if binding is None:
            self.report(
                at,
                message=f"{message} (no fix: `{select.value}` is bound"
                " more than once; call `.subquery()` where it is made)",
            )
            return
        value, uses = binding
        # `t2 = s1` names an object other names may use too: not a fresh SELECT
        fresh = isinstance(value, cst.Call)
        if fresh and SelectUse.STATEMENT not in {u for u, _ in uses}:
            public = select.value in self.semantic.project.imported_names
            if public:
                message += (
                    f" (unsafe fix: another module imports `{select.value}` and may"
                    " run it as a statement)"
                )
            fix = Fix.replace(value, _subquery(value), safe=not public)
            self.report(at, fix=fix, message=message)
            return
        if use is SelectUse.COLUMNS:
            why = (
                "is also used as a statement"
                if fresh
                else "is another name for a SELECT, which other names may use"
            )
            self.report(
                at,
                message=f"{message} (no fix: `{select.value}` {why}; use"
                f" `{select.value}.subquery().c` for a subquery's columns or"
                f" `{select.value}.selected_columns` for its own)",
            )
            return
        statement = self._statement(at)
        others = [
            n for u, n in uses if self._statement(n) is statement and n is not select
        ]
        if others:
            self.report(
                at,
                message=f"{message} (no fix: this statement uses `{select.value}`"
                " more than once, and 1.x gave each use the same subquery)",
            )
            return
        self.report(
            at, fix=Fix.replace(select, _subquery(select), safe=True), message=message
        )

    def _single_binding(
        self, name: cst.Name
    ) -> tuple[cst.BaseExpression, list[tuple[SelectUse, cst.CSTNode]]] | None:
        """The value `name`'s only binding (`name = value`) gives it, and how each
        reference uses it; None when it is bound more than once or otherwise."""
        bindings = self.semantic.assignments(name)
        if len(bindings) != 1 or not isinstance(bindings[0], Assignment):
            return None
        scope = self.semantic.scope(name)
        if scope is None or len(scope[name.value]) != 1:
            return None
        target = bindings[0].node
        assign = self.semantic.parent(self.semantic.parent(target) or target)
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
            return None
        uses: list[tuple[SelectUse, cst.CSTNode]] = [
            (self._use(a.node), a.node) for a in bindings[0].references
        ]
        return assign.value, uses

    def _use(self, node: cst.CSTNode) -> SelectUse:
        parent = self.semantic.parent(node)
        if (
            isinstance(parent, cst.Attribute)
            and parent.value is node
            and parent.attr.value in COLUMNS
            and not self._called(parent)
        ):
            return SelectUse.COLUMNS
        if isinstance(parent, cst.Arg):
            call = self.semantic.parent(parent)
            if isinstance(call, cst.Call) and parent in self._from_arguments(call):
                return SelectUse.FROM
        return SelectUse.STATEMENT

    def _statement(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The statement line or compound statement holding `node`."""
        statements = (cst.BaseSmallStatement, cst.BaseCompoundStatement)
        if isinstance(node, statements):
            return node
        return self.semantic.enclosing(node, statements)


def _subquery(select: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.Attribute(select, cst.Name("subquery")))
