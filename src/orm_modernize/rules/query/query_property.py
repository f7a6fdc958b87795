"""ORM005: `Base.query = session.query_property()`, once nothing reads it."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Evidence, Fix, Refused
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import imported_root


class QueryProperty(Rule):
    """
    ## What it does
    Checks for `scoped_session.query_property()` assigned to a class
    (`Base.query = db_session.query_property()`, or `query = ...` in a class
    body), which gives each model a `Model.query` attribute.

    ## Why is this bad?
    `Model.query` is a legacy `Query`: SQLAlchemy 2.0 queries with `select()`
    executed by a session, and `query_property()` exists only to hand out
    Queries. Once the code uses the session (the Query rules rewrite
    `User.query.filter_by(...).first()` through the session the property names),
    the property is dead code that invites new legacy queries.

    ## Example
        db_session = scoped_session(sessionmaker(bind=engine))
        Base = declarative_base()
        Base.query = db_session.query_property()

    ## Use instead
        db_session = scoped_session(sessionmaker(bind=engine))
        Base = declarative_base()

    ## Fix safety
    The statement is removed when no module of the project reads a `query`
    attribute (`X.query` other than a call or an assignment, or the string
    `"query"`, as `getattr()` would take it). Unsafe: code outside the project,
    a template, or an attribute name built at run time may still read it.
    While something reads one, the finding has no fix: convert those uses
    (ORM001 and ORM002 rewrite `Model.query` chains through the session), and
    the next run removes it. A class body that holds nothing else keeps it.

    ## References
    - SQLAlchemy 2.0 migration guide, "ORM Query Unified with Core Select"
    - SQLAlchemy docs, `scoped_session.query_property` (a legacy feature)
    """

    code = "ORM005"
    name = "query-property"
    message = (
        "`query_property()` gives models a legacy `Query` as `Model.query`;"
        " SQLAlchemy 2.0 runs `select()` on the session"
    )
    fix_title = "Remove the unused `query_property()`"
    fix_availability = "sometimes"
    fix_runs_on = "1.4"
    triggers = (b"query_property(",)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if len(node.body) != 1 or not isinstance(node.body[0], cst.Assign):
            return
        assign = node.body[0]
        call = assign.value
        if not (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "query_property"
            and len(assign.targets) == 1
            and _query_target(assign.targets[0].target, node, self.semantic)
        ):
            return
        receiver = call.func.value
        if self.semantic.session_evidence(receiver) is Evidence.NONE:
            return
        self.report_fix(call, lambda: self._removal(node, receiver))

    def _removal(
        self, line: cst.SimpleStatementLine, receiver: cst.BaseExpression
    ) -> Fix:
        """The statement removed, or why it must stay."""
        if self.semantic.project.query_readers:
            raise Refused(
                "a module of the project reads a `query` attribute; convert the"
                " `Model.query` uses, then remove it"
            )
        block = self.semantic.parent(line)
        if isinstance(block, cst.IndentedBlock) and len(block.body) == 1:
            raise Refused("it is all its class body holds")
        freed = imported_root(receiver)
        return Fix.replace(line, cst.RemoveFromParent(), safe=False, unused=freed)


def _query_target(
    target: cst.BaseAssignTargetExpression, line: cst.CSTNode, semantic: Semantic
) -> bool:
    """`X.query = ...` at any level, or `query = ...` directly in a class body."""
    if isinstance(target, cst.Attribute):
        return target.attr.value == "query"
    if not (isinstance(target, cst.Name) and target.value == "query"):
        return False
    block = semantic.parent(line)
    owner = semantic.parent(block) if block is not None else None
    return isinstance(block, cst.IndentedBlock) and isinstance(owner, cst.ClassDef)
