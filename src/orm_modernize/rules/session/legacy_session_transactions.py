"""ORM101: `Session(autocommit=True)`, `begin(subtransactions=True)`,
`Session.close_all()`."""

from __future__ import annotations

from functools import partial

import libcst as cst

from orm_modernize.analysis.scopes import GlobalScope
from orm_modernize.analysis.transaction_units import (
    bound_name,
    check_factory_units,
    check_units,
)
from orm_modernize.analysis.vocabulary import SESSION_CLASSES, SESSION_FACTORIES
from orm_modernize.data.records import Evidence, Fix, ImportSpec, Refused
from orm_modernize.rewrite.clauses import with_arguments
from orm_modernize.rewrite.naming import namer
from orm_modernize.rewrite.subtransaction_block import written_out
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
    and it runs on SQLAlchemy 1.4 as well as 2.x. `autocommit=True` is dropped
    where each session is used only in `with session.begin():` blocks (and
    `close()`, `in_transaction()`): a `Session()` bound to a name, or a
    `sessionmaker()` whose sessions are all made `with factory.begin() as s:` or
    `s = factory()` and used so. Each block was a transaction in 1.x and is one
    on 2.x, as nothing between them begins another. Refused when the session
    is used anywhere else, or a name bound in a block is read after it (an
    object loaded there would load again on 2.x, beginning a transaction the
    next block cannot); unsafe, as an object may leave a block another way
    (in a list, an attribute).

    A session not in autocommit mode has begun its transaction by its first
    use, so `with session.begin(subtransactions=True):` began a subtransaction
    of it: its end only flushed, leaving the transaction open, and an exception
    rolled the whole transaction back. The block becomes exactly that, on 1.4
    as on 2.x:

        try:
            ...
            session.flush()
        except BaseException:
            session.rollback()
            raise

    Unsafe: after the exception 1.x refused the session until the application
    called `rollback()`, 2.x does not. Refused unless the session is proven and
    no module of the project names `autocommit` (an autocommit session
    committed a transaction at its outermost block), or when the block returns
    or breaks out early (its end would not flush). A bare
    `session.begin(subtransactions=True)` is reported with the recipe: where
    each transaction begins and ends is the application's decision.
    `begin(subtransactions=False)` is `begin()`: safe.

    ## References
    - SQLAlchemy 2.0 migration guide, "Library-level (but not driver level)
      'Autocommit' removed from both Core and ORM" and "Session
      'subtransaction' behavior removed"
    """

    code = "ORM101"
    name = "legacy-session-transactions"
    message = "`Session.close_all()` is deprecated; use `close_all_sessions()`"
    fix_title = (
        "Call `close_all_sessions()`, drop `autocommit=True`, or write out a"
        " subtransaction"
    )
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
                    self.report_fix(
                        arg,
                        partial(self._autocommit_dropped, node, arg),
                        message=RECIPES[keyword],
                    )
            return
        if not isinstance(func, cst.Attribute):
            return
        if func.attr.value == "begin":
            subtransactions = keyword_argument(node, "subtransactions")
            if subtransactions is not None and (
                self.semantic.session_evidence(func.value) is not Evidence.NONE
            ):
                self._subtransactions(node, subtransactions)
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

    def _subtransactions(self, call: cst.Call, arg: cst.Arg) -> None:
        """`begin(subtransactions=False)` is `begin()`; a `with` block of
        `begin(subtransactions=True)` is written out (`subtransaction_block.py`)."""
        removed = "`begin(subtransactions=...)` was removed in SQLAlchemy 2.0"
        if is_constant(arg.value, "False"):
            kept = [a for a in call.args if a is not arg]
            fix = Fix.replace(call, with_arguments(call, kept), safe=True)
            self.report(call, fix=fix, message=f"{removed}; `False` is the default")
            return
        recipe = RECIPES["subtransactions"]
        if not is_constant(arg.value, "True"):
            self.report(call, message=f"{recipe} (no fix: the argument is computed)")
            return
        self.report_fix(
            call,
            partial(written_out, self.semantic, call),
            message=recipe,
            fixed_message=f"{removed}: write out what the subtransaction did",
        )

    def _autocommit_dropped(self, call: cst.Call, arg: cst.Arg) -> Fix:
        """`call` without `autocommit=True`, where each session is used in
        `with session.begin():` blocks only (`transaction_units.py`)."""
        if not is_constant(arg.value, "True"):
            raise Refused("`autocommit=` is computed")
        name = bound_name(self.semantic, call)
        if (
            isinstance(self.semantic.scope(name), GlobalScope)
            and name.value in self.semantic.project.imported_names
        ):
            raise Refused(f"other modules may import `{name.value}`")
        if self.semantic.is_one_of(call.func, SESSION_FACTORIES):
            check_factory_units(self.semantic, name)
        else:
            check_units(self.semantic, name)
        kept = [a for a in call.args if a is not arg]
        return Fix.replace(call, with_arguments(call, kept), safe=False)
