"""Where the imports a fix needs go: where isort (and ruff's `I001`, with their
defaults) would put them, so that a module that passed its import-sorting check
still does.

A name joins the first `from <module> import` of the imports that open the
module, in order by type (CONSTANTS, Classes, functions) and then alphabetically,
when its names are in that order already (else at the end). A new statement goes
in its section (`__future__`, the standard library, third-party, first-party:
the project's own packages, then relative imports), among that section's `from`
imports in order of module name; a section the module lacks is made, a blank line
from the others.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Sequence
from functools import lru_cache
from typing import Union, cast

import libcst as cst

from orm_modernize.syntax.nodes import code_of

FUTURE, STDLIB, THIRD_PARTY, FIRST_PARTY, LOCAL_FOLDER = range(5)
Statement = Union[cst.SimpleStatementLine, cst.BaseCompoundStatement]
# Black and isort put two blank lines between the imports and one of these
DEFINITIONS = (cst.FunctionDef, cst.ClassDef)


def added(
    module: cst.Module, missing: dict[str, set[str]], first_party: frozenset[str]
) -> cst.Module:
    """`module` with the names of `missing` (module -> names, none of them
    imported at the top level yet) imported; `first_party`: the project's
    top-level packages."""
    body: list[Statement] = list(module.body)
    start = 1 if _starts_with_docstring(body) else 0
    end = start
    while end < len(body) and _is_import_line(body[end]):
        end += 1
    for index in range(start, end):
        line = cast(cst.SimpleStatementLine, body[index])
        statement = line.body[0]
        source = _from_module(statement)
        if source is None or not missing.get(source):
            continue
        assert isinstance(statement, cst.ImportFrom)
        if isinstance(statement.names, cst.ImportStar):
            missing.pop(source)  # everything is there already
            continue
        merged = _merged(statement, statement.names, missing.pop(source))
        body[index] = line.with_changes(body=[merged, *line.body[1:]])
    for source in sorted(s for s, names in missing.items() if names):
        made = cst.parse_statement(
            f"from {source} import {', '.join(sorted(missing[source], key=_member))}",
            config=module.config_for_parsing,
        )
        assert isinstance(made, cst.SimpleStatementLine)
        body, end = _inserted(body, start, end, made, first_party)
    return module.with_changes(body=body)


def _merged(
    statement: cst.ImportFrom, names: Sequence[cst.ImportAlias], new: set[str]
) -> cst.ImportFrom:
    """`statement` importing `new` too, each comma as its neighbours' are."""
    keys = [_member(a.evaluated_name) for a in names]
    made = [cst.ImportAlias(cst.Name(n)) for n in sorted(new, key=_member)]
    if keys == sorted(keys):
        aliases = sorted([*names, *made], key=lambda a: _member(a.evaluated_name))
    else:  # not kept in order: the new names go last, disturbing none
        aliases = [*names, *made]
    inner = next(
        (a.comma for a in names[:-1] if isinstance(a.comma, cst.Comma)),
        cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
    )
    last = names[-1].comma  # a trailing comma, or none
    return statement.with_changes(
        names=[
            alias.with_changes(comma=inner if i < len(aliases) - 1 else last)
            for i, alias in enumerate(aliases)
        ]
    )


