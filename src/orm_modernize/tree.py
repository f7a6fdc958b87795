"""One fast walk over a LibCST tree: every node's parent, and the nodes in the order
LibCST's visitors meet them; and the rules' `visit_*` calls made from that order.

LibCST's visitors rebuild each node's children on the way down, and its
`ParentNodeProvider` asks every node for its children a second way: together over
twice the cost of the parse. Reading each node's dataclass fields directly costs a
fifth of that. Rules only visit (they never `leave_`, nor prune a subtree: batched
visitors cannot), so a list of the nodes in pre-order is all they need.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import libcst as cst

# Where a node's fields are not in source order, the order its code reads in (the
# order LibCST visits them): decorators before the `def`, `a if test else b`,
# brackets around what they hold. Fields left out follow in field order. Whitespace
# nodes are not ordered: nothing visits them. `test_tree.py` checks this table
# against LibCST's own visitors on real code.
SOURCE_ORDER: dict[type[cst.CSTNode], tuple[str, ...]] = {
    cst.Arg: ("star", "keyword", "equal", "value", "comma"),
    cst.Attribute: ("lpar", "value", "dot", "attr", "rpar"),
    cst.AnnAssign: ("target", "annotation", "equal", "value"),
    cst.Assert: ("test", "comma", "msg"),
    cst.ClassDef: (
        "decorators", "name", "type_parameters", "lpar", "bases", "keywords", "rpar"
    ),
    cst.CompFor: ("asynchronous", "target", "iter", "ifs", "inner_for_in"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
    cst.For: ("asynchronous", "target", "iter", "body", "orelse"),
    cst.FormattedStringExpression: ("expression", "equal", "conversion", "format_spec"),
    cst.FunctionDef: (
        "decorators", "asynchronous", "name", "type_parameters", "params", "returns"
    ),
    cst.IfExp: ("lpar", "body", "test", "orelse", "rpar"),
    cst.ImportFrom: ("relative", "module", "lpar", "names", "rpar", "semicolon"),
    cst.Index: ("star", "value"),
    cst.Lambda: ("lpar", "params", "colon", "body", "rpar"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.Param: ("star", "name", "annotation", "equal", "default", "comma"),
    cst.Parameters: (
        "posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params",
        "star_kwarg",
    ),
    cst.Slice: ("lower", "first_colon", "upper", "second_colon", "step"),
    cst.Subscript: ("lpar", "value", "lbracket", "slice", "rbracket", "rpar"),
    cst.With: ("asynchronous", "lpar", "items", "rpar", "body"),
}  # fmt: skip
# Brackets come first and last wherever they are.
OPENING = ("lpar", "lbracket", "lbrace")
CLOSING = ("rbrace", "rbracket", "rpar")
_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}


def _fields(cls: type[cst.CSTNode]) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        every = [f.name for f in dataclasses.fields(cls)]
        if cls in SOURCE_ORDER:
            first = [n for n in SOURCE_ORDER[cls] if n in every]
            names = (*first, *(n for n in every if n not in first))
        else:
            middle = [n for n in every if n not in OPENING + CLOSING]
            opening = [n for n in OPENING if n in every]
            closing = [n for n in CLOSING if n in every]
            names = (*opening, *middle, *closing)
        _FIELDS[cls] = names
    return names


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`node.children` (whitespace aside, in the same order) at a fifth of the cost:
    LibCST's property rebuilds the node to find them."""
    found: list[cst.CSTNode] = []
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            found.append(value)
        elif type(value) is tuple or type(value) is list:
            found.extend(c for c in value if isinstance(c, cst.CSTNode))
    return found


def walk(root: cst.CSTNode) -> tuple[dict[cst.CSTNode, cst.CSTNode], list[cst.CSTNode]]:
    """(node -> parent, every node in pre-order) of the tree under `root`."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    order: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        below = children(node)
        for child in below:
            parents[child] = node
        below.reverse()
        stack.extend(below)
    return parents, order


def dispatch(order: Sequence[cst.CSTNode], visitors: Sequence[object]) -> None:
    """Call each visitor's `visit_<NodeType>` on each node, in `order`."""
    table: dict[type[cst.CSTNode], list[Callable[[cst.CSTNode], object]]] = {}
    for visitor in visitors:
        for name in _own_methods(type(visitor)):
            if name.startswith("leave_"):
                raise TypeError(f"{type(visitor).__name__}.{name}: rules only visit")
            node_type = getattr(cst, name.removeprefix("visit_"))
            table.setdefault(node_type, []).append(getattr(visitor, name))
    for node in order:
        for visit in table.get(type(node), ()):
            visit(node)


def _own_methods(visitor: type) -> set[str]:
    """The `visit_*` / `leave_*` methods a visitor class defines, not the no-op
    ones of LibCST's visitor bases."""
    base = cst.BatchableCSTVisitor
    return {
        name
        for cls in visitor.__mro__
        if not issubclass(base, cls)  # not the base or one of its ancestors
        for name in vars(cls)
        if name.startswith(("visit_", "leave_"))
    }
