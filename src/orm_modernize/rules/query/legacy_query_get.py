"""ORM001: `Query.get()` -> `Session.get()`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.flask_query import (
    helper_db,
    helper_keywords,
    legacy_flask_sqlalchemy,
)
from orm_modernize.analysis.models import Shape
from orm_modernize.analysis.query_chain import QueryChain, on_receiver
from orm_modernize.data.records import Evidence, Fix, ImportSpec, Refused
from orm_modernize.rewrite.flask_fallbacks import always_true, or_abort
from orm_modernize.rewrite.naming import namer
from orm_modernize.rules.base import QueryRule
from orm_modernize.syntax.nodes import keep_parentheses, keyword

# Query steps before `.get()` that `Session.get()` takes as keyword arguments.
GET_MODIFIERS = frozenset({"options", "populate_existing", "with_for_update"})


class LegacyQueryGet(QueryRule):
    """
    ## What it does
    Checks for `session.query(Model).get(pk)`, also after `options()`,
    `populate_existing()` or `with_for_update()`, and for Flask-SQLAlchemy's
    `Model.query.get_or_404(pk)`.

    ## Why is this bad?
    `Query.get()` is legacy in SQLAlchemy 2.0 and emits `LegacyAPIWarning`.
    `Session.get()` is the 2.0 spelling, with the same identity-map lookup.
    Flask-SQLAlchemy 3 moved `get_or_404()` from its Query to `db.get_or_404()`.

    ## Example
        user = session.query(User).get(5)
        author = Author.query.get_or_404(author_id)

    ## Use instead
        user = session.get(User, 5)
        author = db.get_or_404(Author, author_id)

    ## Fix safety
    Safe when `session` is proven to be a `Session`; the modifiers become
    `options=[...]`, `populate_existing=True` and `with_for_update=True`, which
    `Session.get()` applies exactly as `Query.get()` did. Unsafe when the receiver
    is only named like a session (`db.session`, `self.session`) or the class is not
    known to be mapped. `db.get_or_404()` exists from Flask-SQLAlchemy 3.0: when the
    project's pin (`pyproject.toml`, `setup.cfg`, `setup.py` or `requirements*.txt`)
    admits an older version, `get_or_404()` becomes what 2.5.1 ran,
    `db.session.get(Model, pk) or abort(404)` (`abort` from Flask), which aborts
    on None only when the model's objects are never false: safe for a class of
    the project with no `__bool__` or `__len__` in it or a base, unsafe otherwise.

    ## References
    - SQLAlchemy 2.0 migration guide, "ORM Query - get() method moves to Session"
    """

    code = "ORM001"
    name = "legacy-query-get"
    message = "`Query.get()` is legacy in SQLAlchemy 2.0"
    fix_title = "Use `session.get(Model, pk)` or `db.get_or_404(Model, pk)`"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"

    def check_chain(self, chain: QueryChain, node: cst.Call | cst.Attribute) -> None:
        if chain.refusal is not None:
            return
        evidence = self.session_evidence(chain)
        if evidence is Evidence.NONE:
            return
        if chain.ends_in("get"):
            self.report(chain.top, fix=self._fix(chain, evidence))
        elif chain.ends_in("get_or_404"):
            self.report_fix(
                chain.top,
                lambda: self._flask_fix(chain, evidence),
                message="`Query.get_or_404()` is legacy in Flask-SQLAlchemy 3",
            )

    def _flask_fix(self, chain: QueryChain, evidence: Evidence) -> Fix:
        """`Model.query.get_or_404(pk)` -> `db.get_or_404(Model, pk)`, or with
        Flask-SQLAlchemy 2.x `db.session.get(Model, pk) or abort(404)`."""
        terminal = chain.terminal
        assert terminal is not None and isinstance(chain.query.func, cst.Attribute)
        if len(chain.steps) > 1 or len(chain.entities) != 1:
            raise Refused("`db.get_or_404()` takes a model and a primary key only")
        args = terminal.call.args
        if not args or args[0].keyword is not None or args[0].star:
            raise Refused("unexpected arguments to `get_or_404()`")
        shape = self.semantic.shape(chain.entities[0])
        if shape is Shape.COLUMN:
            raise Refused("`get_or_404()` on a column query")
        if legacy_flask_sqlalchemy(self.semantic):
            return self._legacy_flask_fix(chain, evidence, shape)
        db = helper_db(terminal, chain.query.func, self.semantic)
        replacement = cst.Call(
            cst.Attribute(db, cst.Name("get_or_404")),
            [
                cst.Arg(chain.entities[0]),
                cst.Arg(args[0].value),
                *helper_keywords("get_or_404", args[1:]),  # the description
            ],
        )
        safe = evidence.proven and shape is Shape.ENTITY
        return Fix.replace(
            chain.top, keep_parentheses(chain.top, replacement), safe=safe
        )

    def _legacy_flask_fix(
        self, chain: QueryChain, evidence: Evidence, shape: Shape
    ) -> Fix:
        """Flask-SQLAlchemy 2.5's `get_or_404()`: `get()`, or `abort(404)` on None."""
        terminal = chain.terminal
        assert terminal is not None
        entity = chain.query.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        pk = terminal.call.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        found = on_receiver(chain, "get").with_changes(args=[entity, pk])
        imports: list[ImportSpec] = []
        name = namer(self.semantic, chain.top, imports)
        replacement = or_abort(
            found, "get_or_404", terminal.call.args[1:], name, chain.top, self.semantic
        )
        safe = (
            evidence.proven
            and shape is Shape.ENTITY
            and always_true(chain.entities[0], self.semantic)
        )
        return Fix.replace(chain.top, replacement, safe=safe, imports=tuple(imports))

    def _fix(self, chain: QueryChain, evidence: Evidence) -> Fix | None:
        terminal = chain.terminal
        assert terminal is not None
        if len(chain.entities) != 1 or len(terminal.call.args) != 1:
            return None
        pk = terminal.call.args[0]
        if pk.keyword is not None or pk.star:
            return None
        shape = self.semantic.shape(chain.entities[0])
        if shape is Shape.COLUMN:
            return None
        options: list[cst.Element] = []
        keywords: list[cst.Arg] = []
        for step in chain.steps[:-1]:
            if step.name not in GET_MODIFIERS:
                return None  # Query.get() refuses criteria; leave odd code alone
            if step.name == "options":
                if any(arg.keyword or arg.star for arg in step.call.args):
                    return None
                options.extend(cst.Element(arg.value) for arg in step.call.args)
            elif step.call.args:
                return None  # with_for_update(nowait=True): keep it explicit by hand
            else:
                keywords.append(keyword(step.name, cst.Name("True")))
        if options:
            keywords.insert(0, keyword("options", cst.List(options)))
        entity = chain.query.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        call = on_receiver(chain, "get")
        replacement = call.with_changes(
            args=[entity, pk.with_changes(comma=cst.MaybeSentinel.DEFAULT), *keywords]
        )
        safe = evidence.proven and shape is Shape.ENTITY
        return Fix.replace(
            chain.top, keep_parentheses(chain.top, replacement), safe=safe
        )
