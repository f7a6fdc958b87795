"""A module's code after fixes, printing only the statements they changed:
LibCST prints a whole module at half the cost of parsing it, and a fix pass
changes a few statements of a large module.

A statement the fixes left as it was is the same node in the new tree (the
replacer rebuilds only the way down to each edit), and its text is the one it
had in the file: from its leading comments and blank lines to the line its
next sibling's begin on. Where each statement starts, Python's parser says
(`statement_lines`); what stands before it is counted from the tree. A class,
function or other block rebuilt around a changed statement keeps the text of
its header and of its other statements (a test class is not printed again for
one of its methods).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import fields

import libcst as cst
from libcst._nodes.internal import CodegenState  # the printer's state: no public name

from orm_modernize.syntax.noqa import LINE
from orm_modernize.syntax.positions import NEWLINE
from orm_modernize.syntax.replace import Origins

# Blocks whose body ends their text (an `if` with an `else`, a `try`, do not).
BLOCKS = (cst.ClassDef, cst.FunctionDef, cst.With, cst.For, cst.While, cst.If)


def reprinted(
    old: cst.Module,
    text: str,
    lines: Mapping[cst.CSTNode, int] | None,
    new: cst.Module,
    origins: Origins | None = None,
) -> str:
    """`new.code`, where `new` is `old` (parsed from `text`, its statements
    starting on `lines`) with some statements replaced; `origins`: the node
    each rebuilt one was rebuilt from (`replaced()` says)."""
    spans = _spans(old, text, lines)
    if spans is None:
        return new.code
    assert lines is not None
    rows, header, segments, footer = spans
    printer = _Printer(old, new, rows, lines, segments, origins or {})
    parts: list[str] = [
        _joined(rows, header)
        if _same(old.header, new.header)
        else _printed(new, new.header)
    ]
    parts.extend(printer.text(statement, ()) for statement in new.body)
    parts.append(
        _joined(rows, footer)
        if _same(old.footer, new.footer)
        else _printed(new, new.footer)
    )
    code = "".join(parts)
    if not new.has_trailing_newline:
        # The printer drops the last token, always a line's end.
        code = code[: len(code) - len(_ending(code))]
    elif not code:
        code = new.default_newline
    return code


class _Printer:
    """The text of each statement of the new tree: its old rows where the
    fixes left it, else printed, reusing the rows of a rebuilt block's header
    and of the statements of its body they left."""

    def __init__(
        self,
        old: cst.Module,
        new: cst.Module,
        rows: list[str],
        lines: Mapping[cst.CSTNode, int],
        segments: dict[int, range],
        origins: Origins,
    ) -> None:
        self._old = old
        self._new = new
        self._rows = rows
        self._lines = lines
        self._segments = segments  # the rows of each old statement, by `id`
        self._origins = origins

    def text(self, statement: cst.BaseStatement, indents: tuple[str, ...]) -> str:
        """`statement`'s code, inside blocks indented by `indents`."""
        span = self._segments.get(id(statement))
        if span is not None:
            return _joined(self._rows, span)
        block = self._block(statement, indents)
        if block is not None:
            return block
        state = CodegenState(
            default_indent=self._new.default_indent,
            default_newline=self._new.default_newline,
        )
        state.indent_tokens.extend(indents)
        statement._codegen(state)
        return "".join(state.tokens)

    def _block(
        self, statement: cst.BaseStatement, indents: tuple[str, ...]
    ) -> str | None:
        """A block rebuilt from an old one around changes in its body only: its
        old header and footer rows around the text of its new body."""
        origin = self._origins.get(id(statement))
        if origin is None or origin[0] is not statement:
            return None
        old = origin[1]
        span = self._segments.get(id(old))
        if span is None or not _body_changed_only(old, statement):
            return None
        assert isinstance(old, BLOCKS) and isinstance(statement, BLOCKS)
        assert isinstance(old.body, cst.IndentedBlock)
        inner = self._split(old.body, span)
        if inner is None:
            return None
        head, foot = inner
        body = statement.body
        assert isinstance(body, cst.IndentedBlock)
        deeper = (
            *indents,
            self._new.default_indent if body.indent is None else body.indent,
        )
        return (
            _joined(self._rows, head)
            + "".join(self.text(child, deeper) for child in body.body)
            + _joined(self._rows, foot)
        )

    def _split(
        self, block: cst.IndentedBlock, span: range
    ) -> tuple[range, range] | None:
        """The rows of a block's header and footer within `span`, its statement's,
        each of its statements' rows noted; None when they cannot be told."""
        starts: list[int] = []
        for child in block.body:
            first = _first_row(self._old, child, self._lines)
            if first is None or first <= (starts[-1] if starts else span.start):
                return None
            starts.append(first)
        end = span.stop - len(block.footer)
        if end <= starts[-1]:
            return None
        bounds = [*starts, end]
        for n, child in enumerate(block.body):
            self._segments[id(child)] = range(bounds[n], bounds[n + 1])
        return range(span.start, starts[0]), range(end, span.stop)


