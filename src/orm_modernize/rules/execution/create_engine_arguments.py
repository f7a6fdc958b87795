"""ORM209: `create_engine(url, convert_unicode=True, encoding="utf8")` -> without."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_vocabulary import MAKERS, Core
from orm_modernize.data.records import Fix
from orm_modernize.rewrite.clauses import with_arguments
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import code_of, is_constant

TYPES = frozenset(
    f"{module}.{name}"
    for module in ("sqlalchemy", "sqlalchemy.types")
    for name in ("String", "Unicode", "Text", "UnicodeText", "Enum", "VARCHAR")
)


class CreateEngineArguments(Rule):
    """
    ## What it does
    Checks for `create_engine()` arguments that SQLAlchemy 2.0 removed
    (`convert_unicode`, `encoding`, `case_sensitive`, `empty_in_strategy`) or
    deprecated (`implicit_returning`), and for `String(convert_unicode=...)`.

    ## Why is this bad?
    The removed ones raise `TypeError` on 2.x: Python 3 drivers handle Unicode
    themselves, result rows look columns up case-sensitively, and `IN` of an
    empty list has one rendering. `implicit_returning` may only be `True`.

    ## Example
        engine = create_engine(url, convert_unicode=True, encoding="utf8")

    ## Use instead
        engine = create_engine(url)

    ## Fix safety
    The argument is deleted. Safe for `convert_unicode`, `encoding` and
    `empty_in_strategy`, which Python 3 drivers on 1.4 already ignored, and for
    `case_sensitive=True` and `implicit_returning=True`, the defaults. Unsafe
    for `case_sensitive=False` (a row's columns must then be read in their
    exact case) and `implicit_returning=False` (INSERTs use RETURNING where the
    backend has it; set it on the `Table` if that matters). A client encoding
    for a driver that needs one goes into `connect_args`. The new form runs on
    SQLAlchemy 1.4 as well as 2.x.

    ## References
    - SQLAlchemy 2.0 changelog: the `convert_unicode`, `encoding` and
      `case_sensitive` parameters of `create_engine()` removed
    """

    code = "ORM209"
    name = "create-engine-arguments"
    message = "`{keyword}=` of `{call}()` was removed or deprecated in SQLAlchemy 2.0"
    fix_title = "Remove the argument"
    fix_availability = "always"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (
        b"convert_unicode",
        b"encoding=",
        b"case_sensitive",
        b"empty_in_strategy",
        b"implicit_returning",
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.semantic.is_one_of(node.func, MAKERS[Core.ENGINE]):
            removed = {
                "convert_unicode",
                "encoding",
                "case_sensitive",
                "empty_in_strategy",
                "implicit_returning",
            }
        elif self.semantic.is_one_of(node.func, TYPES):
            removed = {"convert_unicode"}
        else:
            return
        call = code_of(node.func).rsplit(".", 1)[-1]
        for arg in node.args:
            if arg.keyword is None or arg.keyword.value not in removed:
                continue
            keyword = arg.keyword.value
            safe = keyword not in ("case_sensitive", "implicit_returning") or (
                is_constant(arg.value, "True")
            )
            message = self.message.format(keyword=keyword, call=call)
            if not safe:
                message += f" (unsafe fix: `{keyword}=True` is the only behaviour left)"
            args = [a for a in node.args if a is not arg]
            fix = Fix.replace(node, with_arguments(node, args), safe=safe)
            self.report(arg, fix=fix, message=message)
