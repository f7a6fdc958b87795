"""Running a converted query as the legacy terminal did: `session.scalars()`,
`execute()` or `scalar()` with the old result's shape, Flask-SQLAlchemy's `db.*`
helpers, or the statement itself where the query was used as SQL."""

from __future__ import annotations

import dataclasses

import libcst as cst

from orm_modernize.analysis.flask_query import (
    helper_db,
    helper_keywords,
    legacy_flask_sqlalchemy,
)
from orm_modernize.analysis.models import Shape
from orm_modernize.analysis.query_chain import (
    FLASK_TERMINALS,
    QueryChain,
    Step,
    on_session,
    steps_from,
    then,
)
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Fix, ImportSpec, QueryHelper, Refused
from orm_modernize.rewrite.converted import Converted, alone, entity_root
from orm_modernize.rewrite.flask_fallbacks import or_abort
from orm_modernize.rewrite.helper_arguments import argument_for
from orm_modernize.rewrite.naming import namer
from orm_modernize.rewrite.query_flow import QueryUse, use_of_helper_call
from orm_modernize.rewrite.query_to_select import Converter
from orm_modernize.syntax.nodes import (
    appended,
    called_name,
    code_of,
    keep_parentheses,
    method,
)


def execute(
    converter: Converter,
    converted: Converted,
    terminal: Step | None,
    query_func: cst.Attribute,
    *,
    fallback: bool = False,
) -> cst.BaseExpression:
    """What replaces `query.<terminal>()` (or an iterated query, when `terminal` is
    None): the statement executed by the session, with the old result's shape.
    `fallback`: `terminal` stands for a helper whose arguments are not its own."""
    name = terminal.name if terminal is not None else None
    if name == "first_or_404" and legacy_flask_sqlalchemy(converter.semantic):
        # Flask-SQLAlchemy 2.x: its `first()`, or `abort(404)` when None.
        assert terminal is not None
        first = dataclasses.replace(terminal, name="first")
        found = execute(converter, converted, first, query_func, fallback=True)
        return or_abort(
            found,
            terminal.name,
            terminal.call.args,
            converter.name,
            terminal.call,
            converter.semantic,
        )
    if terminal is not None and name in FLASK_TERMINALS:
        return _flask_helper(converter, converted, terminal, query_func)
    if (
        terminal is not None
        and terminal.call.args
        and not (name in ("value", "values") or fallback)
    ):
        raise Refused(f"unexpected arguments to `{name}()`")
    statement = converted.statement
    if name == "count":
        counted = _counted(converter, converted)
        return on_session(query_func, "scalar", *_with_params(counted, converted))
    if name == "values":
        return _values(converter, converted, terminal, query_func)
    if name == "value":
        # Query.value(col): the first row's value of `col`, without a LIMIT.
        args = terminal.call.args if terminal is not None else ()
        if len(args) != 1 or args[0].keyword or args[0].star:
            raise Refused("`value()` takes one column")
        only = method(statement, "with_only_columns", args[0].value)
        executed = on_session(query_func, "execute", *_with_params(only, converted))
        return method(executed, "scalar")
    if name == "first":
        statement = appended(statement, "limit", cst.Integer("1"))  # Query's LIMIT 1
    if name == "scalar" and converter.one_row(converted):
        # One row, or none: Session.scalar() returns what Query.scalar() did.
        return on_session(query_func, "scalar", *_with_params(statement, converted))
    if name == "scalar":
        # Query.scalar() raised on several rows; Session.scalar() would not.
        fetch = "execute"
    else:
        fetch = "scalars" if converted.single_entity else "execute"
    result: cst.BaseExpression = on_session(
        query_func, fetch, *_with_params(statement, converted)
    )
    if converted.needs_unique(name, joined_eager(converter, converted)):
        result = method(result, "unique")  # Query de-duplicated entity rows
    if terminal is None:
        return result
    if fallback:  # `first()`: without the helper's arguments, nor their lines
        call = then(terminal, result, terminal.name, args=())
        return call.with_changes(whitespace_before_args=cst.SimpleWhitespace(""))
    return then(terminal, result, "scalar_one_or_none" if name == "scalar" else None)


