"""`Query.from_self()`, removed in 2.0: the query so far as a subquery, its
entity an alias of that subquery, and the later criteria read from the alias.

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
from orm_modernize.syntax.nodes import method

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
        raise Refused(
            f"{REFUSED}; here the alias would be made at another time (the query"
            " is in a lambda, a comprehension, or an `if` or `while` condition)"
        )
    name = semantic.fresh_name(f"{snake_case(entity.value)}_alias", step.call)
    made = cst.Call(
        context.import_name("sqlalchemy.orm", "aliased"),
        [cst.Arg(entity), cst.Arg(method(converted.statement, "subquery"))],
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
    """Refused: a step after `from_self()` that would not read the subquery."""
    if not converted.subquery_entity:
        return
    if step.name not in AFTER:
        raise Refused(
            f"`{step.name}()` after `from_self()`: 1.x adapted it to the subquery;"
            " rewrite by hand"
        )
    if converted.other_froms:
        raise Refused(
            "a table, another class or raw SQL in criteria after `from_self()`:"
            " 1.x adapted them to the subquery too; rewrite by hand"
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
