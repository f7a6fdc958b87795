"""Bound metadata: which `MetaData` of a module is bound to an engine, and so which
engine its tables' statements ran on when executed implicitly (1.x).

    metadata = MetaData(bind=engine)        # or MetaData(engine),
    users = Table("users", metadata, ...)   # or metadata.bind = engine
    users.insert().execute(name="ann")      # ran on `engine`

Only module-level binds count, and only when the module binds the metadata to one
engine: a bind made inside a function may not have happened yet when a statement
runs, so a metadata bound there has no known engine.
`declarative_base(bind=engine)` binds `Base.metadata`.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from orm_modernize.core_objects import MAKERS, Core, CoreObjects
from orm_modernize.semantic import DECLARATIVE_BASE_FUNCTIONS, Semantic
from orm_modernize.transforms import root_name, walk


@dataclass(frozen=True)
class Bind:
    """`metadata` (a module-level name) is bound to `engine` at `site`: the
    `bind=` argument, or the `metadata.bind = engine` statement."""

    metadata: str
    engine: cst.BaseExpression
    site: cst.Arg | cst.SimpleStatementLine


class MetadataBinds:
    """The module's binds, and the engine a metadata or a statement runs on."""

    def __init__(self, semantic: Semantic) -> None:
        self.semantic = semantic
        self.core = semantic.shared(CoreObjects)
        self.binds: list[Bind] = []
        # Metadata also bound where the order of events is unknown (in a function)
        self.elsewhere: set[str] = set()
        # `Base = declarative_base(metadata=metadata)`: Base -> metadata
        self.aliases: dict[str, str] = {}
        for statement in semantic.module.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self._read(small, statement)
        for node in walk(semantic.module):
            key = _assigned_bind(node)
            if key is not None and self._in_function(node):
                self.elsewhere.add(self.key(key) or "")

    def _in_function(self, node: cst.CSTNode) -> bool:
        parent = self.semantic.parent(node)
        while parent is not None and not isinstance(parent, cst.FunctionDef):
            parent = self.semantic.parent(parent)
        return parent is not None

    def _read(
        self, small: cst.BaseSmallStatement, line: cst.SimpleStatementLine
    ) -> None:
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target, value = small.targets[0].target, small.value
            key = _assigned_bind(small)
            if key is not None:
                name = self.key(key)
                if name is not None:
                    self.binds.append(Bind(name, value, line))
                return
            if isinstance(target, cst.Name) and isinstance(value, cst.Call):
                arg = self.bind_argument(value)
                if arg is not None:
                    self.binds.append(Bind(target.value, arg.value, arg))
                metadata = _keyword(value, "metadata")
                if (
                    metadata is not None
                    and isinstance(metadata.value, cst.Name)
                    and self.semantic.is_one_of(value.func, DECLARATIVE_BASE_FUNCTIONS)
                ):
                    self.aliases[target.value] = metadata.value.value

    def bind_argument(self, call: cst.Call) -> cst.Arg | None:
        """The `bind=` of `MetaData(...)` (also its first positional argument) or of
        `declarative_base(...)`."""
        if self.semantic.is_one_of(call.func, MAKERS[Core.METADATA]):
            first = call.args[0] if call.args else None
            if first is not None and first.keyword is None and not first.star:
                return first
            return _keyword(call, "bind")
        if self.semantic.is_one_of(call.func, DECLARATIVE_BASE_FUNCTIONS):
            return _keyword(call, "bind")
        return None

    def key(self, metadata: cst.BaseExpression) -> str | None:
        """The module-level name that stands for `metadata`: `md` for `md`, `Base`
        for `Base.metadata` (or what `Base` was declared with)."""
        if isinstance(metadata, cst.Attribute) and metadata.attr.value == "metadata":
            metadata = metadata.value
        if not isinstance(metadata, cst.Name):
            return None
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
        if not binds or key in self.elsewhere:
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
        return engine

    def table_metadata(self, table: cst.BaseExpression) -> cst.BaseExpression | None:
        """The metadata of a table bound once, by `Table("name", metadata, ...)`."""
        if not isinstance(table, cst.Name):
            return None
        values = list(self.semantic.assigned_values(table))
        if len(values) != 1 or not isinstance(values[0], cst.Call):
            return None
        call = values[0]
        if (
            not self.semantic.is_one_of(call.func, MAKERS[Core.TABLE])
            or len(call.args) < 2
            or call.args[1].keyword is not None
        ):
            return None
        return call.args[1].value

    def statement_engine(
        self, statement: cst.BaseExpression, at: cst.CSTNode
    ) -> cst.BaseExpression | None:
        """The engine a statement over bound tables runs on when executed
        implicitly: every table it names must be bound to the same engine."""
        engines: list[cst.BaseExpression] = []
        for node in self._parts(statement, depth=3):
            name = self._read_name(node)
            if name is None:
                continue
            metadata = self.table_metadata(name)
            if metadata is None:
                if self.core.evidence(name, Core.TABLE).value:
                    return None  # a table whose metadata is not known
                continue
            engine = self.engine(metadata, at)
            if engine is None:
                return None
            engines.append(engine)
        if not engines or any(not e.deep_equals(engines[0]) for e in engines):
            return None
        return engines[0]

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


def _keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next(
        (a for a in call.args if a.keyword is not None and a.keyword.value == name),
        None,
    )
