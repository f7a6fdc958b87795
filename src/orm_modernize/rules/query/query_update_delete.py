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
from orm_modernize.syntax.nodes import keep_parentheses, keyword, method

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
        count = session.execute(update(User).where(User.age < 18).values({"minor": True}).execution_options(synchronize_session="evaluate")).rowcount

    ## Fix safety
    Two things changed in 2.0 and the fix keeps the old behaviour of both:
    `Query.update()` and `Query.delete()` returned the number of matched rows, so
    the fix reads `.rowcount` from the result (unless the value was discarded); and
    the default `synchronize_session` changed from `'evaluate'` to `'auto'`, so the
    fix writes the old value out when the call did not name one (`'evaluate'`
    still raises where the criteria cannot be evaluated in Python, as before).

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
        sync = given.get("synchronize_session")
        # 'evaluate' was the default of Query.update/delete; 2.0's is 'auto'.
        option = keyword(
            "synchronize_session",
            sync.value if sync is not None else cst.SimpleString('"evaluate"'),
        )
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
