"""A module's tree as the analyses walk it: every node by type and in order, each
node's parent and enclosing nodes, positions in the source, and its `# noqa`
comments. Computed on first use and shared by every rule of the pass."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import TypeVar, cast

import libcst as cst

from orm_modernize.syntax import noqa, tree
from orm_modernize.syntax.positions import Positions
from orm_modernize.syntax.statements import TopLevel

N = TypeVar("N", bound=cst.CSTNode)


class ModuleTree:
    """Navigation in one module's tree; the base of `names.Names`."""

    def __init__(
        self,
        module: cst.Module,
        walked: tree.WalkedTree | None = None,
        source: bytes | None = None,
    ):
        """`walked`: `tree.walk(module)`, which the engine made anyway; `source`:
        the bytes `module` was parsed from, if it is unchanged since."""
        self.module = module
        self.source = source
        if walked is not None:
            self._walked = walked

    @cached_property
    def _walked(self) -> tree.WalkedTree:
        return tree.walk(self.module)

    @cached_property
    def _parents(self) -> dict[cst.CSTNode, cst.CSTNode]:
        return self._walked[0]

    @property
    def walked(self) -> tree.WalkedTree:
        """`tree.walk(module)`."""
        return self._walked

    @property
    def all_nodes(self) -> list[cst.CSTNode]:
        """Every node of the module, in source order."""
        return self._walked[1]

    def nodes(self, node_type: type[N]) -> list[N]:
        """Every node of the (concrete) `node_type` in the module, in source
        order: for analyses of the whole module, which then share one walk."""
        return cast(list[N], self._by_type.get(node_type, []))

    @cached_property
    def _by_type(self) -> dict[type[cst.CSTNode], list[cst.CSTNode]]:
        found: dict[type[cst.CSTNode], list[cst.CSTNode]] = {}
        for node in self._walked[1]:
            found.setdefault(type(node), []).append(node)
        return found

    @cached_property
    def top_level(self) -> TopLevel:
        return TopLevel.of(self.module)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._parents.get(node)

    @cached_property
    def positions(self) -> Positions:
        return Positions(self.module, self._parents, self.source)

    def source_position(self, node: cst.CSTNode) -> tuple[int, int]:
        """Where `node` starts: a sort key for what scopes hand out as sets, whose
        order changes from run to run."""
        start = self.positions.start(node)
        return start.line, start.column

    def source_end(self, node: cst.CSTNode) -> tuple[int, int]:
        end = self.positions[node].end
        return end.line, end.column

    def _enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        return self.enclosing(node, cst.FunctionDef)

    def _enclosing_class(self, node: cst.CSTNode) -> cst.ClassDef | None:
        return self.enclosing(node, cst.ClassDef)

    def enclosing(
        self,
        node: cst.CSTNode,
        types: type[N] | tuple[type[N], ...],
        *,
        stop: tuple[type[cst.CSTNode], ...] = (),
    ) -> N | None:
        """The innermost node containing `node` that is one of `types`; None when
        there is none, or a node of one of `stop` comes first."""
        for parent in self.ancestors(node):
            if isinstance(parent, types):
                return parent
            if isinstance(parent, stop):
                return None
        return None

    def own_line(self, node: cst.CSTNode) -> cst.SimpleStatementLine | None:
        """The line holding `node`, when a statement can be written after it: a
        statement alone on its line, in a block (not after a colon)."""
        line = self.enclosing(node, cst.SimpleStatementLine)
        if line is None or len(line.body) != 1:
            return None
        block = self.parent(line)
        return line if isinstance(block, (cst.IndentedBlock, cst.Module)) else None

    def within(self, node: cst.CSTNode, container: cst.CSTNode) -> bool:
        """`node` is `container` or inside it."""
        return node is container or any(p is container for p in self.ancestors(node))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """The nodes that contain `node`, innermost first."""
        parent = self.parent(node)
        while parent is not None:
            yield parent
            parent = self.parent(parent)

    def suppressed(self, code: str, node: cst.CSTNode) -> bool:
        """Whether a `# noqa` silences `code` where `node` starts. The engine drops
        silenced findings itself; a fix that rewrites several findings at once
        must also leave the silenced ones' code alone."""
        suppressions = self.suppressions
        if suppressions.silence_nothing:  # most modules: no position needed
            return False
        return suppressions.suppresses(code, self.positions[node].start.line)

    @cached_property
    def suppressions(self) -> noqa.Suppressions:
        """The module's `# noqa` comments, read from its bytes when unchanged
        (printing the tree again costs as much as a walk)."""
        return noqa.Suppressions(self.text)

    @cached_property
    def text(self) -> str:
        """The module's source text."""
        if self.source is not None:
            return self.source.decode(self.module.encoding)
        return self.module.code
