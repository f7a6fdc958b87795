"""ORM204: `row["name"]`, `"name" in row`, `dict(row)` -> through `row._mapping`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import Core
from orm_modernize.data.records import Evidence, Fix
from orm_modernize.rewrite.clauses import is_column_attribute
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import keep_parentheses, method, string_value

# Row methods of 1.x: `keys()` returned the result's keys view, as
# `_mapping.keys()` does; `values()` and `items()` returned lists.
LIST_METHODS = frozenset({"values", "items"})
METHODS = LIST_METHODS | {"keys"}


class RowMappingAccess(Rule):
    """
    ## What it does
    Checks for a Core result row used as a mapping: `row["name"]`,
    `row[users.c.name]`, `"name" in row`, `dict(row)`, `row.keys()`,
    `row.values()` and `row.items()`.

    ## Why is this bad?
    SQLAlchemy 2.0 rows are named tuples. Indexing by a name or a column raises
    `TypeError`, `keys()` raises `AttributeError`, and `"name" in row` silently
    changes meaning: it tests the row's *values*, not its keys, and returns the
    opposite answer without any error. The mapping view is `row._mapping`.

    ## Example
        for row in conn.execute(select(users)):
            print(row["name"], "age" in row, dict(row))

    ## Use instead
        for row in conn.execute(select(users)):
            print(row._mapping["name"], "age" in row._mapping, dict(row._mapping))

    ## Fix safety
    Safe when the row is proven to come from a result (`conn.execute(...)` or
    `session.execute(...)` iterated, `.fetchone()`, `.first()`, an item of
    `.fetchall()`, in a loop or a comprehension); unsafe when the result is only
    named like one. The rows of `Session.execute()` already tested their values
    with `in` on 1.4: `in` on those is left as it is. `row._mapping` behaves as
    the 1.x row did for names, columns and `in`, on SQLAlchemy 1.4 as well as 2.x;
    `row.values()` and `row.items()` are wrapped in `list()`, as 1.x returned
    lists.
    Integer indexes and slices were tuple access already and are left alone; an
    index held in a variable is too, as it may be a position. A name the code
    says is something else is never taken for a row: a parameter annotated
    with another class (`dict`, `Mapping`, `RowMapping`), one checked with
    `isinstance()` against another class, a row of `result.mappings()`.

    ## References
    - SQLAlchemy 2.0 migration guide, "Result rows act like named tuples"
    """

    code = "ORM204"
    name = "row-mapping-access"
    message = "a result row used as a mapping: removed in SQLAlchemy 2.0"
    fix_title = "Go through `row._mapping`"
    fix_availability = "always"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b".execute(", b".scalar(")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return
        key = node.slice[0].slice.value
        if string_value(key) is None and not is_column_attribute(key):
            return
        evidence = self._row(node.value)
        if evidence is not Evidence.NONE:
            mapped = node.with_changes(value=_mapping(node.value))
            self._report(node, mapped, evidence, "indexing a row by name or column")

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if len(node.comparisons) != 1:
            return
        target = node.comparisons[0]
        if not isinstance(target.operator, (cst.In, cst.NotIn)):
            return
        evidence = self._row(target.comparator)
        core = self.semantic.shared(CoreObjects)
        if evidence is not Evidence.NONE and not core.from_session(target.comparator):
            mapped = node.with_changes(
                comparisons=[
                    target.with_changes(comparator=_mapping(target.comparator))
                ]
            )
            message = "`in` on a row tests its values in SQLAlchemy 2.0, not its keys"
            self._report(node, mapped, evidence, message, whole=True)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Name)
            and func.value == "dict"
            and len(node.args) == 1
            and not node.args[0].star
            and node.args[0].keyword is None
        ):
            row = node.args[0].value
            evidence = self._row(row)
            if evidence is not Evidence.NONE:
                mapped = node.with_changes(
                    args=[node.args[0].with_changes(value=_mapping(row))]
                )
                self._report(node, mapped, evidence, "`dict(row)`")
        elif (
            isinstance(func, cst.Attribute)
            and func.attr.value in METHODS
            and not node.args
        ):
            evidence = self._row(func.value)
            if evidence is not Evidence.NONE:
                mapped = method(_mapping(func.value), func.attr.value)
                if func.attr.value in LIST_METHODS:
                    mapped = cst.Call(cst.Name("list"), [cst.Arg(mapped)])
                self._report(node, mapped, evidence, f"`row.{func.attr.value}()`")

    def _row(self, expr: cst.BaseExpression) -> Evidence:
        return self.semantic.shared(CoreObjects).evidence(expr, Core.ROW)

    def _report(
        self,
        node: cst.BaseExpression,
        replacement: cst.BaseExpression,
        evidence: Evidence,
        what: str,
        whole: bool = False,
    ) -> None:
        message = what if whole else f"{what} was removed in SQLAlchemy 2.0"
        fix = Fix.replace(
            node, keep_parentheses(node, replacement), safe=evidence.proven
        )
        self.report(node, fix=fix, message=message)


def _mapping(row: cst.BaseExpression) -> cst.Attribute:
    return cst.Attribute(row, cst.Name("_mapping"))