def _body_changed_only(old: cst.CSTNode, new: cst.CSTNode) -> bool:
    """`new` is `old` with other statements in its indented body, which ends it."""
    if type(old) is not type(new) or not isinstance(old, BLOCKS):
        return False
    assert isinstance(new, BLOCKS)
    if getattr(old, "orelse", None) is not None:
        return False
    before, after = old.body, new.body
    if not (
        isinstance(before, cst.IndentedBlock)
        and isinstance(after, cst.IndentedBlock)
        and before.body
        and after.body
    ):
        return False
    return all(
        getattr(old, f.name) is getattr(new, f.name)
        for f in fields(old)
        if f.name != "body"
    ) and all(
        getattr(before, f.name) is getattr(after, f.name)
        for f in fields(before)
        if f.name != "body"
    )


def _spans(
    module: cst.Module, text: str, lines: Mapping[cst.CSTNode, int] | None
) -> tuple[list[str], range, dict[int, range], range] | None:
    """The module's lines (each with its end, the last one's restored), and the
    rows of its header, of each top-level statement (by `id`) and of its footer;
    None when they cannot be told."""
    if lines is None or not module.body or text.startswith("\ufeff"):
        return None
    if not module.has_trailing_newline:
        text += module.default_newline
    rows = LINE.findall(text)
    starts: list[int] = []
    for statement in module.body:
        first = _first_row(module, statement, lines)
        if first is None or (starts and first <= starts[-1]):
            return None
        starts.append(first)
    end = len(rows) - len(module.footer)
    if starts[0] != len(module.header) or end <= starts[-1]:
        return None
    bounds = [*starts, end]
    segments = {
        id(statement): range(bounds[n], bounds[n + 1])
        for n, statement in enumerate(module.body)
    }
    return rows, range(starts[0]), segments, range(end, len(rows))


def _first_row(
    module: cst.Module, statement: cst.BaseStatement, lines: Mapping[cst.CSTNode, int]
) -> int | None:
    """The row (from 0) of the first line of `statement`'s text: its leading
    lines, then its decorators and the lines after them, then its first token."""
    line = lines.get(statement)
    if line is None or not isinstance(
        statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)
    ):
        return None
    before = len(statement.leading_lines)
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.decorators:
        before += len(statement.lines_after_decorators)
        for decorator in statement.decorators:
            before += len(NEWLINE.findall(module.code_for_node(decorator)))
    return line - 1 - before


def _same(old: Sequence[cst.CSTNode], new: Sequence[cst.CSTNode]) -> bool:
    return len(old) == len(new) and all(a is b for a, b in zip(old, new))


def _joined(rows: list[str], span: range) -> str:
    return "".join(rows[span.start : span.stop])


def _printed(module: cst.Module, nodes: Sequence[cst.CSTNode]) -> str:
    return "".join(module.code_for_node(node) for node in nodes)


def _ending(code: str) -> str:
    match = re.search(r"(?:\r\n?|\n)\Z", code)
    return match.group() if match else ""
