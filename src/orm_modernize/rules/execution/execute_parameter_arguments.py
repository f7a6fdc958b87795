"""ORM203: `conn.execute(stmt, x=1)` -> `conn.execute(stmt, {"x": 1})`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import EXECUTE_METHODS
from orm_modernize.data.records import Fix, Refused
from orm_modernize.rewrite.clauses import with_arguments
from orm_modernize.rewrite.parameters import Style, distilled
from orm_modernize.rules.base import Rule


class ExecuteParameterArguments(Rule):
    """
    ## What it does
    Checks for parameters given to `Connection.execute()` or `.scalar()` as
    keywords (`conn.execute(stmt, x=1)`) or as several dictionaries
    (`conn.execute(stmt, {...}, {...})`).

    ## Why is this bad?
    SQLAlchemy 2.0 removed both: `execute()` takes one `parameters` argument, a
    dictionary for one row or a list of dictionaries for many. The old forms
    raise `TypeError` on 2.x.

    ## Example
        conn.execute(users.insert(), {"name": "ann"}, {"name": "bob"})

    ## Use instead
        conn.execute(users.insert(), [{"name": "ann"}, {"name": "bob"}])

    ## Fix safety
    Safe when the receiver is proven to be a connection: keywords become one
    dictionary and several dictionaries one list, which 1.x read the same way.
    Unsafe when the receiver is only named like a connection. Positional values,
    and arguments that could be rows or values, are reported without a fix. SQL
    given as a plain string is ORM201's. The new form runs on SQLAlchemy 1.4 as
    well as 2.x.

    ## References
    - SQLAlchemy 2.0 migration guide, "execute() method more strict, execution
      options are more prominent"
    """

    code = "ORM203"
    name = "execute-parameter-arguments"
    message = (
        "`{method}()` parameters as keywords or several arguments were removed in"
        " SQLAlchemy 2.0"
    )
    fix_title = "Pass one dict, or a list of dicts"
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b".execute(", b".scalar(")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value in EXECUTE_METHODS
            and len(node.args) >= 2
            and node.args[0].keyword is None
            and not node.args[0].star
        ):
            return
        core = self.semantic.shared(CoreObjects)
        if core.sql_string(node.args[0].value)[0]:
            return  # SQL as a string, parameters included: ORM201's
        rest = node.args[1:]
        if len(rest) == 1 and rest[0].keyword is None and not rest[0].star:
            return  # the one 2.0 argument already
        kind, evidence = core.executor(func.value)
        if kind != "connection":
            return
        if rest[0].keyword is not None and rest[0].keyword.value in (
            "execution_options",
            "parameters",
        ):
            return  # 2.0's own keywords
        message = self.message.format(method=func.attr.value)

        def build() -> Fix:
            parameters = distilled(rest)
            if parameters.style is not Style.NAMED:
                raise Refused("positional values suit only `exec_driver_sql()`")
            assert parameters.value is not None
            statement = node.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            replacement = with_arguments(node, [statement, cst.Arg(parameters.value)])
            return Fix.replace(node, replacement, safe=evidence.proven)

        self.report_fix(node, build, message=message)
