"""ORM401: names from `sqlalchemy.ext.declarative` that now live in `sqlalchemy.orm`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.data.records import Fix
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import code_of, imported_root, keep_parentheses
from orm_modernize.syntax.statements import in_import_fallback, module_imports

LEGACY_MODULES = frozenset(
    {"sqlalchemy.ext.declarative", "sqlalchemy.ext.declarative.api"}
)
# Moved to sqlalchemy.orm in 1.4 (same objects there on 1.4 and 2.x).
MOVED = frozenset(
    {
        "declarative_base",
        "declared_attr",
        "as_declarative",
        "has_inherited_table",
        "synonym_for",
        "DeclarativeMeta",
    }
)
# Removed in 2.0 with no drop-in replacement: `registry.map_declaratively(cls)`.
REMOVED = frozenset({"instrument_declarative"})
# ConcreteBase, AbstractConcreteBase and DeferredReflection stay where they are.


class ExtDeclarativeImport(Rule):
    """
    ## What it does
    Checks for names imported from `sqlalchemy.ext.declarative` that now live in
    `sqlalchemy.orm`: `declarative_base`, `declared_attr`, `as_declarative`,
    `has_inherited_table`, `synonym_for`, `DeclarativeMeta`; whether imported by
    name or used through the module (`declarative.declarative_base()`).

    ## Why is this bad?
    The declarative extension became part of the ORM in 1.4. Its old home emits
    `MovedIn20Warning` on 2.x, and `instrument_declarative` is gone altogether.
    The extension classes `ConcreteBase`, `AbstractConcreteBase` and
    `DeferredReflection` are still at home there and are left alone.

    ## Example
        from sqlalchemy.ext.declarative import declarative_base

    ## Use instead
        from sqlalchemy.orm import declarative_base

    ## Fix safety
    Safe: `sqlalchemy.orm` holds the very same objects, on 1.4 as on 2.x. Imports
    inside a `try: ... except ImportError:` block are version-compatibility code
    and are not reported. `instrument_declarative` is reported without a fix: it
    needs a `registry` (`registry.map_declaratively(cls)`).

    ## References
    - SQLAlchemy 2.0 migration guide, "Declarative becomes a first class API"
    """

    code = "ORM401"
    name = "ext-declarative-import"
    message = (
        "`sqlalchemy.ext.declarative` is not where this name lives in SQLAlchemy 2.0"
    )
    fix_title = "Import it from `sqlalchemy.orm`"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"
    triggers = (b"declarative",)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        if code_of(node.module) not in LEGACY_MODULES:
            return
        if isinstance(node.names, cst.ImportStar):
            self.report(node)
            return
        names = [
            alias.name.value for alias in node.names if isinstance(alias.name, cst.Name)
        ]
        moved = [n for n in names if n in MOVED]
        if not (moved or set(names) & REMOVED):
            return
        if in_import_fallback(node, self.semantic.parent):
            return
        if set(names) & REMOVED:
            self.report(
                node,
                message="`instrument_declarative` was removed in SQLAlchemy 2.0;"
                " use `registry.map_declaratively(cls)`",
            )
            return
        if len(moved) == len(names):
            self.report(node, fix=self._joined(node) or self._moved(node))
            return
        self.report(node, fix=self._split(node))

    def _moved(self, node: cst.ImportFrom) -> Fix:
        orm = cst.Attribute(cst.Name("sqlalchemy"), cst.Name("orm"))
        return Fix.replace(node, node.with_changes(module=orm), safe=True)

    def _joined(self, node: cst.ImportFrom) -> Fix | None:
        """The names join the module's `from sqlalchemy.orm import ...`, where
        isort would have them, when the statement is a line of its own at the top
        level with nothing above it to keep, and no name is renamed."""
        assert not isinstance(node.names, cst.ImportStar)
        statement = self.semantic.parent(node)
        if (
            not isinstance(statement, cst.SimpleStatementLine)
            or len(statement.body) != 1
            or statement.leading_lines
            or self.semantic.parent(statement) is not self.semantic.module
            or any(alias.asname is not None for alias in node.names)
            or not any(
                source == "sqlalchemy.orm" and name is not None and name != "*"
                for source, name, _ in module_imports(self.semantic.module)
            )
        ):
            return None
        imports = tuple(
            ("sqlalchemy.orm", alias.evaluated_name) for alias in node.names
        )
        removed = cst.RemoveFromParent()
        return Fix.replace(statement, removed, safe=True, imports=imports)

    def _split(self, node: cst.ImportFrom) -> Fix | None:
        """Keep the extension classes here; move the rest to `sqlalchemy.orm`."""
        assert not isinstance(node.names, cst.ImportStar)
        statement = self.semantic.parent(node)
        if not (
            isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
        ):
            return None
        kept = [a for a in node.names if a.name.value not in MOVED]
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        gone = [
            cst.ImportAlias(name=a.name, asname=a.asname)
            for a in node.names
            if a.name.value in MOVED
        ]
        orm = cst.ImportFrom(
            module=cst.Attribute(cst.Name("sqlalchemy"), cst.Name("orm")), names=gone
        )
        replacement = cst.FlattenSentinel(
            [
                statement.with_changes(body=[node.with_changes(names=kept)]),
                cst.SimpleStatementLine(body=[orm]),
            ]
        )
        return Fix.replace(statement, replacement, safe=True)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # `declarative.declarative_base` with `from sqlalchemy.ext import declarative`
        if node.attr.value not in MOVED or not isinstance(
            node.value, (cst.Name, cst.Attribute)
        ):
            return
        legacy = {f"{m}.{node.attr.value}" for m in LEGACY_MODULES}
        if not self.semantic.is_one_of(node, legacy):
            return
        if in_import_fallback(node, self.semantic.parent):
            return
        found = self.semantic.reference(node, "sqlalchemy.orm", node.attr.value)
        if found is None:
            self.report(node)
            return
        expression, needed = found
        fix = Fix.replace(
            node,
            keep_parentheses(node, expression),
            safe=True,
            imports=(needed,) if needed else (),
            unused=imported_root(node.value),
        )
        self.report(node, fix=fix)
