"""ORM307: `s.append_whereclause(x)` -> `s = s.where(x)`, and the other in-place
mutators of a 1.x `Select`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.scopes import Assignment
from orm_modernize.data.records import Fix
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import code_of

# mutator -> the generative method that replaces it
METHODS = {
    "append_whereclause": "where",
    "append_having": "having",
    "append_from": "select_from",
    "append_column": "add_columns",
    "append_order_by": "order_by",
    "append_group_by": "group_by",
    "append_correlation": "correlate",
    "append_prefix": "prefix_with",
}


class SelectMutators(Rule):
    """
    ## What it does
    Checks for the in-place mutators of a 1.x `Select`: `append_whereclause()`,
    `append_having()`, `append_from()`, `append_column()`, `append_order_by()`,
    `append_group_by()`, `append_correlation()` and `append_prefix()`.

    ## Why is this bad?
    SQLAlchemy 2.0 removed them (`AttributeError`). A statement is changed with
    its generative methods, which return a new statement instead of changing
    the one they are called on.

    ## Example
        stmt = select(t.c.a)
        stmt.append_whereclause(t.c.a > 5)

    ## Use instead
        stmt = select(t.c.a)
        stmt = stmt.where(t.c.a > 5)

    ## Fix safety
    The name is re-bound to the new statement. That is the same thing only when
    no one else holds the old one: safe when the name is a local bound to a
    fresh SELECT in the same scope, and read before the mutation only through
    its attributes (`stmt.c`, `stmt.where(...)`); unsafe when the statement may
    be held elsewhere (a parameter, an attribute such as `self.stmt`, a name
    stored or passed on before the mutation), which would no longer see the
    change. A receiver not proven to be a SELECT is reported only when nothing
    in the module says what it is (a parameter, an import, an attribute), and
    `append_column()` only on a proven SELECT, since `Table.append_column()` is
    still valid. A module-level name mutated inside a function, or a mutator
    whose `None` is used, is reported with no fix. The new form runs on
    SQLAlchemy 1.4 as well as 2.x.

    ## References
    - SQLAlchemy 2.0 changelog: the in-place mutators of `Select` removed
    """

    code = "ORM307"
    name = "select-mutators"
    message = "`{mutator}()` was removed in SQLAlchemy 2.0"
    fix_title = "Re-bind the name to the statement the generative method returns"
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = tuple(f"{m}(".encode() for m in METHODS)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in METHODS:
            return
        mutator, receiver = func.attr.value, func.value
        objects = self.semantic.shared(CoreObjects)
        proven = objects.is_select(receiver)
        if not proven and (
            mutator == "append_column"
            or not self.semantic.imports_sqlalchemy
            or not objects.is_opaque(receiver)
        ):
            return  # only the method's name would say it is SQLAlchemy
        message = self.message.format(mutator=mutator)
        method = METHODS[mutator]
        expr = self.semantic.parent(node)
        if not isinstance(expr, cst.Expr):
            self.report(
                node,
                message=f"{message} (no fix: its `None` is used; call `{method}()`)",
            )
            return
        if not isinstance(receiver, (cst.Name, cst.Attribute)):
            self.report(node, message=f"{message} (no fix: call `{method}()`)")
            return
        if isinstance(receiver, cst.Name):
            why = self._refused(receiver, node)
            if why is not None:
                self.report(node, message=f"{message} (no fix: {why})")
                return
        safe = proven and isinstance(receiver, cst.Name) and self._alone(receiver, node)
        if not safe:
            message += (
                f" (unsafe fix: `{code_of(receiver)}` may be held elsewhere,"
                " which would no longer see the change)"
            )
        rebind = cst.Assign(
            targets=[cst.AssignTarget(receiver)],
            value=node.with_changes(func=func.with_changes(attr=cst.Name(method))),
        )
        fix = Fix.replace(expr, rebind, safe=safe)
        self.report(node, fix=fix, message=message)

    def _refused(self, name: cst.Name, call: cst.Call) -> str | None:
        """Why `name = ...` cannot be written at `call`: a global read in a function
        would become a local there (`UnboundLocalError`)."""
        here = self.semantic.scope(call)
        if any(
            isinstance(a, Assignment) and self.semantic.scope(a.node) is here
            for a in self.semantic.assignments(name)
        ):
            return None
        return (
            f"`{name.value}` is not bound in this scope, so it cannot be re-bound here"
        )

    def _alone(self, name: cst.Name, call: cst.Call) -> bool:
        """`name` is bound once, here, to a fresh statement, and nothing read the
        bare name before `call` (it could have kept the object)."""
        bindings = self.semantic.assignments(name)
        if len(bindings) != 1 or not isinstance(bindings[0], Assignment):
            return False
        values = list(self.semantic.assigned_values(name))
        if not values or not isinstance(values[0], cst.Call):
            return False
        at = self.semantic.source_position(call)
        for access in bindings[0].references:
            node = access.node
            if self.semantic.source_position(node) >= at:
                continue
            parent = self.semantic.parent(node)
            if not (isinstance(parent, cst.Attribute) and parent.value is node):
                return False
        return True
