"""The pass that builds a module's scopes (`scopes.py`): LibCST's `ScopeProvider`,
at a twelfth of its cost.

LibCST's provider runs two visitors over the module (one for expression contexts,
one for scopes), and its visitors rebuild every node on the way down: together three
times the cost of the parse. This is one recursive pass over the nodes' fields
(`tree.children`, which leaves out whitespace, operators and brackets) that decides
on the way down whether a name is stored to. It visits
in LibCST's order (a function's body before its decorators, a comprehension's first
iterable before its target), since that order decides which bindings a read sees.
`test_scopes.py` compares the result with LibCST's on every construct and on real
code. Left out, as no rule reads them: the names inside string annotations (LibCST
parses each string again) and whether a read is a type hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Callable, Union

import libcst as cst

from orm_modernize.analysis.scopes import (
    Access,
    AnnotationScope,
    BaseAssignment,
    ClassScope,
    ComprehensionScope,
    FunctionScope,
    GlobalScope,
    Scope,
    dotted_names,
    full_name_of,
)
from orm_modernize.analysis.star_imports import STAR_NAMES
from orm_modernize.syntax.tree import children

# Nodes that end a binding: the scope's count goes up when leaving them.
BINDING_NODES = frozenset(
    {
        cst.AnnAssign,
        cst.AsName,
        cst.Assign,
        cst.AugAssign,
        cst.ClassDef,
        cst.CompFor,
        cst.FunctionDef,
        cst.Global,
        cst.Import,
        cst.ImportFrom,
        cst.NamedExpr,
        cst.Nonlocal,
        cst.Parameters,
        cst.WithItem,
        cst.TypeVar,
        cst.TypeAlias,
        cst.TypeVarTuple,
        cst.ParamSpec,
    }
)


Comprehension = Union[cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp]


class Scopes:
    """Each node's scope: `scopes.get(node)`, None for the nodes LibCST gives none
    (the parts of an import, an attribute's name, keywords) and for syntax."""

    def __init__(self, module: cst.Module) -> None:
        self._of: dict[cst.CSTNode, Scope] = {}
        self._scope: Scope = GlobalScope()
        # Accesses are resolved once every binding is known.
        self._deferred: list[tuple[Access, str, cst.Attribute | None]] = []
        # The outermost attribute around the names being visited, per call.
        self._attributes: list[cst.Attribute | None] = [None]
        self._handlers: dict[type[cst.CSTNode], Callable[[Any, bool], object]] = {
            cst.Name: self._name,
            cst.Attribute: self._attribute,
            cst.Call: self._call,
            cst.Subscript: self._subscript,
            cst.Arg: self._arg,
            cst.Param: self._param,
            cst.FunctionDef: self._function,
            cst.Lambda: self._lambda,
            cst.ClassDef: self._class,
            cst.Import: self._import,
            cst.ImportFrom: self._import,
            cst.Global: self._global,
            cst.Nonlocal: self._nonlocal,
            cst.ListComp: self._comprehension,
            cst.SetComp: self._comprehension,
            cst.DictComp: self._comprehension,
            cst.GeneratorExp: self._comprehension,
            cst.CompFor: self._comp_for,
            cst.For: self._for,
            cst.Assign: self._assign,
            cst.AnnAssign: self._ann_assign,
            cst.AugAssign: self._aug_assign,
            cst.NamedExpr: self._named_expr,
            cst.AsName: self._as_name,
            cst.SimpleString: self._leaf,
            cst.ConcatenatedString: self._concatenated,
            cst.TypeAlias: self._type_alias,
            cst.TypeVar: self._type_var,
            cst.TypeVarTuple: self._type_name,
            cst.ParamSpec: self._type_name,
        }
        # (scope, names) bound by a star import of SQLAlchemy
        self._stars: list[tuple[Scope, frozenset[str]]] = []
        for statement in module.body:
            self._visit(statement)
        self._of[module] = self._scope
        self._yield_stars()
        self._infer_accesses()

    def _yield_stars(self) -> None:
        """A name the scope binds itself is not the star import's: a module that
        star-imports SQLAlchemy and defines its own `select()` calls its own."""
        for scope, names in self._stars:
            for name in names:
                found = scope._assignments.get(name, {})
                if any(not _is_star(a) for a in found):
                    for star in [a for a in found if _is_star(a)]:
                        del found[star]

    def get(self, node: cst.CSTNode) -> Scope | None:
        return self._of.get(node)

    def accesses(self) -> Iterator[Access]:
        """Every read of a name in the module, whatever its scope."""
        for scope in set(self._of.values()):
            for found in scope._accesses_by_node.values():
                yield from found

    def close(self) -> None:
        """Break the scopes' cycles (a scope and its bindings, a read and what it
        sees), so that reference counting frees them and the tree they point into."""
        found = set(self._of.values())
        for scope in [*found, *(s.parent for s in found)]:
            scope.release()
        self._of.clear()
        self._handlers.clear()

    # -- the walk ------------------------------------------------------------------
    def _visit(self, node: cst.CSTNode, store: bool = False) -> None:
        """Visit `node`; `store`: names in it are bound, not read."""
        handler = self._handlers.get(type(node))
        if handler is None:
            for child in children(node):
                self._visit(child, store)
        else:
            handler(node, store)
        scope = self._scope
        self._of[node] = scope
        if type(node) in BINDING_NODES:
            scope.count += 1

    def _visit_all(self, nodes: Iterable[cst.CSTNode], store: bool = False) -> None:
        for node in nodes:
            self._visit(node, store)

    def _leaf(self, node: cst.CSTNode, store: bool) -> None:
        pass

    def _name(self, node: cst.Name, store: bool) -> None:
        if store:
            self._scope.record_assignment(node.value, node)
        else:
            access = Access(node, self._scope)
            self._deferred.append((access, node.value, self._attributes[-1]))

    def _attribute(self, node: cst.Attribute, store: bool) -> None:
        stack = self._attributes
        if stack[-1] is None:
            stack[-1] = node
        self._visit(node.value)  # never the attribute's name
        if stack[-1] is node:
            stack[-1] = None

    def _call(self, node: cst.Call, store: bool) -> None:
        self._attributes.append(None)
        self._visit_all(children(node), store)
        self._attributes.pop()

    def _subscript(self, node: cst.Subscript, store: bool) -> None:
        self._visit(node.value)
        self._visit_all(node.slice)

    def _arg(self, node: cst.Arg, store: bool) -> None:
        self._visit(node.value)  # the keyword is neither binding nor read

    def _param(self, node: cst.Param, store: bool) -> None:
        scope = self._scope
        scope.record_assignment(node.name.value, node)
        self._of[node.name] = scope
        # Defaults and annotations are evaluated where the function is defined.
        self._scope = scope.parent
        for part in (node.default, node.annotation):
            if part is not None:
                self._visit(part)
        self._scope = scope

    def _function(self, node: cst.FunctionDef, store: bool) -> None:
        outer = self._scope
        outer.record_assignment(node.name.value, node)
        self._of[node.name] = outer
        if node.type_parameters is not None:
            self._scope = AnnotationScope(outer, node, None)
            self._visit(node.type_parameters)
        around = self._scope
        self._scope = FunctionScope(around, node, node.name.value)
        self._visit(node.params)
        self._visit(node.body)
        self._scope = around
        self._visit_all(node.decorators)
        if node.returns is not None:
            self._visit(node.returns)
        self._scope = outer

    def _lambda(self, node: cst.Lambda, store: bool) -> None:
        outer = self._scope
        self._scope = FunctionScope(outer, node, None)
        self._visit(node.params)
        self._visit(node.body)
        self._scope = outer

    def _class(self, node: cst.ClassDef, store: bool) -> None:
        outer = self._scope
        outer.record_assignment(node.name.value, node)
        self._of[node.name] = outer
        self._visit_all(node.decorators)
        if node.type_parameters is not None:
            self._scope = AnnotationScope(outer, node, None)
            self._visit(node.type_parameters)
        self._visit_all(node.bases)
        self._visit_all(node.keywords)
        self._scope = ClassScope(self._scope, node, node.name.value)
        self._visit_all(node.body.body)
        self._scope = outer

    def _import(self, node: cst.Import | cst.ImportFrom, store: bool) -> None:
        if isinstance(node.names, cst.ImportStar):
            # SQLAlchemy's public names, of the modules code imports that way
            assert isinstance(node, cst.ImportFrom)
            module = None
            if node.module is not None and not node.relative:
                module = full_name_of(node.module)
            names = STAR_NAMES.get(module or "", frozenset())
            for name in names:
                self._scope.record_import(name, node, node.names)
            self._stars.append((self._scope, names))
            return
        scope = self._scope
        for alias in node.names:
            self._of[alias] = scope
            bound = alias.asname.name if alias.asname is not None else alias.name
            assert isinstance(bound, (cst.Name, cst.Attribute))
            for name, _ in dotted_names(bound):
                scope.record_import(name, node, bound)

    def _global(self, node: cst.Global, store: bool) -> None:
        for item in node.names:
            self._scope.record_global(item.name.value)

    def _nonlocal(self, node: cst.Nonlocal, store: bool) -> None:
        for item in node.names:
            self._scope.record_nonlocal(item.name.value)

    def _comprehension(self, node: Comprehension, store: bool) -> None:
        outer = self._scope
        for_in = node.for_in
        # The first iterable is evaluated outside the comprehension.
        self._visit(for_in.iter)
        self._of[for_in] = outer
        scope = self._scope = ComprehensionScope(outer, node, None)
        self._visit(for_in.target, True)
        scope.count += 1
        self._visit_all(for_in.ifs)
        if for_in.inner_for_in is not None:
            self._visit(for_in.inner_for_in)
        if isinstance(node, cst.DictComp):
            self._visit(node.key)
            self._visit(node.value)
        else:
            self._visit(node.elt)
        self._scope = outer

    def _comp_for(self, node: cst.CompFor, store: bool) -> None:
        self._visit(node.target, True)
        self._visit(node.iter)
        self._visit_all(node.ifs)
        if node.inner_for_in is not None:
            self._visit(node.inner_for_in)

    def _for(self, node: cst.For, store: bool) -> None:
        self._visit(node.target, True)
        self._scope.count += 1
        self._visit(node.iter)
        self._visit(node.body)
        if node.orelse is not None:
            self._visit(node.orelse)

    def _assign(self, node: cst.Assign, store: bool) -> None:
        for target in node.targets:
            self._visit(target, True)
        self._visit(node.value)

    def _ann_assign(self, node: cst.AnnAssign, store: bool) -> None:
        self._visit(node.target, True)
        self._visit(node.annotation)
        if node.value is not None:
            self._visit(node.value)

    def _aug_assign(self, node: cst.AugAssign, store: bool) -> None:
        self._visit(node.target, True)
        self._visit(node.value)

    def _named_expr(self, node: cst.NamedExpr, store: bool) -> None:
        self._visit(node.target, True)
        self._visit(node.value)

    def _as_name(self, node: cst.AsName, store: bool) -> None:
        self._visit(node.name, True)

    def _concatenated(self, node: cst.ConcatenatedString, store: bool) -> None:
        # `"a" "b" "c"` nests to the right: a loop, not a recursion per string.
        while True:
            self._visit(node.left)
            right = node.right
            if not isinstance(right, cst.ConcatenatedString):
                self._visit(right)
                return
            self._of[right] = self._scope
            node = right

    def _type_alias(self, node: cst.TypeAlias, store: bool) -> None:
        outer = self._scope
        outer.record_assignment(node.name.value, node)
        self._scope = AnnotationScope(outer, node, None)
        if node.type_parameters is not None:
            self._visit(node.type_parameters)
        self._visit(node.value)
        self._scope = outer

    def _type_var(self, node: cst.TypeVar, store: bool) -> None:
        self._scope.record_assignment(node.name.value, node)
        if node.bound is not None:
            self._visit(node.bound)

    def _type_name(self, node: cst.TypeVarTuple | cst.ParamSpec, store: bool) -> None:
        self._scope.record_assignment(node.name.value, node)

    # -- resolving the accesses ------------------------------------------------------
    def _infer_accesses(self) -> None:
        by_scope_and_name: dict[tuple[Scope, str], list[Access]] = {}
        for access, name, attribute in self._deferred:
            scope = access.scope
            if attribute is not None:
                # `os.path.join` reads the binding `os.path` of `import os.path`.
                for dotted, node in dotted_names(attribute):
                    if dotted in scope:
                        access.node, name = node, dotted
                        break
            by_scope_and_name.setdefault((scope, name), []).append(access)
            access._record_assignments(name)
            scope._accesses_by_node.setdefault(access.node, []).append(access)
        for (scope, name), accesses in by_scope_and_name.items():
            for assignment in scope._resolve(name, scope):
                assignment._record_accesses(accesses)
        self._deferred = []


def _is_star(assignment: BaseAssignment) -> bool:
    node = getattr(assignment, "node", None)
    return isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar)
