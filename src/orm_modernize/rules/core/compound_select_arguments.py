"""ORM306: `union(a, b, order_by=x, limit=5)` -> `union(a, b).order_by(x).limit(5)`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.data.records import Fix, ImportSpec, Refused
from orm_modernize.rewrite.clauses import clause, with_arguments
from orm_modernize.rewrite.naming import namer
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import code_of, keep_parentheses

OPERATIONS: tuple[str, ...] = ("union", "union_all", "intersect", "intersect_all")
OPERATIONS += ("except_", "except_all")
FUNCTIONS = frozenset(
    f"{module}.{name}"
    for module in ("sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression")
    for name in OPERATIONS
)


class CompoundSelectArguments(Rule):
    """
    ## What it does
    Checks for `union()`, `union_all()`, `intersect()`, `except_()` (and their
    `_all` forms), as functions or as methods of a SELECT, given clause
    keywords: `order_by=`, `group_by=`, `limit=`, `offset=`, `use_labels=`,
    `for_update=`.

    ## Why is this bad?
    SQLAlchemy 2.0 takes only the SELECTs to combine (`TypeError` otherwise);
    1.4 accepted the keywords silently. The clauses are added with the
    generative methods of the compound statement.

    ## Example
        both = union(t.select(), u.select(), order_by=[t.c.id], limit=10)

    ## Use instead
        both = union(t.select(), u.select()).order_by(t.c.id).limit(10)

    ## Fix safety
    Safe: the methods set the same clauses on the same compound statement, and
    run on SQLAlchemy 1.4 as well as 2.x. A method form (`s1.union(s2, ...)`)
    is fixed only when `s1` is proven to be a SELECT. A keyword whose value may
    be a list or one element (`order_by=ordering`), or `bind=`, is reported
    with no fix.

    ## References
    - SQLAlchemy 1.4 source, `CompoundSelect.__init__`: its keyword arguments
      are deprecated for 2.0
    """

    code = "ORM306"
    name = "compound-select-arguments"
    message = "`{operation}()` with clause arguments was removed in SQLAlchemy 2.0"
    fix_title = "Add the clauses with `.order_by()`, `.limit()`, ..."
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = tuple(f"{op}(".encode() for op in OPERATIONS)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        keywords = [a for a in node.args if a.keyword is not None]
        if not keywords or any(a.star for a in node.args):
            return
        if self.semantic.is_one_of(func, FUNCTIONS):
            operation = code_of(func).rsplit(".", 1)[-1]
        elif (
            isinstance(func, cst.Attribute)
            and func.attr.value in OPERATIONS
            and self.semantic.shared(CoreObjects).is_select(func.value)
        ):
            operation = func.attr.value
        else:
            return
        message = self.message.format(operation=operation)
        imports: list[ImportSpec] = []
        name = namer(self.semantic, node, imports)
        selects = [a for a in node.args if a.keyword is None]

        def build() -> Fix:
            statement: cst.BaseExpression = with_arguments(node, selects).with_changes(
                lpar=(), rpar=()
            )
            for arg in keywords:
                keyword = arg.keyword.value if arg.keyword else ""
                if keyword == "bind":
                    raise Refused(
                        "`bind=` was removed too: execute the statement on a connection"
                    )
                statement = clause(statement, keyword, arg.value, name, self.semantic)
            return Fix.replace(
                node,
                keep_parentheses(node, statement),
                safe=True,
                imports=tuple(imports),
            )

        self.report_fix(node, build, message=message)
