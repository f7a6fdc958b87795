"""`Query.from_self()` and `select_entity_from()`, removed in 2.0: the entity
an alias of a subquery (the query so far, or the one given), and the later
criteria read from the alias.

    session.query(User).filter(User.id > 5).from_self().filter(User.name == "x")

selected from `SELECT ... FROM users WHERE users.id > 5` and moved every later
criterion on `User` onto it (1.4's `_from_selectable()`). The migration guide's
form names the alias:

    user_alias = aliased(User, select(User).where(User.id > 5).subquery())
    select(user_alias).where(user_alias.name == "x")

The alias is made on the line before the statement, where the values its
criteria read are those the query read: it is refused where that line would
run at another time (inside a lambda or a comprehension, in the condition of
an `if` or a `while`). Only what 1.x certainly adapted is re-targeted, as
after `join(..., aliased=True)` (`aliased_joins.retarget()`); after it, only
the steps that keep one entity read from the subquery are converted.
"""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.query_chain import Step
from orm_modernize.data.records import Refused
from orm_modernize.rewrite.aliased_joins import own_name
from orm_modernize.rewrite.converted import (
    Converted,
    StepContext,
    select_args,
    select_root,
)
from orm_modernize.rewrite.naming import snake_case
from orm_modernize.syntax.nodes import called_name, method

REFUSED = (
    "`Query.from_self()` was removed in 2.0: select from"
    " `aliased(Model, stmt.subquery())` and re-target later criteria to the alias"
)
# What may follow `from_self()` here: steps whose criteria are re-targeted, or
# that name no entity
AFTER = frozenset(
    {"filter", "filter_by", "order_by", "limit", "offset", "params", "distinct"}
    | {"execution_options", "populate_existing", "yield_per", "autoflush"}
)
COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
# What certainly makes a subquery for `select_entity_from()`
SUBQUERY_MAKERS = frozenset({"subquery", "alias"})
SELECT_ENTITY_FROM = (
    "`Query.select_entity_from()` was removed in 2.0: use `aliased(Model,"
    " subquery)` and `select(alias)`"
)
ELSEWHERE = (
    "here the alias would be made at another time (the query is in a lambda, a"
    " comprehension, or an `if` or `while` condition)"
)


def from_self(context: StepContext, converted: Converted, step: Step) -> None:
    entities = select_args(converted.statement)
    entity = entities[0].value if len(entities) == 1 else None
    semantic = context.semantic
    if (
        step.call.args
        or not isinstance(entity, cst.Name)
        or not semantic.is_mapped_class(entity)
        or converted.aliases
        or converted.adapting
        or converted.loader_options
        or converted.polymorphic
        or not own_name(semantic, step.call, entity.value)
    ):
        raise Refused(REFUSED)
    if not _runs_in_place(context, step.call):
        raise Refused(f"{REFUSED}; {ELSEWHERE}")
    _select_alias(
        context, converted, step, entity, method(converted.statement, "subquery")
    )


def select_entity_from(context: StepContext, converted: Converted, step: Step) -> None:
    """`session.query(User).select_entity_from(subq)`: `select(aliased(User,
    subq))`, as the first step only (1.x adapted the criteria before it too),
    from what is certainly a subquery (`.subquery()`, `.alias()`), on a class
    of the module with no mapped base: 1.x added no single-table inheritance
    criterion on it, an alias of a subclass does."""
    semantic = context.semantic
    entities = select_args(converted.statement)
    entity = entities[0].value if len(entities) == 1 else None
    args = step.call.args
    subquery = args[0].value if len(args) == 1 and not args[0].keyword else None
    if (
        subquery is None
        or converted.statement is not converted.initial
        or not isinstance(entity, cst.Name)
        or entity.value not in semantic.mapped_classes
        or _has_mapped_base(context, entity.value)
        or not _made_subquery(context, subquery)
        or not own_name(semantic, step.call, entity.value)
    ):
        raise Refused(SELECT_ENTITY_FROM)
    if not _runs_in_place(context, step.call):
        raise Refused(f"{SELECT_ENTITY_FROM}; {ELSEWHERE}")
    _select_alias(context, converted, step, entity, subquery)


def _has_mapped_base(context: StepContext, name: str) -> bool:
    classdef = context.semantic.mapped_classes[name]
    return any(
        isinstance(base.value, cst.Name)
        and base.value.value in context.semantic.mapped_classes
        for base in classdef.bases
    )


def _made_subquery(context: StepContext, node: cst.BaseExpression) -> bool:
    """`x.subquery()` / `x.alias()`, or a name bound once to one."""
    if isinstance(node, cst.Name):
        values = list(context.semantic.assigned_values(node))
        return (
            len(values) == 1
            and isinstance(values[0], cst.Call)
            and (called_name(values[0]) in SUBQUERY_MAKERS)
        )
    return isinstance(node, cst.Call) and called_name(node) in SUBQUERY_MAKERS


def _select_alias(
    context: StepContext,
    converted: Converted,
    step: Step,
    entity: cst.Name,
    selectable: cst.BaseExpression,
) -> None:
    """The statement becomes `select(alias)` of `aliased(entity, selectable)`,
    made on the line before, and later criteria read the alias."""
    name = context.semantic.fresh_name(f"{snake_case(entity.value)}_alias", step.call)
    made = cst.Call(
        context.import_name("sqlalchemy.orm", "aliased"),
        [cst.Arg(entity), cst.Arg(selectable)],
    )
    converted.aliases.append((name, made))
    root = select_root(converted.statement)
    assert root is not None  # select_args() found its entity
    converted.statement = root.with_changes(args=[cst.Arg(cst.Name(name))])
    converted.initial = converted.statement
    # Still the class's rows, which later criteria name it by (re-targeted)
    converted.entities = [entity]
    converted.adapting = (entity.value, name)
    converted.subquery_entity = True
    converted.joins, converted.joined, converted.selected_from = 0, None, None
    converted.grouped = converted.other_froms = False


def check_after(converted: Converted, step: Step) -> None:
    """Refused: a step after `from_self()` or `select_entity_from()` that would
    not read the subquery."""
    if not converted.subquery_entity:
        return
    if step.name not in AFTER:
        raise Refused(
            f"`{step.name}()` after selecting from a subquery (`from_self()`,"
            " `select_entity_from()`): 1.x adapted it too; rewrite by hand"
        )
    if converted.other_froms:
        raise Refused(
            "a table, another class or raw SQL in criteria after selecting from a"
            " subquery: 1.x adapted them too; rewrite by hand"
        )


def _runs_in_place(context: StepContext, node: cst.CSTNode) -> bool:
    """Whether a line made before the statement holding `node` runs when the
    query's arguments are evaluated: not for a query in a lambda or in a
    comprehension (but its outermost iterable, evaluated where it stands), nor
    in the condition of an `if` or a `while`."""
    semantic = context.semantic
    child: cst.CSTNode = node
    current = semantic.parent(node)
    while current is not None:
        outer = semantic.parent(current)
        if (
            isinstance(current, cst.CompFor)
            and child is current.iter
            and isinstance(outer, COMPREHENSIONS)
        ):
            child, current = outer, semantic.parent(outer)
            continue
        if isinstance(current, (cst.Lambda, *COMPREHENSIONS)):
            return False
        if isinstance(current, (cst.IndentedBlock, cst.Module)):
            return isinstance(child, (cst.SimpleStatementLine, cst.For, cst.With))
        child, current = current, outer
    return False
