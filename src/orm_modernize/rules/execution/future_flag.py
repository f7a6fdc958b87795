"""ORM210: `create_engine(url, future=True)` / `Session(engine, future=True)` ->
without the flag; `future=False` reported."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_vocabulary import MAKERS, Core
from orm_modernize.analysis.vocabulary import SESSION_CLASSES, SESSION_FACTORIES
from orm_modernize.data.records import Fix
from orm_modernize.rewrite.clauses import with_arguments
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import code_of, is_constant

FLAGGED = MAKERS[Core.ENGINE] | SESSION_CLASSES | SESSION_FACTORIES


class FutureFlag(Rule):
    """
    ## What it does
    Checks for the `future=` flag of `create_engine()`, `Session()` and
    `sessionmaker()`.

    ## Why is this bad?
    On SQLAlchemy 1.4, `future=True` opted an engine or a session into 2.0
    behaviour. 2.x has only that behaviour: it accepts `future=True` as a no-op
    kept for the transition, and `future=False` raises `ArgumentError`.

    ## Example
        engine = create_engine(url, future=True)

    ## Use instead
        engine = create_engine(url)

    ## Fix safety
    `future=True` is deleted: safe, since 2.x behaves as the flag asked. The
    new form needs SQLAlchemy 2.x (on 1.4 it would give the legacy engine, with
    library-level autocommit), so the fix is not applied with
    `--target-version 1.4`. `future=False`, or a flag computed at run time, is
    reported with no fix: the code it guards must be ported to 2.0 style first.

    ## References
    - SQLAlchemy 2.0 migration guide, "Migration to 2.0 Step Four - Use the
      future flag on Engine" and "Step Five - Use the future flag on Session"
    """

    code = "ORM210"
    name = "future-flag"
    message = "`future=True` of `{call}()` is the only behaviour of SQLAlchemy 2.0"
    fix_title = "Remove the flag"
    fix_availability = "sometimes"
    fix_runs_on = "2.0"
    triggers = (b"future=",)

    def visit_Call(self, node: cst.Call) -> None:
        if not self.semantic.is_one_of(node.func, FLAGGED):
            return
        call = code_of(node.func).rsplit(".", 1)[-1]
        for arg in node.args:
            if arg.keyword is None or arg.keyword.value != "future":
                continue
            if is_constant(arg.value, "True"):
                args = [a for a in node.args if a is not arg]
                fix = Fix.replace(node, with_arguments(node, args), safe=True)
                self.report(arg, fix=fix, message=self.message.format(call=call))
            elif is_constant(arg.value, "False"):
                self.report(
                    arg,
                    message=f"`future=False` of `{call}()` was removed in SQLAlchemy"
                    " 2.0 (`ArgumentError`): port the code it guards to 2.0 style,"
                    " then drop the flag",
                )
            else:
                self.report(
                    arg,
                    message=f"`future=` of `{call}()` is computed (no fix: 2.0 accepts"
                    " only `future=True`, and raises `ArgumentError` on `False`)",
                )
