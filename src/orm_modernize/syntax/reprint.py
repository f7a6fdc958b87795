"""A module's code after fixes, printing only the top-level statements they
changed: LibCST prints a whole module at half the cost of parsing it, and a fix
pass changes a few statements of a large module.

A top-level statement the fixes left as it was is the same node in the new tree
(the replacer rebuilds only the way down to each edit), and its text is the one
it had in the file: from its leading comments and blank lines to the line its
next sibling's begin on. Where each statement starts, Python's parser says
(`statement_lines`); what stands before it is counted from the tree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import libcst as cst

from orm_modernize.syntax.noqa import LINE
from orm_modernize.syntax.positions import NEWLINE


def reprinted(
    old: cst.Module,
    text: str,
    lines: Mapping[cst.CSTNode, int] | None,
    new: cst.Module,
) -> str:
    """`new.code`, where `new` is `old` (parsed from `text`, its statements
    starting on `lines`) with some statements replaced."""
    spans = _spans(old, text, lines)
    if spans is None:
        return new.code
    rows, header, segments, footer = spans
    parts: list[str] = [
        _joined(rows, header)
        if _same(old.header, new.header)
        else _printed(new, new.header)
    ]
    for statement in new.body:
        span = segments.get(id(statement))
        parts.append(
            _joined(rows, span) if span is not None else new.code_for_node(statement)
        )
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
