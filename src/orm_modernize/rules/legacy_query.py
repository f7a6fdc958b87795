"""ORM002: `session.query(...)` chains -> `select()` executed by the session."""

from __future__ import annotations

import libcst as cst

from orm_modernize.datatypes import Fix, ImportSpec
from orm_modernize.rule import Rule
from orm_modernize.semantic import Evidence, Shape
from orm_modernize.transforms import (
    ROW_TERMINALS,
    SELECT_STEPS,
    QueryChain,
    build_select,
    chain_at,
    method,
    on_receiver,
    then,
)

# Other spellings of `select` that already mean the 2.0 construct.
SELECT_ALIASES = (
    "sqlalchemy.future.select",
    "sqlalchemy.sql.select",
    "sqlalchemy.sql.expression.select",
)


class LegacyQuery(Rule):
    """
    ## What it does
    Checks for `Session.query(...)` chains that end in `all()`, `first()`, `one()`,
    `one_or_none()`, `scalar()`, `count()` or are iterated by a `for` loop.

    ## Why is this bad?
    `Query` is the legacy ORM API in SQLAlchemy 2.0. The 2.0 style builds a
    `select()` and executes it with `Session.scalars()` or `Session.execute()`.

    ## Example
        user = session.query(User).filter_by(name="bob").first()

    ## Use instead
        user = session.scalars(select(User).filter_by(name="bob").limit(1)).first()

    ## Fix safety
    The fix keeps what each terminal did: `first()` keeps its `LIMIT 1`, `scalar()`
    becomes `scalar_one_or_none()` (it still raises on several rows), `count()`
    counts a subquery of the whole statement (so LIMIT and DISTINCT still count the
    same), a single entity is fetched with `scalars()` and columns or several
    entities come back as rows. Only `filter`, `filter_by`, `where`, `order_by`,
    `limit` and `offset` are rewritten; a chain with any other step is reported
    without a fix. Without a join, `Query`'s de-duplication of entity rows changes
    nothing, so no `.unique()` is needed.

    The fix is safe when the receiver is proven to be a `Session` (bound from
    `Session(...)`, a `sessionmaker()` or `scoped_session()`, or annotated
    `Session`). It is unsafe when the receiver is only named like one
    (`db.session`, `self.session`, a parameter called `session`), or when the
    queried class is not known to be mapped.

    ## References
    - SQLAlchemy 2.0 migration guide, "ORM Query Unified with Core Select"
    """

    code = "ORM002"
    name = "legacy-query"
    message = "`Session.query()` is legacy in SQLAlchemy 2.0"
    fix_title = "Use `select()` with `Session.scalars()` or `Session.execute()`"
    fix_availability = "sometimes"
    triggers = (b".query(",)

    def visit_Call(self, node: cst.Call) -> None:
        chain = chain_at(node, self.semantic.parent)
        if chain is None or chain.ends_in("get"):
            return  # not a query, or ORM001's
        evidence = self.semantic.session_evidence(chain.receiver, chain.entities)
        if evidence is Evidence.NONE:
            return
        fix = self._fix(chain, evidence)
        self.report(chain.top if fix else node, fix=fix)

    def _fix(self, chain: QueryChain, evidence: Evidence) -> Fix | None:
        terminal = chain.terminal
        if terminal is not None and terminal.name in ROW_TERMINALS:
            steps, iterated = chain.steps[:-1], False
            if terminal.call.args:
                return None
        else:
            steps, terminal = chain.steps, None
            iterated = _is_iterated(chain.top, self.semantic.parent(chain.top))
            if not iterated:
                return None  # built here, finished elsewhere: a later issue's flow
        if any(step.name not in SELECT_STEPS for step in steps):
            return None
        shapes = [self.semantic.shape(entity) for entity in chain.entities]
        guessed = False
        if shapes == [Shape.UNKNOWN] and _looks_like_class(chain.entities[0]):
            shapes, guessed = [Shape.ENTITY], True
        if Shape.UNKNOWN in shapes:
            return None
        imports: list[ImportSpec] = []
        select = self._name(chain, "select", imports, SELECT_ALIASES)
        if select is None:
            return None
        statement = build_select(chain, select, steps)
        single = shapes == [Shape.ENTITY]
        fetch = "scalars" if single else "execute"
        replacement: cst.BaseExpression
        if terminal is None:
            replacement = on_receiver(chain, fetch, statement)
        elif terminal.name == "first":
            # Query.first() applied LIMIT 1; Result.first() does not.
            limited = method(statement, "limit", cst.Integer("1"))
            replacement = then(terminal, on_receiver(chain, fetch, limited))
        elif terminal.name == "scalar":
            # Query.scalar() raised on several rows; Session.scalar() would not.
            executed = on_receiver(chain, "execute", statement)
            replacement = then(terminal, executed, "scalar_one_or_none")
        elif terminal.name == "count":
            func = self._name(chain, "func", imports)
            if func is None:
                return None
            # Query.count() counted a subquery of the whole query, so LIMIT, DISTINCT
            # and GROUP BY give the same answer as before.
            counted = method(
                cst.Call(func=select, args=[cst.Arg(method(func, "count"))]),
                "select_from",
                method(statement, "subquery"),
            )
            replacement = on_receiver(chain, "scalar", counted)
        else:  # all, one, one_or_none: same names on the result
            replacement = then(terminal, on_receiver(chain, fetch, statement))
        if chain.top.lpar:
            replacement = replacement.with_changes(
                lpar=chain.top.lpar, rpar=chain.top.rpar
            )
        safe = evidence is Evidence.PROVEN and not guessed
        return Fix.replace(chain.top, replacement, safe=safe, imports=tuple(imports))

    def _name(
        self,
        chain: QueryChain,
        name: str,
        imports: list[ImportSpec],
        accepted: tuple[str, ...] = (),
    ) -> cst.BaseExpression | None:
        found = self.semantic.reference(chain.top, "sqlalchemy", name, accepted)
        if found is None:
            return None
        expression, needed = found
        if needed is not None:
            imports.append(needed)
        return expression


def _is_iterated(node: cst.CSTNode, parent: cst.CSTNode | None) -> bool:
    return isinstance(parent, cst.For) and parent.iter is node


def _looks_like_class(node: cst.BaseExpression) -> bool:
    """`Widget` in `session.query(Widget)`: a class name by convention, not proof."""
    return (
        isinstance(node, cst.Name)
        and node.value[:1].isupper()
        and not node.value.isupper()
    )
