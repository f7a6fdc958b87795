"""Where each node is in the source: what LibCST's `PositionProvider` says, for
the cost of printing the module once.

The provider splits every printed token with a regular expression to track the
line and column, and makes two position objects per node: about twice the cost of
printing. Here the printer keeps a character offset, each node gets a pair of
offsets, and only the nodes asked about are turned into lines and columns.
`test_positions.py` compares both on real code.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState  # the printer's state: no public name
from libcst._position import CodePosition, CodeRange  # as libcst.metadata, lighter

NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=False)
class _OffsetState(CodegenState):
    offset: int = 0
    spans: dict[cst.CSTNode, tuple[int, int]] = field(default_factory=dict)
    _starts: list[int] = field(default_factory=list)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        self.offset += sum(map(len, self.indent_tokens))

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node not in self.spans:  # a syntactic position was recorded already
            self.spans[node] = (start, self.offset)

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        start = self.offset
        try:
            yield
        finally:
            end = self.offset
            if start_node is not None:
                start = self.spans[start_node][0]
            if end_node is not None:
                end = self.spans[end_node][1]
            self.spans[node] = (start, end)


class Positions:
    """`positions[node]` is the `CodeRange` `PositionProvider` would give."""

    def __init__(self, module: cst.Module) -> None:
        state = _OffsetState(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
        )
        module._codegen(state)
        code = self.code = "".join(state.tokens)
        self._spans = state.spans
        self._line_starts = [0] + [m.end() for m in NEWLINE.finditer(code)]

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        start, end = self._spans[node]
        return CodeRange(self._position(start), self._position(end))

    def _position(self, offset: int) -> CodePosition:
        line = bisect_right(self._line_starts, offset)
        return CodePosition(line, offset - self._line_starts[line - 1])
