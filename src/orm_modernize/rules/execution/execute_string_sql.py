"""ORM201: `conn.execute("SELECT ...")` -> `conn.execute(text("SELECT ..."))`."""

from __future__ import annotations

import re

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import EXECUTE_METHODS
from orm_modernize.data.records import Fix, ImportSpec, Refused
from orm_modernize.rewrite.clauses import with_arguments
from orm_modernize.rewrite.naming import Namer, namer
from orm_modernize.rewrite.parameters import (
    Parameters,
    Style,
    distilled,
    one_driver_parameter,
)
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import keep_parentheses, method

# Text that `text()` would read differently from the driver: driver placeholders
# (`?`, `%s`, `%(name)s`), `%` escapes, backslashes, and a colon inside a quoted
# literal (`text()` makes `':abc'` a bind parameter).
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
DRIVER_SYNTAX = re.compile(r"[?%\\]")


class ExecuteStringSql(Rule):
    """
    ## What it does
    Checks for SQL given to `execute()` or `scalar()` as a plain string, on a
    `Connection` or a `Session`.

    ## Why is this bad?
    SQLAlchemy 2.0 removed it: a string raises `ObjectNotExecutableError`. SQL
    text is wrapped in `text()`, which takes named parameters (`:name`), or run
    as it is by `Connection.exec_driver_sql()`, in the driver's own parameter
    style.

    ## Example
        n = conn.scalar("SELECT count(*) FROM users WHERE age > :n", n=30)

    ## Use instead
        n = conn.scalar(text("SELECT count(*) FROM users WHERE age > :n"), {"n": 30})

    ## Fix safety
    Safe when the receiver is proven to be a connection or a session and the
    parameters are literal. On a connection, 1.x handed the string to the driver
    unchanged, so `exec_driver_sql()` is used wherever `text()` could read it
    differently: driver placeholders (`?`, `%s`), `%`, backslashes, a colon
    inside a quoted literal, positional parameters, or a string built at run
    time. On a session, 1.x already wrapped the string in `text()`. Parameters
    given as keywords or as several arguments become the one dict or list that
    2.0 takes. One parameter that is not a literal row was read by 1.x by its
    type at run time: a single value (`execute(sql, name)`) becomes `(name,)`,
    as `exec_driver_sql()` needs; safe when its bindings or annotation show a
    single value, unsafe when only the SQL's one placeholder and a name not
    like `rows` suggest it. Unsafe when the receiver is only named like one, or
    when one parameter argument could be a list of values (which
    `exec_driver_sql()` rejects). Both forms run on SQLAlchemy 1.4 as well as
    2.x.

    ## References
    - SQLAlchemy 2.0 migration guide, "execute() method more strict, execution
      options are more prominent"
    """

    code = "ORM201"
    name = "execute-string-sql"
    message = "`{method}()` of a plain SQL string was removed in SQLAlchemy 2.0"
    fix_title = "Wrap the SQL in `text()`, or use `exec_driver_sql()`"
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b".execute(", b".scalar(")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value in EXECUTE_METHODS
            and node.args
            and node.args[0].keyword is None
            and not node.args[0].star
        ):
            return
        core = self.semantic.shared(CoreObjects)
        is_string, sql = core.sql_string(node.args[0].value)
        if not is_string:
            return
        kind, evidence = core.executor(func.value)
        if kind in ("", "engine"):
            return  # not SQLAlchemy, or connectionless execution (ORM202's)
        message = self.message.format(method=func.attr.value)
        imports: list[ImportSpec] = []
        name = namer(self.semantic, node, imports)

        def build() -> Fix:
            replacement: cst.BaseExpression
            if kind == "session":
                replacement, exact = _on_session(node, name), True
            elif kind == "connection":
                replacement, exact = _on_connection(node, sql, name, core)
            else:  # named like either: only a form both read the same way
                replacement, exact = _on_either(node, sql, name), True
            return Fix.replace(
                node,
                keep_parentheses(node, replacement),
                safe=evidence.proven and exact,
                imports=tuple(imports),
            )

        self.report_fix(node, build, message=message)


def _on_session(call: cst.Call, name: Namer) -> cst.Call:
    """1.x `Session.execute()` coerced the string to `text()`; parameters stay."""
    return call.with_changes(args=[_wrapped(call.args[0], name), *call.args[1:]])


def _on_connection(
    call: cst.Call, sql: str | None, name: Namer, core: CoreObjects
) -> tuple[cst.BaseExpression, bool]:
    """The 2.0 call, and whether it is exact whatever the parameters hold."""
    parameters = distilled(call.args[1:])
    if _text_reads_alike(sql, parameters):
        return _with_parameters(call, _wrapped(call.args[0], name), parameters), True
    parameters, exact = one_driver_parameter(parameters, sql, core)
    assert isinstance(call.func, cst.Attribute)
    statement = call.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    driver = with_arguments(
        call.with_changes(
            func=call.func.with_changes(attr=cst.Name("exec_driver_sql"))
        ),
        [statement, *_argument(parameters)],
    )
    if call.func.attr.value == "scalar":
        return method(driver, "scalar"), exact
    return driver, exact


def _on_either(call: cst.Call, sql: str | None, name: Namer) -> cst.Call:
    parameters = distilled(call.args[1:])
    if parameters.changed or not _text_reads_alike(sql, parameters):
        raise Refused(
            "the receiver may be a connection or a session, which read this differently"
        )
    return _with_parameters(call, _wrapped(call.args[0], name), parameters)


def _text_reads_alike(sql: str | None, parameters: Parameters) -> bool:
    if sql is None or parameters.style not in (Style.NONE, Style.NAMED):
        return False
    in_quotes = "".join(QUOTED.findall(sql))
    return not DRIVER_SYNTAX.search(sql) and ":" not in in_quotes


def _wrapped(arg: cst.Arg, name: Namer) -> cst.Arg:
    text = name("sqlalchemy", "text")
    if text is None:
        raise Refused("the name `text` is taken in this module")
    return arg.with_changes(value=cst.Call(func=text, args=[cst.Arg(arg.value)]))


def _with_parameters(
    call: cst.Call, statement: cst.Arg, parameters: Parameters
) -> cst.Call:
    if not parameters.changed:
        return call.with_changes(args=[statement, *call.args[1:]])
    return with_arguments(call, [statement, *_argument(parameters)])


def _argument(parameters: Parameters) -> list[cst.Arg]:
    return [] if parameters.value is None else [cst.Arg(parameters.value)]