def _inserted(
    body: list[Statement],
    start: int,
    end: int,
    made: cst.SimpleStatementLine,
    first_party: frozenset[str],
) -> tuple[list[Statement], int]:
    """`body` with `made` among the imports `body[start:end]`, and their new end."""
    source = _from_module(made.body[0])
    assert source is not None
    section = _section(source, first_party)
    sections = [
        _section_of(cast(cst.SimpleStatementLine, body[i]), first_party)
        for i in range(start, end)
    ]
    same = [start + i for i, s in enumerate(sections) if s == section]
    if same:
        at = same[-1] + 1
        for index in same:
            other = _from_module(cast(cst.SimpleStatementLine, body[index]).body[0])
            if other is not None and other.lower() > source.lower():
                at = index
                break
        if at <= same[0]:  # first of its section: it takes the section's lines
            first = body[at]
            made = made.with_changes(leading_lines=first.leading_lines)
            body[at] = first.with_changes(leading_lines=())
        return [*body[:at], made, *body[at:]], end + 1
    before = [start + i for i, s in enumerate(sections) if s < section]
    if before:
        at = before[-1] + 1
        made = made.with_changes(leading_lines=(cst.EmptyLine(),))
    else:  # the first section: the module's opening lines stay above it
        at = start
        if start < end:
            lines = list(body[at].leading_lines)
            blank = 0
            while blank < len(lines) and lines[blank].comment is None:
                blank += 1
            made = made.with_changes(leading_lines=lines[:blank])
            body[at] = body[at].with_changes(
                leading_lines=(cst.EmptyLine(), *lines[blank:])
            )
    if at < len(body) and (at == end or not body[at].leading_lines):
        # Code (or another section) follows: a blank line between them, two
        # before a function or class, as black and isort put them.
        following = body[at]
        above = following.leading_lines
        blank = next(
            (i for i, line in enumerate(above) if line.comment is not None),
            len(above),
        )
        wanted = 2 if at == end and isinstance(following, DEFINITIONS) else 1
        if blank < wanted:
            body[at] = following.with_changes(
                leading_lines=(*[cst.EmptyLine()] * (wanted - blank), *above)
            )
    return [*body[:at], made, *body[at:]], end + 1


def _member(name: str) -> tuple[int, str, str]:
    """isort's order of the names a `from` imports (`order-by-type`): constants,
    then classes, then the rest, each case-insensitively."""
    if len(name) > 1 and name.isupper():
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, name.lower(), name


def _section_of(line: cst.SimpleStatementLine, first_party: frozenset[str]) -> int:
    statement = line.body[0]
    if isinstance(statement, cst.ImportFrom):
        if statement.relative:
            return LOCAL_FOLDER  # isort's last section: `from . import x`
        assert statement.module is not None
        return _section(code_of(statement.module), first_party)
    assert isinstance(statement, cst.Import)
    return _section(code_of(statement.names[0].name), first_party)


def _section(module: str, first_party: frozenset[str]) -> int:
    top = module.split(".", 1)[0]
    if top == "__future__":
        return FUTURE
    if top in first_party:
        return FIRST_PARTY
    if top in _stdlib():
        return STDLIB
    return THIRD_PARTY


@lru_cache(maxsize=1)
def _stdlib() -> frozenset[str]:
    """The standard library's top-level modules: `sys.stdlib_module_names` from
    3.10, else what the running Python's library folder holds."""
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return frozenset(names)
    found = set(sys.builtin_module_names)
    paths = sysconfig.get_paths()
    for folder in {paths["stdlib"], paths["platstdlib"]}:
        for entry in os.listdir(folder):
            name = entry.split(".", 1)[0]
            if entry.endswith(".py") or os.path.isdir(os.path.join(folder, entry)):
                found.add(name)
    found.discard("site-packages")
    return frozenset(found)


def _from_module(statement: cst.BaseSmallStatement) -> str | None:
    """`x.y` of `from x.y import ...`; None for relative and plain imports."""
    if not isinstance(statement, cst.ImportFrom):
        return None
    if statement.relative or statement.module is None:
        return None
    return code_of(statement.module)


def _starts_with_docstring(body: Sequence[cst.BaseStatement]) -> bool:
    """A docstring or a `__strict__ = ...` first: imports never go above it."""
    if not body or not isinstance(body[0], cst.SimpleStatementLine):
        return False
    first = body[0].body[0] if body[0].body else None
    if isinstance(first, cst.Expr):
        return isinstance(first.value, cst.SimpleString)
    return (
        isinstance(first, cst.Assign)
        and isinstance(first.targets[0].target, cst.Name)
        and first.targets[0].target.value == "__strict__"
    )


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))
    )
