"""Which binding each name of a module means, as LibCST's scope analysis
(`ScopeProvider`) answers it: scopes, their bindings, the bindings each read can see,
qualified names. `scope_walk.Scopes` builds them in one pass over a module.

The answers are LibCST's, quirks included, so the rules' judgement does not change:
class bodies invisible from the functions inside them, a comprehension's first
iterable outside it, a binding later in the same scope not seen by an earlier read
(unless it is the only one). Collections that LibCST hands out as sets are
insertion-ordered here, so answers do not change order from run to run.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Iterable, Iterator
from typing import Callable, NamedTuple

import libcst as cst


class QualifiedNameSource(enum.Enum):
    IMPORT = 1
    BUILTIN = 2
    LOCAL = 3


class QualifiedName(NamedTuple):
    name: str  # e.g. "sqlalchemy.orm.Session"
    source: QualifiedNameSource


class Access:
    """A name read (or deleted): `node` is the `Name`, or for a dotted import the
    `Attribute` spelling the imported name (`os.path` of `os.path.join`)."""

    __slots__ = ("node", "scope", "index", "_referents")

    def __init__(self, node: cst.Name, scope: Scope) -> None:
        self.node: cst.Name | cst.Attribute = node
        self.scope = scope
        self.index = scope.count
        self._referents: dict[BaseAssignment, None] = {}

    @property
    def referents(self) -> list[BaseAssignment]:
        """The bindings this access can see."""
        return list(self._referents)

    def _record_assignments(self, name: str) -> None:
        scope = self.scope
        found = scope._resolve(name, scope)
        # A binding later in the same scope does not count (unless it is the only
        # kind there is: then the enclosing scope's do).
        previous = [a for a in found if a.scope is not scope or a.index < self.index]
        if not previous and found and scope.parent is not scope:
            previous = scope.parent._resolve(name, scope)
        for assignment in previous:
            self._referents[assignment] = None


class BaseAssignment:
    __slots__ = ("name", "scope", "_references")
    index = -1  # where it comes among its scope's bindings

    def __init__(self, name: str, scope: Scope) -> None:
        self.name = name
        self.scope = scope
        self._references: dict[Access, None] = {}

    @property
    def references(self) -> list[Access]:
        """The accesses that can see this binding."""
        return list(self._references)

    def _record_accesses(self, accesses: Iterable[Access]) -> None:
        earlier: list[Access] = []
        for access in accesses:
            if access.scope is not self.scope or self.index < access.index:
                self._references[access] = None
            else:
                earlier.append(access)
        # Reads before this binding see what the enclosing scope binds.
        if earlier and self.scope.parent is not self.scope:
            for shadowed in self.scope.parent[self.name]:
                shadowed._record_accesses(earlier)

    def qualified_names(self, full_name: str) -> set[QualifiedName]:
        raise NotImplementedError


class Assignment(BaseAssignment):
    """A binding made in the module: `node` is the `Name` stored to, the `Param`,
    `FunctionDef`, `ClassDef`, or (for `ImportAssignment`) the import statement."""

    __slots__ = ("node", "index")

    def __init__(self, name: str, scope: Scope, node: cst.CSTNode, index: int):
        super().__init__(name, scope)
        self.node = node
        self.index = index

    def qualified_names(self, full_name: str) -> set[QualifiedName]:
        prefix = self.scope.prefix
        name = f"{prefix}.{full_name}" if prefix else full_name
        return {QualifiedName(name, QualifiedNameSource.LOCAL)}


class BuiltinAssignment(BaseAssignment):
    __slots__ = ()

    def qualified_names(self, full_name: str) -> set[QualifiedName]:
        return {QualifiedName(f"builtins.{self.name}", QualifiedNameSource.BUILTIN)}


class ImportAssignment(Assignment):
    __slots__ = ("as_name",)

    def __init__(
        self,
        name: str,
        scope: Scope,
        node: cst.Import | cst.ImportFrom,
        index: int,
        as_name: cst.CSTNode,
    ):
        super().__init__(name, scope, node, index)
        self.as_name = as_name

    def qualified_names(self, full_name: str) -> set[QualifiedName]:
        """What `full_name` (this binding's name, or a dotted name starting with it)
        names: `sa.orm` of `import sqlalchemy as sa` is `sqlalchemy.orm`."""
        node = self.node
        assert isinstance(node, (cst.Import, cst.ImportFrom))
        module = ""
        if isinstance(node, cst.ImportFrom):
            if node.module is not None:
                module = full_name_of(node.module) or ""
            if node.relative:
                module = "." * len(node.relative) + module
        results: set[QualifiedName] = set()
        if isinstance(node.names, cst.ImportStar):
            # `from sqlalchemy import *` binding `select`: `select.x` is
            # `sqlalchemy.select.x` (star_imports.py says which names it binds)
            if full_name == self.name or full_name.startswith(f"{self.name}."):
                name = f"{module}.{full_name}"
                results.add(QualifiedName(name, QualifiedNameSource.IMPORT))
            return results
        for alias in node.names:
            real = full_name_of(alias.name)
            if not real:
                continue
            # `import a.b.c` binds `a`, `a.b` and `a.b.c`: the longest that matches.
            parts = real.split(".")
            for length in range(len(parts), 0, -1):
                as_name = real_name = ".".join(parts[:length])
                if module.endswith("."):
                    real_name = f"{module}{real_name}"
                elif module:
                    real_name = f"{module}.{real_name}"
                if alias.asname is not None:
                    as_name = alias.evaluated_alias or as_name
                if not full_name.startswith(as_name):
                    continue
                rest = full_name.split(as_name, 1)[1]
                if rest and not rest.startswith("."):
                    continue
                rest = rest.lstrip(".")
                name = f"{real_name}.{rest}" if rest else real_name
                results.add(QualifiedName(name, QualifiedNameSource.IMPORT))
                break
        return results


class Scope:
    """The bindings of one namespace. `name in scope` and `scope[name]` see what
    code in this scope sees, enclosing scopes included."""

    __slots__ = (
        "parent",
        "globals",
        "node",
        "prefix",
        "count",
        "_assignments",
        "_accesses_by_node",
    )

    def __init__(self, parent: Scope | None, node: cst.CSTNode | None) -> None:
        self.parent: Scope = parent if parent is not None else self
        self.globals: Scope = parent.globals if parent is not None else self
        self.node = node
        self.prefix = ""  # of qualified names: "f.<locals>", "K", ...
        self.count = 0  # bindings made so far: orders accesses and bindings
        self._assignments: dict[str, dict[BaseAssignment, None]] = {}
        self._accesses_by_node: dict[cst.CSTNode, list[Access]] = {}

    def __contains__(self, name: str) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        """Forget everything (see `Scopes.close()`); the scope is unusable after."""
        for accesses in self._accesses_by_node.values():
            for access in accesses:
                access._referents.clear()
        for assignments in self._assignments.values():
            for assignment in assignments:
                assignment._references.clear()
        self._accesses_by_node.clear()
        self._assignments.clear()
        self.parent = self.globals = _RELEASED

    def __getitem__(self, name: str) -> list[BaseAssignment]:
        """Every binding of `name` visible here, in whatever order they come."""
        return self._resolve(name, self)

    def _resolve(self, name: str, origin: Scope) -> list[BaseAssignment]:
        raise NotImplementedError

    def _visible_from_children(self, origin: Scope) -> bool:
        return True

    def _next_visible_parent(self, origin: Scope, first: Scope | None = None) -> Scope:
        parent = first if first is not None else self.parent
        while not parent._visible_from_children(origin):
            parent = parent.parent
        return parent

    def _target(self, name: str) -> Scope:
        """The scope a binding of `name` made here goes to (`global`, `nonlocal`)."""
        return self

    def _record(self, name: str, make: Callable[[Scope], BaseAssignment]) -> None:
        target = self._target(name)
        target._assignments.setdefault(name, {})[make(target)] = None

    def record_assignment(self, name: str, node: cst.CSTNode) -> None:
        self._record(name, lambda target: Assignment(name, target, node, target.count))

    def record_import(
        self, name: str, node: cst.Import | cst.ImportFrom, as_name: cst.CSTNode
    ) -> None:
        self._record(
            name,
            lambda target: ImportAssignment(name, target, node, target.count, as_name),
        )

    def record_global(self, name: str) -> None:
        pass

    def record_nonlocal(self, name: str) -> None:
        pass

    @property
    def assignments(self) -> Iterator[BaseAssignment]:
        """The bindings made in this scope itself."""
        for found in self._assignments.values():
            yield from found

    def accesses_at(self, node: cst.CSTNode) -> list[Access]:
        """The accesses whose node is `node` (a name read in this scope)."""
        return self._accesses_by_node.get(node, [])

    def qualified_names(self, node: cst.CSTNode) -> set[QualifiedName]:
        """What `node` (a name or dotted name read or bound in this scope) refers
        to: imports give the imported name, local bindings `f.<locals>.x`."""
        accesses = self._accesses_by_node.get(node)
        if accesses:
            return {
                qualified
                for access in accesses
                for referent in access._referents
                for qualified in referent.qualified_names(referent.name)
            }
        full_name = full_name_of(node)
        if full_name is None:
            return set()
        assignments: list[BaseAssignment] = []
        prefix: str | None = full_name
        while prefix:
            if prefix in self:
                assignments = self[prefix]
                break
            cut = prefix.rfind(".")
            prefix = None if cut == -1 else prefix[:cut]
        for assignment in assignments:
            if isinstance(assignment, Assignment) and _is_binding(
                node, assignment.node
            ):
                return assignment.qualified_names(full_name)
        return {q for a in assignments for q in a.qualified_names(full_name)}


_RELEASED = Scope(None, None)  # what released scopes point to instead of others


class BuiltinScope(Scope):
    __slots__ = ()

    def __contains__(self, name: str) -> bool:
        return hasattr(builtins, name)

    def _resolve(self, name: str, origin: Scope) -> list[BaseAssignment]:
        found = self._assignments.get(name)
        if found is None and hasattr(builtins, name):
            found = self._assignments[name] = {BuiltinAssignment(name, self): None}
        return list(found) if found else []


class GlobalScope(Scope):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(None, None)
        self.parent = BuiltinScope(None, None)
        self.parent.globals = self

    def __contains__(self, name: str) -> bool:
        if name in self._assignments:
            return bool(self._assignments[name])
        return name in self._next_visible_parent(self)

    def _resolve(self, name: str, origin: Scope) -> list[BaseAssignment]:
        found = self._assignments.get(name)
        if found is not None:
            return list(found)
        return self._next_visible_parent(origin)[name]


class LocalScope(Scope):
    __slots__ = ("name", "_overwrites")

    def __init__(self, parent: Scope, node: cst.CSTNode, name: str | None) -> None:
        super().__init__(parent, node)
        self.name = name
        self._overwrites: dict[str, Scope] = {}
        self.prefix = self._make_prefix()

    def _make_prefix(self) -> str:
        return ".".join(filter(None, [self.parent.prefix, self.name, "<locals>"]))

    def record_global(self, name: str) -> None:
        self._overwrites[name] = self.globals

    def record_nonlocal(self, name: str) -> None:
        self._overwrites[name] = self.parent

    def _target(self, name: str) -> Scope:
        if name in self._overwrites:
            scope = self._next_visible_parent(self, self._overwrites[name])
            return scope._target(name)
        return self

    def __contains__(self, name: str) -> bool:
        if name in self._overwrites:
            return name in self._overwrites[name]
        if name in self._assignments:
            return bool(self._assignments[name])
        return name in self._next_visible_parent(self)

    def _resolve(self, name: str, origin: Scope) -> list[BaseAssignment]:
        if name in self._overwrites:
            scope = self._next_visible_parent(origin, self._overwrites[name])
            return scope._resolve(name, origin)
        found = self._assignments.get(name)
        if found is not None:
            return list(found)
        return self._next_visible_parent(origin)._resolve(name, origin)


class FunctionScope(LocalScope):
    """A function's or a lambda's body."""

    __slots__ = ()


class ClassScope(LocalScope):
    """A class body: invisible from the functions and classes inside it."""

    __slots__ = ()

    def _visible_from_children(self, origin: Scope) -> bool:
        return origin.parent is self and isinstance(origin, AnnotationScope)

    def _make_prefix(self) -> str:
        return ".".join(filter(None, [self.parent.prefix, self.name]))


class ComprehensionScope(LocalScope):
    __slots__ = ()

    def _make_prefix(self) -> str:
        return ".".join(filter(None, [self.parent.prefix, "<comprehension>"]))


class AnnotationScope(LocalScope):
    """PEP 695 type parameters and type aliases."""

    __slots__ = ()

    def _make_prefix(self) -> str:
        return self.parent.prefix


def full_name_of(node: cst.CSTNode) -> str | None:
    """`a.b.c` of a dotted name (of a call's function, a subscript's value, a
    definition's name); LibCST's `get_full_name_for_node`, whose "None.x" for
    `(a + b).x` is kept too (it then resolves to the builtin `None`)."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{full_name_of(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return full_name_of(node.func)
    if isinstance(node, cst.Subscript):
        return full_name_of(node.value)
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        return full_name_of(node.name)
    if isinstance(node, cst.Decorator):
        return full_name_of(node.decorator)
    return None


def dotted_names(
    node: cst.Attribute | cst.Name,
) -> Iterator[tuple[str, cst.Attribute | cst.Name]]:
    """`a.b.c` -> ("a.b.c", node), ("a.b", node.value), ("a", ...); a call in the
    chain ends the longer names: `a.b().c` -> ("a.b", ...), ("a", ...)."""
    if isinstance(node, cst.Name):
        yield node.value, node
        return
    value = node.value
    if isinstance(value, cst.Call):
        if isinstance(value.func, (cst.Attribute, cst.Name)):
            yield from dotted_names(value.func)
    elif isinstance(value, (cst.Attribute, cst.Name)):
        inner = dotted_names(value)
        first = next(inner, None)
        if first is not None:
            yield f"{first[0]}.{node.attr.value}", node
            yield first
            yield from inner


def _is_binding(node: cst.CSTNode, binding: cst.CSTNode) -> bool:
    """`node` is the binding node, or a name in the import statement `binding`."""
    if node is binding:
        return True
    if isinstance(binding, (cst.Import, cst.ImportFrom)) and not isinstance(
        binding.names, cst.ImportStar
    ):
        for alias in binding.names:
            if alias.name is node:
                return True
            if alias.asname is not None and alias.asname.name is node:
                return True
    return False
