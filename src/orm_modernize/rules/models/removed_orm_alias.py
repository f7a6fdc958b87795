"""ORM404: `relation()` and `eagerload()`, aliases that SQLAlchemy 2.0 removed."""

from __future__ import annotations

import re

import libcst as cst

from orm_modernize.analysis.scopes import ImportAssignment
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Fix
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import imported_root, keep_parentheses
from orm_modernize.syntax.statements import in_import_fallback

# The alias and the name it stood for, both in `sqlalchemy.orm`.
ALIASES = {"relation": "relationship", "eagerload": "joinedload"}
QUALIFIED = {f"sqlalchemy.orm.{old}": new for old, new in ALIASES.items()}
FINDING = "`{old}()` was removed in SQLAlchemy 2.0; it is `{new}()`"
# What an import may rename an alias to (`relation as rel`): with the aliases' own
# names, the only names worth resolving, out of every name of the module.
RENAMED = re.compile(r"\b(?:relation|eagerload)[\s\\]+as[\s\\]+(\w+)")


class RemovedOrmAlias(Rule):
    """
    ## What it does
    Checks for `relation()` and `eagerload()` from `sqlalchemy.orm`, whether
    imported by name (`from sqlalchemy.orm import relation`) or used through the
    module (`orm.relation(...)`).

    ## Why is this bad?
    Both are old synonyms, of `relationship()` and `joinedload()`. SQLAlchemy 1.4
    warns when they are called and 2.0 removed them: the import itself fails with
    `ImportError`.

    ## Example
        from sqlalchemy.orm import relation

        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            addresses = relation("Address")

    ## Use instead
        from sqlalchemy.orm import relationship

        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            addresses = relationship("Address")

    ## Fix safety
    Safe: each alias is the very function it names, on 1.4 as on 2.x, so the
    fixed code runs on both. The old import goes once nothing uses it. An import
    inside a `try: ... except ImportError:` block is compatibility code and is
    left alone; a name that is only imported is reported on the import. A use
    where `relationship` (or `joinedload`) already names something else is
    reported without a fix.

    ## References
    - SQLAlchemy 2.0 changelog, "removed the `relation()` and `eagerload()`
      synonyms" (#7257)
    """

    code = "ORM404"
    impact = "removed"
    name = "removed-orm-alias"
    message = "`relation()` and `eagerload()` were removed in SQLAlchemy 2.0"
    fix_title = "Use `relationship()` / `joinedload()`"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"  # not when the new name is taken where used
    triggers = (b"relation", b"eagerload")

    def __init__(self, semantic: Semantic) -> None:
        super().__init__(semantic)
        self._names = set(ALIASES).union(RENAMED.findall(semantic.text))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self._names:
            self._reference(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in ALIASES:
            self._reference(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        """An alias imported and never used: the import alone fails on 2.x."""
        scope = self.semantic.scope(node)
        if isinstance(node.names, cst.ImportStar) or scope is None:
            return
        for alias in node.names:
            old = alias.evaluated_name
            if old not in ALIASES:
                continue
            name = alias.evaluated_alias or old
            bindings = [
                a
                for a in scope[name]
                if isinstance(a, ImportAssignment)
                and a.node is node
                and f"sqlalchemy.orm.{old}" in {q.name for q in a.qualified_names(name)}
            ]
            if not bindings or any(a.references for a in bindings):
                continue
            if not in_import_fallback(node, self.semantic.parent):
                self._report(alias, old, Fix((), safe=True, unused=(name,)))

    def _reference(self, node: cst.Name | cst.Attribute) -> None:
        parent = self.semantic.parent(node)
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return  # the `relation` of `orm.relation`: reported as the attribute
        if isinstance(parent, (cst.ImportAlias, cst.Import, cst.ImportFrom)):
            return
        old = next((q for q in QUALIFIED if self.semantic.is_one_of(node, (q,))), None)
        # Every binding it may have must be the alias: not a compatibility import
        # that falls back to another name.
        if old is None or self.semantic.qualified_names(node) != {old}:
            return
        if in_import_fallback(node, self.semantic.parent):
            return
        new = QUALIFIED[old]
        if isinstance(node, cst.Attribute):
            replacement: cst.BaseExpression = node.with_changes(attr=cst.Name(new))
            needed = None
        else:
            found = self.semantic.reference(node, "sqlalchemy.orm", new)
            if found is None:
                self._report(node, old.rsplit(".", 1)[1], None)
                return
            replacement, needed = found
        fix = Fix.replace(
            node,
            keep_parentheses(node, replacement),
            safe=True,
            imports=(needed,) if needed else (),
            unused=imported_root(node) if isinstance(node, cst.Name) else (),
        )
        self._report(node, old.rsplit(".", 1)[1], fix)

    def _report(self, node: cst.CSTNode, old: str, fix: Fix | None) -> None:
        self.report(node, fix=fix, message=FINDING.format(old=old, new=ALIASES[old]))
