"""Where each node is in the source: what LibCST's `PositionProvider` says, for
the cost of printing the module once.

The provider splits every printed token with a regular expression to track the
line and column, and makes two position objects per node: about twice the cost of
printing. Here the printer keeps a character offset, each node gets a pair of
offsets, and only the nodes asked about are turned into lines and columns.
`test_positions.py` compares both on real code.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import libcst as cst
from libcst._nodes.internal import CodegenState  # the printer's state: no public name
from libcst._position import CodePosition, CodeRange  # as libcst.metadata, lighter

from orm_modernize.syntax.parsing import python_tree

S = TypeVar("S", bound=CodegenState)
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
        # Not in a `finally` (as LibCST's own): when printing fails, Ctrl-C in the
        # middle of it say, the child spans are missing and a KeyError here would
        # replace the interruption.
        start = self.offset
        yield
        end = self.offset
        if start_node is not None:
            start = self.spans[start_node][0]
        if end_node is not None:
            end = self.spans[end_node][1]
        self.spans[node] = (start, end)


class Positions:
    """`positions[node]` is the `CodeRange` `PositionProvider` would give.

    Printing a whole module costs half its parse, and a file's findings sit in a
    few of its statements. So with the module's `parents` and `source`, only the
    statement around a node is printed (with its block's indentation, so columns
    are the file's), and Python's own parser, in C, says on which line each
    statement starts. Without them, or when that parser cannot read the file (a
    newer syntax than the running Python's), the whole module is printed once.
    """

    def __init__(
        self,
        module: cst.Module,
        parents: Mapping[cst.CSTNode, cst.CSTNode] | None = None,
        source: bytes | None = None,
    ) -> None:
        self._module = module
        self._parents = parents
        self._lines = (
            statement_lines(module, source)
            if parents is not None and source is not None
            else None
        )
        self._printed: dict[cst.CSTNode, _Printed] = {}

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        statement = self._statement_of(node)
        if statement is None:
            printed, first_line = self._print(self._module), 1
        else:
            printed = self._print(statement)
            assert self._lines is not None
            # The file's line of the statement's start, less its line in the print.
            first_line = self._lines[statement] - printed.line(
                printed.spans[statement][0]
            )
        start, end = printed.spans[node]
        return CodeRange(
            CodePosition(first_line + printed.line(start), printed.column(start)),
            CodePosition(first_line + printed.line(end), printed.column(end)),
        )

    @property
    def statement_lines(self) -> Mapping[cst.CSTNode, int] | None:
        """The line each statement starts on (see `statement_lines()`); None
        without the module's parents and source, or when Python cannot read it."""
        return self._lines

    def start(self, node: cst.CSTNode) -> CodePosition:
        """`self[node].start`; for a statement whose line Python's parser gave,
        without printing it (a compound one may be a whole class)."""
        line = self._lines.get(node) if self._lines is not None else None
        decorated = isinstance(node, (cst.FunctionDef, cst.ClassDef)) and bool(
            node.decorators  # the statement starts at the first
        )
        if line is None or decorated:
            return self[node].start
        return CodePosition(line, sum(map(len, self._indents(node))))

    def code_in_place(self, node: cst.CSTNode, replacement: cst.CSTNode) -> str:
        """The code of `replacement` standing where `node` stands: lines after its
        first are indented as the blocks around `node` are."""
        return "".join(self._in_place(node, replacement, CodegenState).tokens)

    def _statement_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The innermost statement around `node`, if its line is known."""
        if self._lines is None or self._parents is None:
            return None
        current: cst.CSTNode | None = node
        while current is not None and current not in self._lines:
            current = self._parents.get(current)
        return current

    def _print(self, node: cst.CSTNode) -> _Printed:
        printed = self._printed.get(node)
        if printed is None:
            state = self._in_place(node, node, _OffsetState)
            printed = self._printed[node] = _Printed("".join(state.tokens), state.spans)
        return printed

    def _in_place(self, node: cst.CSTNode, printed: cst.CSTNode, kind: type[S]) -> S:
        """`printed`, printed into a new state of `kind` with the indentation of
        the blocks around `node`."""
        module = self._module
        state = kind(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
        )
        state.indent_tokens.extend(self._indents(node))
        printed._codegen(state)
        return state

    def _indents(self, node: cst.CSTNode) -> list[str]:
        """The indentation of each block around `node`, outermost first, as the
        printer adds it."""
        found: list[str] = []
        parent = self._parents.get(node) if self._parents is not None else None
        while parent is not None:
            if isinstance(parent, (cst.IndentedBlock, cst.Match)):  # `case`s too
                indent = parent.indent
                found.append(self._module.default_indent if indent is None else indent)
            parent = self._parents.get(parent)  # type: ignore[union-attr]
        found.reverse()
        return found


class _Printed:
    """One printed node: where its lines start, and the span of each node in it."""

    def __init__(self, code: str, spans: dict[cst.CSTNode, tuple[int, int]]) -> None:
        self.spans = spans
        self._starts = [0] + [m.end() for m in NEWLINE.finditer(code)]

    def line(self, offset: int) -> int:
        """0 for the first line of the print."""
        return bisect_right(self._starts, offset) - 1

    def column(self, offset: int) -> int:
        return offset - self._starts[self.line(offset)]


def statement_lines(module: cst.Module, source: bytes) -> dict[cst.CSTNode, int] | None:
    """The line on which each statement of `module` starts (a compound one at its
    keyword, after its decorators), as Python's `ast` reads `source`; None if it
    cannot, or if its statements do not pair with LibCST's one for one."""
    try:
        tree = python_tree(source)  # CPython's warnings on 3.12+ are not ours
    except (SyntaxError, ValueError):
        return None
    lines: dict[cst.CSTNode, int] = {}
    return lines if _pair_body(module.body, tree.body, lines) else None


class _AbsentTry(ast.Try):
    """`except*` on a Python before 3.11, whose `ast` lacks it: code using it does
    not compile there, so no tree holds one."""


class _AbsentMatch(ast.stmt):
    """`match` on Python 3.9, likewise."""


_TRY_STAR: type[ast.Try] = getattr(ast, "TryStar", _AbsentTry)
_MATCH: type[ast.stmt] = getattr(ast, "Match", _AbsentMatch)

COMPOUND: dict[type[cst.CSTNode], tuple[type[ast.stmt], ...]] = {
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,),
    cst.If: (ast.If,),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.With: (ast.With, ast.AsyncWith),
    cst.Try: (ast.Try,),
    cst.TryStar: (_TRY_STAR,),
    cst.Match: (_MATCH,),
}


def _pair_body(
    statements: Sequence[cst.BaseStatement],
    nodes: Sequence[ast.stmt],
    lines: dict[cst.CSTNode, int],
) -> bool:
    index = 0
    for statement in statements:
        if index >= len(nodes):
            return False
        node = nodes[index]
        lines[statement] = node.lineno
        if isinstance(statement, cst.SimpleStatementLine):
            index += len(statement.body)  # `a; b` is two statements to `ast`
            continue
        index += 1
        if not _pair_compound(statement, node, lines):
            return False
    return index == len(nodes)


def _pair_compound(
    statement: cst.BaseStatement, node: ast.stmt, lines: dict[cst.CSTNode, int]
) -> bool:
    if not isinstance(node, COMPOUND.get(type(statement), ())):
        return False
    pairs: list[tuple[cst.BaseSuite | None, list[ast.stmt]]] = []
    if isinstance(statement, cst.If):
        assert isinstance(node, ast.If)
        pairs.append((statement.body, node.body))
        orelse = statement.orelse
        if isinstance(orelse, cst.If):  # elif: printed with its `if` only
            if len(node.orelse) != 1:
                return False
            return _pair_suite(statement.body, node.body, lines) and _pair_compound(
                orelse, node.orelse[0], lines
            )
        pairs.append((orelse.body if orelse is not None else None, node.orelse))
    elif isinstance(statement, (cst.Try, cst.TryStar)):
        assert isinstance(node, (ast.Try, _TRY_STAR))
        if len(statement.handlers) != len(node.handlers):
            return False
        pairs.append((statement.body, node.body))
        for handler, caught in zip(statement.handlers, node.handlers):
            assert isinstance(handler, (cst.ExceptHandler, cst.ExceptStarHandler))
            assert isinstance(caught, ast.ExceptHandler)
            pairs.append((handler.body, caught.body))
        else_, final = statement.orelse, statement.finalbody
        pairs.append((else_.body if else_ is not None else None, node.orelse))
        pairs.append((final.body if final is not None else None, node.finalbody))
    elif isinstance(statement, cst.Match):
        assert isinstance(node, ast.Match)
        if len(statement.cases) != len(node.cases):
            return False
        pairs += [(c.body, a.body) for c, a in zip(statement.cases, node.cases)]
    elif isinstance(statement, (cst.For, cst.While)):
        assert isinstance(node, (ast.For, ast.AsyncFor, ast.While))
        pairs.append((statement.body, node.body))
        orelse = statement.orelse
        pairs.append((orelse.body if orelse is not None else None, node.orelse))
    else:
        assert isinstance(statement, (cst.FunctionDef, cst.ClassDef, cst.With))
        assert hasattr(node, "body")
        pairs.append((statement.body, node.body))
    return all(_pair_suite(suite, body, lines) for suite, body in pairs)


def _pair_suite(
    suite: cst.BaseSuite | None, body: list[ast.stmt], lines: dict[cst.CSTNode, int]
) -> bool:
    if suite is None:
        return not body
    if isinstance(suite, cst.IndentedBlock):
        return _pair_body(suite.body, body, lines)
    return len(suite.body) == len(body)  # `if a: b; c` on one line
