"""What an expression is, as far as static analysis can prove: sessions, mapped classes.

One `Semantic` object serves every rule of one pass over one module. Scopes
(`scope_walk.py`) and positions are computed on the first question a rule asks, and
`is_one_of()` rules most names out by their spelling first, so a file in which no
rule finds a candidate pattern never pays for scope analysis.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Optional, TypeVar, cast

import libcst as cst

from orm_modernize.analysis.pins import Pin
from orm_modernize.analysis.project import ProjectIndex, absolute, module_name
from orm_modernize.analysis.query_chain import QueryChain
from orm_modernize.analysis.relationships import Relationships
from orm_modernize.analysis.scope_walk import Scopes
from orm_modernize.analysis.scopes import (
    Assignment,
    BaseAssignment,
    ImportAssignment,
    QualifiedNameSource,
    Scope,
    full_name_of,
)
from orm_modernize.data.records import (
    Evidence,
    Exports,
    ImportSpec,
)
from orm_modernize.syntax import noqa, tree
from orm_modernize.syntax.nodes import code_of, eager_names, keyword_argument, walk
from orm_modernize.syntax.positions import Positions

T = TypeVar("T")
N = TypeVar("N", bound=cst.CSTNode)


class Shape(enum.Enum):
    """What one argument of `session.query(...)` selects."""

    ENTITY = "entity"  # a mapped class or an aliased() of one: rows are objects
    COLUMN = "column"  # a column attribute or SQL expression: rows are tuples
    UNKNOWN = "unknown"


SESSION_CLASSES = frozenset(
    {"sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session"}
)
SESSION_FACTORIES = frozenset(
    {"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"}
)
SCOPED_SESSIONS = frozenset(
    {"sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"}
)
# Functions that return a plain `Session`: the 1.x `create_session()` and the
# `fixture_session()` of SQLAlchemy's own test suite.
SESSION_FUNCTIONS = frozenset(
    {
        "sqlalchemy.orm.create_session",
        "sqlalchemy.orm.session.create_session",
        "sqlalchemy.testing.fixture_session",
        "sqlalchemy.testing.fixtures.fixture_session",
    }
)
FLASK_SQLALCHEMY = frozenset({"flask_sqlalchemy.SQLAlchemy"})
# `relationship()` by its qualified names (`relation()` is ORM404's).
RELATIONSHIP = frozenset(
    {"sqlalchemy.orm.relationship", "sqlalchemy.orm.relationships.relationship"}
)
# Classical mapping: the first argument of these calls is a mapped class.
MAPPER_FUNCTIONS = frozenset({"sqlalchemy.orm.mapper", "sqlalchemy.orm.mapper.mapper"})
TABLE_CLASSES = frozenset({"sqlalchemy.Table", "sqlalchemy.schema.Table"})
DECLARATIVE_BASE_FUNCTIONS = frozenset(
    {
        "sqlalchemy.orm.declarative_base",
        "sqlalchemy.orm.decl_api.declarative_base",
        "sqlalchemy.ext.declarative.declarative_base",
        "sqlalchemy.ext.declarative.api.declarative_base",
        "sqlalchemy.ext.automap.automap_base",
    }
)
DECLARATIVE_BASE_CLASSES = frozenset(
    {
        f"sqlalchemy.orm{sub}.{name}"
        for sub in ("", ".decl_api")
        for name in ("DeclarativeBase", "DeclarativeBaseNoMeta")
    }
)
AS_DECLARATIVE = frozenset(
    {
        "sqlalchemy.orm.as_declarative",
        "sqlalchemy.orm.decl_api.as_declarative",
        "sqlalchemy.ext.declarative.as_declarative",
    }
)
BUNDLES = frozenset({"sqlalchemy.orm.Bundle", "sqlalchemy.orm.util.Bundle"})
ALIASED = frozenset(
    {
        f"sqlalchemy.orm{sub}.{name}"
        for sub in ("", ".util")
        for name in ("aliased", "with_polymorphic")
    }
)
# Receivers that are only *named* like a session. `db` is the FastAPI tutorial's name.
SESSION_NAMES = frozenset({"session", "sess", "db", "dbsession", "db_session"})


def is_session_name(name: str) -> bool:
    return name in SESSION_NAMES or name.endswith("_session")


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


ParentLookup = Callable[[cst.CSTNode], Optional[cst.CSTNode]]


class Semantic:
    """Answers questions about the nodes of one module; knows no particular rule."""

    def __init__(
        self,
        module: cst.Module,
        project: ProjectIndex | None = None,
        path: Path | None = None,
        walked: tuple[dict[cst.CSTNode, cst.CSTNode], list[cst.CSTNode]] | None = None,
        source: bytes | None = None,
    ):
        """`walked`: `tree.walk(module)`, which the engine made anyway; `source`:
        the bytes `module` was parsed from, if it is unchanged since."""
        self.source = source
        if walked is not None:
            self._walked = walked
        self.module = module
        self.project = project or ProjectIndex()
        self.path = path
        # What the rules learned for the runs over several modules (query helpers
        # shared across modules, backrefs to classes of other modules): `export()`
        self.exports = Exports()
        # The Query chain starting at each node the Query rules visited (None: no
        # chain), shared by those rules within the pass.
        self.query_chains: dict[cst.CSTNode, QueryChain | None] = {}
        self._shared: dict[Callable[[Semantic], object], object] = {}
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

    def shared(self, factory: Callable[[Semantic], T]) -> T:
        """The one `factory(self)` of this module, made on first use: analyses
        that build on this one (`CoreObjects`) and cache their answers."""
        if factory not in self._shared:
            self._shared[factory] = factory(self)
        return cast(T, self._shared[factory])

    # -- metadata, resolved on first use -------------------------------------------
    @cached_property
    def relationships(self) -> Relationships:
        return Relationships(self.nodes(cst.ClassDef), self.nodes(cst.Call))

    @cached_property
    def _scopes(self) -> Scopes:
        return Scopes(self.module)

    @cached_property
    def _walked(self) -> tuple[dict[cst.CSTNode, cst.CSTNode], list[cst.CSTNode]]:
        return tree.walk(self.module)

    @cached_property
    def _parents(self) -> dict[cst.CSTNode, cst.CSTNode]:
        return self._walked[0]

    @property
    def all_nodes(self) -> list[cst.CSTNode]:
        """Every node of the module, in source order."""
        return self._walked[1]

    def nodes(self, node_type: type[N]) -> list[N]:
        """Every node of the (concrete) `node_type` in the module, in source
        order: for analyses of the whole module, which then share one walk."""
        return cast(list[N], self._by_type.get(node_type, []))

    @cached_property
    def _by_type(self) -> dict[type[cst.CSTNode], list[cst.CSTNode]]:
        found: dict[type[cst.CSTNode], list[cst.CSTNode]] = {}
        for node in self._walked[1]:
            found.setdefault(type(node), []).append(node)
        return found

    @cached_property
    def top_level(self) -> TopLevel:
        return TopLevel.of(self.module)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._parents.get(node)

    @cached_property
    def positions(self) -> Positions:
        return Positions(self.module, self._parents, self.source)

    def source_position(self, node: cst.CSTNode) -> tuple[int, int]:
        """Where `node` starts: a sort key for what scopes hand out as sets, whose
        order changes from run to run."""
        start = self.positions.start(node)
        return start.line, start.column

    def source_end(self, node: cst.CSTNode) -> tuple[int, int]:
        end = self.positions[node].end
        return end.line, end.column

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

    def _enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        return self.enclosing(node, cst.FunctionDef)

    def _enclosing_class(self, node: cst.CSTNode) -> cst.ClassDef | None:
        return self.enclosing(node, cst.ClassDef)

    def enclosing(
        self,
        node: cst.CSTNode,
        types: type[N] | tuple[type[N], ...],
        *,
        stop: tuple[type[cst.CSTNode], ...] = (),
    ) -> N | None:
        """The innermost node containing `node` that is one of `types`; None when
        there is none, or a node of one of `stop` comes first."""
        for parent in self.ancestors(node):
            if isinstance(parent, types):
                return parent
            if isinstance(parent, stop):
                return None
        return None

    def within(self, node: cst.CSTNode, container: cst.CSTNode) -> bool:
        """`node` is `container` or inside it."""
        return node is container or any(p is container for p in self.ancestors(node))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """The nodes that contain `node`, innermost first."""
        parent = self.parent(node)
        while parent is not None:
            yield parent
            parent = self.parent(parent)

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
                    and (
                        isinstance(
                            statement, (cst.If, cst.Try, cst.For, cst.While, cst.With)
                        )
                    )
                ):
                    return False  # conditionally bound: may not exist in time
        return True

    def suppressed(self, code: str, node: cst.CSTNode) -> bool:
        """Whether a `# noqa` silences `code` where `node` starts. The engine drops
        silenced findings itself; a fix that rewrites several findings at once
        must also leave the silenced ones' code alone."""
        return self.suppressions.suppresses(code, self.positions[node].start.line)

    @cached_property
    def suppressions(self) -> noqa.Suppressions:
        """The module's `# noqa` comments, read from its bytes when unchanged
        (printing the tree again costs as much as a walk)."""
        return noqa.Suppressions(self.text)

    @cached_property
    def text(self) -> str:
        """The module's source text."""
        if self.source is not None:
            return self.source.decode(self.module.encoding)
        return self.module.code

    # -- ORM functions ---------------------------------------------------------------
    def orm_function(
        self, func: cst.BaseExpression, names: Collection[str]
    ) -> Evidence:
        """Is `func` one of the `sqlalchemy.orm` functions `names` (short names:
        `relationship`)? PROVEN when it resolves there, or is the same name on a
        module-level Flask-SQLAlchemy `db = SQLAlchemy()` (which re-exports them);
        LIKELY on a `db` imported from elsewhere (the usual `from app import
        db`) in a module that imports SQLAlchemy or maps a class."""
        if self.is_one_of(func, {f"sqlalchemy.orm.{name}" for name in names}):
            return Evidence.PROVEN
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value in names
            and isinstance(func.value, cst.Name)
        ):
            return Evidence.NONE
        return self._db_evidence(
            func.value.value, list(self.assigned_values(func.value)), func.value
        )

    def module_db(self, name: str) -> Evidence:
        """Is the module-level `name` Flask-SQLAlchemy's `db`, as `orm_function`
        judges a `db.relationship` of the module?"""
        scope = self.scope(self.module)
        if scope is None or name not in scope:
            return Evidence.NONE
        values = list(self._values(scope[name]))
        return self._db_evidence(name, values, cst.Name(name), self.module)

    def _db_evidence(
        self,
        name: str,
        values: list[cst.CSTNode | None],
        node: cst.BaseExpression,
        at: cst.CSTNode | None = None,
    ) -> Evidence:
        """PROVEN when `name` is bound to `SQLAlchemy(...)` only, here or by the
        module of the project it is imported from; LIKELY when it is a `db` only
        imported, in a module that imports SQLAlchemy or maps a class."""
        if self._flask_sqlalchemy(values) or self.project_object(node, at) == "db":
            return Evidence.PROVEN
        if (
            name == "db"
            and values
            and all(isinstance(v, cst.ImportFrom) for v in values)
            and (self.imports_sqlalchemy or bool(self.mapped_classes))
        ):
            return Evidence.LIKELY
        return Evidence.NONE

    def _flask_sqlalchemy(self, values: list[cst.CSTNode | None]) -> bool:
        """The values a name is bound to are all `SQLAlchemy(...)`: it is
        Flask-SQLAlchemy's `db`."""
        return bool(values) and all(self.calls(v, FLASK_SQLALCHEMY) for v in values)

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

    # -- sessions --------------------------------------------------------------------
    def session_evidence(
        self,
        receiver: cst.BaseExpression,
        entities: Collection[cst.BaseExpression] = (),
    ) -> Evidence:
        """How sure we are that `receiver` is a SQLAlchemy `Session` (or scoped one).

        A receiver only named like a session counts as LIKELY when something else says
        SQLAlchemy: a mapped class among `entities`, or (for `x.session`) an import of
        SQLAlchemy in the module.
        """
        evidence = self._receiver_evidence(receiver)
        if evidence is not Evidence.LIKELY:
            return evidence
        if any(self.is_mapped_reference(e) for e in entities):
            return Evidence.LIKELY
        if isinstance(receiver, cst.Attribute) and self.imports_sqlalchemy:
            return Evidence.LIKELY
        return Evidence.NONE

    def _receiver_evidence(self, expr: cst.BaseExpression) -> Evidence:
        if isinstance(expr, cst.Name):
            return self._name_evidence(expr)
        if isinstance(expr, cst.Call):
            return self._session_value_evidence(expr)
        if isinstance(expr, cst.Attribute):
            if self.project_object(expr) == "scoped_session":  # model.Session
                return Evidence.PROVEN
            if self._instance_session(expr):
                return Evidence.PROVEN
            if not is_session_name(expr.attr.value):
                return Evidence.NONE
            # Flask-SQLAlchemy: `db = SQLAlchemy(app)` makes `db.session` a scoped one.
            owner = expr.value
            if (
                expr.attr.value == "session"
                and isinstance(owner, cst.Name)
                and (
                    self._flask_sqlalchemy(list(self.assigned_values(owner)))
                    or self.project_object(owner) == "db"
                )
            ):
                return Evidence.PROVEN
            return Evidence.LIKELY
        return Evidence.NONE

    def _instance_session(self, expr: cst.Attribute) -> bool:
        """`self.db` where every assignment of `self.db` in the class is a proven
        session (`self.db = scoped_session(sessionmaker(...))` in `__init__`)."""
        if not (isinstance(expr.value, cst.Name) and expr.value.value == "self"):
            return False
        classdef = self._enclosing_class(expr)
        if classdef is None:
            return False
        values = [
            value
            for cls in self._with_subclasses(classdef)
            for value in self._instance_attributes(cls).get(expr.attr.value, ())
        ]
        return bool(values) and all(
            v is not None and self._session_value_evidence(v).proven for v in values
        )

    def _with_subclasses(self, classdef: cst.ClassDef) -> list[cst.ClassDef]:
        """`classdef` and the classes of the module that derive from it, which
        may assign its attributes otherwise."""
        known = self._subclasses_of.get(classdef)
        if known is not None:
            return known
        found = self._subclasses_of[classdef] = [classdef]
        names = {classdef.name.value}
        for other in self.nodes(cst.ClassDef):
            if other not in found and any(
                isinstance(b.value, cst.Name) and b.value.value in names
                for b in other.bases
            ):
                found.append(other)
                names.add(other.name.value)
        return found

    def _instance_attributes(
        self, classdef: cst.ClassDef
    ) -> dict[str, list[cst.BaseExpression | None]]:
        """What the methods of `classdef` assign to `self.<name>`, by name (None:
        a value not written out, as in `self.a, self.b = pair`)."""
        known = self._attributes_of.get(classdef)
        if known is not None:
            return known
        found: dict[str, list[cst.BaseExpression | None]] = {}
        for node in tree.walk(classdef)[1]:
            targets: list[tuple[cst.BaseExpression, cst.BaseExpression | None]] = []
            if isinstance(node, cst.Assign):
                for assign in node.targets:
                    if isinstance(assign.target, (cst.Tuple, cst.List)):
                        targets.extend((e.value, None) for e in assign.target.elements)
                    else:
                        targets.append((assign.target, node.value))
            elif isinstance(node, cst.AnnAssign):
                targets = [(node.target, node.value)]
            elif isinstance(node, (cst.AugAssign, cst.For)):
                targets = [(node.target, None)]
            for target, value in targets:
                if (
                    isinstance(target, cst.Attribute)
                    and isinstance(target.value, cst.Name)
                    and target.value.value == "self"
                ):
                    found.setdefault(target.attr.value, []).append(value)
        self._attributes_of[classdef] = found
        return found

    def _name_evidence(self, name: cst.Name) -> Evidence:
        imported = self.project_object(name)
        if imported is not None:  # a scoped_session is used as a session
            return Evidence.PROVEN if imported == "scoped_session" else Evidence.NONE
        values = list(self.assigned_values(name))
        if not values:
            return Evidence.LIKELY if is_session_name(name.value) else Evidence.NONE
        found = [self._session_value_evidence(v, name.value) for v in values]
        return min(found)

    def _session_value_evidence(
        self, value: cst.CSTNode | None, name: str = ""
    ) -> Evidence:
        by_name = Evidence.LIKELY if is_session_name(name) else Evidence.NONE
        if isinstance(value, cst.Param):
            return self._annotation_evidence(value.annotation) or by_name
        if not isinstance(value, cst.Call):
            return by_name
        func = value.func
        if self.is_one_of(func, SESSION_CLASSES | SCOPED_SESSIONS | SESSION_FUNCTIONS):
            return Evidence.PROVEN
        if isinstance(func, cst.Name) and self._is_session_factory(func):
            return Evidence.PROVEN
        if isinstance(func, cst.Attribute) and self.project_object(func) in (
            "sessionmaker",
            "scoped_session",
        ):
            return Evidence.PROVEN  # model.Session(): a session of a factory
        # `with factory.begin() as session` yields a session too.
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "begin"
            and isinstance(func.value, (cst.Name, cst.Call))
            and self._is_session_source(func.value)
        ):
            return Evidence.PROVEN
        if self._is_foreign_call(func):
            return Evidence.NONE  # requests.Session(), boto3.Session(), ...
        if self._session_function(value):
            return Evidence.PROVEN
        return by_name

    def _session_function(self, call: cst.Call) -> bool:
        """A call of a function of this module (or a method of this class, as
        `self._session()`) that returns only proven sessions, or is annotated to;
        or, as the item of a `with`, a `@contextmanager` one that yields only
        them."""
        function = self._called_function(call.func)
        if function is None or function in self._functions_open:
            return False
        nodes = self._own_nodes(function)
        generator = any(isinstance(n, cst.Yield) for n in nodes)
        if generator:
            if not (
                isinstance(self.parent(call), cst.WithItem)
                and any(
                    _decorator_name(d) == "contextmanager" for d in function.decorators
                )
            ):
                return False
        elif (
            function.returns is not None
            and self._annotation_evidence(function.returns).proven
        ):
            return True
        kind = cst.Yield if generator else cst.Return
        results = [
            n.value
            for n in nodes
            if isinstance(n, kind) and isinstance(n.value, cst.BaseExpression)
        ]
        self._functions_open.add(function)
        try:
            return bool(results) and all(
                self._receiver_evidence(r).proven for r in results
            )
        finally:
            self._functions_open.discard(function)

    def _called_function(self, func: cst.BaseExpression) -> cst.FunctionDef | None:
        if isinstance(func, cst.Name):
            values = list(self.assigned_values(func))
            if len(values) == 1 and isinstance(values[0], cst.FunctionDef):
                return values[0]
            return None
        if not (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == "self"
        ):
            return None
        classdef = self._enclosing_class(func)
        if classdef is None:
            return None
        found = [
            s
            for s in classdef.body.body
            if isinstance(s, cst.FunctionDef) and s.name.value == func.attr.value
        ]
        return found[0] if len(found) == 1 else None

    def _own_nodes(self, function: cst.FunctionDef) -> list[cst.CSTNode]:
        """The nodes of `function`'s body, not those of functions or classes
        defined in it."""
        found: list[cst.CSTNode] = []
        stack: list[cst.CSTNode] = [function.body]
        while stack:
            node = stack.pop()
            found.append(node)
            if not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                stack.extend(tree.children(node))
        return found

    def _is_session_source(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name):
            return self._is_session_factory(expr)
        return self._session_value_evidence(expr).proven

    def _is_session_factory(self, name: cst.Name) -> bool:
        """`name` is bound only to `sessionmaker(...)` or `scoped_session(...)`,
        here or by the module of the project it is imported from."""
        if self.project_object(name) in ("sessionmaker", "scoped_session"):
            return True
        values = list(self.assigned_values(name))
        return bool(values) and all(
            self.calls(v, SESSION_FACTORIES | SCOPED_SESSIONS) for v in values
        )

    def _annotation_evidence(self, annotation: cst.Annotation | None) -> Evidence:
        if annotation is None:
            return Evidence.NONE
        node = annotation.annotation
        # Optional[Session]
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            element = node.slice[0].slice
            if isinstance(element, cst.Index):
                node = element.value
        # Session | None
        if isinstance(node, cst.BinaryOperation) and isinstance(
            node.operator, cst.BitOr
        ):
            node = node.left
        if isinstance(node, (cst.Name, cst.Attribute)) and self.is_one_of(
            node, SESSION_CLASSES | SCOPED_SESSIONS
        ):
            return Evidence.PROVEN
        return Evidence.NONE

    def _is_foreign_call(self, func: cst.BaseExpression) -> bool:
        """A call of something imported from a package other than SQLAlchemy."""
        scope = self.scope(func)
        if scope is None:
            return False
        names = scope.qualified_names(func)
        return bool(names) and all(
            q.source is QualifiedNameSource.IMPORT
            and not q.name.startswith(("sqlalchemy", "."))
            and q.name.split(".", 1)[0] not in self.project.packages
            for q in names
        )

    # -- mapped classes --------------------------------------------------------------
    @cached_property
    def mapped_classes(self) -> dict[str, cst.ClassDef]:
        """Module-level classes mapped by a declarative base, by name."""
        bases = set(self.declarative_bases)
        mapped: dict[str, cst.ClassDef] = {}
        for statement in self.module.body:
            if not isinstance(statement, cst.ClassDef):
                continue
            if statement.name.value in bases:
                continue
            if any(
                self._is_mapped_base(arg.value, bases, mapped)
                for arg in statement.bases
            ) or any(
                _decorator_name(d) in ("mapped", "mapped_as_dataclass")
                for d in statement.decorators
            ):
                mapped[statement.name.value] = statement
        return mapped

    @cached_property
    def declarative_bases(self) -> dict[str, cst.CSTNode]:
        """Module-level names of declarative bases: `Base = declarative_base()`, ..."""
        found: dict[str, cst.CSTNode] = {}
        for statement in self.module.body:
            if isinstance(statement, cst.ClassDef):
                if any(
                    self.is_one_of(arg.value, DECLARATIVE_BASE_CLASSES)
                    for arg in statement.bases
                ) or any(
                    self.is_one_of(decorator_target(d), AS_DECLARATIVE)
                    for d in statement.decorators
                ):
                    found[statement.name.value] = statement
                continue
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and isinstance(small.value, cst.Call)
                ):
                    continue
                func = small.value.func
                if self.is_one_of(func, DECLARATIVE_BASE_FUNCTIONS) or (
                    isinstance(func, cst.Attribute)
                    and func.attr.value == "generate_base"
                    and self.imports_sqlalchemy
                ):
                    found[small.targets[0].target.value] = small
        return found

    def _is_mapped_base(
        self, expr: cst.BaseExpression, bases: Collection[str], mapped: Collection[str]
    ) -> bool:
        if isinstance(expr, cst.Attribute):
            # Flask-SQLAlchemy's `db.Model`.
            return expr.attr.value == "Model" and isinstance(expr.value, cst.Name)
        if not isinstance(expr, cst.Name):
            return False
        if expr.value in bases or expr.value in mapped:
            return True
        return self._imported_mapped(expr)

    def _imported_mapped(self, name: cst.Name) -> bool:
        for value in self.assigned_values(name):
            if not isinstance(value, cst.ImportFrom):
                continue
            module = "" if value.module is None else code_of(value.module)
            if self.project.knows(module, name.value, bool(value.relative)):
                return True
        return False

    def is_mapped_class(self, expr: cst.BaseExpression) -> bool:
        """A mapped class: declarative (here or in the project), mapped classically
        by `mapper()` / `map_imperatively()`, or one of SQLAlchemy's test fixtures'
        classes (`self.classes.User`)."""
        if self.is_fixture(expr, "classes"):
            return True
        if isinstance(expr, cst.Attribute):
            return self._module_attribute_mapped(expr)
        if not isinstance(expr, cst.Name):
            return False
        values = list(self.assigned_values(expr))
        return bool(values) and all(self._is_mapped_value(expr, v) for v in values)

    def _module_attribute_mapped(self, expr: cst.Attribute) -> bool:
        """`model.Package` where `model` is a module of the project (`from ckan
        import model`) and `Package` a class mapped in the project."""
        name = self.project_name(expr)
        if name is None:
            return False
        module, _, cls = name.rpartition(".")
        return (
            module.split(".", 1)[0] in self.project.packages
            and cls in self.project.mapped
            and module.rpartition(".")[2] not in self.project.mapped
        )

    def _is_mapped_value(self, name: cst.Name, value: cst.CSTNode | None) -> bool:
        if isinstance(value, cst.ClassDef):
            if self.mapped_classes.get(name.value) is value:
                return True
            if name.value in self.classically_mapped:
                return True
            return any(self._is_local_base(arg.value) for arg in value.bases)
        if isinstance(value, cst.ImportFrom):
            return self._imported_mapped(name)
        if isinstance(value, cst.Param):
            return self._mapped_cls(value)
        return value is not None and self.is_fixture(value, "classes")

    def _mapped_cls(self, param: cst.Param) -> bool:
        """`cls` of a classmethod of a mapped class: the class or a subclass,
        mapped too."""
        function = self.parent(self.parent(param) or param)
        if not (
            isinstance(function, cst.FunctionDef)
            and function.params.params[:1] == (param,)
            and any(
                isinstance(d.decorator, cst.Name) and d.decorator.value == "classmethod"
                for d in function.decorators
            )
        ):
            return False
        body = self.parent(function)
        classdef = self.parent(body) if body is not None else None
        if not isinstance(classdef, cst.ClassDef):
            return False
        name = classdef.name
        if self.mapped_classes.get(name.value) is classdef:
            return True
        return self.is_mapped_class(name) if self.scope(name) is not None else False

    def _is_local_base(self, expr: cst.BaseExpression) -> bool:
        """A base of a class defined inside a function: `Base = declarative_base()`
        in the same function, or any class known to be mapped."""
        if not isinstance(expr, cst.Name):
            return False
        if expr.value in self.declarative_bases:
            return True
        values = list(self.assigned_values(expr))
        return bool(values) and all(
            self.calls(v, DECLARATIVE_BASE_FUNCTIONS)
            or (isinstance(v, cst.ClassDef) and self._is_mapped_value(expr, v))
            for v in values
        )

    @cached_property
    def classically_mapped(self) -> frozenset[str]:
        """Names passed first to `mapper(X, table)` or `registry.map_imperatively(X,
        table)` anywhere in the module."""
        found: set[str] = set()
        for call in self.nodes(cst.Call):
            func = call.func
            if not call.args or not isinstance(call.args[0].value, cst.Name):
                continue
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value == "map_imperatively"
            ) or (
                isinstance(func, (cst.Name, cst.Attribute))
                and self.is_one_of(func, MAPPER_FUNCTIONS)
            ):
                found.add(call.args[0].value.value)
        return frozenset(found)

    @cached_property
    def imports_sqlalchemy_testing(self) -> bool:
        return any(
            source.startswith("sqlalchemy.testing")
            or (source == "sqlalchemy" and name == "testing")
            for source, name, _ in module_imports(self.module)
        )

    def is_fixture(self, node: cst.CSTNode, kind: str) -> bool:
        """`self.classes.User` / `self.classes("User", ...)` (kind "classes") or the
        same with `tables`: the registries of SQLAlchemy's test fixtures."""
        if isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        else:
            return False
        return (
            isinstance(node, cst.Attribute)
            and node.attr.value == kind
            and isinstance(node.value, cst.Name)
            and node.value.value in ("self", "cls")
            and self.imports_sqlalchemy_testing
        )

    def made_by_backref(self, node: cst.Attribute) -> bool:
        """`User.orders` where `orders` is made by a `backref=` on another class
        (by name across the project, exactly within this module)."""
        owner = node.value
        if not isinstance(owner, cst.Name):
            return False
        attribute = node.attr.value
        if (owner.value, attribute) in self.relationships.backrefs:
            return True
        return (
            attribute in self.project.backrefs
            and (owner.value, attribute) not in self.relationships.declared
            and (self.is_mapped_class(owner) or owner.value[:1].isupper())
        )

    def is_mapped_reference(self, expr: cst.BaseExpression) -> bool:
        """A mapped class, or an attribute of one (`User`, `User.name`,
        `model.User.name`)."""
        while isinstance(expr, cst.Attribute) and not self.is_fixture(expr, "classes"):
            if self._module_attribute_mapped(expr):
                return True
            expr = expr.value
        return self.is_mapped_class(expr)

    def shape(self, expr: cst.BaseExpression) -> Shape:
        """Whether a `query()` argument selects whole objects or column values."""
        if self.is_mapped_class(expr):
            return Shape.ENTITY
        if isinstance(expr, cst.Name):
            values = list(self.assigned_values(expr))
            if values and all(self.calls(v, ALIASED) for v in values):
                return Shape.ENTITY
            if values and all(self.is_selectable(v) for v in values):
                return Shape.COLUMN  # a Table or a subquery: rows of its columns
            if values and all(self._is_bundle(v) for v in values):
                return Shape.COLUMN  # rows holding the bundle, never de-duplicated
            return Shape.UNKNOWN
        if isinstance(expr, cst.Call) and self.calls(expr, ALIASED):
            return Shape.ENTITY
        if isinstance(expr, cst.Attribute):
            owner = expr.value
            if isinstance(owner, cst.Attribute) and owner.attr.value == "c":
                return Shape.COLUMN if self.imports_sqlalchemy else Shape.UNKNOWN
            if self.is_fixture(expr, "tables"):
                return Shape.COLUMN
            if self.shape(owner) is Shape.ENTITY:
                return Shape.COLUMN
        if isinstance(expr, cst.Call) and self._is_sql_expression(expr):
            return Shape.COLUMN
        return Shape.UNKNOWN

    def is_selectable(self, value: cst.CSTNode | None) -> bool:
        if value is None:
            return False
        if self.is_fixture(value, "tables") or self.calls(value, TABLE_CLASSES):
            return True
        return (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in ("subquery", "alias", "cte")
            and self.imports_sqlalchemy
        )

    def _is_bundle(self, value: cst.CSTNode | None) -> bool:
        """`Bundle("b", ...)`, which Query returned inside rows (unlike a bundle with
        `single_entity=True`, returned alone)."""
        return (
            isinstance(value, cst.Call)
            and self.calls(value, BUNDLES)
            and keyword_argument(value, "single_entity") is None
        )

    def _is_sql_expression(self, call: cst.Call) -> bool:
        func = call.func
        if any(n.startswith("sqlalchemy.") for n in self.qualified_names(func)):
            return True  # func.count(...), sa.func.max(...), literal_column(...)
        # User.name.label("n"), func.count(User.id).label("n")
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value in ("label", "distinct")
            and self.shape(func.value) is Shape.COLUMN
        )

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


def decorator_target(decorator: cst.Decorator) -> cst.BaseExpression:
    """`f` of a decorator written `@f` or `@f(...)`."""
    node = decorator.decorator
    return node.func if isinstance(node, cst.Call) else node


def _decorator_name(decorator: cst.Decorator) -> str:
    node = decorator_target(decorator)
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else ""


IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


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
