"""ORM002's end in a module that calls a query helper another module defines: a
function it imports (`from app.queries import active`) or a method of a class
it imports (`tickets.open_ones()` on `tickets = Tickets(session)`). Each call is
finished as the helper's `select()` needs, and the module tells the runner
whether every one of them can be: the helper and all its calls in the project
are converted together, or none (`rewrite/shared_query_helpers.py`)."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.analysis.scopes import Assignment
from orm_modernize.data.records import Exports, HelperCall, QueryHelper, Refused
from orm_modernize.rewrite.helper_arguments import imported_from
from orm_modernize.rewrite.query_execution import helper_call_fix
from orm_modernize.rewrite.query_methods import method_mentions, method_session
from orm_modernize.rewrite.shared_query_helpers import (
    helper_imported_as,
    imported_helper,
)
from orm_modernize.rules.base import QueryRule
from orm_modernize.syntax.nodes import code_of


class HelperCalls(QueryRule):
    """The calls of the project's shared query helpers in the module visited."""

    @classmethod
    def triggered(cls, source: bytes, project: ProjectIndex | None) -> bool:
        return super().triggered(source, project) or (
            project is not None
            and any(h.name.encode() in source for h in project.query_helpers)
        )

    def visit_Module(self, node: cst.Module) -> None:
        """A method's calls here, and whether they are all its mentions: this
        module's answer is asked for whenever it names the method at all."""
        project, source = self.semantic.project, self.semantic.source
        for helper in sorted(project.query_helpers, key=str):
            if not helper.owner or helper.module == self.semantic.module_name:
                continue
            if source is not None and helper.name.encode() not in source:
                continue  # not named here: no walk of the module's nodes
            calls, every = method_mentions(self.semantic, helper)
            if not every:
                self._answer(helper, False)
            for call in calls:
                self._check_helper_call(call, helper)
            if every and not calls:
                self._answer(helper, True)  # named in a comment only

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        if isinstance(node.func, cst.Name) and self.semantic.project.query_helpers:
            helper = imported_helper(self.semantic, node.func)
            if helper is not None:
                self._check_helper_call(node, helper)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        """A module that imports a query helper and uses it other than by calling
        it (passes it on, stores it), or imports every name of its module (`*`:
        its calls are not followed), keeps it from being converted."""
        helpers = self.semantic.project.query_helpers
        if not helpers:
            return
        if isinstance(node.names, cst.ImportStar):
            module = imported_from(self.semantic.module_name, node)
            for shared in sorted(helpers, key=str):
                if shared.module == module and not shared.owner:
                    self._answer(shared, False)
                    self.report(
                        node,
                        message=f"{self.message}: `{shared.name}()`, which this"
                        " imports, returns a `Query` (no fix: calls through"
                        " `import *` are not followed; import it by name)",
                    )
            return
        scope = self.semantic.scope(node)
        for alias in node.names:
            helper = helper_imported_as(self.semantic, node, alias)
            if helper is None or scope is None:
                continue
            bound = alias.evaluated_alias or alias.evaluated_name
            references = [
                access
                for binding in scope[bound]
                if isinstance(binding, Assignment) and binding.node is node
                for access in binding.references
            ]
            if not all(
                isinstance(call := self.semantic.parent(access.node), cst.Call)
                and call.func is access.node
                for access in references
            ):
                self._answer(helper, False)

    def _check_helper_call(self, call: cst.Call, helper: QueryHelper) -> None:
        """A call of a query helper another module defines: converted with the
        helper when every call of it in the project can be, reported otherwise."""
        name = code_of(call.func)
        message = f"{self.message}: `{name}()` returns a `Query`"
        try:
            session = (
                method_session(self.semantic, call, helper) if helper.owner else None
            )
            fix = helper_call_fix(self.semantic, call, helper, session)
        except Refused as why:
            self._answer(helper, False)
            self.report(call, message=f"{message} (no fix: {why})")
            return
        self._answer(helper, True)
        if fix is None:
            return  # already what the helper's statement needs
        if helper in self.semantic.project.accepted_helpers:
            self.report_statement(call, fix, message)
            return
        shown = f"{helper.module}.{helper.owner or helper.name}"
        shown += f".{helper.name}()" if helper.owner else "()"
        reason = self.semantic.project.helper_refused(helper) or (
            f"`{shown}` is also used where its query cannot be converted;"
            " see those findings"
        )
        self.report(call, message=f"{message} (no fix: {reason})")

    def _answer(self, helper: QueryHelper, convertible: bool) -> None:
        self.semantic.exports += Exports(
            helper_calls=(HelperCall(helper.module, helper.name, convertible),)
        )