def _values(
    converter: Converter,
    converted: Converted,
    terminal: Step | None,
    query_func: cst.Attribute,
) -> cst.BaseExpression:
    """`Query.values(*columns)`: an iterator (a generator) over the rows of those
    columns instead of the query's entities, as `iter()` of the executed
    statement is; a `for` loop iterates the result itself."""
    assert terminal is not None
    args = terminal.call.args
    if not args or any(a.keyword or a.star for a in args):
        raise Refused("`values()` takes columns")
    if converted.joined_loads:
        # 1.4 turned the query's eager loads off; they name entities not selected
        raise Refused("`Query.values()` ignored the eager loader options")
    columns = [a.value for a in args]
    only = method(converted.statement, "with_only_columns", *columns)
    executed = on_session(query_func, "execute", *_with_params(only, converted))
    parent = converter.semantic.parent(terminal.call)
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is terminal.call:
        return executed
    grand = converter.semantic.parent(parent) if parent is not None else None
    if (
        isinstance(parent, cst.Arg)
        and isinstance(grand, cst.Call)
        and isinstance(grand.func, cst.Name)
        and grand.func.value in ITERATING
        and grand.args[0] is parent
    ):
        return executed  # a Result iterates as the generator did
    # Anything else gets the generator itself: `dict()` would read a Result's
    # `keys()`, and the value may go anywhere
    return cst.Call(cst.Name("iter"), [cst.Arg(executed)])


# Builtins that only iterate their first argument (`next()` too: a Result is an
# iterator), so that a Result stands for the generator `Query.values()` was
ITERATING = frozenset(
    {"list", "tuple", "set", "sorted", "next", "enumerate", "any", "all", "sum"}
)


def joined_eager(converter: Converter, converted: Converted) -> bool:
    """Whether loading a selected entity may load a collection by a join (a
    `lazy="joined"` relationship of its class, or of what its class loads so):
    also when the project has one and the entity is not a class it knows."""
    project = converter.semantic.project
    if project.joined_eager:
        return True
    if not project.joined_collections:
        return False
    return any(
        root is None
        or root in project.joined_collections
        or (
            root not in project.mapped and root not in converter.semantic.mapped_classes
        )
        for root, shape in zip(map(entity_root, converted.entities), converted.shapes)
        if shape is Shape.ENTITY
    )


def _flask_helper(
    converter: Converter,
    converted: Converted,
    terminal: Step,
    query_func: cst.Attribute,
) -> cst.BaseExpression:
    """`Query.first_or_404()`, `one_or_404()` and `paginate()` of Flask-SQLAlchemy
    as the `db.*` helpers taking the statement, which fetch `scalars()`."""
    db = helper_db(terminal, query_func, converter.semantic)
    name = terminal.name
    if not converted.single_entity or converted.streamed:
        raise Refused(
            f"`db.{name}()` returns objects of one entity; this query selects rows"
        )
    if converted.params:
        raise Refused(f"`db.{name}()` takes no `params()`")
    statement = converted.statement
    if name == "first_or_404":
        statement = appended(statement, "limit", cst.Integer("1"))  # Query's LIMIT 1
    elif name == "one_or_404" and converted.joins:
        # Query.one() counted de-duplicated objects; db.one_or_404() counts rows.
        raise Refused(
            "`Query.one()` de-duplicated joined rows and `db.one_or_404()` does not:"
            " use `db.session.execute(stmt).unique().scalar_one()` and `abort(404)`"
        )
    return cst.Call(
        cst.Attribute(db, cst.Name(name)),
        [cst.Arg(statement), *helper_keywords(name, terminal.call.args)],
    )


