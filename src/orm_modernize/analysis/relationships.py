"""Which class a relationship of a mapped class leads to, read from one module.

String paths of removed Query APIs (`joinedload("orders.items")`, `join("orders",
"items")`) name relationships; their 2.0 spelling names classes
(`defaultload(User.orders).joinedload(Order.items)`), so each step needs the class
the previous relationship leads to. Relationships are found where a module declares
them:

    class User(Base):
        orders = relationship("Order", backref="user")

    registry.map_imperatively(User, users, properties={"orders": relationship(Order)})
    mapper(User, users, properties=dict(orders=relationship(Order)))

Classes are matched by name. A pair declared with different targets in one module
has no answer. Targets read from a class body are *declared*; those read from an
imperative mapping call are only *inferred*, since a module (a test suite) can map
the same names differently in different places.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import libcst as cst

from orm_modernize.syntax.nodes import called_name, keyword_argument, string_value

RELATIONSHIP_FUNCTIONS = frozenset({"relationship", "relation"})
MAPPING_FUNCTIONS = frozenset({"map_imperatively", "mapper"})


@dataclass(frozen=True)
class Target:
    name: str  # the class the relationship leads to
    declared: bool  # read from the owner's class body


class Relationships:
    def __init__(
        self, classes: Iterable[cst.ClassDef], calls: Iterable[cst.Call]
    ) -> None:
        """`classes`, `calls`: every one in the module."""
        self._found: dict[tuple[str, str], set[Target]] = {}
        # (class, attribute) made by a backref: it exists only once the mappers
        # are configured; and those declared by the class itself
        self.backrefs: set[tuple[str, str]] = set()
        self.declared: set[tuple[str, str]] = set()
        # Classes with a relationship whose class cannot be read here
        self.unread: set[str] = set()
        for node in classes:
            self._class_body(node)
        for call in calls:
            if called_name(call) in MAPPING_FUNCTIONS:
                self._mapping_call(call)

    def target(self, owner: str, attribute: str) -> Target | None:
        """The class `owner.attribute` leads to, if the module says so unambiguously."""
        found = self._found.get((owner, attribute), set())
        if len({t.name for t in found}) != 1:
            return None
        return Target(next(iter(found)).name, all(t.declared for t in found))

    def leading_to(self, owner: str, target: str) -> set[str] | None:
        """The attributes of `owner` (declared, or made by a backref) that lead
        to `target`; None when one may, the module naming two classes for it."""
        if owner in self.unread:
            return None
        found = set()
        for (name, attribute), targets in self._found.items():
            leads = {t.name for t in targets}
            if name != owner or target not in leads:
                continue
            if len(leads) > 1:
                return None
            found.add(attribute)
        return found

    def _class_body(self, node: cst.ClassDef) -> None:
        for attribute, call in class_body_calls(node):
            self._relationship(node.name.value, attribute, call, True)

    def _mapping_call(self, call: cst.Call) -> None:
        positional = [a.value for a in call.args if a.keyword is None]
        owner = positional[0] if positional else None
        properties = keyword_argument(call, "properties")
        if not isinstance(owner, cst.Name) or properties is None:
            return
        for key, value in _items(properties.value):
            if isinstance(value, cst.Call):
                self._relationship(owner.value, key, value, False)

    def _relationship(
        self, owner: str, attribute: str, call: cst.Call, declared: bool
    ) -> None:
        name = called_name(call)
        if name == "dynamic_loader":
            self.unread.add(owner)
        if name not in RELATIONSHIP_FUNCTIONS:
            return
        first = call.args[0] if call.args else None
        target = class_name(first.value) if first and first.keyword is None else None
        if target is None:
            self.unread.add(owner)
            return
        self._add(owner, attribute, Target(target, declared))
        self.declared.add((owner, attribute))
        arg = keyword_argument(call, "backref")
        if arg is not None:
            backref = _backref_name(arg.value)
            if backref is not None:
                self._add(target, backref, Target(owner, declared))
                self.backrefs.add((target, backref))

    def _add(self, owner: str, attribute: str, target: Target) -> None:
        self._found.setdefault((owner, attribute), set()).add(target)


def class_body_calls(node: cst.ClassDef) -> Iterator[tuple[str, cst.Call]]:
    """`(name, call)` of each `name = f(...)` / `name: T = f(...)` at the top of
    a class body: where a declarative class declares its attributes."""
    if not isinstance(node.body, cst.IndentedBlock):
        return
    for statement in node.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                target, value = small.target, small.value
            else:
                continue
            if isinstance(target, cst.Name) and isinstance(value, cst.Call):
                yield target.value, value


def is_abstract(node: cst.ClassDef) -> bool:
    """The class sets `__abstract__ = True`: declarative maps none of its own
    attributes; its subclasses copy its columns."""
    if not isinstance(node.body, cst.IndentedBlock):
        return False
    return any(
        isinstance(small, cst.Assign)
        and any(
            isinstance(t.target, cst.Name) and t.target.value == "__abstract__"
            for t in small.targets
        )
        and isinstance(small.value, cst.Name)
        and small.value.value == "True"
        for statement in node.body.body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
    )


def class_name(node: cst.BaseExpression) -> str | None:
    """`Order` or `"Order"`; None for anything that is not a plain class name."""
    if isinstance(node, cst.Name):
        return node.value
    return identifier(node)


def _backref_name(node: cst.BaseExpression) -> str | None:
    """`"user"` or `backref("user", ...)`."""
    if isinstance(node, cst.Call) and called_name(node) == "backref" and node.args:
        node = node.args[0].value
    return identifier(node)


def identifier(node: cst.BaseExpression) -> str | None:
    """`"user"`: a string literal that can name an attribute or a class."""
    value = string_value(node)
    return value if value is not None and value.isidentifier() else None


def _items(node: cst.BaseExpression) -> list[tuple[str, cst.BaseExpression]]:
    """The literal keys and values of `{"k": v}` or `dict(k=v)`."""
    if isinstance(node, cst.Dict):
        return [
            (key, e.value)
            for e in node.elements
            if isinstance(e, cst.DictElement)
            and (key := string_value(e.key)) is not None
        ]
    if isinstance(node, cst.Call) and called_name(node) == "dict":
        return [(a.keyword.value, a.value) for a in node.args if a.keyword is not None]
    return []
