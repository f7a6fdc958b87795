"""The base classes of rules: LibCST visitors that report `Violation`s."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

import libcst as cst

from orm_modernize.analysis.model_query import model_query_at
from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.analysis.query_chain import QueryChain, chain_at
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import (
    Evidence,
    Fix,
    FixAvailability,
    Impact,
    Refused,
    Replacement,
    Violation,
)
from orm_modernize.syntax.nodes import code_of, walk


class Rule(cst.BatchableCSTVisitor):
    """One legacy idiom. Subclasses set the class attributes and visit nodes."""

    code: ClassVar[str]  # ORM + 3 digits, never reused
    name: ClassVar[str]  # kebab-case, names what is wrong
    message: ClassVar[str]  # lowercase fragment, API in backticks, no period
    fix_title: ClassVar[str | None] = None  # None: the rule only reports
    # "always", "sometimes" or "never": can a finding of this rule carry a fix?
    fix_availability: ClassVar[FixAvailability] = "never"
    # What SQLAlchemy 2.x does to the code found (see `Impact`): what a team plans by
    impact: ClassVar[Impact] = "legacy"
    # The oldest SQLAlchemy the fixed code runs on: "1.4" (teams that upgrade in
    # two steps can apply it before moving to 2.x) or "2.0"
    fix_runs_on: ClassVar[str] = "2.0"
    # The file must contain one of these byte strings for the rule to run at all:
    # a pre-filter that spares parsing files that cannot hold the idiom.
    triggers: ClassVar[tuple[bytes, ...]]

    def __init__(self, semantic: Semantic) -> None:
        super().__init__()
        self.semantic = semantic
        self.violations: list[Violation] = []

    @classmethod
    def triggered(cls, source: bytes, project: ProjectIndex | None) -> bool:
        """Whether the rule must run on `source` at all."""
        return any(trigger in source for trigger in cls.triggers)

    def report(
        self,
        node: cst.CSTNode,
        *,
        fix: Fix | None = None,
        message: str | None = None,
    ) -> None:
        if fix is not None and self.fix_title is None:
            raise TypeError(f"{self.code} has no fix_title and must not pass a fix")
        self.violations.append(
            Violation(self.code, message or self.message, node, self.fix_title, fix)
        )

    def report_fix(
        self,
        node: cst.CSTNode,
        build: Callable[[], Fix],
        *,
        message: str | None = None,
        fixed_message: str | None = None,
    ) -> bool:
        """Report `node` with the fix `build()` makes, or, when it refuses, without
        one and with the reason in the message (ruff's `try_set_fix`); a
        `fixed_message` replaces the message when there is a fix (one that says
        what the fix does, where the other gives the recipe). Whether a fix was
        made."""
        message = message or self.message
        try:
            fix = build()
        except Refused as why:
            self.report(node, message=f"{message} (no fix: {why})")
            return False
        self.report(node, fix=fix, message=fixed_message or message)
        return True

    @classmethod
    def docs(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")


class QueryRule(Rule):
    """A rule about `Query` chains. Each chain start is visited once: `x.query(...)`
    calls and Flask-SQLAlchemy's `Model.query`. The chains are shared by every rule
    of the pass, so each is parsed once."""

    triggers: ClassVar[tuple[bytes, ...]] = (b".query",)

    def visit_Call(self, node: cst.Call) -> None:
        self._visit(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._visit(node)

    def _visit(self, node: cst.Call | cst.Attribute) -> None:
        chains = self.semantic.query_chains
        if node not in chains:
            chains[node] = (
                chain_at(node, self.semantic.parent)
                if isinstance(node, cst.Call)
                else model_query_at(node, self.semantic)
            )
        chain = chains[node]
        if chain is None:
            return
        reported = len(self.violations)
        self.check_chain(chain, node)
        if chain.imports:  # the fixes spell a session this module must import
            self.violations[reported:] = [
                replace(v, fix=v.fix.with_imports(chain.imports)) if v.fix else v
                for v in self.violations[reported:]
            ]

    def check_chain(self, chain: QueryChain, node: cst.Call | cst.Attribute) -> None:
        """Report on the chain that starts at `node`."""
        raise NotImplementedError

    def report_statement(
        self, node: cst.CSTNode, fix: Fix, message: str | None = None
    ) -> None:
        """Report a fix that builds a statement (`select()`, `update()`) where a
        Query was.

        `session.query(User)` configured the mappers before `.join(User.orders)`
        was evaluated; `select(User)` does not, and an attribute a backref makes
        exists only once they are. Such a fix fails in a program whose first
        statement reads it, so it is unsafe, and the message says why.
        """
        attribute = next(
            (
                n
                for edit in fix.edits
                for new in _nodes(edit.replacement)
                for n in walk(new)
                if isinstance(n, cst.Attribute) and self.semantic.made_by_backref(n)
            ),
            None,
        )
        message = message or self.message
        if attribute is None:
            self.report(node, fix=fix, message=message)
            return
        self.report(
            node,
            fix=replace(fix, safe=False),
            message=f"{message} (unsafe fix: `{code_of(attribute)}` is made by"
            " a backref, which exists only once the mappers are configured; `Query`"
            " configured them, `select()` does not: call `configure_mappers()` at"
            " startup, or declare it with `back_populates`)",
        )

    def session_evidence(self, chain: QueryChain) -> Evidence:
        """How sure we are that the chain's receiver is a `Session`."""
        if chain.evidence is not None:
            return chain.evidence
        return self.semantic.session_evidence(chain.receiver, chain.entities)


def _nodes(replacement: Replacement) -> list[cst.CSTNode]:
    if isinstance(replacement, cst.FlattenSentinel):
        return list(replacement.nodes)
    return [replacement] if isinstance(replacement, cst.CSTNode) else []
