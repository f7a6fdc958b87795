"""The steps of a Query that decide which entity later steps apply to: joins (and
1.x's `aliased=True` adaptation), `filter_by()`'s target, `with_parent()` and
`with_polymorphic()`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.models import Shape
from orm_modernize.analysis.query_chain import Step
from orm_modernize.data.records import Evidence, Refused
from orm_modernize.rewrite.aliased_joins import (
    alias_name,
    joined_class,
    through_alias,
)
from orm_modernize.rewrite.converted import (
    Converted,
    StepContext,
    select_args,
    select_root,
)
from orm_modernize.rewrite.string_paths import removed_join
from orm_modernize.syntax.nodes import code_of, is_constant

POLYMORPHIC_OPTIONS = (
    "loader options with `Query.with_polymorphic()`: 2.0 needs paths through the"
    " `with_polymorphic()` entity (`joinedload(wp.Engineer.machines)`); rewrite by hand"
)
_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def join(context: StepContext, converted: Converted, step: Step) -> None:
    call = step.call
    positional = [a for a in call.args if a.keyword is None]
    kept: list[cst.Arg] = []
    alias = False
    for arg in call.args:
        name = arg.keyword.value if arg.keyword is not None else None
        if name == "aliased" and is_constant(arg.value, "True"):
            alias = True
        elif name == "aliased" and is_constant(arg.value, "False"):
            continue  # the default
        elif name in (None, "isouter", "full"):
            kept.append(arg)
        else:
            raise Refused(
                f"`{step.name}(..., {name}=...)` was removed in 2.0:"
                " join an `aliased()` entity and filter on the alias"
            )
    if removed_join(step, context.semantic):
        raise Refused(
            f"`{step.name}()` with a string, a tuple or several targets: see ORM003"
        )
    if not positional:
        raise Refused(f"`{step.name}()` without a target")
    target = positional[0].value
    converted.joins += 1
    # A join without from_joinpoint ended 1.x's adaptation to an earlier alias.
    converted.adapting, converted.joinpoint_reset = None, False
    converted.joined = (
        target if context.semantic.shape(target) is Shape.ENTITY else None
    )
    if alias:
        if len(positional) > 1:
            raise Refused(
                f"`{step.name}(target, onclause, aliased=True)` was removed in"
                " 2.0: join an `aliased()` entity and filter on the alias"
            )
        kept[0] = kept[0].with_changes(value=_alias(context, converted, step, target))
    if kept and kept[-1] is not call.args[-1]:
        # An argument after it was dropped: its comma went with it. (A trailing
        # comma the code had stays, and with it the call's layout.)
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    context.chain(converted, step, step.name, kept)


def _alias(
    context: StepContext, converted: Converted, step: Step, target: cst.BaseExpression
) -> cst.BaseExpression:
    """`join(target, aliased=True)`: the target through a new alias, which the
    criteria after it read from, and `filter_by()` applies to."""
    joined = joined_class(context.semantic, step.call, target)
    taken = {name for name, _ in converted.aliases}
    base = alias_name(joined.name)
    name, n = context.semantic.fresh_name(base, step.call), 1
    while name in taken:
        n += 1
        name = context.semantic.fresh_name(f"{base}{n}", step.call)
    made = cst.Call(
        context.import_name("sqlalchemy.orm", "aliased"),
        [cst.Arg(cst.Name(joined.name))],
    )
    converted.aliases.append((name, made))
    converted.adapting = (joined.name, name)
    converted.joined = cst.Name(name)
    converted.guessed |= not joined.declared
    return through_alias(target, name)


def filter_by(context: StepContext, converted: Converted, step: Step) -> None:
    # Query.filter_by() applies to the last joined entity, else the select_from()
    # target, else the first entity. Select.filter_by() in 2.1 searches every
    # FROM entity instead, so spell the entity out whenever there is a choice.
    simple = (
        converted.joins == 0
        and converted.selected_from is None
        and len(converted.shapes) == 1
    )
    if simple:
        context.chain(converted, step, "filter_by")
        return
    if any(arg.star for arg in step.call.args):
        raise Refused(
            "`filter_by(**values)` after a join or on several entities: the"
            " entity it filters must be named for each value; use `where()`"
        )
    target = _filter_by_target(context, converted)
    criteria = []
    for arg in step.call.args:
        if arg.keyword is None:
            raise Refused("`filter_by()` with positional arguments")
        criteria.append(
            cst.Arg(
                cst.Comparison(
                    cst.Attribute(target, cst.Name(arg.keyword.value)),
                    [cst.ComparisonTarget(cst.Equal(), arg.value)],
                )
            )
        )
    context.chain(converted, step, "where", criteria)


def _filter_by_target(context: StepContext, converted: Converted) -> cst.BaseExpression:
    if converted.adapting is not None:
        return cst.Name(converted.adapting[1])  # the alias a join made
    if converted.joins and not converted.joinpoint_reset:
        target = converted.joined
    elif converted.selected_from is not None:
        target = converted.selected_from
    else:
        first = select_args(converted.statement)
        target = first[0].value if first else None
    if (
        target is None
        or not isinstance(target, (cst.Name, cst.Attribute))
        or context.semantic.shape(target) is not Shape.ENTITY
    ):
        # Say what hides the entity: the join only when there is one.
        where = (
            "after a join"
            if converted.joins and not converted.joinpoint_reset
            else "here"
        )
        raise Refused(
            f"the entity `filter_by()` filters {where} cannot be named;"
            " use `where(Entity.attr == value)`"
        )
    return target


def with_polymorphic(context: StepContext, converted: Converted, step: Step) -> None:
    """`query(Person).with_polymorphic([Engineer])`: select the entity
    `with_polymorphic(Person, [Engineer])`. Without `aliased=True` it selects
    from Person's own table, so criteria on `Person` still apply."""
    root = select_root(converted.statement)
    args = step.call.args
    if (
        root is None
        or len(root.args) != 1
        or converted.shapes != [Shape.ENTITY]
        or not args
        or len(args) > 3
        or any(a.keyword and a.keyword.value != "polymorphic_on" for a in args)
    ):
        raise Refused(
            "`Query.with_polymorphic()` was removed in 2.0: select"
            " `orm.with_polymorphic(Base, [...])` instead"
        )
    entity = root.args[0].with_changes(comma=_COMMA)
    polymorphic = cst.Call(
        context.import_name("sqlalchemy.orm", "with_polymorphic"),
        [entity, *args],
    )
    if converted.loader_options:
        raise Refused(POLYMORPHIC_OPTIONS)
    converted.statement = converted.statement.deep_replace(
        root, root.with_changes(args=[cst.Arg(polymorphic)])
    )
    converted.polymorphic = True


