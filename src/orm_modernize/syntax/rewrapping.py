"""Which statements of a fixed module to lay out again, and how: each that the
fixes changed and that no longer fits, or spans several lines, is joined or
split as black (and `ruff format`) would, by `wrapping.wrapped()` for the shapes
fixes write, by black itself for the rest (`black_layout.py`). Only in a module
whose code kept to the line length before: one that did not has no formatter to
agree with.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator

from orm_modernize.syntax.black_layout import black_layout
from orm_modernize.syntax.wrapping import (
    CLOSING,
    LONG_STRING,
    OPENING,
    without_redundant_parentheses,
    wrapped,
)

# A line that ends with an opening bracket
OPENS_AT_END = re.compile(r"^.*[(\[{][ \t]*$", re.MULTILINE)
# Python 3.12 reads an f-string as tokens, the brackets of its fields among them
FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


def rewrapped(old: str, new: str, limit: int) -> str:
    """`new` (a module's code after fixes) with each statement that the fixes
    changed and that no longer fits split as black would; a statement they
    changed that spans several lines is joined first, as black joins what fits
    (unless a comment or a trailing comma keeps its lines). Only in a module
    whose code kept to the limit (`old`, before the fixes); black lays out what
    the own rules do not cover only in a module that black may have laid out."""
    known = set(old.splitlines())
    if not _kept_to(old, limit):
        return new  # the file does not keep to the limit: neither do its fixes
    lines = new.splitlines(keepends=True)
    changed = {
        row
        for row, line in enumerate(lines)
        if line.rstrip("\r\n") not in known and line.strip()
    }
    long = any(len(lines[row].rstrip("\r\n")) > limit for row in changed)
    if not long and not any(_in_multiline(lines[row]) for row in changed):
        return new
    replacements: dict[int, tuple[int, str]] = {}  # first row -> (last row, text)
    formatted: list[bool] = []  # whether `old` is laid out as black would, once

    def by_black(statement: list[str]) -> str | None:
        if not formatted:
            formatted.append(_may_be_black(old))
        return black_layout(statement, limit) if formatted[0] else None

    for first, last in _statements(new, until=max(changed)):
        if not changed.intersection(range(first, last + 1)):
            continue
        end = lines[last][len(lines[last].rstrip("\r\n")) :] or "\n"
        statement = lines[first : last + 1]
        text = _joined(statement) if last > first else None
        if last > first and text is None:
            # A comment or a magic trailing comma keeps it on several lines.
            split = by_black(statement)
        else:
            line = text if text is not None else lines[first].rstrip("\r\n")
            if text is not None:
                line = without_redundant_parentheses(line)
            if len(line) <= limit:
                if text is not None:
                    replacements[first] = (last, line + end)
                continue
            split = wrapped(line, limit) or by_black(statement)
        if split is not None:
            replacements[first] = (last, split.replace("\n", end) + end)
    if not replacements:
        return new
    out: list[str] = []
    row = 0
    while row < len(lines):
        if row in replacements:
            last, text = replacements[row]
            out.append(text)
            row = last + 1
        else:
            out.append(lines[row])
            row += 1
    return "".join(out)


def _kept_to(code: str, limit: int) -> bool:
    """Whether the code's lines fit `limit`, but for those a formatter leaves
    long: a line with a comment or a long string, a line of a string over
    several lines (a docstring's), and a line inside brackets that opens none
    (an argument, a dict's item: black splits at brackets)."""
    lines = code.splitlines()
    long = [
        row
        for row, line in enumerate(lines)
        if len(line) > limit and "#" not in line and not LONG_STRING.search(line)
    ]
    if not long:
        return True
    depths: dict[int, int] = {}  # row -> the bracket depth its first token is at
    opens: dict[int, int] = {}  # row -> the brackets it opens that hold something
    strings: set[int] = set()  # rows of strings over several lines
    fstrings: list[int] = []  # the rows f-strings start on (tokens of Python 3.12+)
    depth = 0
    previous: tokenize.TokenInfo | None = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            row, last = token.start[0] - 1, token.end[0] - 1
            if row > long[-1]:
                break
            depths.setdefault(row, depth)
            if token.type == FSTRING_START:
                fstrings.append(row)
            elif token.type == FSTRING_END:
                start = fstrings.pop()
                if last > start:
                    strings.update(range(start, last + 1))
            elif token.type == tokenize.STRING and last > row:
                strings.update(range(row, last + 1))
            elif token.type == tokenize.OP and not fstrings:
                if token.string in OPENING:
                    depth += 1
                    opens[row] = opens.get(row, 0) + 1
                elif token.string in CLOSING:
                    depth -= 1
                    if (
                        previous is not None
                        and previous.string == CLOSING[token.string]
                    ):
                        opens[previous.start[0] - 1] -= 1  # `()`: nothing to split
            previous = token
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False
    return all(
        row in strings or (depths.get(row, 0) > 0 and not opens.get(row))
        for row in long
    )


def _may_be_black(code: str) -> bool:
    """Whether `code` may be laid out by black: no line ending with an opening
    bracket leaves another it opened open (`mapper(User, users, properties={`),
    which black never does. Lines are looked at first, then, if one looks so,
    its tokens (brackets in a string do not count)."""
    suspects = {
        code.count("\n", 0, match.start())
        for match in OPENS_AT_END.finditer(code)
        if _unclosed(match.group()) > 1
    }
    if not suspects:
        return True
    last = max(suspects)
    unclosed: dict[int, int] = {}  # row -> brackets it opened and left open
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            row = token.start[0] - 1
            if row > last:
                break
            if row in suspects and token.type == tokenize.OP:
                if token.string in OPENING:
                    unclosed[row] = unclosed.get(row, 0) + 1
                elif token.string in CLOSING:
                    unclosed[row] = max(unclosed.get(row, 0) - 1, 0)
            if (
                token.type in (tokenize.NEWLINE, tokenize.NL)
                and unclosed.get(row, 0) > 1
            ):
                return False
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False
    return True


def _unclosed(line: str) -> int:
    unclosed = 0
    for character in line:
        if character in OPENING:
            unclosed += 1
        elif character in CLOSING:
            unclosed = max(unclosed - 1, 0)
    return unclosed


def _in_multiline(line: str) -> bool:
    """Whether `line` looks like a line of a statement spanning several."""
    line = line.rstrip()
    return line.endswith(("(", "[", "{", ",")) or line.lstrip().startswith(
        (")", "]", "}", ".")
    )


def _statements(code: str, until: int) -> Iterator[tuple[int, int]]:
    """The first and last row (from 0) of each simple statement or compound
    statement header of `code` that starts by row `until` (the tokenizer is slow:
    the rest of a module is not read)."""
    start: int | None = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if start is None and token.start[0] - 1 > until:
                return
            if token.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT):
                continue
            if token.type in (tokenize.DEDENT, tokenize.ENDMARKER):
                continue
            if start is None:
                start = token.start[0] - 1
            if token.type == tokenize.NEWLINE:
                yield start, token.end[0] - 1
                start = None
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return


def _joined(lines: list[str]) -> str | None:
    """The statement over `lines` on one line, spaced as black spaces it; None
    when a comment, a trailing comma before a closing bracket, a backslash or a
    string over several lines keeps it on several."""
    text = "".join(lines)
    indent = text[: len(text) - len(text.lstrip())]
    parts: list[str] = []
    previous: tokenize.TokenInfo | None = None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text.strip()).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    rows = text.strip().splitlines()
    significant = [
        t
        for t in tokens
        if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER)
    ]
    for index, token in enumerate(significant):
        if token.type == tokenize.COMMENT or token.start[0] != token.end[0]:
            return None
        if token.string == "," and index + 1 < len(significant):
            after = significant[index + 1]
            if after.string in CLOSING and after.start[0] != token.start[0]:
                return None  # black's magic trailing comma
        if previous is not None:
            if previous.end[0] == token.start[0]:
                parts.append(rows[token.start[0] - 1][previous.end[1] : token.start[1]])
            elif not (
                previous.string in OPENING
                or token.string in (")", "]", "}", ".", ",")
                or previous.string == "."
            ):
                parts.append(" ")
        elif token.start[1] != 0:
            return None
        parts.append(token.string)
        previous = token
    return indent + "".join(parts)
