"""Whether an autocommit session is used only in units of work it begins itself.

A 1.x `Session(autocommit=True)` begins no transaction on its own: each
`with session.begin():` block is one, and nothing runs between them. Used that
way only, the session behaves the same once `autocommit=True` is dropped, since
a 2.x session begins a transaction on first use ("autobegin") and none is in
progress when each block begins. Anything else of it outside such a block would
autobegin on 2.x, and the next `begin()` would raise: so would an object loaded
in a block and read after it (expired at the commit, it loads again), which is
looked for as a name bound in a block and read outside it.
"""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.scopes import Assignment, BaseAssignment
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Refused
from orm_modernize.syntax.nodes import walk

# Code that runs later than where it is written: not inside the block
DEFERRED = (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.GeneratorExp)


def bound_name(semantic: Semantic, call: cst.Call) -> cst.Name:
    """The name `call`'s value is bound to, once: `name = call` or
    `with call as name:`."""
    parent = semantic.parent(call)
    target: cst.BaseExpression | None = None
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
    elif isinstance(parent, cst.WithItem) and isinstance(parent.asname, cst.AsName):
        target = parent.asname.name
    if not isinstance(target, cst.Name):
        raise Refused("the session is not bound to a name")
    if len(semantic.assignments(target)) != 1:
        raise Refused(f"`{target.value}` is bound more than once")
    return target


def check_units(semantic: Semantic, name: cst.Name) -> None:
    """Refused unless the session bound to `name` is used only in
    `with name.begin():` blocks (and `name.close()`, `name.in_transaction()`)."""
    (binding,) = semantic.assignments(name)
    units, others = _units(semantic, binding)
    for node in others:
        if _begins_nothing(semantic, node):
            continue
        if not isinstance(node, cst.Name) or not _in_unit(semantic, node, units):
            raise Refused(
                f"`{name.value}` is used outside a `with {name.value}.begin():`"
                " block, where 2.x would begin a transaction the next block"
                " cannot"
            )
    for unit in units.values():
        _check_nothing_leaves(semantic, unit)


def check_factory_units(semantic: Semantic, name: cst.Name) -> None:
    """Refused unless every session the factory bound to `name` makes is used
    only in units: `with name.begin() as s:` (its body is one), or
    `s = name()` / `with name() as s:` used as `check_units()` wants."""
    (binding,) = semantic.assignments(name)
    units, others = _units(semantic, binding)
    for node in others:
        parent = semantic.parent(node)
        if isinstance(parent, cst.Call) and parent.func is node and not parent.args:
            check_units(semantic, bound_name(semantic, parent))
            continue
        raise Refused(
            f"the factory `{name.value}` is used otherwise than `{name.value}()` or"
            f" `with {name.value}.begin():`"
        )
    for unit in units.values():
        _check_nothing_leaves(semantic, unit)


def _units(
    semantic: Semantic, binding: BaseAssignment
) -> tuple[dict[int, cst.With], list[cst.CSTNode]]:
    """The blocks the binding's reads begin (`with x.begin() [as s]:`, `s` read
    in the block only), by `id`, and the reads that begin none."""
    units: dict[int, cst.With] = {}
    others: list[cst.CSTNode] = []
    for access in binding.references:
        unit = _unit_begun_by(semantic, access.node)
        if unit is not None and _target_stays_in(semantic, unit):
            units[id(unit)] = unit
        else:
            others.append(access.node)
    return units, others


def _target_stays_in(semantic: Semantic, unit: cst.With) -> bool:
    """The `as` target of the block's item, if any, is read in its body only."""
    (item,) = unit.items
    if not isinstance(item.asname, cst.AsName):
        return True
    target = item.asname.name
    return isinstance(target, cst.Name) and all(
        semantic.within(a.node, unit.body)
        for binding in semantic.assignments(target)
        for a in binding.references
    )


def _unit_begun_by(semantic: Semantic, node: cst.CSTNode) -> cst.With | None:
    """The `with` statement of `with node.begin() [as s]:`, its only item."""
    attribute = semantic.parent(node)
    call = semantic.parent(attribute) if attribute is not None else None
    item = semantic.parent(call) if call is not None else None
    with_node = semantic.parent(item) if item is not None else None
    if (
        isinstance(attribute, cst.Attribute)
        and attribute.value is node
        and attribute.attr.value == "begin"
        and isinstance(call, cst.Call)
        and call.func is attribute
        and not call.args
        and isinstance(item, cst.WithItem)
        and item.item is call
        and isinstance(with_node, cst.With)
        and len(with_node.items) == 1
        and with_node.asynchronous is None
    ):
        return with_node
    return None


def _begins_nothing(semantic: Semantic, node: cst.CSTNode) -> bool:
    """`node.close()` as a statement, or `node.in_transaction()`: neither
    begins a transaction."""
    attribute = semantic.parent(node)
    call = semantic.parent(attribute) if attribute is not None else None
    if not (
        isinstance(attribute, cst.Attribute)
        and isinstance(call, cst.Call)
        and call.func is attribute
        and not call.args
    ):
        return False
    if attribute.attr.value == "close":
        return isinstance(semantic.parent(call), cst.Expr)
    return attribute.attr.value == "in_transaction"


def _in_unit(semantic: Semantic, node: cst.Name, units: dict[int, cst.With]) -> bool:
    """`node` is read for an attribute (`s.add(...)`), not handed on, in the
    body of one of `units`, in the same run of code."""
    attribute = semantic.parent(node)
    if not (isinstance(attribute, cst.Attribute) and attribute.value is node):
        return False
    for ancestor in semantic.ancestors(node):
        if isinstance(ancestor, DEFERRED):
            return False
        if (
            isinstance(ancestor, cst.BaseSuite)
            and id(semantic.parent(ancestor)) in units
        ):
            return True
    return False


def _check_nothing_leaves(semantic: Semantic, unit: cst.With) -> None:
    """Refused when a name bound in the block is read after it."""
    for node in walk(unit.body):
        if not isinstance(node, cst.Name):
            continue
        scope = semantic.scope(node)
        if scope is None or node.value not in scope:
            continue
        for binding in scope[node.value]:
            if not (isinstance(binding, Assignment) and binding.node is node):
                continue
            if any(not semantic.within(a.node, unit.body) for a in binding.references):
                raise Refused(
                    f"`{node.value}`, bound in a `begin()` block, is read after it:"
                    " an object loaded there loads again on 2.x in a transaction of"
                    " its own, and the next `begin()` raises"
                )
