"""`Query.join(target, aliased=True)`: an alias made for the join, and the later
criteria that 1.x silently moved onto it.

    session.query(Node).join(Node.children, aliased=True).filter(Node.name == "a")

joined a fresh alias of `Node`, and `filter()`, `filter_by()`, `order_by()` and
`group_by()` after it were adapted to that alias until the next plain join or
`reset_joinpoint()` (1.4's `_aliased_generation`). 2.0 removed the flag; its form
names the alias (migration guide, "Query.join() with aliased=True"):

    node_alias = aliased(Node)
    select(Node).join(Node.children.of_type(node_alias)).where(node_alias.name == "a")

Only what the adaptation certainly reached is re-targeted: `Class.attr` where
`Class` is the joined class under its own name. A criterion that names the class
another way (`Class.__table__`, a second name bound to it) or holds a subquery,
which 1.x adapted too, is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Edit, Refused
from orm_modernize.rewrite.naming import snake_case
from orm_modernize.syntax.nodes import called_name, code_of, method, walk

# Calls whose clauses 1.x adapted as well: a subquery or correlated EXISTS.
SUBQUERIES = frozenset(
    {"query", "select", "exists", "any", "has", "subquery", "scalar_subquery"}
)


@dataclass(frozen=True)
class JoinedClass:
    name: str  # the class `join(target, aliased=True)` joins, under its own name
    declared: bool  # the relationship's target was read from a class body


def joined_class(
    semantic: Semantic, at: cst.CSTNode, target: cst.BaseExpression
) -> JoinedClass:
    """The class `join(target, aliased=True)` at `at` joins an alias of."""
    if isinstance(target, cst.Attribute) and semantic.is_mapped_class(target.value):
        assert isinstance(target.value, cst.Name)  # is_mapped_class says so
        found = semantic.relationships.target(target.value.value, target.attr.value)
        if found is None:
            raise Refused(
                f"`join({code_of(target)}, aliased=True)`: cannot tell which class"
                " it leads to; join an `aliased()` entity and filter on the alias"
            )
        joined = JoinedClass(found.name, found.declared)
    elif isinstance(target, cst.Name) and semantic.is_mapped_class(target):
        joined = JoinedClass(target.value, True)
    else:
        raise Refused(
            f"`join({code_of(target)}, aliased=True)` was removed in 2.0: join an"
            " `aliased()` entity and filter on the alias"
        )
    if not own_name(semantic, at, joined.name):
        raise Refused(
            f"`join(..., aliased=True)`: `{joined.name}` is not bound here to the"
            " class under its own name; join an `aliased()` entity by hand"
        )
    return joined


def through_alias(target: cst.BaseExpression, alias: str) -> cst.BaseExpression:
    """The join target `User.addresses` as `User.addresses.of_type(alias)`; an
    entity target as the alias itself."""
    if isinstance(target, cst.Attribute):
        return method(target, "of_type", cst.Name(alias))
    return cst.Name(alias)


def alias_name(class_name: str) -> str:
    """`node_alias` for `Node`, `order_item_alias` for `OrderItem`."""
    return f"{snake_case(class_name)}_alias"


def retarget(args: Sequence[cst.Arg], class_name: str, alias: str) -> list[cst.Arg]:
    """`args` with every `Class.attr` read from the alias instead."""
    retargeted = []
    for arg in args:
        nodes = list(walk(arg.value))
        if any(
            isinstance(n, cst.Lambda) or called_name(n) in SUBQUERIES for n in nodes
        ):
            raise Refused(
                "a subquery in criteria after `join(..., aliased=True)`: 1.x adapted"
                " it to the alias too; rewrite by hand"
            )
        attribute_names = {id(n.attr) for n in nodes if isinstance(n, cst.Attribute)}
        for node in nodes:
            if (
                isinstance(node, cst.Name)
                and node.value == class_name
                and id(node) not in attribute_names
                and not _plain_attribute_of(node, nodes)
            ):
                raise Refused(
                    f"`{class_name}` is used other than as `{class_name}.attr` in"
                    " criteria after `join(..., aliased=True)`; rewrite by hand"
                )
        retargeted.append(
            arg.with_changes(value=arg.value.visit(_Retarget(class_name, alias)))
        )
    return retargeted


class _Retarget(cst.CSTTransformer):
    def __init__(self, class_name: str, alias: str) -> None:
        self.class_name = class_name
        self.alias = alias

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.Attribute:
        value = updated_node.value
        if isinstance(value, cst.Name) and value.value == self.class_name:
            return updated_node.with_changes(value=cst.Name(self.alias))
        return updated_node


def _plain_attribute_of(name: cst.Name, nodes: list[cst.CSTNode]) -> bool:
    """`name` is read as `name.attr`, `attr` not a dunder such as `__table__`."""
    return any(
        isinstance(n, cst.Attribute)
        and n.value is name
        and not n.attr.value.startswith("__")
        for n in nodes
    )


def own_name(semantic: Semantic, at: cst.CSTNode, class_name: str) -> bool:
    """`class_name` is bound where the query is to the class of that name (its
    `class` statement or `from m import Name`), and no module-level `X = Name`
    gives it a second name that criteria could read it through."""
    scope = semantic.scope(at)
    if scope is None or class_name not in scope:
        return False
    for assignment in scope[class_name]:
        node = getattr(assignment, "node", None)
        if isinstance(node, cst.ClassDef):
            continue
        if isinstance(node, cst.ImportFrom) and _imports_as_itself(node, class_name):
            continue
        return False
    return not any(
        isinstance(value, cst.Name) and value.value == class_name
        for values in semantic.top_level.assigned.values()
        for value in values
    )


def _imports_as_itself(node: cst.ImportFrom, name: str) -> bool:
    return not isinstance(node.names, cst.ImportStar) and any(
        a.evaluated_name == name and a.evaluated_alias is None for a in node.names
    )


def with_aliases(
    semantic: Semantic,
    node: cst.CSTNode,
    replacement: cst.BaseExpression,
    aliases: list[tuple[str, cst.Call]],
) -> Edit:
    """`node` replaced within its statement, and the `aliased()` entities the
    new statement joins made on lines before it. Making an alias has no side
    effect, so it can go before a whole `if`, loop or `assert`."""
    statement: cst.CSTNode = node
    parent = semantic.parent(statement)
    while not isinstance(parent, (cst.IndentedBlock, cst.Module)):
        if parent is None or isinstance(parent, cst.SimpleStatementSuite):
            raise Refused(
                "`join(..., aliased=True)` in a one-line block: its alias needs"
                " a line of its own"
            )
        statement, parent = parent, semantic.parent(parent)
    assert isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
    made = [
        cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], value)])
        for name, value in aliases
    ]
    made[0] = made[0].with_changes(leading_lines=statement.leading_lines)
    rewritten = statement.with_changes(leading_lines=()).deep_replace(node, replacement)
    return Edit(statement, cst.FlattenSentinel([*made, rewritten]))
