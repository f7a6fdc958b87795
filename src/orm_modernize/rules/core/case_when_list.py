"""ORM302: `case([(cond, value), ...])` -> `case((cond, value), ...)`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.data.records import Fix, Refused
from orm_modernize.rewrite.clauses import (
    collection_kind,
    unpacked,
    without_trailing_comma,
)
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import keep_parentheses

CASES = frozenset(
    {
        "sqlalchemy.case",
        "sqlalchemy.sql.case",
        "sqlalchemy.sql.expression.case",
        "sqlalchemy.sql.elements.Case",
    }
)


class CaseWhenList(Rule):
    """
    ## What it does
    Checks for `case()` given its WHEN clauses as a list
    (`case([(cond, value), ...])`) or as the `whens=` keyword.

    ## Why is this bad?
    SQLAlchemy 2.0 removed both: `case()` takes the `(condition, value)` pairs as
    positional arguments. The list raises `ArgumentError` on 2.x and `whens=`
    raises `TypeError`.

    ## Example
        label = case([(t.c.age < 18, "minor"), (t.c.age < 65, "adult")], else_="senior")

    ## Use instead
        label = case((t.c.age < 18, "minor"), (t.c.age < 65, "adult"), else_="senior")

    ## Fix safety
    Safe: the pairs are unpacked into the call, which builds the same `CASE` and
    runs on SQLAlchemy 1.4 as well as 2.x. A list held in a variable is spread
    (`case(*whens)`) when the variable is only ever bound to a list. The dictionary
    form (`case({"a": 1}, value=t.c.code)`) is still valid and is left alone;
    `whens={...}` only loses its keyword. A `whens=` value that could be either is
    reported without a fix.

    ## References
    - SQLAlchemy 2.0 migration guide, "select() no longer accepts varied
      constructor arguments, columns are passed positionally"
    """

    code = "ORM302"
    name = "case-when-list"
    message = "`case()` with a list of WHEN clauses was removed in SQLAlchemy 2.0"
    fix_title = "Pass the `(condition, value)` pairs positionally"
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b"case(", b"Case(")

    def visit_Call(self, node: cst.Call) -> None:
        if not node.args or not self.semantic.is_one_of(node.func, CASES):
            return
        whens = node.args[0]
        if whens.star:
            return
        rest = list(node.args[1:])
        if whens.keyword is None:
            kind = collection_kind(self.semantic, whens.value)
            if kind != "list":  # a dict, or a value we cannot tell: valid or unknown
                return
        else:
            keyword = next((a for a in node.args if _is_whens(a)), None)
            if keyword is None:
                return
            whens, rest = keyword, [a for a in node.args if a is not keyword]
            kind = collection_kind(self.semantic, whens.value)

        def build() -> Fix:
            replacement = self._rewrite(node, whens.value, kind, rest)
            return Fix.replace(node, keep_parentheses(node, replacement), safe=True)

        self.report_fix(node, build)

    @staticmethod
    def _rewrite(
        call: cst.Call,
        whens: cst.BaseExpression,
        kind: str | None,
        rest: list[cst.Arg],
    ) -> cst.Call:
        if kind == "dict":  # valid positionally: only the keyword goes
            first = cst.Arg(
                whens, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            )
            return call.with_changes(args=without_trailing_comma([first, *rest]))
        if kind is None:
            raise Refused("`whens=` may hold a list or a dictionary")
        if isinstance(whens, cst.List) and not whens.elements:
            raise Refused("`case()` needs at least one WHEN clause in SQLAlchemy 2.0")
        return unpacked(call, whens, rest)


def _is_whens(arg: cst.Arg) -> bool:
    return arg.keyword is not None and arg.keyword.value == "whens"
