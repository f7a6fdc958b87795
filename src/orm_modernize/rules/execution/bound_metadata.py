"""ORM206: `MetaData(bind=engine)`, `metadata.create_all()`, `autoload=True`."""

from __future__ import annotations

from functools import cached_property

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import MAKERS, Core
from orm_modernize.analysis.metadata_binds import Bind, MetadataBinds
from orm_modernize.analysis.vocabulary import SESSION_CLASSES, SESSION_FACTORIES
from orm_modernize.data.records import Evidence, Fix, Refused
from orm_modernize.rewrite.clauses import with_arguments
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import code_of, is_constant, keyword, keyword_argument

# Methods that ran on the bind when given none: MetaData's and Table's
METADATA_METHODS = frozenset({"create_all", "drop_all", "reflect"})
TABLE_METHODS = frozenset({"create", "drop"})


class BoundMetadata(Rule):
    """
    ## What it does
    Checks for `MetaData` bound to an engine (`MetaData(bind=engine)`,
    `MetaData(engine)`, `metadata.bind = engine`, `declarative_base(bind=engine)`)
    and for what relied on that bind: `metadata.create_all()`, `drop_all()`,
    `reflect()` and `table.create()` / `drop()` given no engine, and
    `Table(..., autoload=True)`.

    ## Why is this bad?
    SQLAlchemy 2.0 removed bound metadata: `MetaData(bind=...)` and
    `autoload=True` raise `TypeError`, and `create_all()` needs its engine.
    Code says which engine it runs on.

    ## Example
        metadata = MetaData(bind=engine)
        users = Table("users", metadata, autoload=True)
        metadata.create_all()

    ## Use instead
        metadata = MetaData()
        users = Table("users", metadata, autoload_with=engine)
        metadata.create_all(engine)

    ## Fix safety
    The engine is passed where the bind supplied it: `create_all(engine)`,
    `autoload_with=engine`. These are exact and safe when the engine is known
    there, as for ORM205 (one engine for every bind, at module level, in a
    `setup_class` that declares the metadata `global`, or before the call in the
    function that owns the metadata); otherwise they are reported without a
    fix. The bind itself is removed only once nothing in the module relies on
    it: no statement executed implicitly (ORM205), no read of `.bind`, no call
    above left without a fix, and no `Session()` / `sessionmaker()` without a
    bind while a declarative base uses the metadata. The removal is unsafe when
    another module of the project imports the metadata (or the base), which may
    rely on the bind too. The new forms run on SQLAlchemy 1.4 as well as 2.x.

    ## References
    - SQLAlchemy 2.0 migration guide, "Implicit and Connectionless Execution,
      'bound metadata' removed"
    """

    code = "ORM206"
    name = "bound-metadata"
    message = "bound `MetaData` was removed in SQLAlchemy 2.0"
    fix_title = "Pass the engine where it is used"
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b"bind", b"autoload", b"create_all(", b"drop_all(", b"reflect(")

    def visit_Call(self, node: cst.Call) -> None:
        binds = self.semantic.shared(MetadataBinds)
        func = node.func
        if self.semantic.is_one_of(func, MAKERS[Core.TABLE]):
            self._autoload(node, binds)
            return
        argument = binds.bind_argument(node)
        if argument is not None:
            # MetadataBinds holds every bind assigned to a name. Any other goes
            # where its uses cannot be followed (`meta.metadata = MetaData(e)`,
            # `Repository(MetaData(e))`), and those may rely on the bind: CKAN's
            # `meta.metadata.reflect()` ran on it.
            bind = next((b for b in binds.binds if b.site is argument), None)
            if bind is None:
                self.report(
                    node,
                    message=f"{self.message} (no fix: what it goes to may rely on its"
                    " bind; pass the engine to its uses, then remove the bind)",
                )
                return
            self._unbind(node, bind, binds)
            return
        if not isinstance(func, cst.Attribute) or any(
            a.keyword is None or a.keyword.value == "bind" for a in node.args
        ):
            return
        core = self.semantic.shared(CoreObjects)
        owner, method = func.value, func.attr.value
        if method in METADATA_METHODS and core.evidence(owner, Core.METADATA):
            metadata: cst.BaseExpression = owner
        elif method in TABLE_METHODS and core.evidence(owner, Core.TABLE) is (
            Evidence.PROVEN
        ):
            found = binds.table_metadata(owner)
            if found is None:
                return  # a table of unknown metadata: its bind is not ours to judge
            metadata = found
        else:
            return
        message = f"`{method}()` without an engine relies on bound metadata, removed"
        message += " in SQLAlchemy 2.0"
        engine = binds.engine(metadata, node)
        if engine is None:
            self.report(node, message=f"{message} (no fix: {_unknown(metadata)})")
            return
        replacement = with_arguments(node, [cst.Arg(engine), *node.args])
        self.report(
            node, fix=Fix.replace(node, replacement, safe=True), message=message
        )

    def visit_Assign(self, node: cst.Assign) -> None:
        binds = self.semantic.shared(MetadataBinds)
        target = node.targets[0].target if len(node.targets) == 1 else None
        if not (isinstance(target, cst.Attribute) and target.attr.value == "bind"):
            return
        core = self.semantic.shared(CoreObjects)
        if not core.evidence(target.value, Core.METADATA):
            return
        line = self.semantic.parent(node)
        assert isinstance(line, cst.SimpleStatementLine)
        bind = next((b for b in binds.binds if b.site is line), None)
        if bind is None:  # `meta.metadata.bind = e`: its uses cannot be followed
            self.report(
                node,
                message=f"{self.message} (no fix: `{code_of(target.value)}` may be"
                " used where this module cannot see; pass the engine to its uses,"
                " then remove the bind)",
            )
            return
        self._unbind(node, bind, binds)

    def _autoload(self, table: cst.Call, binds: MetadataBinds) -> None:
        autoload = keyword_argument(table, "autoload")
        if autoload is None:
            return
        message = "`Table(autoload=...)` was removed in SQLAlchemy 2.0"
        args = [a for a in table.args if a is not autoload]
        if (
            any(is_constant(autoload.value, v) for v in ("False", "None"))
            or keyword_argument(table, "autoload_with") is not None
        ):  # no reflection, or the engine already given
            fix = Fix.replace(table, with_arguments(table, args), safe=True)
            self.report(table, fix=fix, message=message)
            return
        if not is_constant(autoload.value, "True"):
            self.report(table, message=f"{message} (no fix: `autoload=` is computed)")
            return
        metadata = table.args[1].value if len(table.args) > 1 else None
        engine = binds.engine(metadata, table) if metadata is not None else None
        if metadata is None or engine is None:
            why = _unknown(metadata) if metadata is not None else "no metadata given"
            self.report(table, message=f"{message} (no fix: {why})")
            return
        position = table.args.index(autoload)
        args.insert(position, keyword("autoload_with", engine))
        fix = Fix.replace(table, with_arguments(table, args), safe=True)
        self.report(table, fix=fix, message=message)

    def _unbind(
        self, node: cst.Call | cst.Assign, bind: Bind, binds: MetadataBinds
    ) -> None:
        try:
            self._check_unused(bind, binds)
        except Refused as why:
            self.report(node, message=f"{self.message} (no fix: {why})")
            return
        imported = bind.metadata in self.semantic.project.imported_names
        message = self.message
        if imported:
            message += (
                f" (unsafe fix: another module imports `{bind.metadata}` and may rely"
                " on its bind)"
            )
        self.report(node, fix=self._removal(node, bind, not imported), message=message)

    def _removal(self, node: cst.Call | cst.Assign, bind: Bind, safe: bool) -> Fix:
        if isinstance(node, cst.Call):
            args = [a for a in node.args if a is not bind.site]
            return Fix.replace(node, with_arguments(node, args), safe=safe)
        line = bind.site
        assert isinstance(line, cst.SimpleStatementLine)
        if len(line.body) > 1:
            return Fix.replace(node, cst.RemoveFromParent(), safe=safe)
        block = self.semantic.parent(line)
        if isinstance(block, cst.IndentedBlock) and len(block.body) == 1:
            return Fix.replace(line, line.with_changes(body=[cst.Pass()]), safe=safe)
        return Fix.replace(line, cst.RemoveFromParent(), safe=safe)

    def _check_unused(self, bind: Bind, binds: MetadataBinds) -> None:
        """Refused while something in the module still relies on the bind."""
        sessions = SESSION_CLASSES | SESSION_FACTORIES
        for node, executes in self._reliant:
            if isinstance(node, cst.Attribute):
                if binds.key(node.value) == bind.metadata:
                    raise Refused(f"`{code_of(node)}` still reads it")
                continue
            func = node.func
            if executes and binds.executes_on(node, bind.metadata):
                raise Refused(
                    f"`{code_of(func)}()` on line {self._line(node)} still executes"
                    " on it (ORM205)"
                )
            if self._needs_engine(node, bind, binds):
                raise Refused(
                    f"`{code_of(func)}()` on line {self._line(node)} still needs it"
                )
            if (
                self._bases_use(bind, binds)
                and self.semantic.is_one_of(func, sessions)
                and not node.args
            ):
                raise Refused(
                    f"`{code_of(node)}` on line {self._line(node)} finds its engine"
                    " through the mapped classes' bound metadata; give it `bind=`"
                )

    @cached_property
    def _reliant(self) -> list[tuple[cst.Call | cst.Attribute, bool]]:
        """What may rely on some bind, in source order, found in one walk per pass
        however many binds the module has: reads of `.bind` and calls, each with
        whether it is an implicit execution."""
        core = self.semantic.shared(CoreObjects)
        found: list[tuple[cst.Call | cst.Attribute, bool]] = []
        for node in self.semantic.all_nodes:
            if isinstance(node, cst.Attribute):
                if node.attr.value == "bind" and not self._assigned(node):
                    found.append((node, False))
            elif isinstance(node, cst.Call):
                found.append((node, bool(core.executes_itself(node))))
        return found

    def _needs_engine(self, call: cst.Call, bind: Bind, binds: MetadataBinds) -> bool:
        """A call that relies on the bind and has no fix here."""
        func = call.func
        if self.semantic.is_one_of(func, MAKERS[Core.TABLE]):
            if keyword_argument(call, "autoload") is None:
                return False
            metadata = call.args[1].value if len(call.args) > 1 else None
        elif (
            isinstance(func, cst.Attribute)
            and func.attr.value in METADATA_METHODS
            and not any(
                a.keyword is None or a.keyword.value == "bind" for a in call.args
            )
        ):
            metadata = func.value
        else:
            return False
        return (
            metadata is not None
            and binds.key(metadata) == bind.metadata
            and binds.engine(metadata, call) is None
        )

    def _bases_use(self, bind: Bind, binds: MetadataBinds) -> bool:
        """A declarative base's metadata is the bound one: sessions without a bind
        find their engine through it."""
        return any(
            binds.key(cst.Name(base)) == bind.metadata
            for base in self.semantic.declarative_bases
        )

    def _assigned(self, attribute: cst.Attribute) -> bool:
        return isinstance(self.semantic.parent(attribute), cst.AssignTarget)

    def _line(self, node: cst.CSTNode) -> int:
        return self.semantic.source_position(node)[0]


def _unknown(metadata: cst.BaseExpression) -> str:
    return (
        f"the engine `{code_of(metadata)}` is bound to is not known here; pass it"
        " explicitly"
    )
