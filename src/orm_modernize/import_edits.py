"""The imports that fixes add and free: LibCST's codemod visitors, imported only
when a fix needs them (with their matchers, 0.15 s that a check never spends)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from orm_modernize.datatypes import ImportSpec
from orm_modernize.semantic import import_specs, module_imports


def add_and_remove(
    module: cst.Module, needed: Iterable[ImportSpec], freed: set[str]
) -> cst.Module:
    """`module` with the `needed` imports added, and the imports of the `freed`
    names removed where nothing uses them any more."""
    context = CodemodContext()
    # LibCST's visitor walks the whole module even when every import is there
    # already (most passes of a large module: 20 s of SQLAlchemy's 330 KB
    # test/orm/test_deprecations.py); a look at its top-level imports is enough.
    present = {
        (source, name)
        for source, name, alias in module_imports(module)
        if name is not None and alias is None
    }
    for module_name, name in needed:
        if (module_name, name) not in present:
            AddImportsVisitor.add_needed_import(context, module_name, name)
    if context.scratch.get(AddImportsVisitor.CONTEXT_KEY):
        module = AddImportsVisitor(context).transform_module(module)
    # Looked up after the edits: another fix of the same pass may have moved the
    # import (ORM401 rewrites the very import that ORM402 frees).
    for spec in _imports_binding(module, freed):
        RemoveImportsVisitor.remove_unused_import(context, *spec)
    if context.scratch.get(RemoveImportsVisitor.CONTEXT_KEY):
        module = _TidyRemoveImports(context).transform_module(module)
    return module


def _imports_binding(
    module: cst.Module, names: set[str]
) -> list[tuple[str, str | None, str | None]]:
    """(module, name, alias) of each import, at any depth, that binds one of
    `names`: a fix inside a function may free that function's own import."""
    if not names:
        return []
    statements = m.findall(module, m.Import() | m.ImportFrom())
    return [
        spec
        for statement in statements
        for spec in import_specs(cast(cst.BaseSmallStatement, statement))
        if (spec[2] or spec[1] or spec[0]) in names
    ]


class _TidyRemoveImports(RemoveImportsVisitor):
    """LibCST's remover; when it takes the first statement of a block, the block
    does not then start with the blank lines that came after that import."""

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
