"""ORM101: `Session(autocommit=True)`, `begin(subtransactions=True)`,
`Session.close_all()`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.vocabulary import SESSION_CLASSES, SESSION_FACTORIES
from orm_modernize.data.records import Evidence, Fix, ImportSpec
from orm_modernize.rewrite.naming import namer
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import imported_root, is_constant, keyword_argument

RECIPES = {
    "autocommit": "`autocommit=True` was removed in SQLAlchemy 2.0 (`ArgumentError`):"
    " drop it and wrap each unit of work in `with session.begin():`",
    "subtransactions": "`begin(subtransactions=True)` was removed in SQLAlchemy 2.0"
    " (`TypeError`): begin the transaction once, at the outermost level, or test"
    " `session.in_transaction()` before `begin()`",
}


class LegacySessionTransactions(Rule):
    """
    ## What it does
    Checks for the 1.x transaction modes of the `Session`:
    `Session(autocommit=True)` / `sessionmaker(autocommit=True)`,
    `session.begin(subtransactions=True)`, and the
    `Session.close_all()` class method.

    ## Why is this bad?
    SQLAlchemy 2.0 removed autocommit mode and subtransactions: the first
    raises `ArgumentError`, the second `TypeError`. A session always begins a
    transaction on first use ("autobegin"), committed by `commit()` or a
    `with session.begin():` block. `Session.close_all()` is deprecated in favour
    of `close_all_sessions()`.

    ## Example
        Session.close_all()

    ## Use instead
        close_all_sessions()

    ## Fix safety
    `Session.close_all()` becomes `close_all_sessions()`, which it called: safe,
    and it runs on SQLAlchemy 1.4 as well as 2.x. Autocommit mode and
    subtransactions are reported with the recipe and no fix: where each
    transaction begins and ends is the application's decision.

    ## References
    - SQLAlchemy 2.0 migration guide, "Library-level (but not driver level)
      'Autocommit' removed from both Core and ORM" and "Session
      'subtransaction' behavior removed"
    """

    code = "ORM101"
    name = "legacy-session-transactions"
    message = "`Session.close_all()` is deprecated; use `close_all_sessions()`"
    fix_title = "Call `close_all_sessions()`"
    fix_availability = "sometimes"
    fix_runs_on = "1.4"
    triggers = (b"autocommit", b"subtransactions", b"close_all(")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        makers = SESSION_CLASSES | SESSION_FACTORIES
        if self.semantic.is_one_of(func, makers):
            for arg in node.args:
                keyword = arg.keyword.value if arg.keyword else None
                if keyword == "autocommit" and not is_constant(arg.value, "False"):
                    self.report(arg, message=RECIPES[keyword])
            return
        if not isinstance(func, cst.Attribute):
            return
        if (
            func.attr.value == "begin"
            and keyword_argument(node, "subtransactions") is not None
        ):
            if self.semantic.session_evidence(func.value) is not Evidence.NONE:
                self.report(node, message=RECIPES["subtransactions"])
            return
        if (
            func.attr.value == "close_all"
            and not node.args
            and self.semantic.is_one_of(func.value, SESSION_CLASSES)
        ):
            imports: list[ImportSpec] = []
            name = namer(self.semantic, node, imports)(
                "sqlalchemy.orm", "close_all_sessions"
            )
            if name is None:
                self.report(node, message=f"{self.message} (no fix: the name is taken)")
                return
            fix = Fix.replace(
                node,
                cst.Call(name),
                safe=True,
                imports=tuple(imports),
                unused=imported_root(func.value),
            )
            self.report(node, fix=fix)
