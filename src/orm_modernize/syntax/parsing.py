"""Parsing a file into a LibCST tree without ever crashing on it.

LibCST's native parser overflows the C stack, killing the process with SIGSEGV, on
nesting that CPython refuses anyway (2,000 brackets; CPython allows 200), or on a
chain of 10,000 operators. So CPython's own compiler reads each file first: it is
a twentieth of LibCST's parse, and whatever it compiles, LibCST parses or fails on
with an exception. A file it rejects as a syntax error may still be newer Python
than the one running the tool (a `type` statement on 3.11), which LibCST reads:
that file is parsed after a cheap check of its nesting.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import libcst as cst

# CPython's own limit on nested brackets (MAXLEVEL in its tokenizer).
MAX_BRACKETS = 200
# Tokens at one bracket level without a comma: a chain `a + b + ...` or
# `x.a.b...` whose tree is as deep. LibCST's Python side gives up near 500.
MAX_CHAIN = 2_000


class Unparseable(Exception):
    """Why a file has no tree; the message is one line."""


def parse(
    source: bytes, path: Path, *, compiled: bool = False
) -> tuple[cst.Module, bool]:
    """The tree of `source`, and whether the running Python compiles it (when not,
    fixes are checked with LibCST's parser instead of `compile()`); `compiled`:
    the caller compiled it already (fixed code, checked by `syntax_error()`)."""
    rejected: SyntaxError | None = None  # CPython's reason, if it does not compile
    try:
        if not compiled:
            _compile(source, path)
    except (RecursionError, MemoryError):
        raise Unparseable("nested too deeply to parse") from None
    except ValueError as error:  # NUL bytes, on 3.11
        raise Unparseable(f"cannot parse: {one_line(error)}") from None
    except SyntaxError as error:
        if "too many nested" in str(error.msg) or _grammatical(source, path):
            # This Python's grammar, refused by its compiler ('return' outside a
            # function): no newer syntax, but code that cannot run.
            raise Unparseable(f"cannot parse: {one_line(error)}") from None
        rejected = error
        _check_nesting(source)
    try:
        if rejected is None:
            with _unvalidated():
                module = cst.parse_module(source)
        else:  # LibCST's parser is the judge: its checks stay
            module = cst.parse_module(source)
    except (cst.ParserSyntaxError, UnicodeDecodeError, SyntaxError) as error:
        # CPython's "Missing parentheses in call to 'print'" says more than
        # LibCST's "expected one of !=, %, &, (, ...".
        raise Unparseable(f"cannot parse: {one_line(rejected or error)}") from None
    except RecursionError:
        raise Unparseable("nested too deeply for LibCST's parser") from None
    return module, rejected is None


@contextmanager
def _unvalidated() -> Iterator[None]:
    """LibCST checks each node it builds (a tenth of a parse), and says itself that
    the parser need not: a tree parsed from code that CPython compiled is made of
    valid nodes."""
    validated = cst.CSTNode.__post_init__
    cst.CSTNode.__post_init__ = _unchecked  # type: ignore[method-assign]
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = validated  # type: ignore[method-assign]


def _unchecked(self: cst.CSTNode) -> None:
    pass


def syntax_error(code: str, path: Path, compiles: bool) -> str | None:
    """Why fixed code is not valid Python: by `compile()`, or by LibCST's parser
    for a file the running Python does not compile in the first place."""
    try:
        if compiles:
            _compile(code, path)
        else:
            cst.parse_module(code)
    except (SyntaxError, ValueError, cst.ParserSyntaxError, RecursionError) as error:
        return one_line(error)
    return None


def python_tree(source: str | bytes) -> ast.Module:
    """Python's own syntax tree of `source` (raising SyntaxError or ValueError),
    without the warnings CPython prints about the user's code: see `_compile`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def _compile(code: str | bytes, path: Path, flags: int = 0) -> None:
    """Compile (only parse, with `ast.PyCF_ONLY_AST`), without the warnings CPython
    prints about the user's code (`x is 1`, `[1]()`): they are not ours to report,
    and they would repeat on each pass."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(code, str(path), "exec", flags=flags, dont_inherit=True)


def _grammatical(source: bytes, path: Path) -> bool:
    """Whether the running Python's parser, without its compiler, reads `source`;
    asked only of a file `compile()` refused, which is rare."""
    try:
        _compile(source, path, ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _check_nesting(source: bytes) -> None:
    """Refuse what could overflow LibCST's parser: only for files CPython did not
    compile, which are rare, so the pure-Python tokenizer is cheap enough."""
    depth = chain = 0
    try:
        for token in tokenize.tokenize(io.BytesIO(source).readline):
            if token.type == tokenize.OP:
                if token.string in "([{":
                    depth += 1
                    if depth > MAX_BRACKETS:
                        raise Unparseable("cannot parse: too many nested brackets")
                elif token.string in ")]}":
                    depth -= 1
                elif token.string == ",":
                    chain = 0
                    continue
            elif token.type in (tokenize.NEWLINE, tokenize.NL):
                if depth == 0:
                    chain = 0
                continue
            chain += 1
            if chain > MAX_CHAIN:
                raise Unparseable("nested too deeply to parse")
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        return  # LibCST reports it


def one_line(error: BaseException) -> str:
    if isinstance(error, cst.ParserSyntaxError):
        return f"{error.message} (line {error.raw_line}, column {error.raw_column + 1})"
    if isinstance(error, SyntaxError) and error.msg and error.lineno:
        # Not str(error), which names the file again: "msg (path, line 3)".
        column = f", column {error.offset}" if error.offset else ""
        return f"{' '.join(error.msg.split())} (line {error.lineno}{column})"
    text = " ".join(str(error).split())
    return text or type(error).__name__
