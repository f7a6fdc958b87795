"""The imports that fixes add and free, edited on the statements that hold them
(LibCST's codemod visitors rebuilt the whole module for each edit, and importing
its codemod package, matchers included, took 0.28 s of each `--fix` run)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TypeVar

import libcst as cst

from orm_modernize.analysis.scope_walk import Scopes
from orm_modernize.analysis.scopes import ImportAssignment
from orm_modernize.data.records import ImportSpec
from orm_modernize.engine.added_imports import added
from orm_modernize.syntax import tree
from orm_modernize.syntax.nodes import assignment_targets, code_of
from orm_modernize.syntax.statements import import_specs, module_imports


def add_and_remove(
    module: cst.Module,
    needed: Iterable[ImportSpec],
    freed: set[str],
    first_party: frozenset[str] = frozenset(),
) -> cst.Module:
    """`module` with the `needed` imports added where isort puts them
    (`first_party`: the project's top-level packages), and the imports of the
    `freed` names removed where nothing uses them any more."""
    # A look at its top-level imports says what is there already (most passes of
    # a large module need nothing new).
    present = {
        (source, name)
        for source, name, alias in module_imports(module)
        if name is not None and alias is None
    }
    missing: dict[str, set[str]] = {}
    for source, name in needed:
        if (source, name) not in present:
            missing.setdefault(source, set()).add(name)
    if missing:
        module = added(module, missing, first_party)
    # Looked up after the edits: another fix of the same pass may have moved the
    # import (ORM401 rewrites the very import that ORM402 frees).
    if freed:
        parents, order = tree.walk(module)
        specs = _imports_binding(order, freed)
        if specs:
            unused = _unmentioned(order, specs)
            if unused is None:
                unused = _unused_imports(module)
            module = _removed(module, specs, parents, unused)
    return module


def _removed(
    module: cst.Module,
    specs: list[tuple[str, str | None, str | None]],
    parents: dict[cst.CSTNode, cst.CSTNode],
    unused: dict[cst.ImportAlias, cst.Import | cst.ImportFrom],
) -> cst.Module:
    """The imports of `specs` removed where `unused` says nothing uses their
    name, by a remover run over the statements that hold them only; `parents`
    is `tree.walk(module)`'s."""
    remover = _ImportRemover(specs, unused)
    wanted = set(specs)
    holders = {
        statement
        for statement in set(remover.unused.values())
        if wanted.intersection(import_specs(statement))
    }
    if not holders:
        return module
    tops = set()
    for holder in holders:
        node: cst.CSTNode = holder
        while parents.get(node) is not module:
            node = parents[node]
        tops.add(node)
    body: list[cst.BaseStatement] = []
    for statement in module.body:
        if statement in tops:
            # A module of its own, so that a statement left empty is dropped.
            alone = module.with_changes(body=[statement]).visit(remover)
            body.extend(alone.body)
        else:
            body.append(statement)
    return module.with_changes(body=body)


def _unmentioned(
    order: Sequence[cst.CSTNode], specs: list[tuple[str, str | None, str | None]]
) -> dict[cst.ImportAlias, cst.Import | cst.ImportFrom] | None:
    """The import aliases that bind the names of `specs` when no name and no
    string outside the imports mentions those names: what `_unused_imports()`
    finds of them, without its scope analysis (a fix usually takes a name's
    last use away); None when one is mentioned."""
    bound = {
        alias or (name or source).split(".", 1)[0] for source, name, alias in specs
    }
    aliases: dict[cst.ImportAlias, cst.Import | cst.ImportFrom] = {}
    inside: set[int] = set()  # the nodes of the import statements
    for node in order:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            inside.update(map(id, tree.walk(node)[1]))
            if not isinstance(node.names, cst.ImportStar):
                aliases.update(
                    (alias, node) for alias in node.names if _bound_name(alias) in bound
                )
        elif id(node) not in inside and _mentions(node, bound):
            return None
    return aliases


def _mentions(node: cst.CSTNode, names: set[str]) -> bool:
    if isinstance(node, cst.Name):
        return node.value in names
    if isinstance(node, (cst.SimpleString, cst.FormattedStringText)):
        return any(name in node.value for name in names)
    return False


def _unused_imports(
    module: cst.Module,
) -> dict[cst.ImportAlias, cst.Import | cst.ImportFrom]:
    """The aliases of the module's imports that nothing reads: no name that
    resolves to their binding (scopes as Python sees them: a class body's import
    is not seen from the classes nested in it), no string of `__all__` equal to
    their name, no string annotation naming it. `import a.b` counts as read when
    any name `a` is."""
    scopes = Scopes(module)
    read = {  # (import statement, name it binds)
        (id(binding.node), binding.name)
        for access in scopes.accesses()
        for binding in access.referents
        if isinstance(binding, ImportAssignment)
    }
    scopes.close()
    names: set[str] = set()  # every name, for `import a.b`
    strings: set[str] = set()
    aliases: dict[cst.ImportAlias, cst.Import | cst.ImportFrom] = {}
    # (node, inside an annotation, inside the value given to `__all__`)
    stack: list[tuple[cst.CSTNode, bool, bool]] = [(module, False, False)]
    while stack:
        node, annotation, exported = stack.pop()
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            if not isinstance(node.names, cst.ImportStar):
                aliases.update((alias, node) for alias in node.names)
            continue
        if isinstance(node, cst.Name):
            names.add(node.value)
        elif isinstance(node, cst.SimpleString):
            if exported:
                strings.add(node.raw_value)
            elif annotation:
                strings.update(re.findall(r"\w+", node.raw_value))
        annotation = annotation or isinstance(node, cst.Annotation)
        exported = exported or _assigns_all(node)
        stack.extend((child, annotation, exported) for child in tree.children(node))
    unused: dict[cst.ImportAlias, cst.Import | cst.ImportFrom] = {}
    for alias, statement in aliases.items():
        bound = _bound_name(alias)
        if bound in strings:
            continue
        if isinstance(statement, cst.Import):
            if bound not in names:
                unused[alias] = statement
        elif (id(statement), bound) not in read:
            unused[alias] = statement
    return unused


def _assigns_all(node: cst.CSTNode) -> bool:
    """`__all__ = [...]`, `__all__ += [...]`, `__all__: list[str] = [...]`."""
    return any(
        isinstance(t, cst.Name) and t.value == "__all__"
        for t in assignment_targets(node)
    )


def _bound_name(alias: cst.ImportAlias) -> str:
    """`b` of `import a as b` or `from x import a as b`; `a` of `import a.c`."""
    if alias.asname is not None:
        return alias.evaluated_alias or ""
    return alias.evaluated_name.split(".", 1)[0]


def _imports_binding(
    nodes: Iterable[cst.CSTNode], names: set[str]
) -> list[tuple[str, str | None, str | None]]:
    """(module, name, alias) of each import among `nodes` (a module's, at any
    depth) that binds one of `names`: a fix inside a function may free that
    function's own import."""
    return [
        spec
        for node in nodes
        if isinstance(node, (cst.Import, cst.ImportFrom))
        for spec in import_specs(node)
        if (spec[2] or spec[1] or spec[0]) in names
    ]


class _ImportRemover(cst.CSTTransformer):
    """Takes out of the import statements it visits the aliases of `specs` that
    `unused` holds (found by our scopes: LibCST's scope analysis took 29 of the
    76 s of fixing SQLAlchemy's 330 KB test/orm/test_deprecations.py), and a
    statement left with none. Its output is that of LibCST's
    `RemoveImportsVisitor`: a comment after a removed alias's comma stays, on
    the alias before it; the last alias kept loses its comma. When it takes the
    first statement of a block, the block does not then start with the blank
    lines that came after that import."""

    def __init__(
        self,
        specs: list[tuple[str, str | None, str | None]],
        unused: dict[cst.ImportAlias, cst.Import | cst.ImportFrom],
    ) -> None:
        super().__init__()
        self.unused = unused
        # `import module as alias` (one alias per module) and `from module import
        # name as alias`, by module.
        self.modules = {module: alias for module, name, alias in specs if name is None}
        self.names: dict[str, set[tuple[str, str | None]]] = {}
        for module, name, alias in specs:
            if name is not None:
                self.names.setdefault(module, set()).add((name, alias))

    def leave_Import(
        self, original_node: cst.Import, updated_node: cst.Import
    ) -> cst.Import | cst.RemovalSentinel:
        kept = [
            alias
            for alias in original_node.names
            if alias.evaluated_name not in self.modules
            or alias.evaluated_alias != self.modules[alias.evaluated_name]
            or alias not in self.unused
        ]
        return _kept(original_node.names, kept, updated_node, {})

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom | cst.RemovalSentinel:
        names = original_node.names
        if (
            isinstance(names, cst.ImportStar)
            or original_node.relative
            or original_node.module is None
        ):
            return updated_node
        removable = self.names.get(code_of(original_node.module))
        if removable is None:
            return updated_node
        kept: list[cst.ImportAlias] = []
        changes: dict[str, object] = {}
        for alias in names:
            if (alias.evaluated_name, alias.evaluated_alias) not in removable or (
                alias not in self.unused
            ):
                kept.append(alias)
                continue
            # A comment after the removed alias's comma moves to the alias before
            # it, or after the opening parenthesis.
            comma = alias.comma
            if not isinstance(comma, cst.Comma):
                continue
            if kept:
                previous = kept[-1]
                if isinstance(previous.comma, cst.Comma):
                    kept[-1] = previous.with_deep_changes(
                        previous.comma,
                        whitespace_after=_merged(
                            previous.comma.whitespace_after, comma.whitespace_after
                        ),
                    )
                else:
                    kept[-1] = previous.with_changes(comma=comma)
            elif isinstance(updated_node.lpar, cst.LeftParen):
                lpar = updated_node.lpar
                changes["lpar"] = lpar.with_changes(
                    whitespace_after=_merged(
                        lpar.whitespace_after, comma.whitespace_after
                    )
                )
        return _kept(names, kept, updated_node, changes)

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        old, new = original_node.body, updated_node.body
        # (LibCST rebuilds every node it visits: identity says nothing here.)
        if not new or len(new) == len(old) or new[0].deep_equals(old[0]):
            return updated_node
        first = new[0]
        if not isinstance(first, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return updated_node
        lines = list(first.leading_lines)
        while lines and lines[0].comment is None:
            lines.pop(0)
        if len(lines) == len(first.leading_lines):
            return updated_node
        return updated_node.with_changes(
            body=(first.with_changes(leading_lines=lines), *new[1:])
        )


_Statement = TypeVar("_Statement", cst.Import, cst.ImportFrom)


def _kept(
    names: Sequence[cst.ImportAlias],
    kept: list[cst.ImportAlias],
    updated: _Statement,
    changes: dict[str, object],
) -> _Statement | cst.RemovalSentinel:
    """The statement with only the `kept` aliases of its `names` (and `changes`),
    or removed when none is left."""
    if len(kept) == len(names):
        return updated
    if not kept:
        return cst.RemoveFromParent()
    if kept[-1] is not names[-1]:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return updated.with_changes(names=kept, **changes)


def _merged(
    left: cst.BaseParenthesizableWhitespace, right: cst.BaseParenthesizableWhitespace
) -> cst.BaseParenthesizableWhitespace:
    """The whitespace after a kept comma, given that after a removed one: the
    removed one's comment lines are kept."""
    if not isinstance(right, cst.ParenthesizedWhitespace):
        return left
    if not isinstance(left, cst.ParenthesizedWhitespace):
        return right
    return left.with_changes(
        empty_lines=tuple(line for line in right.empty_lines if line.comment)
    )
