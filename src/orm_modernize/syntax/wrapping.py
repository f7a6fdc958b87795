"""A statement a fix made too long, split as black (and `ruff format`) would split
it, so that formatting the fixed file afterwards changes nothing of it.

Only what fixes write is covered: calls, their arguments and method chains, in an
assignment, a `return`, a `for`/`if`/`while` header or an expression statement.
Black's rules, as far as they apply there:

- Inside brackets, a line that does not fit is split at its delimiters of the
  highest priority: before each `for`/`if` of a comprehension, after each comma
  (adding the trailing comma), before each `and`/`or`, or before each
  `.method()` of a chain that has two or more (`select(User)` / `.where(...)` /
  `.order_by(...)`).
- Otherwise at the last bracket pair, skipping empty ones (`.all()`), whose
  opening line then fits: `users = session.scalars(` / `select(...)` / `).all()`.
- The value of an assignment, `return` or loop header with two or more chained
  methods is put in parentheses and split at them.
- A value `a or b` (or `and`) is split, without parentheses, at its rightmost
  bracket pair whose opening line fits and whose closing one can hold the rest.

Anything else (operators, lambdas, comments, strings over several lines) is left
as it is: `wrapped()` returns None, and the line stays long.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from dataclasses import dataclass

OPENING = {"(": ")", "[": "]", "{": "}"}
CLOSING = {closing: opening for opening, closing in OPENING.items()}
COMPREHENSION, COMMA, LOGIC, DOT = 20, 18, 14, 1
# What black splits at that this module does not reproduce: a line whose split
# would need them is left alone.
OTHER_DELIMITERS = frozenset(
    {"and", "or", "not", "if", "else", "lambda", "is", "in", "==", "!=", "<", ">"}
    | {"<=", ">=", "+", "-", "*", "/", "//", "%", "@", "**", "|", "&", "^", "<<"}
    | {">>", ":=", "~", "await", "async", "yield"}
)


BOOLEAN = frozenset({"and", "or"})
AUGMENTED = frozenset(
    {"+=", "-=", "*=", "/=", "//=", "%=", "@=", "**=", "|=", "&=", "^=", ">>=", "<<="}
)


# A string literal of 40 characters or more (a URL, a message, SQL)
LONG_STRING = re.compile(r"""(["'])[^"'\n]{40,}\1""")


class Unsupported(Exception):
    """The line needs a split this module does not make."""


@dataclass(frozen=True)
class Token:
    text: str
    start: int  # columns in the line
    end: int
    kind: int  # tokenize's type
    depth: int  # brackets open around it (a bracket's own pair not counted)


def wrapped(line: str, limit: int) -> str | None:
    """`line` (one logical line, its indentation included, no newline) split to
    fit `limit` columns as black splits it; None when it fits already or this
    module cannot split it the way black would."""
    if len(line) <= limit or "\n" in line or "#" in line:
        return None
    indent = line[: len(line) - len(line.lstrip())]
    text = line.strip()
    try:
        tokens = _tokens(text)
        lines = _statement(text, tokens, indent, limit)
    except (Unsupported, tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return "\n".join(lines)


def _tokens(text: str) -> list[Token]:
    found: list[Token] = []
    depth = 0
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        kind, string = token.type, token.string
        if kind in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            continue
        if kind in (tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT) or (
            tokenize.tok_name[kind].startswith("FSTRING")  # braces of an f-string
        ):
            raise Unsupported
        if kind == tokenize.STRING and found and found[-1].kind == tokenize.STRING:
            raise Unsupported  # implicit concatenation: black may split it
        closing = kind == tokenize.OP and string in CLOSING
        opening = kind == tokenize.OP and string in OPENING
        depth -= closing
        found.append(Token(string, token.start[1], token.end[1], kind, depth))
        depth += opening
    return found


def _statement(text: str, tokens: list[Token], indent: str, limit: int) -> list[str]:
    """Black's split of a whole statement: the optional parentheses of its value
    first, then its last bracket pair."""
    value = _value(tokens)
    if value is not None:
        first, last = value
        inner = _at(text, tokens, first, last)
        inner_tokens = _tokens(inner)
        if any(t.text == "=" and t.depth == 0 for t in inner_tokens):
            raise Unsupported  # `a = b = value`
        if any(_is_boolean(t) for t in inner_tokens):
            return _boolean(text, tokens, first, last, indent, limit)
        inner_priorities = _priorities(inner_tokens)
        if not _only_dots(inner_priorities):
            raise Unsupported
        if inner_priorities.count(DOT) >= 2:
            head = text[: tokens[first].start] + "("
            tail = ")" + text[tokens[last].end :]
            return [
                indent + head,
                *_body(inner, inner_tokens, indent + "    ", limit),
                indent + tail,
            ]
    elif not _only_dots(_priorities(tokens)):
        raise Unsupported  # `a, b` as a statement: black adds parentheses
    return _right_hand(text, tokens, indent, limit)


def _is_boolean(token: Token) -> bool:
    return token.depth == 0 and token.kind == tokenize.NAME and token.text in BOOLEAN


def _boolean(
    text: str, tokens: list[Token], first: int, last: int, indent: str, limit: int
) -> list[str]:
    """`x = a(...) or b(...)`, one `or` (or `and`): black leaves out the value's
    optional parentheses and splits at the rightmost bracket pair whose opening
    line fits, among those the rest of the line after them fits on
    (`found = db.session.get(` / `Model, pk` / `) or abort(404)`)."""
    value = tokens[first : last + 1]
    operators = [t for t in value if _is_boolean(t)]
    if len(operators) != 1 or any(
        t.depth == 0 and (t.text == "," or t.text in OTHER_DELIMITERS)
        for t in value
        if t is not operators[0]
    ):
        raise Unsupported  # black keeps the parentheses: not reproduced here
    pairs = _pairs(tokens)
    for close in range(last, first - 1, -1):
        token = tokens[close]
        if len(indent) + len(text) - token.start > limit:
            break  # what follows no longer fits on the last line
        if token.depth != 0 or token.text not in CLOSING:
            continue
        opening = pairs[close]
        if close - opening < 2 or opening <= first:
            continue  # `()` is never split; a bracket opening the value
        head = text[: tokens[opening].end]
        if len(indent) + len(head) > limit:
            continue
        inner = text[tokens[opening].end : token.start].strip()
        return [
            indent + head,
            *_body(inner, _tokens(inner), indent + "    ", limit),
            indent + text[token.start :],
        ]
    raise Unsupported


def without_redundant_parentheses(line: str) -> str:
    """`line` without the parentheses around the value of its statement, which
    black drops (and puts back only where it splits at them): `return (x)`."""
    indent = line[: len(line) - len(line.lstrip())]
    text = line.strip()
    try:
        tokens = _tokens(text)
    except (Unsupported, tokenize.TokenError, IndentationError, SyntaxError):
        return line
    value = _value(tokens)
    if value is None:
        return line
    first, last = value
    if tokens[first].text != "(" or _pairs(tokens).get(last) != first:
        return line
    inside = tokens[first + 1 : last]
    if not inside or any(
        t.depth == 1 and t.text in (",", "for", "yield", ":=") for t in inside
    ):
        return line  # a tuple, a generator: the parentheses are needed
    inner = text[tokens[first].end : tokens[last].start].strip()
    return indent + text[: tokens[first].start] + inner + text[tokens[last].end :]


def _value(tokens: list[Token]) -> tuple[int, int] | None:
    """The first and last tokens of the value black wraps in invisible
    parentheses: of `x = v`, `return v`, `for t in v:`, `if v:`, `while v:`."""
    if not tokens:
        return None
    words = [t.text for t in tokens]
    colon = len(tokens) - 1 if words[-1] == ":" else len(tokens)
    if words[0] == "return" and len(tokens) > 1:
        return 1, len(tokens) - 1
    if words[0] in ("if", "elif", "while") and colon < len(tokens):
        return 1, colon - 1
    if words[0] == "for" and colon < len(tokens):
        for index, token in enumerate(tokens):
            if token.depth == 0 and token.text == "in":
                return index + 1, colon - 1
        return None
    for index, token in enumerate(tokens[:-1]):
        assigns = token.text == "=" or token.text in AUGMENTED
        if token.depth == 0 and token.kind == tokenize.OP and assigns:
            return index + 1, len(tokens) - 1
    return None


def _body(text: str, tokens: list[Token], indent: str, limit: int) -> list[str]:
    """The lines of what is inside brackets: as it is if it fits, else split at
    its delimiters, else at its last bracket pair."""
    if len(indent) + len(text) <= limit:
        return [indent + text]
    priorities = _priorities(tokens)
    if tokens and tokens[-1].text == ",":  # black looks past a trailing comma
        priorities[-1] = 0
    priority = max(priorities, default=0)
    if priority and not (priority == DOT and priorities.count(DOT) < 2):
        cuts = [i for i, found in enumerate(priorities) if found == priority]
        return _delimited(text, tokens, priority, cuts, indent, limit)
    return _right_hand(text, tokens, indent, limit)


def _delimited(
    text: str,
    tokens: list[Token],
    priority: int,
    cuts: list[int],
    indent: str,
    limit: int,
) -> list[str]:
    """One line per delimiter of `priority` (at `cuts`), each split further if
    need be."""
    pieces: list[tuple[int, int]] = []  # (first, last) token of each line
    start = 0
    for cut in cuts:
        if priority == COMMA:  # after the comma
            pieces.append((start, cut))
            start = cut + 1
        else:  # before the `for`, the `and`/`or` or the dot
            if cut > start:
                pieces.append((start, cut - 1))
            start = cut
    if start < len(tokens):
        pieces.append((start, len(tokens) - 1))
    if len(pieces) < 2:  # `(x,)`, a lone `if`: nothing to split at
        return _right_hand(text, tokens, indent, limit)
    lines = []
    for first, last in pieces:
        piece = _at(text, tokens, first, last)
        if priority == COMMA and not piece.endswith(","):
            piece += ","  # black's trailing comma, one element a line
        lines.extend(_body(piece, _tokens(piece), indent, limit))
    return lines


def _right_hand(text: str, tokens: list[Token], indent: str, limit: int) -> list[str]:
    """Split at the last bracket pair whose opening line fits, trying those
    further left while only trailers (`.all()`, `[0]`, `.name`) follow."""
    pairs = _pairs(tokens)
    candidates = []
    index = len(tokens) - 1
    while index >= 0:
        token = tokens[index]
        if token.depth == 0 and token.text in CLOSING:
            opening = pairs[index]
            if index - opening > 1:  # `()` is never split
                candidates.append((opening, index))
            before = tokens[opening - 1] if opening else None
            if before is None or not (_is_name(before) or before.text in (")", "]")):
                break  # the bracket does not follow a name or a call: not a trailer
            index = opening - 1
            continue
        if token.depth == 0 and not (token.text in (".", ":", ",") or _is_name(token)):
            break
        index -= 1
    if not candidates:
        raise Unsupported
    chosen = candidates[0]
    for opening, close in candidates:
        if len(indent) + tokens[opening].end <= limit:
            chosen = (opening, close)
            break
    opening, close = chosen
    before = tokens[opening - 1] if opening else None
    if (
        tokens[opening].text == "["
        and before is not None
        and (before.text in (")", "]") or _is_name(before))
    ):
        raise Unsupported  # a subscript: black's rules for those are not ours
    head = text[: tokens[opening].end]
    inner = text[tokens[opening].end : tokens[close].start].strip()
    tail = text[tokens[close].start :]
    lines = [indent + head]
    lines.extend(_body(inner, _tokens(inner), indent + "    ", limit))
    if len(indent) + len(tail) > limit:
        raise Unsupported
    lines.append(indent + tail)
    return lines


def _is_name(token: Token) -> bool:
    return token.kind == tokenize.NAME and not keyword.iskeyword(token.text)


def _priorities(tokens: list[Token]) -> list[int]:
    """Each token's delimiter priority at the outermost level of the line (0:
    none); Unsupported for a delimiter this module does not split at."""
    comprehension = any(t.text == "for" and t.depth == 0 for t in tokens)
    found = []
    after_for = False  # `in` after a comprehension's `for` is no delimiter
    for index, token in enumerate(tokens):
        found.append(_priority(tokens, index, comprehension, after_for))
        after_for |= token.text == "for" and token.depth == 0
    return found


def _priority(
    tokens: list[Token], index: int, comprehension: bool, after_for: bool
) -> int:
    token = tokens[index]
    if token.depth != 0:
        return 0
    if token.text == ",":
        return COMMA
    if token.text in ("for", "async") and index:
        return COMPREHENSION
    if token.text == "if" and comprehension:
        return COMPREHENSION
    if token.text == "." and index and tokens[index - 1].text in (")", "]"):
        return DOT
    if token.text == "in" and after_for:
        return 0  # `for u in users` of a comprehension
    if _is_boolean(token):
        return LOGIC  # inside brackets: black splits before each `and`/`or`
    if token.text in OTHER_DELIMITERS and token.kind in (
        tokenize.OP,
        tokenize.NAME,
    ):
        raise Unsupported
    return 0


def _only_dots(priorities: list[int]) -> bool:
    """No delimiter but chained methods at the outermost level."""
    return all(found in (0, DOT) for found in priorities)


def _pairs(tokens: list[Token]) -> dict[int, int]:
    """Each closing bracket's index -> its opening bracket's."""
    stack: list[int] = []
    pairs = {}
    for index, token in enumerate(tokens):
        if token.kind != tokenize.OP:
            continue
        if token.text in OPENING:
            stack.append(index)
        elif token.text in CLOSING:
            pairs[index] = stack.pop()
    return pairs


def _at(text: str, tokens: list[Token], first: int, last: int) -> str:
    return text[tokens[first].start : tokens[last].end]
