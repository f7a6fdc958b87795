"""ORM002: `session.query(...)` -> `select()` executed by the session."""

from __future__ import annotations

import contextlib
import dataclasses

import libcst as cst

from orm_modernize.analysis.flask_query import legacy_flask_sqlalchemy
from orm_modernize.analysis.query_chain import (
    DML_TERMINALS,
    GET_TERMINALS,
    QueryChain,
    Step,
)
from orm_modernize.data.records import (
    Edit,
    Evidence,
    Fix,
    ImportSpec,
    Refused,
)
from orm_modernize.rewrite.aliased_joins import with_aliases
from orm_modernize.rewrite.converted import Converted, alone, continued
from orm_modernize.rewrite.flask_fallbacks import always_true
from orm_modernize.rewrite.flow_session import (
    Hoisted,
    check_deferrable,
    hoisted_session,
    same_receiver,
    stable_receiver,
)
from orm_modernize.rewrite.naming import namer
from orm_modernize.rewrite.query_execution import finish, joined_eager, plain_dot
from orm_modernize.rewrite.query_flow import (
    Flow,
    assigned_to,
    find_flow,
    origin_of,
    passed_to,
    use_of,
    use_of_helper_call,
)
from orm_modernize.rewrite.query_to_select import Converter
from orm_modernize.rewrite.shared_query_helpers import (
    Helper,
    returning_helper,
    session_at,
    shared_helper,
)
from orm_modernize.rules.query.helper_calls import HelperCalls
from orm_modernize.syntax.nodes import (
    code_of,
    keep_parentheses,
)

OTHER_RULES = DML_TERMINALS | GET_TERMINALS


