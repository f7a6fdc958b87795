"""ORM207: `engine.table_names()` / `engine.has_table(n)` -> `inspect(engine)...`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import Core
from orm_modernize.data.records import Evidence, Fix, ImportSpec, Refused
from orm_modernize.rewrite.naming import namer
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import imported_root, keyword_argument

# Engine method -> the Inspector method that replaces it
METHODS = {"table_names": "get_table_names", "has_table": "has_table"}
INSPECTORS = frozenset(
    {
        "sqlalchemy.engine.reflection.Inspector",
        "sqlalchemy.engine.Inspector",
        "sqlalchemy.inspection.Inspector",
    }
)


class EngineInspection(Rule):
    """
    ## What it does
    Checks for schema questions asked of the `Engine` itself
    (`engine.table_names()`, `engine.has_table("users")`) and for
    `Inspector.from_engine(engine)`.

    ## Why is this bad?
    SQLAlchemy 2.0 removed the `Engine` methods (`AttributeError` on 2.x);
    the `Inspector` that `inspect(engine)` returns answers them.
    `Inspector.from_engine()` is deprecated in favour of `inspect()`.

    ## Example
        if not engine.has_table("users"):
            print(engine.table_names())

    ## Use instead
        if not inspect(engine).has_table("users"):
            print(inspect(engine).get_table_names())

    ## Fix safety
    Safe when the engine is proven (`create_engine(...)`): the inspector asks
    the same dialect method on a connection of the engine, as the old method
    did; unsafe when the receiver is only named like an engine. A `connection=`
    argument is reported without a fix. The new form runs on SQLAlchemy 1.4 as
    well as 2.x.

    ## References
    - SQLAlchemy 1.4 changelog: `Engine.table_names()` and `Engine.has_table()`
      deprecated in favour of `Inspector`; removed in 2.0
    """

    code = "ORM207"
    name = "engine-inspection"
    message = "`{method}()` on an `Engine` was removed in SQLAlchemy 2.0"
    fix_title = "Ask `inspect(engine)`"
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b".table_names(", b".has_table(", b".from_engine(")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method == "from_engine" and self.semantic.is_one_of(func.value, INSPECTORS):
            self._from_engine(node)
            return
        if method not in METHODS:
            return
        evidence = self.semantic.shared(CoreObjects).evidence(func.value, Core.ENGINE)
        if evidence is Evidence.NONE:
            return
        message = self.message.format(method=method)
        imports: list[ImportSpec] = []

        def build() -> Fix:
            if keyword_argument(node, "connection") is not None:
                raise Refused("`connection=` is not an argument of the inspector")
            if any(a.star for a in node.args):
                raise Refused("`*args` cannot be read")
            inspector = self._inspect(node, func.value, imports)
            replacement = node.with_changes(
                func=cst.Attribute(inspector, cst.Name(METHODS[method]))
            )
            return Fix.replace(
                node,
                replacement,
                safe=evidence.proven,
                imports=tuple(imports),
            )

        self.report_fix(node, build, message=message)

    def _from_engine(self, node: cst.Call) -> None:
        message = "`Inspector.from_engine()` is deprecated; use `inspect()`"
        imports: list[ImportSpec] = []

        def build() -> Fix:
            if len(node.args) != 1 or node.args[0].keyword or node.args[0].star:
                raise Refused("it takes one engine")
            replacement = self._inspect(node, node.args[0].value, imports)
            assert isinstance(node.func, cst.Attribute)
            return Fix.replace(
                node,
                replacement,
                safe=True,
                imports=tuple(imports),
                unused=imported_root(node.func.value),
            )

        self.report_fix(node, build, message=message)

    def _inspect(
        self, at: cst.Call, engine: cst.BaseExpression, imports: list[ImportSpec]
    ) -> cst.Call:
        inspect = namer(self.semantic, at, imports)("sqlalchemy", "inspect")
        if inspect is None:
            raise Refused("the name `inspect` is taken here")
        return cst.Call(inspect, [cst.Arg(engine)])
