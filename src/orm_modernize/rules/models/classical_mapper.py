"""ORM408: `mapper(User, users)` -> `mapper_registry.map_imperatively(User, users)`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.vocabulary import REGISTRY
from orm_modernize.data.records import Edit, Evidence, Fix
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import imported_root
from orm_modernize.syntax.replace import Replacer
from orm_modernize.syntax.statements import in_import_fallback, top_level_statement

REGISTRY_NAME = "mapper_registry"
HOOK_FINDING = (
    "`mapper()` was removed in SQLAlchemy 2.0; in `__mapper_cls__` call `Mapper()`"
)


class ClassicalMapper(Rule):
    """
    ## What it does
    Checks for classical mappings made by calling `mapper(Class, table, ...)`.

    ## Why is this bad?
    SQLAlchemy 2.0 removed the `mapper()` function: the name still imports but
    calling it raises `InvalidRequestError`. Imperative mapping is now a method
    of a `registry`, which 1.4 already has.

    ## Example
        from sqlalchemy.orm import mapper, relationship

        mapper(Address, addresses)
        mapper(User, users, properties={
            "addresses": relationship(Address),
        })

    ## Use instead
        from sqlalchemy.orm import registry, relationship

        mapper_registry = registry()
        mapper_registry.map_imperatively(Address, addresses)
        mapper_registry.map_imperatively(User, users, properties={
            "addresses": relationship(Address),
        })

    ## Fix safety
    Every `mapper()` call of a module goes to one `mapper_registry = registry()`
    defined before the first of them (the module's own `registry()` when it has
    one); `map_imperatively()` takes the same
    arguments and returns the same `Mapper`, and the fixed code runs on 1.4 too.
    In 1.4 the classical mappings of a program share one hidden registry, which
    never learns class names: no working `mapper()` call can name a class by a
    string, so nothing depends on which registry a mapping is in (relationships
    between classes of different registries work). One registry per application
    is tidier; move `mapper_registry` to a shared module if you like. The fix is
    unsafe when `mapper` is taken from a Flask-SQLAlchemy `db` imported from
    elsewhere (`db.mapper(...)`). `non_primary=True`, which 2.0 also removed, is
    reported without a fix.

    ## References
    - SQLAlchemy 2.0 migration guide, "The original "mapper()" function now a
      core element of Declarative, renamed"
    """

    code = "ORM408"
    name = "classical-mapper"
    message = (
        "`mapper()` was removed in SQLAlchemy 2.0; use `registry().map_imperatively()`"
    )
    fix_title = "Map with `mapper_registry.map_imperatively()`"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"
    impact = "removed"
    triggers = (b"mapper(",)

    def visit_Module(self, node: cst.Module) -> None:
        calls: list[tuple[cst.Call, Evidence]] = []
        for call in self.semantic.nodes(cst.Call):
            evidence = self.semantic.orm_function(call.func, {"mapper"})
            if evidence is Evidence.NONE or in_import_fallback(
                call, self.semantic.parent
            ):
                continue
            if not call.args or call.args[0].keyword is not None:
                self.report(call)  # mapper(class_=User, ...): left to a human
            elif any(a.keyword and a.keyword.value == "non_primary" for a in call.args):
                self.report(
                    call,
                    message="`mapper(..., non_primary=True)` was removed in"
                    " SQLAlchemy 2.0; query an `aliased()` class instead",
                )
            else:
                calls.append((call, evidence))
        if calls:
            fix = self._fix(calls)
            for call, _ in calls:
                hooked = self._in_mapper_cls_hook(call)
                self.report(call, fix=fix, message=HOOK_FINDING if hooked else None)

    def _fix(self, mappings: list[tuple[cst.Call, Evidence]]) -> Fix | None:
        statements: dict[int, cst.CSTNode] = {}
        for call, _ in mappings:
            statement = top_level_statement(call, self.semantic.parent)
            if statement is None:
                return None
            statements.setdefault(id(statement), statement)
        hooked = [c for c, _ in mappings if self._in_mapper_cls_hook(c)]
        imperative = [c for c, _ in mappings if c not in hooked]
        calls: dict[int, cst.Call] = {}
        imports = []
        for call in hooked:
            # Declarative already set the class's registry: `Mapper` is what
            # 2.0 calls there, and 1.4's `mapper()` is a factory of it.
            found = self.semantic.reference(call, "sqlalchemy.orm", "Mapper")
            if found is None:
                return None
            calls[id(call)] = call.with_changes(func=found[0])
            imports.append(found[1])
        registry_line = first = None
        if imperative:
            first = top_level_statement(imperative[0], self.semantic.parent)
            name = self._existing_registry(first, imperative)
            if name is None:
                found = self.semantic.reference(
                    imperative[0], "sqlalchemy.orm", "registry"
                )
                if found is None:
                    return None
                imports.append(found[1])
                name = self.semantic.fresh_name(REGISTRY_NAME, self.semantic.module)
                registry_line = cst.SimpleStatementLine(
                    [cst.Assign([cst.AssignTarget(cst.Name(name))], cst.Call(found[0]))]
                )
            method = cst.Attribute(cst.Name(name), cst.Name("map_imperatively"))
            calls.update({id(c): c.with_changes(func=method) for c in imperative})
        edits = []
        for statement in statements.values():
            new = statement.visit(Replacer(calls))
            assert isinstance(new, cst.CSTNode)
            if registry_line is not None and statement is first:
                new = _after(registry_line, statement, new)
            edits.append(Edit(statement, new))
        freed = {n for call, _ in mappings for n in imported_root(call.func)}
        return Fix(
            tuple(edits),
            safe=all(e.proven for _, e in mappings),
            imports=tuple(i for i in imports if i is not None),
            unused=tuple(sorted(freed)),
        )

    def _existing_registry(
        self, before: cst.CSTNode | None, calls: list[cst.Call]
    ) -> str | None:
        """The name of the module's `registry()`, when the module assigns exactly
        one, once, at top level before the statement `before`, and the name means
        it at each of `calls`."""
        names = []
        for statement in self.semantic.module.body:
            if statement is before:
                break
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(target := small.targets[0].target, cst.Name)
                    and self.semantic.calls(small.value, REGISTRY)
                    and len(self.semantic.assignments(target)) == 1
                    and all(self.semantic.binds_same(target, c) for c in calls)
                ):
                    names.append(target.value)
        return names[0] if len(names) == 1 else None

    def _in_mapper_cls_hook(self, call: cst.Call) -> bool:
        """Inside a declarative class's `__mapper_cls__`, which declarative calls
        in place of `mapper()` to map that class."""
        return any(
            isinstance(node, cst.FunctionDef) and node.name.value == "__mapper_cls__"
            for node in self.semantic.ancestors(call)
        )


def _after(
    line: cst.SimpleStatementLine, old: cst.CSTNode, new: cst.CSTNode
) -> cst.FlattenSentinel[cst.CSTNode]:
    """`line` in place of the top-level statement `old`, which (as `new`) follows
    it: the comments and blank lines above stay above, and a class or function
    keeps its two blank lines."""
    leading = getattr(old, "leading_lines", ())
    blank = cst.EmptyLine()
    below = (blank, blank) if isinstance(old, (cst.ClassDef, cst.FunctionDef)) else ()
    return cst.FlattenSentinel(
        [
            line.with_changes(leading_lines=leading),
            new.with_changes(leading_lines=below),
        ]
    )