class LegacyQuery(HelperCalls):
    """
    ## What it does
    Checks for `Session.query(...)`: chains that end in `all()`, `first()`,
    `one()`, `one_or_none()`, `scalar()`, `count()`, `value()` or `values()` (or
    Flask-SQLAlchemy's `first_or_404()`, `one_or_404()`, `paginate()`); queries that are
    iterated, sliced or passed to a builtin that iterates it (`list()`,
    `sorted(q, key=...)`, `dict()`, `any()`, ...); queries used as SQL (`subquery()`,
    `scalar_subquery()`, `label()`, `cte()`, `exists()`, `in_(query)`); and queries
    built over several statements of a function (`q = session.query(User)`,
    `q = q.filter(...)`, `q.all()`) or returned by a helper its callers finish.

    ## Why is this bad?
    `Query` is the legacy ORM API in SQLAlchemy 2.0. The 2.0 style builds a
    `select()` and executes it with `Session.scalars()` or `Session.execute()`.

    ## Example
        user = session.query(User).filter_by(name="bob").first()

    ## Use instead
        user = session.scalars(select(User).filter_by(name="bob").limit(1)).first()

    ## Fix safety
    The fix keeps what the query returned:
    - `first()` keeps its `LIMIT 1`; `scalar()` becomes `scalar_one_or_none()`
      (it still raises on several rows), or `session.scalar(stmt)` where one row
      at most comes back: only aggregates without GROUP BY, or only `exists()`
      and `literal()` from no table; `count()` of one entity with criteria and
      joins only is `select(func.count()).select_from(User).where(...)`, and
      anything else counts a subquery of the whole statement (LIMIT, DISTINCT,
      GROUP BY count the same).
    - A single entity is fetched with `scalars()`; columns or several entities come
      back as rows from `execute()`, as they did. A query given to `dict()` becomes
      `dict(session.execute(stmt).all())`: a `Result` has `keys()`, so `dict()`
      would read it as a mapping.
    - `Query` de-duplicated every result holding whole objects (except under
      `yield_per()`); `select()` does not, so the fix adds `.unique()` where rows
      can repeat: after a join, with another FROM (a class, table or subquery the
      criteria name), and when a collection is loaded by a join (`joinedload()`,
      or `lazy="joined"` anywhere in the project), where 2.x refuses to fetch
      without it. Rows of one class from one FROM cannot repeat, nor can the one
      row of `first()`'s LIMIT 1 unless a join loads a collection.
    - `filter_by()` after a join or on several entities names its entity
      (`where(Address.email == x)`): 2.1's `Select.filter_by()` searches every
      entity instead of the last joined one.
    - Spread criteria stay spread: `filter(*criteria)` is `where(*criteria)` (with
      `.unique()`, since they may name another class), and `filter_by(**values)`
      on one entity without a join is `filter_by(**values)`; after a join its
      entity cannot be named for each value, and it is reported.
    - Flask-SQLAlchemy's `first_or_404()` becomes `db.first_or_404(stmt.limit(1))`,
      `paginate()` becomes `db.paginate(stmt, page=..., ...)` (both for queries of
      one entity), when the project's Flask-SQLAlchemy pin admits only 3.0 and
      later. `one_or_404()` becomes `db.one_or_404(stmt)` as an unsafe fix:
      `Query.one()` de-duplicated objects and `db.one_or_404()` cannot, so it
      raises on a model with a joined-eager collection. A project that admits
      Flask-SQLAlchemy 2.x gets what 2.5.1's `first_or_404()` ran: the 2.0 form
      of `first()`, then `or abort(404, description=...)`; unsafe unless the
      model is a class of the project whose objects are never false (no
      `__bool__` or `__len__` in it or a base). Its `paginate()` is reported.
    - `Query.with_polymorphic([...])` (removed in 2.0) selects the entity
      `with_polymorphic(Entity, [...])`: it joins the subclass tables as before,
      and criteria on the base class still apply to its table. With loader options
      it is reported instead (2.0 needs paths through the new entity).
    - `q1.union(q2)` (and the other set operations) as the last step becomes
      `select(Model).from_statement(union(stmt1, stmt2))`, which loads the
      entities from the union as Query did; a query passed to a union becomes its
      statement.
    - `join(target, aliased=True)` (removed in 2.0) joins a new
      `node_alias = aliased(Node)`, made on the line before the statement; the
      `filter()`, `filter_by()`, `order_by()` and `group_by()` criteria after it,
      which 1.x moved onto that alias up to the next plain join or
      `reset_joinpoint()`, read `node_alias.attr` where they read `Node.attr`.
      It is reported instead when the class is named another way in those
      criteria, they hold a subquery, the join continues `from_joinpoint`, or the
      query is built over several statements. `reset_joinpoint()` is dropped.
    - `with_parent(obj)` without a property becomes `where(with_parent(obj,
      Owner.attr))` with the relationship 1.x found: the one of the object's
      class (a name bound once to `Owner(...)` or `session.get(Owner, ...)`)
      that leads to the queried class, both mapped in the module, with no
      other such relationship, `@declared_attr` or base but mapped ones and the
      declarative base. Otherwise it is reported: 1.x took the first it met.
    - `values(*columns)` (deprecated in 1.4) becomes `with_only_columns(*columns)`,
      executed: iterated by a `for` loop or a builtin as the Result it is, else
      `iter()` of it, the generator `values()` returned (`dict()` would read a
      Result's `keys()`). Refused after an eager loader option, which it turned off.
    - `populate_existing()`, `yield_per()`, `autoflush()`: execution options.
      `params()`: the parameters of `execute()`.
    - A query returned by a helper function is converted with every call of it:
      the helper returns the statement, and each caller runs it on the session
      it passes (`session.scalars(helper(session, ...))`). Calls in the other
      modules of the project that import it (`from app.queries import helper`)
      are converted with it when each of them finishes the query and the
      session is a parameter of the helper; otherwise neither end is, and the
      findings say which call stands in the way. So is a module that may reach
      it in a way not followed: `import *`, its module (`queries.helper()`), a
      re-export. The fix is unsafe for a public module-level helper (code
      outside the project may import it), and there is none when a call does
      not finish the query. A method (`return self.session.query(...)`)
      converts with its calls, unsafe, in every module of the project that names
      `.m` or none: `self.m()` in its class, and `obj.m()` where `obj` is bound
      once to `Cls(...)` (imported from the method's module elsewhere), run on
      `obj.session`; `Cls(session).m()` runs on `session` when `Cls.__init__`
      stores it as `self.session` unchanged and nothing else sets it. Either is
      found whichever files are passed; a run that fixes converts them only
      when it checks every module involved, and says which one is missing.
    - `from_self()` (one entity, no arguments) selects
      `aliased(Model, stmt.subquery())`, made on the line before, and later
      criteria read the alias as after `aliased=True`; refused where that line
      runs at another time (a lambda, a comprehension's body, an `if` or `while`
      condition) or a later step names a table, another class or a loader.
      `select_entity_from(subq)` as the first step, of a `.subquery()` or
      `.alias()`, on a class of the module without a mapped base, likewise.
    - DISTINCT with ORDER BY a column that is not selected, string join targets
      and queries passed on as a Query are reported.

    A fix whose statement reads an attribute that a `backref=` makes (`User.orders`
    from `relationship(User, backref="orders")`) is unsafe: `session.query(User)`
    configured the mappers before the attribute was read, `select(User)` does not,
    so a program whose first statement it is fails with AttributeError.

    The fix is safe when the receiver is proven to be a `Session` (bound from
    `Session(...)`, a `sessionmaker()` or `scoped_session()`, or annotated
    `Session`) and what each entity selects is known. It is unsafe when the
    receiver is only named like one (`db.session`, `self.session`, a parameter
    called `session`), or when an entity is taken for a class by its name alone.

    ## References
    - SQLAlchemy 2.0 migration guide, "ORM Query Unified with Core Select"
    - SQLAlchemy FAQ, "My Query does not return the same number of objects"
    """

    code = "ORM002"
    name = "legacy-query"
    message = "`Session.query()` is legacy in SQLAlchemy 2.0"
    fix_title = "Use `select()` with `Session.scalars()` or `Session.execute()`"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"

    def check_chain(self, chain: QueryChain, node: cst.Call | cst.Attribute) -> None:
        if chain.terminal and chain.terminal.name in OTHER_RULES:
            return
        evidence = self.session_evidence(chain)
        if evidence is Evidence.NONE:
            return
        imports: list[ImportSpec] = []
        message = self._message(node)
        try:
            if chain.refusal is not None:
                raise Refused(chain.refusal)
            fix = self._fix(chain, evidence, imports)
        except Refused as why:
            self.report(node, message=f"{message} (no fix: {why})")
            return
        self.report_statement(node, fix, message)

    def _message(self, node: cst.Call | cst.Attribute) -> str:
        """Named as the code spells it: `User.query` for Flask-SQLAlchemy's query
        property, not `Session.query()`, which the line does not call."""
        if isinstance(node, cst.Attribute) and node.attr.value == "query":
            owner = code_of(node.value)
            if len(owner) <= 40:
                return f"`{owner}.query` is legacy in SQLAlchemy 2.0"
        return self.message

    def _fix(
        self, chain: QueryChain, evidence: Evidence, imports: list[ImportSpec]
    ) -> Fix:
        converter = Converter(self.semantic, namer(self.semantic, chain.start, imports))
        use = use_of(chain.start, chain.steps, self.semantic)
        if use is None:
            target = assigned_to(self.semantic, chain.top)
            if target is not None:
                flow = find_flow(self.semantic, target)
                return self._flow_fix(flow, converter, imports)
            if isinstance(self.semantic.parent(chain.top), cst.Return):
                return self._returned_fix(chain, converter, imports)
            where = passed_to(chain.top, self.semantic)
            raise Refused(
                f"the query {where} as a Query; convert the code that finishes it too"
            )
        if use.kind == "deferred":
            check_deferrable(self.semantic, use.node, chain)
        converted = converter.apply(converter.start(chain.query), use.steps)
        replacement = finish(converter, converted, use, chain)
        safe = (
            evidence.proven
            and not converted.guessed
            and use.kind != "deferred"
            # Query.one() de-duplicated objects; a mapper-level joined eager load
            # of a collection repeats rows, and db.one_or_404() would then refuse.
            and not (use.terminal and use.terminal.name == "one_or_404")
            and self._aborts_as_before(use.terminal, converted)
        )
        replacement = keep_parentheses(use.node, replacement)
        if converted.aliases:
            return Fix(
                (
                    with_aliases(
                        self.semantic, use.node, replacement, converted.aliases
                    ),
                ),
                safe,
                tuple(imports),
            )
        return Fix.replace(use.node, replacement, safe=safe, imports=tuple(imports))

    def _aborts_as_before(self, terminal: Step | None, converted: Converted) -> bool:
        """Flask-SQLAlchemy 2.x's `first_or_404()`, now `first() or abort(404)`,
        aborts as it did: on None only, when a found object is never false."""
        if terminal is None or terminal.name != "first_or_404":
            return True
        if not legacy_flask_sqlalchemy(self.semantic):
            return True
        return not converted.single_entity or always_true(
            converted.entities[0], self.semantic
        )

    def _returned_fix(
        self, chain: QueryChain, converter: Converter, imports: list[ImportSpec]
    ) -> Fix:
        """`return session.query(...)` in a helper: every query it returns, and
        every call of it, as one flow."""
        helper = returning_helper(self.semantic, chain.top)
        origins = []
        for statement in helper.returns:
            value = statement.value
            origin = origin_of(self.semantic, value) if value is not None else None
            if origin is None:
                raise Refused(
                    f"`{helper.function.name.value}()` also returns something other"
                    " than a query"
                )
            origins.append(origin)
        flow = Flow(tuple(origins), (), ())
        return self._flow_fix(flow, converter, imports, helper)

    def _flow_fix(
        self,
        flow: Flow,
        converter: Converter,
        imports: list[ImportSpec],
        helper: Helper | None = None,
    ) -> Fix:
        first = flow.origins[0]
        # `q = Session().query(...)`: the Query held the session it was made by, so
        # the session goes into a variable of its own, read wherever `q` is run.
        hoisted = hoisted_session(self.semantic, flow)
        # Where the query runs, its session is spelled without the line breaks the
        # origin may have had around `.query`.
        session_chain = plain_dot(first if hoisted is None else hoisted[2])
        edits: list[Edit] = []
        origins, evidence = self._flow_origins(flow, converter, hoisted, edits)
        shapes = origins[0].shapes
        if any(c.shapes != shapes for c in origins) or any(c.params for c in origins):
            raise Refused("the query's origins select different things")
        base = Converted(
            statement=cst.Name("_"),
            shapes=list(shapes),
            entities=list(origins[0].entities),
            streamed=any(c.streamed for c in origins),
            guessed=any(c.guessed for c in origins),
            other_froms=any(c.other_froms for c in origins),
            joined_loads=any(c.joined_loads for c in origins),
            # Any join anywhere in the flow counts for every filter_by(): the
            # branches' order of execution is not known.
            joins=sum(c.joins for c in origins)
            + sum(
                step.name in ("join", "outerjoin", "select_from")
                for steps in [d.steps for d in flow.derived]
                + [u.steps for _, u in flow.uses]
                for step in steps
            ),
        )
        for refined in flow.derived:
            state = continued(base, refined.root)
            alone(converter.apply(state, refined.steps))
            if state.shapes != shapes or state.params:
                raise Refused("the query changes what it selects along the way")
            base.streamed |= state.streamed
            base.absorb(state)  # each use may run after any refinement
            edits.append(Edit(refined.node, state.statement))
        for read, use in flow.uses:
            if hoisted is None and not same_receiver(self.semantic, first, read):
                raise Refused("the session is not the same where the query ends")
            if use.kind == "deferred":
                check_deferrable(self.semantic, use.node, first)
            state = continued(base, read)
            alone(converter.apply(state, use.steps))
            replacement = finish(converter, state, use, session_chain)
            edits.append(Edit(use.node, replacement))
        if flow.returned and helper is None:
            helper = returning_helper(self.semantic, flow.returned[0].node)
        if helper is not None:
            if hoisted is not None:
                raise Refused(
                    "the query's session is made in the function returning it"
                )
            edits += self._helper_edits(helper, flow, base, converter)
        safe = (
            evidence.proven
            and not base.guessed
            and all(use.kind != "deferred" for _, use in flow.uses)
            and not (helper is not None and helper.public)
        )
        return Fix(tuple(edits), safe, tuple(imports))

    def _flow_origins(
        self,
        flow: Flow,
        converter: Converter,
        hoisted: Hoisted | None,
        edits: list[Edit],
    ) -> tuple[list[Converted], Evidence]:
        """Each origin of the flow converted (its edit added to `edits`), and how
        sure we are that every one is run by a session."""
        receiver = code_of(flow.origins[0].receiver)
        evidence = Evidence.PROVEN
        origins: list[Converted] = []
        for origin in flow.origins:
            if code_of(origin.receiver) != receiver:
                raise Refused("the query comes from several sessions")
            if hoisted is None and not stable_receiver(self.semantic, origin, flow):
                raise Refused("the session variable is rebound in the function")
            if origin.refusal is not None:
                raise Refused(origin.refusal)
            evidence = min(evidence, self.session_evidence(origin))
            converted = alone(
                converter.apply(converter.start(origin.query), origin.steps)
            )
            # Only rows need a shape; a use that fetches rows refuses on its own.
            with contextlib.suppress(Refused):
                converter.resolve_shapes(converted)
            origins.append(converted)
            if hoisted is None:
                edits.append(Edit(origin.top, converted.statement))
            else:
                line, assign_session, _ = hoisted
                assigned = line.with_changes(leading_lines=()).deep_replace(
                    origin.top, converted.statement
                )
                edits.append(
                    Edit(line, cst.FlattenSentinel([assign_session, assigned]))
                )
        if evidence is Evidence.NONE:
            raise Refused("not every origin of the query is a session")
        return origins, evidence

    def _helper_edits(
        self, helper: Helper, flow: Flow, base: Converted, converter: Converter
    ) -> list[Edit]:
        """The statements `helper` returns, and each call of it finished on the
        session the query was made by."""
        name = helper.function.name.value
        returned = {id(r.node) for r in flow.returned} | {
            id(o.top) for o in flow.origins
        }
        if any(id(r.value) not in returned for r in helper.returns):
            raise Refused(f"`{name}()` also returns something other than this query")
        edits: list[Edit] = []
        joins = base.joins
        for refined in flow.returned:
            state = continued(base, refined.root)
            alone(converter.apply(state, refined.steps))
            if state.shapes != base.shapes or state.params:
                raise Refused(
                    f"`{name}()` returns queries that select different things"
                )
            joins += state.joins - base.joins
            base.absorb(state)
            if refined.steps:
                edits.append(Edit(refined.node, state.statement))
        for call in helper.calls:
            use = use_of_helper_call(self.semantic, name, call)
            session_chain = session_at(self.semantic, helper, flow.origins[0], call)
            state = continued(base, call)
            state.joins = joins
            alone(converter.apply(state, use.steps))
            edits.append(Edit(use.node, finish(converter, state, use, session_chain)))
        if helper.imported:
            loads = base.joined_loads or joined_eager(converter, base)
            selected = dataclasses.replace(base, joined_loads=loads)
            shared_helper(self.semantic, helper, flow.origins[0], selected, joins)
        return edits
