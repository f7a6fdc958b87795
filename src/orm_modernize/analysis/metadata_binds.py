"""Bound metadata: which `MetaData` of a module is bound to an engine, and so which
engine its tables' statements ran on when executed implicitly (1.x).

    metadata = MetaData(bind=engine)        # or MetaData(engine),
    users = Table("users", metadata, ...)   # or metadata.bind = engine
    users.insert().execute(name="ann")      # ran on `engine`

A metadata has a known engine when every bind of it names the same engine, and
that engine means the same where the statement runs:

- a module-level metadata, bound at module level or in a function that declares
  it `global` (SQLAlchemy's own tests bind in `setup_class`), to an engine that
  is imported or bound once at module level: whenever it is bound, it is bound to
  that engine;
- a function's local metadata, bound once, where it is made, in the function's
  own body (not under an `if` or a loop), for statements after it.

`declarative_base(bind=engine)` binds `Base.metadata`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import MAKERS, Core
from orm_modernize.analysis.scopes import Assignment, FunctionScope, ImportAssignment
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.analysis.vocabulary import DECLARATIVE_BASE_FUNCTIONS
from orm_modernize.syntax.nodes import is_constant, keyword_argument, root_name, walk


@dataclass(frozen=True)
class Bind:
    """`metadata` (its key) is bound to `engine` at `site`: the `bind=` argument,
    or the `metadata.bind = engine` statement."""

    metadata: str
    engine: cst.BaseExpression
    site: cst.Arg | cst.SimpleStatementLine


class MetadataBinds:
    """The module's binds, and the engine a metadata or a statement runs on."""

    def __init__(self, semantic: Semantic) -> None:
        self.semantic = semantic
        self.core = semantic.shared(CoreObjects)
        self.binds: list[Bind] = []
        # `Base = declarative_base(metadata=metadata)`: Base -> metadata
        self.aliases: dict[str, str] = {}
        # Binds made in a function, by key: their order is checked in engine()
        self._in_functions: dict[str, list[cst.SimpleStatementLine]] = {}
        for node in semantic.nodes(cst.Assign):
            if len(node.targets) == 1:
                self._read(node)

    def _read(self, assign: cst.Assign) -> None:
        target, value = assign.targets[0].target, assign.value
        line = self.semantic.parent(assign)
        if not isinstance(line, cst.SimpleStatementLine):
            return
        module_level = self.semantic.parent(line) is self.semantic.module
        bound = _assigned_bind(assign)
        if bound is not None:
            key = self.key(bound)
            if key is not None:
                self.binds.append(Bind(key, value, line))
                self._placed(key, line, module_level)
            return
        if not (isinstance(target, cst.Name) and isinstance(value, cst.Call)):
            return
        arg = self.bind_argument(value)
        key = self.key(target) if arg is not None else None
        if arg is not None and key is not None:
            self.binds.append(Bind(key, arg.value, arg))
            self._placed(key, line, module_level)
        metadata = keyword_argument(value, "metadata")
        if (
            module_level
            and metadata is not None
            and isinstance(metadata.value, cst.Name)
            and self.semantic.is_one_of(value.func, DECLARATIVE_BASE_FUNCTIONS)
        ):
            self.aliases[target.value] = metadata.value.value

    def _placed(self, key: str, line: cst.SimpleStatementLine, module: bool) -> None:
        if not module:
            self._in_functions.setdefault(key, []).append(line)

    def _local_to(self, name: cst.Name) -> cst.FunctionDef | None:
        """The function `name` is a local of; None for a module-level name."""
        scope = self.semantic.scope(name)
        if not isinstance(scope, FunctionScope):
            return None
        if not any(a.scope is scope for a in scope[name.value]):
            return None  # a global (read, or declared `global` here)
        node = scope.node
        return node if isinstance(node, cst.FunctionDef) else None

    def bind_argument(self, call: cst.Call) -> cst.Arg | None:
        """The `bind=` of `MetaData(...)` (also its first positional argument) or of
        `declarative_base(...)`."""
        if self.semantic.is_one_of(call.func, MAKERS[Core.METADATA]):
            first = call.args[0] if call.args else None
            if first is not None and first.keyword is None and not first.star:
                return first
            return keyword_argument(call, "bind")
        if self.semantic.is_one_of(call.func, DECLARATIVE_BASE_FUNCTIONS):
            return keyword_argument(call, "bind")
        return None

    def key(self, metadata: cst.BaseExpression) -> str | None:
        """What stands for `metadata`: `md` for a module-level `md`, `Base` for
        `Base.metadata` (or what `Base` was declared with), `md@<line>` for a
        local of the function on that line."""
        if isinstance(metadata, cst.Attribute) and metadata.attr.value == "metadata":
            metadata = metadata.value
        if not isinstance(metadata, cst.Name):
            return None
        function = self._local_to(metadata)
        if function is not None:
            line = self.semantic.source_position(function)[0]
            return f"{metadata.value}@{line}"
        return self.aliases.get(metadata.value, metadata.value)

    def binds_of(self, metadata: cst.BaseExpression) -> list[Bind]:
        key = self.key(metadata)
        return [b for b in self.binds if b.metadata == key]

    def engine(
        self, metadata: cst.BaseExpression, at: cst.CSTNode
    ) -> cst.BaseExpression | None:
        """The engine `metadata` is bound to, spelt so that it means the same at
        `at`; None when unknown or not bound."""
        key = self.key(metadata)
        binds = self.binds_of(metadata)
        if key is None or not binds:
            return None
        engine = binds[0].engine
        if any(not b.engine.deep_equals(engine) for b in binds):
            return None
        root = root_name(engine)
        if root is None:
            return None  # `MetaData(bind=create_engine(...))`: nothing to reuse
        site = binds[0].site
        found = next(
            (n for n in walk(site) if isinstance(n, cst.Name) and n.deep_equals(root)),
            None,
        )
        if found is None or not self.semantic.binds_same(found, at):
            return None
        lines = self._in_functions.get(key)
        if lines is None:
            return engine
        if "@" in key:
            return engine if self._bound_before(metadata, binds, lines, at) else None
        return engine if self._stable(found) else None

    def _bound_before(
        self,
        metadata: cst.BaseExpression,
        binds: list[Bind],
        lines: list[cst.SimpleStatementLine],
        at: cst.CSTNode,
    ) -> bool:
        """A local metadata, made once and bound once, surely bound before `at`:
        bound where it is made (`MetaData(engine)`: so is every table of it, even
        one kept in a global), or bound by a statement of the function's own body
        that comes before `at`, in the same function."""
        if not isinstance(metadata, cst.Name) or len(lines) != 1:
            return False
        if len(self.semantic.assignments(metadata)) != 1:
            return False
        if isinstance(binds[0].site, cst.Arg):
            return True
        line = lines[0]
        body = self.semantic.parent(line)
        function = self.semantic.parent(body) if body is not None else None
        if not (
            isinstance(body, cst.IndentedBlock)
            and isinstance(function, cst.FunctionDef)
        ):
            return False
        position = self.semantic.source_position(at)
        return (
            self.semantic.source_position(line)
            < position
            < self.semantic.source_end(function)
        )

    def _stable(self, root: cst.Name) -> bool:
        """`root` means one object from import on: an imported name, or a name the
        module binds once at module level."""
        assignments = self.semantic.assignments(root)
        if len(assignments) != 1:
            return False
        if isinstance(assignments[0], ImportAssignment):
            return True
        return isinstance(assignments[0], Assignment) and not isinstance(
            assignments[0].scope, FunctionScope
        )

    def table_metadata(self, table: cst.BaseExpression) -> cst.BaseExpression | None:
        """The metadata of a table made by `Table("name", metadata, ...)`: by each
        of its bindings (besides a `None` placeholder), which must all name the
        same metadata (a global `users` made in the `setup_class` of several test
        classes)."""
        if not isinstance(table, cst.Name):
            return None
        found: list[cst.BaseExpression] = []
        for value in self.semantic.assigned_values(table):
            if value is not None and is_constant(value, "None"):
                continue  # `users = None` at module level, made in `setup_class`
            if not (
                isinstance(value, cst.Call)
                and self.semantic.is_one_of(value.func, MAKERS[Core.TABLE])
                and len(value.args) >= 2
                and value.args[1].keyword is None
            ):
                return None
            found.append(value.args[1].value)
        if not found:
            return None
        if len(found) > 1:
            keys = {self.key(metadata) for metadata in found}
            if len(keys) != 1 or None in keys:
                return None
        return found[0]

    def statement_engine(
        self, statement: cst.BaseExpression, at: cst.CSTNode
    ) -> cst.BaseExpression | None:
        """The engine a statement over bound tables runs on when executed
        implicitly: every table it names must be bound to the same engine."""
        metadatas = list(self._tables_metadata(statement))
        if not metadatas or None in metadatas:
            return None  # no table, or a table whose metadata is not known
        engines = [self.engine(m, at) for m in metadatas if m is not None]
        first = engines[0]
        if first is None or any(e is None or not e.deep_equals(first) for e in engines):
            return None
        return first

    def executes_on(self, call: cst.Call, key: str) -> bool:
        """`stmt.execute()` may run on the metadata `key` stands for: a table of
        the statement belongs to it, or to a metadata not known here."""
        if not isinstance(call.func, cst.Attribute):
            return True
        return any(
            m is None or self.key(m) in (key, None)
            for m in self._tables_metadata(call.func.value)
        )

    def _tables_metadata(
        self, statement: cst.BaseExpression
    ) -> Iterator[cst.BaseExpression | None]:
        """The metadata of each table `statement` names; None for a table whose
        metadata is not known here."""
        for node in self._parts(statement, depth=3):
            name = self._read_name(node)
            if name is None:
                continue
            metadata = self.table_metadata(name)
            if metadata is not None:
                yield metadata
            elif self.core.evidence(name, Core.TABLE).value:
                yield None

    def _read_name(self, node: cst.CSTNode) -> cst.Name | None:
        """`node` if it is a name read as a variable: not `c` of `users.c`, not a
        keyword."""
        if not isinstance(node, cst.Name):
            return None
        parent = self.semantic.parent(node)
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return None
        if isinstance(parent, cst.Arg) and parent.keyword is node:
            return None
        return node

    def _parts(self, expr: cst.BaseExpression, depth: int) -> list[cst.CSTNode]:
        """The nodes of `expr`, following names bound once to a statement."""
        found: list[cst.CSTNode] = []
        for node in walk(expr):
            found.append(node)
            name = self._read_name(node)
            if name is not None and depth and self.table_metadata(name) is None:
                values = list(self.semantic.assigned_values(name))
                if (
                    len(values) == 1
                    and isinstance(values[0], cst.BaseExpression)
                    and self.core.evidence(name, Core.STATEMENT).value
                ):
                    found.extend(self._parts(values[0], depth - 1))
        return found


def _assigned_bind(node: cst.CSTNode) -> cst.BaseExpression | None:
    """`X` of `X.bind = ...`."""
    if not (isinstance(node, cst.Assign) and len(node.targets) == 1):
        return None
    target = node.targets[0].target
    if isinstance(target, cst.Attribute) and target.attr.value == "bind":
        return target.value
    return None
