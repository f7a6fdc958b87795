"""What a call of a query helper passes, and what a name is imported as: what
both ends of a helper converted across modules need."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.scopes import Assignment
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Refused
from orm_modernize.syntax.nodes import code_of, keyword_argument, root_name


def import_of(
    semantic: Semantic, name: cst.Name
) -> tuple[cst.ImportFrom, cst.ImportAlias] | None:
    """The `from x import y` and its alias that bind `name`, its one binding."""
    bindings = semantic.assignments(name)
    if len(bindings) != 1 or not isinstance(bindings[0], Assignment):
        return None
    statement = bindings[0].node
    if not isinstance(statement, cst.ImportFrom) or isinstance(
        statement.names, cst.ImportStar
    ):
        return None
    for alias in statement.names:
        if (alias.evaluated_alias or alias.evaluated_name) == name.value:
            return statement, alias
    return None


def imported_from(here: str, statement: cst.ImportFrom) -> str:
    """The module `from ..x import y` imports from, seen from module `here`."""
    name = code_of(statement.module) if statement.module is not None else ""
    if not statement.relative:
        return name
    package = here.split(".")[: -len(statement.relative)]
    return ".".join([*package, name] if name else package)


def argument_for(
    call: cst.Call, parameter: str, position: int | None
) -> cst.BaseExpression:
    """What `call` passes for a `parameter` that is positional number `position`
    (None: keyword-only), as a name or a dotted name, so that reading it twice
    reads the same object."""
    if any(a.star for a in call.args):
        raise Refused(f"`{code_of(call)}` passes `*args`")
    positional = [a for a in call.args if a.keyword is None]
    named = keyword_argument(call, parameter)
    found = named.value if named is not None else None
    if found is None and position is not None and position < len(positional):
        found = positional[position].value
    if found is None:
        raise Refused(f"`{code_of(call)}` does not pass `{parameter}`")
    if root_name(found) is None:
        raise Refused(
            f"`{code_of(call)}` passes its session as an expression; pass a variable"
        )
    return found
