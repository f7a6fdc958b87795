"""Spelling the names a fix adds, reusing the module's imports where it can."""

from __future__ import annotations

import re
from collections.abc import Callable

import libcst as cst

from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import ImportSpec

# `name(module, name)`: how to spell an import at the fix site, or None if taken.
Namer = Callable[[str, str], "cst.BaseExpression | None"]
# Other modules that export the same `select`, `func`, label styles, ...
SAME_OBJECTS = (
    "sqlalchemy.future",
    "sqlalchemy.sql",
    "sqlalchemy.sql.expression",
    "sqlalchemy.sql.selectable",
)


# Names of `sqlalchemy.orm` that the module defining them is imported from too
DEFINED_IN = {
    name: "sqlalchemy.orm.session"
    for name in ("Session", "close_all_sessions", "make_transient", "object_session")
}


def namer(semantic: Semantic, at: cst.CSTNode, imports: list[ImportSpec]) -> Namer:
    """A Namer for a fix at `at`, collecting the imports it needs into `imports`."""

    def name(module: str, name: str) -> cst.BaseExpression | None:
        accepted = [f"{other}.{name}" for other in SAME_OBJECTS]
        if module == "sqlalchemy.orm" and name in DEFINED_IN:
            accepted.append(f"{DEFINED_IN[name]}.{name}")
        found = semantic.reference(at, module, name, accepted)
        if found is None:
            return None
        expression, needed = found
        if needed is not None and needed not in imports:
            imports.append(needed)
        return expression

    return name


def snake_case(class_name: str) -> str:
    """`order_item` for `OrderItem`: a variable for an object of the class."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", class_name).lower()
