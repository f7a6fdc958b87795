"""ORM301: `select([a, b], whereclause, order_by=...)` -> `select(a, b).where(...)`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import Core
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Fix, ImportSpec, Refused
from orm_modernize.rewrite.clauses import (
    FLAGS,
    METHODS,
    clause,
    is_sequence,
    is_single,
    unpacked,
    without_trailing_comma,
)
from orm_modernize.rewrite.naming import Namer, namer
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import code_of, keep_parentheses

SELECTS = frozenset(
    {
        "sqlalchemy.select",
        "sqlalchemy.sql.select",
        "sqlalchemy.sql.expression.select",
        "sqlalchemy.sql.selectable.select",
    }
)
EXISTS = frozenset(
    {"sqlalchemy.exists", "sqlalchemy.sql.exists", "sqlalchemy.sql.expression.exists"}
)
# 1.x `select(columns, whereclause, from_obj, ...)`: positional parameters after
# the columns.
POSITIONAL = ("whereclause", "from_obj")


class SelectColumnList(Rule):
    """
    ## What it does
    Checks for the 1.x calling style of `select()` and `exists()`: the columns
    in a list (`select([users.c.id, users.c.name])`), and the clauses as
    arguments (`select([...], users.c.id > 5, order_by=[users.c.name])`).

    ## Why is this bad?
    SQLAlchemy 2.0 removed it: `select()` takes the columns as positional
    arguments, and every clause is added by a method (`where()`, `order_by()`,
    ...). The old form raises `ArgumentError` on 2.x.

    ## Example
        stmt = select([t.c.id, t.c.name], t.c.id > 5, order_by=[t.c.name], limit=9)

    ## Use instead
        stmt = select(t.c.id, t.c.name).where(t.c.id > 5).order_by(t.c.name).limit(9)

    ## Fix safety
    Safe: the new form builds the same statement, and runs on SQLAlchemy 1.4 as
    well as 2.x. A literal list or tuple of columns is unpacked; `whereclause`,
    `from_obj`, `group_by`, `having`, `order_by`, `limit`, `offset`, `prefixes`,
    `suffixes`, `distinct=True`, `for_update=True`, `correlate=False` and
    `use_labels=True` become the methods that replace them (`use_labels` becomes
    `set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)`). Columns held in a
    variable are spread (`select(*columns)`): with clause arguments, 1.4
    iterated them. A keyword that took a list or one element is spread when its
    value is a comprehension or a name only ever bound to a list
    (`.order_by(*ordering)`). A value that may be either
    (`order_by=self.ordering`) and any other keyword (`bind=`,
    `distinct=[cols]`) are reported without a fix.

    ## References
    - SQLAlchemy 2.0 migration guide, "select() no longer accepts varied
      constructor arguments, columns are passed positionally"
    """

    code = "ORM301"
    name = "select-column-list"
    message = "`select([...])` and its clause arguments were removed in SQLAlchemy 2.0"
    fix_title = "Pass the columns positionally and the clauses as methods"
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b"select(", b"exists(")

    def visit_Call(self, node: cst.Call) -> None:
        if self.semantic.is_one_of(node.func, SELECTS):
            function = "select"
        elif self.semantic.is_one_of(node.func, EXISTS):
            function = "exists"
        else:
            return
        if not _legacy(node, function):
            return
        message = f"`{function}()` with a list of columns or clause arguments was"
        message += " removed in SQLAlchemy 2.0"
        imports: list[ImportSpec] = []

        def build() -> Fix:
            name = namer(self.semantic, node, imports)
            replacement = _rewrite(node, function, name, self.semantic)
            return Fix.replace(
                node,
                keep_parentheses(node, replacement),
                safe=True,
                imports=tuple(imports),
            )

        self.report_fix(node, build, message=message)


def _legacy(call: cst.Call, function: str) -> bool:
    """The 1.x style: a list of columns first, or any clause as an argument (the
    2.0 `select()` takes columns only)."""
    args = call.args
    if not args or args[0].star:
        return False
    if is_sequence(args[0].value):
        return args[0].keyword is None
    return function == "select" and any(
        a.keyword is not None and a.keyword.value in {*METHODS, *FLAGS} for a in args
    )


def _rewrite(
    call: cst.Call,
    function: str,
    name: Namer,
    semantic: Semantic,
) -> cst.BaseExpression:
    args = list(call.args)
    first = args[0]
    statement: cst.BaseExpression
    if first.keyword is None and is_sequence(first.value):
        statement = unpacked(call, first.value)
        args = args[1:]
    else:  # select(columns, whereclause=...): 1.4 iterated `columns`
        columns = [a for a in args if a.keyword is None]
        args = [a for a in args if a.keyword is not None]
        if len(columns) > 1:
            raise Refused("several positional arguments besides the columns")
        if columns and _one_column(semantic, columns[0].value):
            raise Refused(
                f"`{code_of(columns[0].value)}` is not a list of columns:"
                " SQLAlchemy 1.4 fails on it already"
            )
        columns = [a.with_changes(star="*") for a in columns]
        statement = call.with_changes(args=without_trailing_comma(columns))
    clauses: list[tuple[str, cst.Arg]] = []
    for index, arg in enumerate(args):
        if arg.star:
            raise Refused(f"`{code_of(arg)}` cannot be read")
        if arg.keyword is None:
            if function != "select" or index >= len(POSITIONAL):
                raise Refused("unexpected positional arguments")
            clauses.append((POSITIONAL[index], arg))
        else:
            clauses.append((arg.keyword.value, arg))
    for keyword, arg in clauses:
        statement = clause(statement, keyword, arg.value, name, semantic)
    return statement


def _one_column(semantic: Semantic, value: cst.BaseExpression) -> bool:
    """`value` is one column or table, never an iterable of columns: `t.c.x`,
    `User`, `users`."""
    if is_single(value) or semantic.is_mapped_class(value):
        return True
    evidence = semantic.shared(CoreObjects).evidence(value, Core.TABLE)
    return evidence.proven
