"""One fast walk over a LibCST tree: each code node's parent, and the code nodes in
the order LibCST's visitors meet them; and the rules' `visit_*` calls made from
that order.

LibCST's visitors rebuild each node's children on the way down, and its
`ParentNodeProvider` asks every node for its children a second way: together over
twice the cost of the parse. Here each node class gets a function that reads the
fields that can hold code, skipping whitespace, comments, operators and punctuation
(two thirds of the nodes): a twentieth of that cost. Rules only visit (they never
`leave_`, nor prune a subtree: batched visitors cannot), so a list of the nodes in
pre-order is all they need.
"""

from __future__ import annotations

import dataclasses
import typing
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


def _syntax_types() -> frozenset[type[cst.CSTNode]]:
    bases: tuple[type[cst.CSTNode], ...] = (
        cst.BaseParenthesizableWhitespace,
        cst.BaseBinaryOp,
        cst.BaseBooleanOp,
        cst.BaseCompOp,
        cst.BaseUnaryOp,
        cst.BaseAugOp,
    )
    # By the classes' MROs: `issubclass` on LibCST's abstract bases costs 15 ms.
    found: set[type[cst.CSTNode]] = {
        value
        for value in vars(cst).values()
        if isinstance(value, type) and not set(bases).isdisjoint(value.__mro__)
    }
    found |= {
        *bases,
        cst.AssignEqual,
        cst.Colon,
        cst.Comma,
        cst.Dot,
        cst.ImportStar,
        cst.Semicolon,
        cst.Newline,
        cst.EmptyLine,
        cst.Comment,
        cst.TrailingWhitespace,
        cst.LeftParen,
        cst.RightParen,
        cst.LeftSquareBracket,
        cst.RightSquareBracket,
        cst.LeftCurlyBrace,
        cst.RightCurlyBrace,
        cst.Asynchronous,
    }
    return frozenset(found)


# Whitespace, comments, operators, punctuation, brackets: the nodes that hold no
# code of their own, two thirds of a typical tree. No analysis looks at them (the
# fixes that keep formatting read them through their parents' fields).
SYNTAX = _syntax_types()


def _order(cls: type[cst.CSTNode]) -> list[dataclasses.Field[object]]:
    every = {f.name: f for f in dataclasses.fields(cls)}
    if cls in SOURCE_ORDER:
        first = [n for n in SOURCE_ORDER[cls] if n in every]
        names = [*first, *(n for n in every if n not in first)]
    else:
        middle = [n for n in every if n not in OPENING + CLOSING]
        names = [n for n in OPENING if n in every] + middle
        names += [n for n in CLOSING if n in every]
    return [every[n] for n in names]


def _leaves(annotation: object) -> tuple[bool, set[object]]:
    """(whether `annotation` may be a sequence, the types it may hold)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        sequence, found = False, set()
        for part in typing.get_args(annotation):
            is_sequence, leaves = _leaves(part)
            sequence |= is_sequence
            found |= leaves
        return sequence, found
    if isinstance(origin, type) and issubclass(origin, Sequence):
        return True, _leaves(typing.get_args(annotation)[0])[1]
    return False, {annotation}


ChildrenOf = Callable[[cst.CSTNode], list[cst.CSTNode]]


def _code_children(cls: type[cst.CSTNode]) -> ChildrenOf:
    """A function listing the children of a `cls` node, written out field by field
    from the field's declared type: a field that can only hold syntax, text or
    nothing is not read at all."""
    lines = ["def children(node):", "    found = []"]
    for field in _order(cls):
        sequence, leaves = _leaves(field.type)
        kinds = {_kind(leaf) for leaf in leaves}
        if kinds <= {"syntax", "text"}:
            continue
        plain = kinds == {"code"}  # always a code node (or a sequence of them)
        value = f"node.{field.name}"
        if sequence and plain:
            lines.append(f"    found.extend({value})")
        elif plain:
            lines.append(f"    found.append({value})")
        else:
            lines += [
                f"    value = {value}",
                "    if type(value) is tuple or type(value) is list:",
                "        found.extend(v for v in value if type(v) not in SYNTAX)",
                "    elif isinstance(value, CSTNode) and type(value) not in SYNTAX:",
                "        found.append(value)",
            ]
    lines.append("    return found")
    namespace: dict[str, object] = {"SYNTAX": SYNTAX, "CSTNode": cst.CSTNode}
    exec("\n".join(lines), namespace)  # noqa: S102 - our own text, per node class
    return namespace["children"]  # type: ignore[return-value]


def _kind(leaf: object) -> str:
    if not isinstance(leaf, type):
        return "unknown"  # a forward reference: read the field, check the value
    if cst.CSTNode not in leaf.__mro__:
        return "text"  # str, None, MaybeSentinel
    return "code" if SYNTAX.isdisjoint(leaf.__mro__) else "syntax"


_CHILDREN: dict[type[cst.CSTNode], ChildrenOf] = {}


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The children of `node` that hold code, in source order: `node.children`
    without whitespace, comments, operators and punctuation, at a tenth of the
    cost (LibCST's property rebuilds the node to find them)."""
    cls = type(node)
    found = _CHILDREN.get(cls)
    if found is None:
        found = _CHILDREN[cls] = _code_children(cls)
    return found(node)


def own_nodes(block: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes of `block` (a body), not those inside the functions, classes
    and lambdas it holds: the code that runs when it runs."""
    found: list[cst.CSTNode] = []
    pending: list[cst.CSTNode] = [block]
    while pending:
        node = pending.pop()
        found.append(node)
        if not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            pending.extend(children(node))
    return found


# What `walk()` gives: (node -> parent, every node in pre-order)
WalkedTree = tuple[dict[cst.CSTNode, cst.CSTNode], list[cst.CSTNode]]


def walk(root: cst.CSTNode) -> WalkedTree:
    """(node -> parent, every node in pre-order) of the tree under `root`, syntax
    nodes left out."""
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


class VisitorError(Exception):
    """A visitor raised `__cause__` on a node; `visitor` says which one."""

    def __init__(self, visitor: object) -> None:
        super().__init__(type(visitor).__name__)
        self.visitor = visitor


def dispatch(order: Sequence[cst.CSTNode], visitors: Sequence[object]) -> None:
    """Call each visitor's `visit_<NodeType>` on each node, in `order`. An error is
    raised again as a `VisitorError` naming the visitor."""
    table: dict[
        type[cst.CSTNode], list[tuple[object, Callable[[cst.CSTNode], object]]]
    ] = {}
    for visitor in visitors:
        for name in _own_methods(type(visitor)):
            if name.startswith("leave_"):
                raise TypeError(f"{type(visitor).__name__}.{name}: rules only visit")
            node_type = getattr(cst, name.removeprefix("visit_"))
            table.setdefault(node_type, []).append((visitor, getattr(visitor, name)))
    for node in order:
        for visitor, visit in table.get(type(node), ()):
            try:  # free in Python 3.11 until something raises
                visit(node)
            except Exception as error:
                raise VisitorError(visitor) from error


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
