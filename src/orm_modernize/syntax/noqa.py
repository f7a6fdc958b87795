"""`# noqa` comments: reading them, and writing them for `--add-noqa`.

    x = session.query(User).get(1)  # noqa: ORM001   this code on this line
    x = session.query(User).get(1)  # noqa           every code on this line
    # orm-modernize: noqa                            every code in the file
    # orm-modernize: noqa: ORM001, ORM002            these codes in the file

The file-level forms stand on a line of their own.

As in ruff, a finding that starts on a line which cannot hold a comment, inside a
multi-line string or before a backslash continuation, is silenced from the line
where that string or continuation ends.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

CODES = r"[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*"
NOQA = re.compile(rf"#\s*noqa(?::\s*(?P<codes>{CODES}))?", re.I)
FILE_NOQA = re.compile(
    rb"^[ \t]*#[ \t]*orm-modernize:[ \t]*noqa"
    rb"(?::[ \t]*(?P<codes>[A-Z]+[0-9]+(?:[ \t,]+[A-Z]+[0-9]+)*))?[ \t]*\r?$",
    re.I | re.M,
)
# A line with its ending; only these three end a line, for Python and for LibCST.
LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def source_lines(source: bytes | None) -> list[str]:
    """The lines of a module's bytes, decoded as Python reads them (its coding
    cookie or BOM), each with its ending; none when it cannot be decoded.
    `str.splitlines()` would also split at form feeds and Unicode separators,
    and number the lines after them wrong."""
    if source is None:
        return []
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return LINE.findall(source.decode(encoding))
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return []


ALL = None  # a directive without codes silences every code


def file_exemption(source: bytes) -> frozenset[str] | None:
    """The codes that file-level `# orm-modernize: noqa` comments silence in the
    whole file (None: every code)."""
    if b"noqa" not in source and b"NOQA" not in source:
        return frozenset()
    codes: set[str] = set()
    for match in FILE_NOQA.finditer(source):
        if match.group("codes") is None:
            return ALL
        codes.update(_split(match.group("codes").decode()))
    return frozenset(codes)


@dataclass(frozen=True)
class Directives:
    """The `# noqa` comments of one module, by line (1-based)."""

    codes: dict[int, frozenset[str] | None]  # None: every code (no list given)
    # Lines that cannot end in a comment -> the line whose comment speaks for them.
    continued: dict[int, int]

    def line_for(self, line: int) -> int:
        return self.continued.get(line, line)

    def suppresses(self, code: str, line: int) -> bool:
        line = self.line_for(line)
        if line not in self.codes:
            return False
        codes = self.codes[line]
        return codes is None or code in codes


class Suppressions:
    """Which findings of a module its `# noqa` comments silence.

    Tokenizing a module is slow (pure Python before 3.12), so the comments are
    first found by a regular expression, line by line, and the tokenizer runs only
    when a finding's line could mislead it: a quote before the `# noqa` (which may
    then be inside a string), or a line that may continue into the next (a triple
    quote, a trailing backslash), whose comment is where the continuation ends."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LINE.findall(text)
        self.found = _by_line(self.lines)
        self._exact: Directives | None = None

    @property
    def silence_nothing(self) -> bool:
        """No line has a `# noqa` comment."""
        return not self.found

    def suppresses(self, code: str, line: int) -> bool:
        if not self.found:
            return False
        if line <= len(self.lines) and _may_continue(self.lines[line - 1]):
            return self._tokenized().suppresses(code, line)
        match = self.found.get(line)
        if match is None:
            return False
        if any(quote in self.lines[line - 1][: match.start()] for quote in "'\""):
            return self._tokenized().suppresses(code, line)
        codes = _silenced(match)
        return codes is ALL or code in codes

    def directive_line(self, line: int) -> int:
        """The line whose `# noqa` speaks for a finding on `line`."""
        if line <= len(self.lines) and _may_continue(self.lines[line - 1]):
            return self._tokenized().line_for(line)
        return line

    def _tokenized(self) -> Directives:
        if self._exact is None:
            self._exact = directives(self.text, until=max(self.found))
        return self._exact


def _may_continue(line: str) -> bool:
    return '"""' in line or "'''" in line or line.rstrip("\r\n").endswith("\\")


def directives(text: str, until: int | None = None) -> Directives:
    """The directives of a module's text (of its lines up to `until`). Comments
    are found by the tokenizer, so a `# noqa` inside a string is text."""
    codes: dict[int, frozenset[str] | None] = {}
    try:
        tokens = _tokens(text, until)
    except (tokenize.TokenError, SyntaxError):
        return _directives_by_line(text)
    for token in tokens:
        if token.type == tokenize.COMMENT:
            match = NOQA.search(token.string)
            if match:
                codes[token.start[0]] = _silenced(match)
    return Directives(codes, _continued(tokens))


def _directives_by_line(text: str) -> Directives:
    """For text the tokenizer refuses (LibCST reads some such files)."""
    found = _by_line(LINE.findall(text))
    return Directives({n: _silenced(m) for n, m in found.items()}, {})


