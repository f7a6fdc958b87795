"""ORM303: `t.update(t.c.id == 5, values=v)` -> `t.update().where(...).values(v)`."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import Core
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Evidence, Fix, ImportSpec, Refused
from orm_modernize.rewrite.clauses import clause, elements, is_sequence
from orm_modernize.rewrite.naming import Namer, namer
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import code_of, is_constant, keep_parentheses, method

FUNCTIONS: dict[str, frozenset[str]] = {
    verb: frozenset(
        f"sqlalchemy{sub}.{verb}" for sub in ("", ".sql", ".sql.expression", ".sql.dml")
    )
    for verb in ("insert", "update", "delete")
}
# The 1.x positional parameters after the table, of the function and of the
# Table method
FUNCTION_PARAMETERS = {
    "insert": ("values", "inline", "bind", "prefixes", "returning", "return_defaults"),
    "update": ("whereclause", "values", "inline", "bind", "prefixes", "returning"),
    "delete": ("whereclause", "bind", "returning", "prefixes"),
}
METHOD_PARAMETERS = {
    "insert": ("values", "inline"),
    "update": ("whereclause", "values", "inline"),
    "delete": ("whereclause",),
}
# Keywords only SQLAlchemy's DML takes: with one of them, a receiver that is only
# named like nothing in particular is still LIKELY a table.
DISTINCT = frozenset(
    {"whereclause", "values", "inline", "preserve_parameter_order", "return_defaults"}
)


class DmlKeywordArguments(Rule):
    """
    ## What it does
    Checks for `insert()`, `update()` and `delete()` given their clauses as
    arguments: `insert(t, values={...})`, `t.update(t.c.id == 5, values={...})`,
    `t.delete(t.c.id > 9)`, `inline=True`, `returning=[...]`, `prefixes=[...]`,
    `return_defaults=True` and `preserve_parameter_order=True`.

    ## Why is this bad?
    SQLAlchemy 2.0 removed these arguments: the statements take only the table,
    and each clause is added by a method. The old form raises `TypeError` on 2.x.

    ## Example
        stmt = t.update(t.c.id == 5, values={"name": "ann"})

    ## Use instead
        stmt = t.update().where(t.c.id == 5).values({"name": "ann"})

    ## Fix safety
    Safe when the table is proven (`Table(...)`, `Model.__table__`, the `insert()`
    function of SQLAlchemy); unsafe when the receiver of `.insert(...)` is only
    likely a table (`metadata.tables["t"]`, a keyword only SQLAlchemy takes). The
    methods build the same statement and run on SQLAlchemy 1.4 as well as 2.x;
    `preserve_parameter_order=True` becomes `ordered_values(...)`. `bind=`
    and dialect keywords are reported without a fix.

    ## References
    - SQLAlchemy 2.0 migration guide, "insert/update/delete DML no longer accept
      keyword constructor arguments"
    """

    code = "ORM303"
    name = "dml-keyword-arguments"
    message = "`{verb}()` with clause arguments was removed in SQLAlchemy 2.0"
    fix_title = "Add the clauses with `.where()`, `.values()`, ..."
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b"insert(", b"update(", b"delete(")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        verb = next(
            (
                v
                for v, names in FUNCTIONS.items()
                if self.semantic.is_one_of(func, names)
            ),
            None,
        )
        if verb is not None:
            if len(node.args) < 2 or node.args[0].keyword is not None:
                return
            table, arguments = node.args[0], node.args[1:]
            base = node.with_changes(  # `insert(t)`, on one line
                whitespace_before_args=cst.SimpleWhitespace(""),
                args=[
                    table.with_changes(
                        comma=cst.MaybeSentinel.DEFAULT,
                        whitespace_after_arg=cst.SimpleWhitespace(""),
                    )
                ],
            )
            parameters, evidence = FUNCTION_PARAMETERS[verb], Evidence.PROVEN
        elif isinstance(func, cst.Attribute) and func.attr.value in METHOD_PARAMETERS:
            verb, arguments = func.attr.value, node.args
            if not arguments:
                return
            evidence = self.semantic.shared(CoreObjects).evidence(
                func.value, Core.TABLE
            )
            if (
                evidence is Evidence.NONE
                and self.semantic.imports_sqlalchemy
                and any(a.keyword and a.keyword.value in DISTINCT for a in arguments)
                and self.semantic.shared(CoreObjects).is_opaque(func.value)
            ):
                evidence = Evidence.LIKELY
            if evidence is Evidence.NONE:
                return
            base, parameters = node.with_changes(args=[]), METHOD_PARAMETERS[verb]
        else:
            return
        if any(a.star for a in arguments):
            return
        message = self.message.format(verb=verb)
        imports: list[ImportSpec] = []

        def build() -> Fix:
            target, clauses = self._clauses(node, arguments, parameters)
            name = namer(self.semantic, node, imports)
            statement = _with_clauses(base, clauses, name, self.semantic)
            return Fix.replace(
                target,
                keep_parentheses(target, statement),
                safe=evidence.proven,
                imports=tuple(imports),
            )

        self.report_fix(node, build, message=message)

    def _clauses(
        self,
        node: cst.Call,
        arguments: Sequence[cst.Arg],
        parameters: tuple[str, ...],
    ) -> tuple[cst.Call, list[tuple[str, cst.BaseExpression]]]:
        """The node to replace (the call, or the `.values([...])` after it) and the
        1.x clauses to add, in source order."""
        clauses: list[tuple[str, cst.BaseExpression]] = []
        ordered = False
        for index, arg in enumerate(arguments):
            if arg.keyword is None:
                if index >= len(parameters):
                    raise Refused("unexpected positional arguments")
                keyword = parameters[index]
            else:
                keyword = arg.keyword.value
            if keyword != "preserve_parameter_order":
                clauses.append((keyword, arg.value))
            elif is_constant(arg.value, "True"):
                ordered = True
            elif not is_constant(arg.value, "False"):
                raise Refused(f"`{code_of(arg)}` may be true or false")
        if not ordered:
            return node, clauses
        if any(k == "values" for k, _ in clauses):
            return node, [
                ("ordered_values" if k == "values" else k, v) for k, v in clauses
            ]
        # t.update(preserve_parameter_order=True).values([(c1, v1), ...])
        after = self.semantic.parent(node)
        call = self.semantic.parent(after) if after is not None else None
        if not (
            isinstance(after, cst.Attribute)
            and after.attr.value == "values"
            and isinstance(call, cst.Call)
            and len(call.args) == 1
            and not call.args[0].star
            and call.args[0].keyword is None
        ):
            raise Refused(
                "`preserve_parameter_order=True` without its `.values([...])`"
            )
        return call, [*clauses, ("ordered_values", call.args[0].value)]


def _with_clauses(
    statement: cst.BaseExpression,
    clauses: list[tuple[str, cst.BaseExpression]],
    name: Namer,
    semantic: Semantic,
) -> cst.BaseExpression:
    for keyword, value in clauses:
        if keyword == "values":
            if not is_constant(value, "None"):
                statement = method(statement, "values", value)
        elif keyword == "ordered_values":
            statement = _ordered_values(statement, value)
        elif keyword == "return_defaults":
            if is_constant(value, "True"):
                statement = method(statement, "return_defaults")
            elif not is_constant(value, "False"):
                columns = elements(keyword, value, "return_defaults")
                statement = method(statement, "return_defaults", *columns)
        elif keyword == "bind":
            raise Refused(
                "`bind=` was removed too: execute the statement on a connection"
            )
        else:
            statement = clause(statement, keyword, value, name, semantic)
    return statement


def _ordered_values(
    statement: cst.BaseExpression, pairs: cst.BaseExpression
) -> cst.BaseExpression:
    """`.values([(c1, v1), ...])` under `preserve_parameter_order=True`."""
    if is_sequence(pairs) and not isinstance(pairs, cst.ListComp):
        return method(statement, "ordered_values", *elements("values", pairs, ""))
    if isinstance(pairs, (cst.Name, cst.ListComp)):
        spread = cst.Call(
            func=cst.Attribute(statement, cst.Name("ordered_values")),
            args=[cst.Arg(pairs, star="*")],
        )
        return spread
    raise Refused(f"`{code_of(pairs)}` cannot be read as ordered values")
