"""ORM001: `Query.get()` -> `Session.get()`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.datatypes import Fix
from orm_modernize.rule import QueryRule
from orm_modernize.semantic import Evidence, Shape
from orm_modernize.transforms import (
    QueryChain,
    keep_parentheses,
    keyword,
    on_receiver,
)

# Query steps before `.get()` that `Session.get()` takes as keyword arguments.
GET_MODIFIERS = frozenset({"options", "populate_existing", "with_for_update"})


class LegacyQueryGet(QueryRule):
    """
    ## What it does
    Checks for `session.query(Model).get(pk)`, also after `options()`,
    `populate_existing()` or `with_for_update()`.

    ## Why is this bad?
    `Query.get()` is legacy in SQLAlchemy 2.0 and emits `LegacyAPIWarning`.
    `Session.get()` is the 2.0 spelling, with the same identity-map lookup.

    ## Example
        user = session.query(User).get(5)

    ## Use instead
        user = session.get(User, 5)

    ## Fix safety
    Safe when `session` is proven to be a `Session`; the modifiers become
    `options=[...]`, `populate_existing=True` and `with_for_update=True`, which
    `Session.get()` applies exactly as `Query.get()` did. Unsafe when the receiver
    is only named like a session (`db.session`, `self.session`) or the class is not
    known to be mapped.

    ## References
    - SQLAlchemy 2.0 migration guide, "ORM Query - get() method moves to Session"
    """

    code = "ORM001"
    name = "legacy-query-get"
    message = "`Query.get()` is legacy in SQLAlchemy 2.0"
    fix_title = "Use `session.get(Model, pk)`"
    fix_availability = "sometimes"

    def check_chain(self, chain: QueryChain, node: cst.Call | cst.Attribute) -> None:
        if not chain.ends_in("get") or chain.refusal is not None:
            return
        evidence = self.session_evidence(chain)
        if evidence is Evidence.NONE:
            return
        self.report(chain.top, fix=self._fix(chain, evidence))

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
        safe = evidence is Evidence.PROVEN and shape is Shape.ENTITY
        return Fix.replace(
            chain.top, keep_parentheses(chain.top, replacement), safe=safe
        )
