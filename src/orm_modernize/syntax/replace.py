"""Replacing nodes of a tree by identity, rebuilding only the path from the root
to each node replaced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import cast

import libcst as cst

from orm_modernize.data.records import Replacement
from orm_modernize.syntax import tree

# A rebuilt node, by `id`: the node and the one it was rebuilt from (the node is
# kept, so that an `id` reused after it was freed is not taken for it).
Origins = dict[int, tuple[cst.CSTNode, cst.CSTNode]]


class Replacer(cst.CSTTransformer):
    """Swaps nodes by identity; never descends into a node it replaces."""

    def __init__(self, edits: Mapping[int, Replacement]) -> None:
        self.edits = edits

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) not in self.edits

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> Replacement:
        return self.edits.get(id(original_node), updated_node)


def replaced(
    root: cst.CSTNode,
    edits: Mapping[int, Replacement],
    origins: Origins | None = None,
    walked: tree.WalkedTree | None = None,
) -> cst.CSTNode:
    """`root.visit(Replacer(edits))`, rebuilding only the nodes on the way from
    the root to each node replaced (LibCST's visit rebuilds every node: seconds
    for each fix pass over a large module). A node removed or flattened into a
    sequence is dropped or spliced as LibCST does; anything else goes through
    the visitor. `origins` gets each rebuilt node (see `reprint`); `walked`:
    `tree.walk(root)`, if made already."""
    parents, order = walked if walked is not None else tree.walk(root)
    found = [node for node in order if id(node) in edits]
    if len(found) != len(edits):  # an edit of a node the walk leaves out
        return cast(cst.CSTNode, root.visit(Replacer(edits)))
    dirty: set[int] = set()
    for node in found:
        parent = parents.get(node)
        while parent is not None and id(parent) not in dirty:
            dirty.add(id(parent))
            parent = parents.get(parent)
    try:
        return _rebuilt(root, edits, dirty, {} if origins is None else origins)
    except _NotInSequence:
        return cast(cst.CSTNode, root.visit(Replacer(edits)))


class _NotInSequence(Exception):
    """A removal or flattening of a node that is not in a sequence."""


def _rebuilt(
    node: cst.CSTNode,
    edits: Mapping[int, Replacement],
    dirty: set[int],
    origins: Origins,
) -> cst.CSTNode:
    if id(node) not in dirty:
        return node
    changes: dict[str, object] = {}
    for field in fields(node):
        value = getattr(node, field.name)
        new: object
        if isinstance(value, cst.CSTNode):
            new = _new(value, edits, dirty, origins)
            if not isinstance(new, cst.CSTNode):
                raise _NotInSequence
        elif isinstance(value, (tuple, list)) and any(
            id(v) in dirty or id(v) in edits for v in value
        ):
            items: list[object] = []
            for old in value:
                if not isinstance(old, cst.CSTNode):
                    items.append(old)
                    continue
                got = _new(old, edits, dirty, origins)
                if isinstance(got, cst.RemovalSentinel):
                    continue
                # As LibCST's visit: a statement emptied by a removal goes too.
                items.extend(
                    n
                    for n in (got if isinstance(got, cst.FlattenSentinel) else [got])
                    if old._is_removable() or not n._is_removable()
                )
            new = type(value)(items)
        else:
            continue
        if new is not value:
            changes[field.name] = new
    if not changes:
        return node
    new = node.with_changes(**changes)
    origins[id(new)] = (new, node)
    return new


def _new(
    node: cst.CSTNode,
    edits: Mapping[int, Replacement],
    dirty: set[int],
    origins: Origins,
) -> Replacement:
    """What `node` becomes: its edit, or itself rebuilt around edits below it."""
    if id(node) in edits:
        return edits[id(node)]
    return _rebuilt(node, edits, dirty, origins)