def as_value(converted: Converted, terminal: Step | None) -> cst.BaseExpression:
    """The statement itself, for a query used as SQL (`.subquery()`, `in_(q)`)."""
    if converted.params:
        raise Refused("`params()` on a query used inside another statement")
    if terminal is None:
        return converted.statement
    name = "scalar_subquery" if terminal.name == "as_scalar" else None
    return then(terminal, converted.statement, name)


def _with_params(
    statement: cst.BaseExpression, converted: Converted
) -> list[cst.BaseExpression]:
    if not converted.params:
        return [statement]
    elements = [
        e.with_changes(comma=cst.MaybeSentinel.DEFAULT) for e in converted.params
    ]
    return [statement, cst.Dict(elements)]


# Steps after which counting the entity's rows is counting the query's rows
COUNTED_AS_IS = frozenset(
    {"where", "filter_by", "join", "outerjoin", "execution_options"}
)


def _counted(converter: Converter, converted: Converted) -> cst.BaseExpression:
    """`Query.count()`: it counted the rows of a subquery of the whole query.
    Of one entity, with criteria and joins only, that is the migration guide's
    `select(func.count()).select_from(User)` with the same criteria (the ORDER
    BY dropped: it orders nothing, and some databases refuse it there); a
    subclass of single-table inheritance keeps its criteria. Anything that
    changes which rows come back (DISTINCT, GROUP BY, LIMIT, a union, ...)
    keeps the subquery, so the count stays the same."""
    select = converter.import_name("sqlalchemy", "select")
    func = converter.import_name("sqlalchemy", "func")
    count = cst.Call(select, [cst.Arg(method(func, "count"))])
    steps = _chain_steps(converted)
    if (
        steps is not None
        and converted.single_entity
        and not (converted.polymorphic or converted.loader_options or converted.aliases)
        and all(n in COUNTED_AS_IS or n == "order_by" for n, _ in steps)
        # the ORDER BY dropped holds no comment
        and not any(n == "order_by" and "#" in code_of(c) for n, c in steps)
    ):
        counted: cst.BaseExpression = method(
            count, "select_from", converted.entities[0]
        )
        for name, call in steps:
            if name != "order_by":
                assert isinstance(call.func, cst.Attribute)
                counted = call.with_changes(func=call.func.with_changes(value=counted))
        return counted
    return method(count, "select_from", method(converted.statement, "subquery"))


def _chain_steps(converted: Converted) -> list[tuple[str, cst.Call]] | None:
    """The calls chained onto the `select()` that `start()` made, in order; None
    when the statement is not such a chain."""
    steps: list[tuple[str, cst.Call]] = []
    node = converted.statement
    while node is not converted.initial:
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)):
            return None
        steps.append((node.func.attr.value, node))
        node = node.func.value
    return steps[::-1]


def finish(
    converter: Converter,
    converted: Converted,
    use: QueryUse,
    chain: QueryChain,
) -> cst.BaseExpression:
    assert isinstance(chain.query.func, cst.Attribute)
    if use.kind == "value":
        return as_value(converted, use.terminal)
    if use.kind == "compiled":
        style = converter.import_name("sqlalchemy", "LABEL_STYLE_TABLENAME_PLUS_COL")
        return method(as_value(converted, None), "set_label_style", style)
    if use.terminal is None or use.terminal.name not in (
        "count",
        "scalar",
        "value",
    ):
        converter.resolve_shapes(converted)
    if use.kind == "rows":
        return execute(converter, converted, use.terminal, chain.query.func)
    if use.kind == "deferred":
        rows = execute(converter, converted, use.terminal, chain.query.func)
        return cst.Lambda(cst.Parameters(), rows)
    return _slice(converter, converted, use, chain)