def with_parent(context: StepContext, converted: Converted, step: Step) -> None:
    args = step.call.args
    if len(args) == 1 and not args[0].keyword and not args[0].star:
        args = [*args, cst.Arg(_parent_property(context, converted, args[0].value))]
    if len(args) != 2 or any(a.keyword for a in args):
        raise Refused(
            "`with_parent()` needs its relationship spelled out:"
            " `where(with_parent(obj, Model.attr))`"
        )
    if isinstance(args[1].value, cst.BaseString):
        raise Refused(
            "`with_parent()` with a string property was removed in 2.0:"
            " use `with_parent(obj, Model.attr)`"
        )
    entities = select_args(converted.statement)
    if not (len(entities) == 1 and context.semantic.is_mapped_class(entities[0].value)):
        raise Refused("`with_parent()` on an aliased or several entities")
    function = context.import_name("sqlalchemy.orm", "with_parent")
    criterion = cst.Call(
        function, [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in args]
    )
    context.chain(converted, step, "where", [cst.Arg(criterion)])


NO_PROPERTY = (
    "`with_parent(obj)` needs its relationship spelled out in 2.0, and which one"
    " 1.x found is not known here: `where(with_parent(obj, Model.attr))`"
)


def _parent_property(
    context: StepContext, converted: Converted, instance: cst.BaseExpression
) -> cst.Attribute:
    """The relationship 1.x's `with_parent(instance)` found: the one of the
    object's class that leads to the queried class. Both classes must be mapped
    in this module (a backref to the object's class is declared by the other),
    the object's class known from its one binding, and the relationship one."""
    semantic = context.semantic
    entities = select_args(converted.statement)
    # After a join, 1.x related the object to the last joined entity instead
    entity = entities[0].value if len(entities) == 1 and not converted.joins else None
    owner = _instance_class(context, instance)
    if (
        not isinstance(entity, cst.Name)
        or entity.value not in semantic.mapped_classes
        or owner is None
    ):
        raise Refused(NO_PROPERTY)
    lineage = _lineage(context, owner.value)
    attributes: set[str] = set()
    for name in lineage or ():
        found = semantic.relationships.leading_to(name, entity.value)
        if found is None:
            raise Refused(NO_PROPERTY)
        attributes |= found
    if lineage is None or len(attributes) != 1:
        raise Refused(NO_PROPERTY)
    return cst.Attribute(owner, cst.Name(attributes.pop()))


def _instance_class(
    context: StepContext, instance: cst.BaseExpression
) -> cst.Name | None:
    """The mapped class of this module that `instance` is an object of: a name
    bound once, to `Class(...)` or `session.get(Class, ...)`."""
    semantic = context.semantic
    if not isinstance(instance, cst.Name):
        return None
    values = list(semantic.assigned_values(instance))
    call = values[0] if len(values) == 1 else None
    if not isinstance(call, cst.Call):
        return None
    func = call.func
    made: cst.BaseExpression | None = func
    if isinstance(func, cst.Attribute) and func.attr.value == "get" and call.args:
        if semantic.session_evidence(func.value) is Evidence.NONE:
            return None
        made = call.args[0].value
    if isinstance(made, cst.Name) and made.value in semantic.mapped_classes:
        return made
    return None


def _lineage(context: StepContext, name: str) -> list[str] | None:
    """`name` and its mapped bases up to the declarative base, all of this
    module; None when a base is anything else (a mixin may declare
    relationships)."""
    semantic = context.semantic
    classes, roots = semantic.mapped_classes, semantic.declarative_bases
    lineage: list[str] = []
    current: str | None = name
    while current is not None and current not in lineage:
        lineage.append(current)
        if _declares_attributes(classes[current]):
            return None
        parents: list[str] = []
        for base in classes[current].bases:
            value = base.value
            if isinstance(value, cst.Name) and value.value in classes:
                parents.append(value.value)
            elif not (
                (isinstance(value, cst.Name) and value.value in roots)
                or (isinstance(value, cst.Attribute) and value.attr.value == "Model")
            ):
                return None
        if len(parents) > 1:
            return None
        current = parents[0] if parents else None
    return None if current is not None else lineage


def _declares_attributes(classdef: cst.ClassDef) -> bool:
    """Whether the class body has a `@declared_attr` (which may make a
    relationship no assignment shows)."""
    body = classdef.body
    return isinstance(body, cst.IndentedBlock) and any(
        isinstance(statement, cst.FunctionDef)
        and any("declared_attr" in code_of(d.decorator) for d in statement.decorators)
        for statement in body.body
    )
