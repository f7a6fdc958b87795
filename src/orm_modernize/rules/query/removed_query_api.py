"""ORM003: string relationship paths and legacy `join()` forms -> class attributes."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.query_chain import QueryChain
from orm_modernize.data.records import Evidence, Fix, ImportSpec
from orm_modernize.rewrite.naming import namer
from orm_modernize.rewrite.string_paths import (
    PathRewriter,
    removed_join,
    removed_options,
)
from orm_modernize.rules.base import QueryRule
from orm_modernize.syntax.nodes import keep_parentheses


class RemovedQueryApi(QueryRule):
    """
    ## What it does
    Checks `Session.query()` chains for forms SQLAlchemy 2.0 removed: loader options
    with string paths (`joinedload("orders.items")`, `defer("name")`,
    `load_only("name")`) or with several attributes (`joinedload(User.orders,
    Order.items)`), and `join()` with a string (`join("orders")`,
    `join(Order, "orders")`), a tuple (`join((Order, User.orders))`) or several
    targets in one call (`join(User.orders, Order.items)`).

    ## Why is this bad?
    These raise `ArgumentError` on SQLAlchemy 2.x. They also keep ORM002 from
    turning the query into `select()`: the class attribute forms work on both.

    ## Example
        users = session.query(User).options(joinedload("orders.items")).join("addresses").all()

    ## Use instead
        users = session.query(User).options(defaultload(User.orders).joinedload(Order.items)).join(User.addresses).all()

    ## Fix safety
    The fix resolves each string the way 1.4 did: a loader path starts at the
    query's first entity (or at `Load(Entity)`) and only its last token gets the
    loader's strategy, the tokens before it becoming `defaultload()`; a string join
    starts at the first entity on each `join()` call (the last join target with
    `from_joinpoint=True`), and each further target of the same call starts where
    the previous one led. Following a relationship to its class uses the
    `relationship()` declarations of the module.

    The fix is safe when the receiver is proven to be a `Session` and every
    relationship followed is declared in a class body. It is unsafe when the
    receiver is only named like a session, or a relationship's class is read from
    an imperative `mapper()`/`map_imperatively()` call (a module can map the same
    names differently in different places). `join("rel", aliased=True)` keeps
    its flag, which ORM002 turns into an `aliased()` entity; with several targets
    or `from_joinpoint=True` as well, or when a class cannot be found, the query
    is only reported.

    ## References
    - SQLAlchemy 2.0 migration guide, "ORM Query - Joining / loading on
      relationships uses attributes, not strings"
    - SQLAlchemy 2.0 migration guide, "ORM Query - Chaining using lists of
      attributes, rather than individual calls, removed"
    """

    code = "ORM003"
    name = "removed-query-api"
    message = "string and multi-target relationship paths were removed in 2.0"
    fix_title = "Name relationships and columns by their class attributes"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"
    impact = "removed"

    def check_chain(self, chain: QueryChain, node: cst.Call | cst.Attribute) -> None:
        if chain.refusal is not None:
            return
        removed = [
            step
            for step in chain.steps
            if removed_join(step, self.semantic) or removed_options(step, self.semantic)
        ]
        if not removed:
            return
        evidence = self.session_evidence(chain)
        if evidence is Evidence.NONE:
            return
        first = removed[0]
        assert isinstance(first.call.func, cst.Attribute)
        at = first.call.func.attr
        message = (
            "`Query.join()` with a string, a tuple or several targets was removed"
            " in 2.0"
            if first.name in ("join", "outerjoin")
            else "loader options with string paths or several attributes were"
            " removed in 2.0"
        )
        imports: list[ImportSpec] = []
        rewriter = PathRewriter(
            self.semantic, chain, namer(self.semantic, node, imports)
        )

        def build() -> Fix:
            rewritten = rewriter.rewrite()
            return Fix.replace(
                chain.top,
                keep_parentheses(chain.top, rewritten),
                safe=evidence.proven and rewriter.declared,
                imports=tuple(imports),
            )

        self.report_fix(at, build, message=message)