def _slice(
    converter: Converter,
    converted: Converted,
    use: QueryUse,
    chain: QueryChain,
) -> cst.BaseExpression:
    """`query[1:3]` and `query[2]`: Query sliced in SQL and returned a list."""
    assert use.slice is not None and isinstance(chain.query.func, cst.Attribute)
    elements = use.slice.slice
    item = elements[0].slice if len(elements) == 1 else None
    index: int | None = None
    bounds: tuple[cst.BaseExpression, cst.BaseExpression]
    if isinstance(item, cst.Index) and _natural(item.value) is not None:
        index = _natural(item.value)
        assert index is not None
        bounds = (cst.Integer(str(index)), cst.Integer(str(index + 1)))
    elif (
        isinstance(item, cst.Slice)
        and item.step is None
        and item.upper is not None
        and _natural(item.upper) is not None
        and (item.lower is None or _natural(item.lower) is not None)
    ):
        bounds = (item.lower or cst.Integer("0"), item.upper)
    else:
        raise Refused(
            "only slices with literal non-negative bounds are converted;"
            " negative indexes were removed in 2.0"
        )
    converted.statement = method(converted.statement, "slice", *bounds)
    rows = execute(converter, converted, None, chain.query.func)
    listed = method(rows, "all")
    if index is None:
        return listed
    return cst.Subscript(listed, [cst.SubscriptElement(cst.Index(cst.Integer("0")))])


def plain_dot(chain: QueryChain) -> QueryChain:
    query = chain.query
    assert isinstance(query.func, cst.Attribute)
    func = query.func.with_changes(dot=cst.Dot())
    return dataclasses.replace(chain, query=query.with_changes(func=func))


def _natural(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    return None


def _entity_here(
    semantic: Semantic, call: cst.Call, qualified: str
) -> list[cst.BaseExpression]:
    """The class `qualified` ("app.models.User") as `call`'s module names it by
    an import it has, or nothing: then every class its criteria name is taken
    for another FROM."""
    module, _, name = qualified.rpartition(".")
    found = semantic.reference(call, module, name) if qualified else None
    return [found[0]] if found is not None and found[1] is None else []


# What runs a statement where a query helper's call used to finish a Query.
EXECUTORS = frozenset({"scalars", "execute", "scalar", *FLASK_TERMINALS})


def helper_call_fix(
    semantic: Semantic,
    call: cst.Call,
    helper: QueryHelper,
    session: cst.BaseExpression | None = None,
) -> Fix | None:
    """The call finished as 2.0 code, run on `session` (by default what the call
    passes for the helper's session parameter); None when it already is (run by
    `session.scalars()`, or used as SQL the same way a statement is)."""
    steps = steps_from(call, semantic.parent)
    top = steps[-1].call if steps else call
    argument = semantic.parent(top)
    runner = semantic.parent(argument) if argument is not None else None
    if (
        isinstance(runner, cst.Call)
        and runner.args
        and runner.args[0] is argument
        and called_name(runner) in EXECUTORS
    ):
        return None
    use = use_of_helper_call(semantic, helper.name, call)
    if session is None:
        session = argument_for(call, helper.parameter, helper.position)
    imports: list[ImportSpec] = []
    converter = Converter(semantic, namer(semantic, call, imports))
    state = Converted(
        statement=call,
        shapes=[Shape(shape) for shape in helper.shapes],
        # Spelled in the helper's module: here only a class imported as it is
        entities=_entity_here(semantic, call, helper.entity),
        streamed=helper.streamed,
        guessed=helper.guessed,
        joins=helper.joins,
        # Whether its rows may repeat, as the helper's module found
        other_froms=helper.other_froms,
        joined_loads=helper.joined_loads,
    )
    alone(converter.apply(state, use.steps))
    runs_on = QueryChain(cst.Call(cst.Attribute(session, cst.Name("query"))), ())
    replacement = finish(converter, state, use, runs_on)
    if code_of(replacement) == code_of(use.node):
        return None
    # Unsafe like the helper's own fix: modules outside the run may call it.
    return Fix.replace(
        use.node,
        keep_parentheses(use.node, replacement),
        safe=False,
        imports=tuple(imports),
    )