def _by_line(lines: list[str]) -> dict[int, re.Match[str]]:
    """The `# noqa` each line holds, found by a regular expression."""
    return {n: match for n, line in enumerate(lines, 1) if (match := NOQA.search(line))}


def _silenced(match: re.Match[str]) -> frozenset[str] | None:
    """The codes a `# noqa` match lists, or ALL."""
    codes = match.group("codes")
    return ALL if codes is None else _split(codes)


# Tokens after which a line may end and hold a comment.
_LINE_ENDS = frozenset(
    {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENCODING}
)


def _continued(tokens: list[tokenize.TokenInfo]) -> dict[int, int]:
    """Line -> the line that ends it, for lines inside a multi-line string (an
    f-string's parts included) or ending in a backslash."""
    inside: set[int] = set()
    for start, end in _spans(tokens):
        inside.update(range(start, end))
    previous: tokenize.TokenInfo | None = None
    for token in tokens:
        if token.type in (tokenize.INDENT, tokenize.DEDENT):
            continue
        if (
            previous is not None
            and previous.type not in _LINE_ENDS
            and token.start[0] > previous.end[0]
        ):
            inside.update(range(previous.end[0], token.start[0]))
        previous = token
    continued: dict[int, int] = {}
    for line in sorted(inside, reverse=True):
        continued[line] = continued.get(line + 1, line + 1)
    return continued


def _spans(tokens: Iterable[tokenize.TokenInfo]) -> Iterator[tuple[int, int]]:
    """(first, last) line of each token, or f-string, that spans lines."""
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    opened: list[int] = []
    for token in tokens:
        if token.type == fstring_start:
            opened.append(token.start[0])
        elif token.type == fstring_end and opened:
            start = opened.pop()
            if token.end[0] > start:
                yield start, token.end[0]
        elif token.end[0] > token.start[0] and token.type not in _LINE_ENDS:
            yield token.start[0], token.end[0]


def _tokens(text: str, until: int | None = None) -> list[tokenize.TokenInfo]:
    """The tokens of `text`, or of its lines up to `until` (and of the token that
    spans that line)."""
    # Universal newlines, so that rows count lines as LibCST does (`\r` too).
    reader = io.StringIO(text, newline=None).readline
    tokens: list[tokenize.TokenInfo] = []
    for token in tokenize.generate_tokens(reader):
        if until is not None and token.start[0] > until:
            break
        tokens.append(token)
    return tokens


def _split(codes: str) -> frozenset[str]:
    return frozenset(split_codes(codes))


def split_codes(codes: str) -> list[str]:
    """The codes of a `# noqa: ...` list, in their order, upper-cased."""
    return re.split(r"[\s,]+", codes.upper().strip())


def comment_tokens(text: str, until: int | None = None) -> list[tuple[int, int, str]]:
    """(line, column from 0, text) of each comment of `text` (of its lines up to
    `until`); none when it cannot be tokenized."""
    try:
        tokens = _tokens(text, until)
    except (tokenize.TokenError, SyntaxError):
        return []
    return [
        (t.start[0], t.start[1], t.string) for t in tokens if t.type == tokenize.COMMENT
    ]


def with_directives(
    source: bytes,
    encoding: str,
    findings: dict[int, set[str]],
    reason: str | None = None,
) -> tuple[bytes, int]:
    """`source` with `# noqa: CODES` on each line that `findings` (line -> codes)
    names, merged into a `# noqa: ...` already there (whose own words stay), and
    how many lines changed; a new directive ends with `reason`, if any. Raises
    SyntaxError (or tokenize.TokenError) when the module cannot be tokenized."""
    said = f" {' '.join(reason.split())}" if reason and reason.strip() else ""
    text = source.decode(encoding)
    tokens = _tokens(text)
    known = Directives({}, _continued(tokens))
    comments = {t.start[0]: t for t in tokens if t.type == tokenize.COMMENT}
    wanted: dict[int, set[str]] = {}
    for line, codes in findings.items():
        wanted.setdefault(known.line_for(line), set()).update(codes)
    lines = LINE.findall(text)
    changed = 0
    for number, codes in wanted.items():
        if number > len(lines):
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        comment = comments.get(number)
        match = NOQA.search(comment.string) if comment is not None else None
        if match is not None and comment is not None:
            if match.group("codes") is None:
                continue  # without a list of codes, it silences all already
            merged = sorted(_split(match.group("codes")) | codes)
            start = comment.start[1] + match.start()
            end = comment.start[1] + match.end()
            body = f"{body[:start]}# noqa: {', '.join(merged)}{body[end:]}"
        else:
            body = f"{body.rstrip()}  # noqa: {', '.join(sorted(codes))}{said}"
        if body + ending != line:
            lines[number - 1] = body + ending
            changed += 1
    return "".join(lines).encode(encoding), changed
