"""A module's statements: the top-level ones looked up by name, what its imports
bind, the statement that holds a node, imports made in a `try` that falls back
to another module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from orm_modernize.syntax.nodes import code_of

ParentLookup = Callable[[cst.CSTNode], Optional[cst.CSTNode]]


@dataclass(frozen=True)
class TopLevel:
    """The module's top-level statements that several analyses look up by name."""

    # name -> the values of `name = ...` / `name: T = ...` / `name += ...`, in order
    assigned: dict[str, list[cst.BaseExpression]]
    # `Base.query = ...`: assignments to attributes
    attribute_assigns: list[cst.Assign]
    classes: dict[str, cst.ClassDef]

    @classmethod
    def of(cls, module: cst.Module) -> TopLevel:
        assigned: dict[str, list[cst.BaseExpression]] = {}
        attribute_assigns: list[cst.Assign] = []
        classes: dict[str, cst.ClassDef] = {}
        for statement in module.body:
            if isinstance(statement, cst.ClassDef):
                classes.setdefault(statement.name.value, statement)
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                    if any(isinstance(t, cst.Attribute) for t in targets):
                        attribute_assigns.append(small)
                elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                    targets = [small.target]
                else:
                    continue
                if small.value is None:
                    continue
                for target in targets:
                    if isinstance(target, cst.Name):
                        assigned.setdefault(target.value, []).append(small.value)
        return cls(assigned, attribute_assigns, classes)


def module_imports(
    module: cst.Module,
) -> Iterator[tuple[str, str | None, str | None]]:
    """(module, name, alias) of each absolute import at the top level of `module`.

    `import a.b as c` gives ("a.b", None, "c"), `from a import b` ("a", "b", None).
    """
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                yield from import_specs(small)


def import_specs(
    statement: cst.BaseSmallStatement,
) -> Iterator[tuple[str, str | None, str | None]]:
    """(module, name, alias) of each name an absolute import binds; nothing for any
    other statement."""
    if isinstance(statement, cst.Import):
        for alias in statement.names:
            yield alias.evaluated_name, None, alias.evaluated_alias
    elif (
        isinstance(statement, cst.ImportFrom)
        and statement.module is not None
        and not statement.relative
        and not isinstance(statement.names, cst.ImportStar)
    ):
        source = code_of(statement.module)
        for alias in statement.names:
            yield source, alias.evaluated_name, alias.evaluated_alias


IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def decorator_target(decorator: cst.Decorator) -> cst.BaseExpression:
    """`f` of a decorator written `@f` or `@f(...)`."""
    node = decorator.decorator
    return node.func if isinstance(node, cst.Call) else node


def decorator_name(decorator: cst.Decorator) -> str:
    node = decorator_target(decorator)
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else ""


def in_import_fallback(node: cst.CSTNode, parent: ParentLookup) -> bool:
    """Inside a `try:` whose handler catches ImportError: code that supports
    several SQLAlchemy versions on purpose, which we leave alone."""
    current: cst.CSTNode | None = node
    while current is not None:
        if isinstance(current, cst.Try) and any(
            handler.type is None or _names_import_error(handler.type)
            for handler in current.handlers
        ):
            return True
        current = parent(current)
    return False


def _names_import_error(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Tuple):
        return any(_names_import_error(e.value) for e in expr.elements)
    return isinstance(expr, cst.Name) and expr.value in IMPORT_ERRORS


def top_level_statement(node: cst.CSTNode, parent: ParentLookup) -> cst.CSTNode | None:
    """The statement of the module body that contains `node`."""
    current: cst.CSTNode | None = node
    while current is not None:
        above = parent(current)
        if isinstance(above, cst.Module):
            return current
        current = above
    return None
