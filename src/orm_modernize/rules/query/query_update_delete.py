"""ORM004: `query.update(...)` / `query.delete()` -> `session.execute(update(...))`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.models import Shape
from orm_modernize.analysis.query_chain import (
    DML_TERMINALS,
    QueryChain,
    on_receiver,
    then,
)
from orm_modernize.data.records import Evidence, Fix, ImportSpec
from orm_modernize.rules.base import QueryRule
from orm_modernize.syntax.nodes import code_of, keep_parentheses, keyword, method

# Criteria steps that mean the same on `Update` / `Delete`.
CRITERIA = {"filter": "where", "where": "where", "filter_by": "filter_by"}


class QueryUpdateDelete(QueryRule):
    """
    ## What it does
    Checks for bulk `Query.update(values)` and `Query.delete()` on a
    `session.query(Model)` filtered by `filter()`, `filter_by()` or `where()`.

    ## Why is this bad?
    `Query` is legacy in SQLAlchemy 2.0; ORM-enabled `update()` and `delete()`
    statements executed by the session replace its bulk methods.

    ## Example
        count = session.query(User).filter(User.age < 18).update({"minor": True})

    ## Use instead
        count = session.execute(update(User).where(User.age < 18).values({"minor": True})).rowcount

    ## Fix safety
    Two things changed in 2.0 and the fix keeps the old behaviour of both:
    `Query.update()` and `Query.delete()` returned the number of matched rows, so
    the fix reads `.rowcount` from the result (unless the value was discarded); and
    the default `synchronize_session` changed from `'evaluate'` to `'auto'`, which
    evaluates the criteria in Python as `'evaluate'` did and falls back to
    `'fetch'` only where `'evaluate'` raised. So the old default is written out
    only where the criteria are more than comparisons of the entity's columns
    with plain values (a LIKE, a function, another class's column: 1.x raised
    there, and still does); a value the call names is kept.

    Safe when the receiver is proven to be a `Session` and the class is known to be
    mapped; unsafe when the receiver is only named like a session, or when the
    criteria read an attribute a `backref=` makes (`update()` does not configure
    the mappers as `Query` did, so it may not exist yet). Queries with
    joins, ordering or limits, or extra arguments (`update_args`), are reported
    without a fix.

    ## References
    - SQLAlchemy ORM query guide, "ORM-Enabled INSERT, UPDATE, and DELETE"
    - SQLAlchemy 2.0 changelog, "Improved synchronize_session behavior"
    """

    code = "ORM004"
    name = "query-update-delete"
    message = "bulk `Query.update()` / `Query.delete()` is legacy in SQLAlchemy 2.0"
    fix_title = "Use `session.execute(update(...))` / `session.execute(delete(...))`"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"
    triggers = (b".update(", b".delete(")

    def check_chain(self, chain: QueryChain, node: cst.Call | cst.Attribute) -> None:
        if chain.terminal is None or chain.refusal is not None:
            return
        if chain.terminal.name not in DML_TERMINALS:
            return
        evidence = self.session_evidence(chain)
        if evidence is Evidence.NONE:
            return
        fix = self._fix(chain, evidence)
        if fix is None:
            self.report(node)
        else:
            self.report_statement(node, fix)

    def _fix(self, chain: QueryChain, evidence: Evidence) -> Fix | None:
        terminal = chain.terminal
        assert terminal is not None
        if len(chain.entities) != 1:
            return None
        entity = chain.entities[0]
        shape = self.semantic.shape(entity)
        if shape is Shape.COLUMN:
            return None
        imports: list[ImportSpec] = []
        found = self.semantic.reference(chain.top, "sqlalchemy", terminal.name)
        if found is None:
            return None
        function, needed = found
        if needed is not None:
            imports.append(needed)
        statement: cst.BaseExpression = cst.Call(
            function,
            [chain.query.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)],
        )
        for step in chain.steps[:-1]:
            if step.name not in CRITERIA:
                return None
            statement = then(step, statement, CRITERIA[step.name])
        # update(values, synchronize_session) / delete(synchronize_session)
        names = ("values", "synchronize_session")[terminal.name == "delete" :]
        given: dict[str, cst.Arg] = {}
        for index, arg in enumerate(terminal.call.args):
            name = arg.keyword.value if arg.keyword else None
            if arg.star or (name is None and index >= len(names)):
                return None
            given[name or names[index]] = arg
        if set(given) - set(names) or (terminal.name == "update") != (
            "values" in given
        ):
            return None
        if "values" in given:
            statement = method(statement, "values", given["values"].value)
        # Query's default was 'evaluate'; 2.x's 'auto' evaluates criteria the
        # same way and fetches only where 'evaluate' raised (LIKE, a function,
        # another table's column), so the old value is written out unless the
        # criteria are plain comparisons both versions evaluate. A value the call
        # names is kept.
        sync = given.get("synchronize_session")
        if sync is None and not _evaluated(chain, entity):
            sync = cst.Arg(cst.SimpleString('"evaluate"'))
        if sync is not None:
            option = keyword("synchronize_session", sync.value)
            statement = cst.Call(
                cst.Attribute(statement, cst.Name("execution_options")), [option]
            )
        result: cst.BaseExpression = on_receiver(chain, "execute", statement)
        parent = self.semantic.parent(chain.top)
        if not isinstance(parent, cst.Expr):
            result = cst.Attribute(result, cst.Name("rowcount"))  # was the row count
        safe = evidence.proven and shape is Shape.ENTITY
        return Fix.replace(
            chain.top,
            keep_parentheses(chain.top, result),
            safe=safe,
            imports=tuple(imports),
        )


COMPARISONS = (
    cst.Equal,
    cst.NotEqual,
    cst.LessThan,
    cst.LessThanEqual,
    cst.GreaterThan,
    cst.GreaterThanEqual,
)


def _evaluated(chain: QueryChain, entity: cst.BaseExpression) -> bool:
    """Whether SQLAlchemy evaluates the criteria in Python, on 1.4 and 2.x alike:
    each compares a column of the entity (`User.age < 18`, `filter_by(age=18)`)
    with a plain value."""
    for step in chain.steps[:-1]:
        for arg in step.call.args:
            if step.name == "filter_by":
                if arg.keyword is None or not _plain(arg.value):
                    return False
            elif not _compares_column(arg.value, code_of(entity)):
                return False
    return True


def _compares_column(criterion: cst.BaseExpression, entity: str) -> bool:
    if not (
        isinstance(criterion, cst.Comparison)
        and len(criterion.comparisons) == 1
        and isinstance(criterion.comparisons[0].operator, COMPARISONS)
    ):
        return False
    left, right = criterion.left, criterion.comparisons[0].comparator
    return (_column_of(left, entity) and _plain(right)) or (
        _plain(left) and _column_of(right, entity)
    )


def _column_of(node: cst.BaseExpression, entity: str) -> bool:
    return isinstance(node, cst.Attribute) and code_of(node.value) == entity


def _plain(node: cst.BaseExpression) -> bool:
    """A literal, or a value read from a variable (`user_id`, `self.id`,
    `data["id"]`): not a column (`Model.attr`) or a SQL function."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)):
        return True
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        if isinstance(node, cst.Subscript) and not all(
            isinstance(e.slice, cst.Index) and _plain(e.slice.value) for e in node.slice
        ):
            return False
        node = node.value
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return True
    return isinstance(node, cst.Name) and not node.value[:1].isupper()
