"""A module's names as a rule sees them: scopes and qualified names, imports and
references, objects other modules of the project make. Built on its tree
(`module_tree.ModuleTree`); the base of `Semantic`: `models.Models` and
`sessions.Sessions` build on it. Scopes
(`scope_walk.py`) and positions are computed on the first question a rule asks,
and `is_one_of()` rules most names out by their spelling first, so a file in
which no rule finds a candidate pattern never pays for scope analysis.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, TypeVar

import libcst as cst

from orm_modernize.analysis.module_names import absolute, module_name
from orm_modernize.analysis.module_tree import ModuleTree
from orm_modernize.analysis.pins import Pin
from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.analysis.query_chain import QueryChain
from orm_modernize.analysis.relationships import Relationships
from orm_modernize.analysis.scope_walk import Scopes
from orm_modernize.analysis.scopes import (
    Assignment,
    BaseAssignment,
    ImportAssignment,
    Scope,
    full_name_of,
)
from orm_modernize.data.records import (
    Exports,
    ImportSpec,
)
from orm_modernize.syntax.nodes import eager_names, walk
from orm_modernize.syntax.statements import (
    module_imports,
    top_level_statement,
)
from orm_modernize.syntax.tree import WalkedTree

# Statements whose body may not run: a name bound inside may not exist
CONDITIONAL = (cst.If, cst.Try, cst.For, cst.While, cst.With)
T = TypeVar("T")
N = TypeVar("N", bound=cst.CSTNode)


class Names(ModuleTree):
    """Answers questions about the nodes and names of one module; knows no
    particular library."""

    def __init__(
        self,
        module: cst.Module,
        project: ProjectIndex | None = None,
        path: Path | None = None,
        walked: WalkedTree | None = None,
        source: bytes | None = None,
    ):
        super().__init__(module, walked, source)
        self.project = project or ProjectIndex()
        self.path = path
        # What the rules learned for the runs over several modules (query helpers
        # shared across modules, backrefs to classes of other modules): `export()`
        self.exports = Exports()
        # The Query chain starting at each node the Query rules visited (None: no
        # chain), shared by those rules within the pass.
        self.query_chains: dict[cst.CSTNode, QueryChain | None] = {}
        self._shared: dict[Callable[[Any], object], object] = {}
        self._used_names: dict[cst.CSTNode, dict[str, bool]] = {}
        self._qualified_names: dict[cst.CSTNode, frozenset[str]] = {}
        self._subclasses_of: dict[cst.ClassDef, list[cst.ClassDef]] = {}
        self._functions_open: set[cst.FunctionDef] = set()  # against recursion
        self._attributes_of: dict[
            cst.ClassDef, dict[str, list[cst.BaseExpression | None]]
        ] = {}

    @cached_property
    def pins(self) -> tuple[Pin, ...]:
        """The version pins of the project that owns this module."""
        return self.project.pins_for(self.path)

    @cached_property
    def module_name(self) -> str:
        """The dotted name of the module (empty when not read from a file)."""
        return module_name(self.path) if self.path is not None else ""

    def close(self) -> None:
        """Drop what this pass computed. The analyses point back to this object
        and scopes to their bindings: without this, only the cycle collector would
        free the module's tree, after walking all of it."""
        scopes = self.__dict__.pop("_scopes", None)
        if scopes is not None:
            scopes.close()
        self.__dict__.clear()

    # -- metadata, resolved on first use -------------------------------------------
    @cached_property
    def relationships(self) -> Relationships:
        return Relationships(self.nodes(cst.ClassDef), self.nodes(cst.Call))

    @cached_property
    def _scopes(self) -> Scopes:
        return Scopes(self.module)

    def scope(self, node: cst.CSTNode) -> Scope | None:
        return self._scopes.get(node)

    def qualified_names(self, node: cst.CSTNode) -> frozenset[str]:
        """What `node` names: `{"sqlalchemy.orm.Session"}`, or `{"f.<locals>.x"}`
        for a local binding; one set per possible binding."""
        found = self._qualified_names.get(node)
        if found is None:
            scope = self.scope(node)
            found = frozenset(
                () if scope is None else (q.name for q in scope.qualified_names(node))
            )
            if self.project.reexports:
                found |= self._reexported(found)
            self._qualified_names[node] = found
        return found

    def _reexported(self, names: frozenset[str]) -> frozenset[str]:
        """The SQLAlchemy names that project modules re-export as `names`
        (`from app.database import relationship`)."""
        found = set()
        for name in names:
            if name.startswith(".") or name.split(".", 1)[0] in self.project.packages:
                qualified = absolute(name, self._package)
                library = qualified and self.project.reexport(qualified)
                if library:
                    found.add(library)
        return frozenset(found)

    def is_one_of(self, node: cst.CSTNode, names: Collection[str]) -> bool:
        """Does `node` (a name or dotted attribute) resolve to one of `names`?"""
        last = _last_name(node)
        if (
            last is not None
            and last not in _last_names(names)
            and last not in self._import_aliases
        ):
            # A qualified name ends with the name as spelt, unless an import
            # renamed it: most calls are ruled out without scope analysis.
            return False
        return not self.qualified_names(node).isdisjoint(names)

    @cached_property
    def _import_aliases(self) -> frozenset[str]:
        """Every `as` name of an import anywhere in the module."""
        imports: list[cst.Import | cst.ImportFrom] = [
            *self.nodes(cst.Import),
            *self.nodes(cst.ImportFrom),
        ]
        return frozenset(
            alias.evaluated_alias or ""
            for statement in imports
            if not isinstance(statement.names, cst.ImportStar)
            for alias in statement.names
            if alias.asname is not None
        )

    def calls(self, node: cst.CSTNode | None, names: Collection[str]) -> bool:
        return isinstance(node, cst.Call) and self.is_one_of(node.func, names)

    @cached_property
    def imports_sqlalchemy(self) -> bool:
        return any(
            source.split(".", 1)[0] in ("sqlalchemy", "flask_sqlalchemy")
            for source, _, _ in module_imports(self.module)
        )

    # -- bindings --------------------------------------------------------------------
    def assignments(self, name: cst.Name) -> list[BaseAssignment]:
        scope = self.scope(name)
        if scope is None:
            return []
        # An access knows exactly which bindings it can see; a binding site does not.
        referents = {
            r: None for access in scope.accesses_at(name) for r in access.referents
        }
        return list(referents) or scope[name.value]

    def binds_same(self, name: cst.Name, at: cst.CSTNode) -> bool:
        """`name` means the same binding(s) at `at` as where it is read (a nested
        function could have its own)."""
        here, there = self.scope(name), self.scope(at)
        if here is None or there is None:
            return False
        return set(here[name.value]) == set(there[name.value])

    def fresh_name(self, base: str, at: cst.CSTNode) -> str:
        """`base`, or `base2`, ...: a name free to bind at `at`. At module level, no
        name the module uses; in a function, none that function uses or that an
        enclosing scope binds. A name used only inside `with ... as name:` blocks
        that bind it is free too: each block sees its own binding."""
        scope = self.scope(at)
        function = self._enclosing_function(at)
        used = self._names_used(function or self.module)
        name, n = base, 1
        while used.get(name) or (
            function is not None and scope is not None and name in scope
        ):
            n += 1
            name = f"{base}{n}"
        return name

    def _names_used(self, root: cst.CSTNode) -> dict[str, bool]:
        """Each name `root` uses -> whether it is used outside a `with` block that
        binds it. Made once per function (or module) and pass: rules ask for a
        fresh name once per fix."""
        if root not in self._used_names:
            used: dict[str, bool] = {}
            for node in walk(root):
                if isinstance(node, cst.Name) and not used.get(node.value):
                    used[node.value] = not self._inside_with_binding(node)
            self._used_names[root] = used
        return self._used_names[root]

    def _inside_with_binding(self, name: cst.Name) -> bool:
        node: cst.CSTNode | None = name
        while node is not None:
            parent = self.parent(node)
            if isinstance(parent, cst.With) and any(
                isinstance(i.asname, cst.AsName)
                and isinstance(i.asname.name, cst.Name)
                and i.asname.name.value == name.value
                for i in parent.items
            ):
                return True
            if isinstance(parent, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return False
            node = parent
        return False

    def assigned_values(self, name: cst.Name) -> Iterator[cst.CSTNode | None]:
        """The value each binding of `name` gives it; None where it is no plain value.

        `x = v` gives v, `with v as x` gives v, a parameter gives the `Param`.
        """
        return self._values(self.assignments(name))

    def _values(
        self, assignments: Collection[BaseAssignment]
    ) -> Iterator[cst.CSTNode | None]:
        for assignment in assignments:
            if isinstance(assignment, ImportAssignment):
                yield assignment.node
                continue
            if not isinstance(assignment, Assignment):
                yield None
                continue
            node = assignment.node
            if isinstance(node, cst.Param):
                yield node
                continue
            parent = self.parent(node)
            if isinstance(parent, cst.Element):
                yield self._unpacked_value(parent)
            elif isinstance(parent, cst.AssignTarget):
                assign = self.parent(parent)
                yield assign.value if isinstance(assign, cst.Assign) else None
            elif isinstance(parent, cst.AnnAssign) and parent.target is node:
                yield parent.value
            elif isinstance(parent, cst.AsName):
                item = self.parent(parent)
                yield item.item if isinstance(item, cst.WithItem) else None
            else:
                yield (
                    node if isinstance(node, (cst.ClassDef, cst.FunctionDef)) else None
                )

    def _unpacked_value(self, element: cst.Element) -> cst.CSTNode | None:
        """`A, b = x, y` gives `A` the value `x`; `A, B = f()` gives it `f()`."""
        target = self.parent(element)
        holder = self.parent(target) if target is not None else None
        assign = self.parent(holder) if holder is not None else None
        if not (
            isinstance(target, (cst.Tuple, cst.List))
            and isinstance(holder, cst.AssignTarget)
            and isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
        ):
            return None
        value = assign.value
        if not isinstance(value, (cst.Tuple, cst.List)):
            return value if isinstance(value, cst.Call) else None
        index = next(i for i, e in enumerate(target.elements) if e is element)
        if len(value.elements) != len(target.elements) or any(
            isinstance(e, cst.StarredElement) for e in value.elements
        ):
            return None
        return value.elements[index].value

    def bound_before(self, value: cst.BaseExpression, classdef: cst.ClassDef) -> bool:
        """Every name `value` evaluates when it runs is bound, for good, at module
        level before the top-level class statement `classdef`."""
        module = self.module
        position = {id(s): i for i, s in enumerate(module.body)}
        limit = position[id(classdef)]
        for name in eager_names(value):
            if name.value == classdef.name.value:
                return False
            for assignment in self.assignments(name):
                if not isinstance(assignment, Assignment):
                    continue  # a builtin: always there
                node = assignment.node
                statement = top_level_statement(node, self.parent)
                if statement is None or position.get(id(statement), limit) >= limit:
                    return False
                if (
                    not isinstance(assignment, ImportAssignment)
                    and statement is not node
                    and isinstance(statement, CONDITIONAL)
                ):
                    return False  # conditionally bound: may not exist in time
        return True

    def bound_once(self, value: cst.BaseExpression) -> bool:
        """Every name `value` evaluates is bound once, unconditionally, by a
        top-level statement of the module (before or after `value`): what it
        names once the module has run."""
        for name in eager_names(value):
            bindings = self.assignments(name)
            if len(bindings) != 1 or not isinstance(bindings[0], Assignment):
                return False
            statement = top_level_statement(bindings[0].node, self.parent)
            if statement is None or isinstance(statement, CONDITIONAL):
                return False
        return True

    # -- objects other modules of the project make -----------------------------------
    def project_object(
        self, expr: cst.BaseExpression, at: cst.CSTNode | None = None
    ) -> str | None:
        """What `expr` (`db`, `model.Session`) is when every binding it can have
        here imports an object another module of the project makes at its top
        level: "db" (`SQLAlchemy()`), "scoped_session" or "sessionmaker". As
        proven as in the module that makes it: its call is the library's."""
        name = self.project_name(expr, at)
        return None if name is None else self.project.object(name)

    def project_name(
        self, expr: cst.BaseExpression, at: cst.CSTNode | None = None
    ) -> str | None:
        """The absolute name (`app.models.User`) that `expr` imports, when every
        binding it can have at `at` (default: where it is) imports the same."""
        dotted = full_name_of(expr)
        if not dotted:
            return None
        scope = self.scope(at if at is not None else expr)
        head = dotted.split(".", 1)[0]
        if scope is None or head not in scope:
            return None
        names: set[str | None] = set()
        for assignment in scope[head]:
            if not isinstance(assignment, ImportAssignment):
                return None
            names.update(
                absolute(q.name, self._package)
                for q in assignment.qualified_names(dotted)
            )
        return names.pop() if len(names) == 1 else None

    @cached_property
    def _package(self) -> str:
        """The package relative imports of this module start from."""
        if self.path is not None and self.path.stem == "__init__":
            return self.module_name
        return self.module_name.rpartition(".")[0]

    # -- names for generated code ----------------------------------------------------
    def reference(
        self, at: cst.CSTNode, module: str, name: str, accepted: Collection[str] = ()
    ) -> tuple[cst.BaseExpression, ImportSpec | None] | None:
        """How to spell `module.name` at `at`, and the import that needs adding.

        Reuses an existing import of the name or of the module, and refuses (None) when
        the bare name is already taken by something else where the code will run.
        """
        scope = self.scope(at)
        if scope is None:
            return None
        wanted = {f"{module}.{name}", *accepted}
        if name in scope:
            bound = scope[name]
            if bound and all(
                isinstance(a, ImportAssignment)
                and {q.name for q in a.qualified_names(name)} & wanted
                for a in bound
            ):
                return cst.Name(name), None
            return self._via_module_alias(scope, module, name)
        # Code written as `sa.func.count()` reads best as `sa.select(...)`.
        via_alias = self._via_module_alias(scope, module, name)
        if via_alias is not None or name in scope.globals:
            return via_alias
        return cst.Name(name), (module, name)

    def _via_module_alias(
        self, scope: Scope, module: str, name: str
    ) -> tuple[cst.BaseExpression, ImportSpec | None] | None:
        for assignment in scope.globals.assignments:
            if not isinstance(assignment, ImportAssignment):
                continue
            if not isinstance(assignment.node, cst.Import):
                continue
            alias = assignment.name
            if (
                "." not in alias
                and {q.name for q in assignment.qualified_names(alias)} == {module}
                and set(scope[alias]) == {assignment}
            ):
                return cst.Attribute(cst.Name(alias), cst.Name(name)), None
        return None


def _last_name(node: cst.CSTNode) -> str | None:
    """`c` of `a.b.c`, `a.b.c(...)`, `a.b.c[...]`, `@a.b.c`."""
    while True:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            return node.attr.value
        if isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Decorator):
            node = node.decorator
        else:
            return None


def _last_names(names: Collection[str]) -> frozenset[str]:
    """The last part of each dotted name."""
    if isinstance(names, frozenset):
        return _last_names_of(names)
    return frozenset(n.rsplit(".", 1)[-1] for n in names)


@lru_cache(maxsize=256)
def _last_names_of(names: frozenset[str]) -> frozenset[str]:
    return frozenset(n.rsplit(".", 1)[-1] for n in names)
