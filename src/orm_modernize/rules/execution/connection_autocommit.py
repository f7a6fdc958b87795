"""ORM208: a write on `engine.connect()` outside a transaction (library autocommit)."""

from __future__ import annotations

import re
from dataclasses import replace

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import (
    EXECUTE_METHODS,
    MAKERS,
    TABLE_STATEMENTS,
    Core,
)
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Fix
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import keyword_argument, walk

# What 1.x autocommitted when run outside a transaction (`AUTOCOMMIT_REGEXP`)
AUTOCOMMITTED_SQL = re.compile(r"\s*(?:UPDATE|INSERT|CREATE|DELETE|DROP|ALTER)", re.I)


def sql_head(value: cst.BaseExpression) -> str | None:
    """The text a string built at run time starts with, which says what kind of
    statement it is: a literal's whole text, an f-string's up to its first
    field, the format string of `"..." % args`, `"...".format(...)` or `"..." +
    more`. None when `value` is none of those."""
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
        text = value.evaluated_value
        return text if isinstance(text, str) else None
    if isinstance(value, cst.FormattedString):
        head = []
        for part in value.parts:
            if not isinstance(part, cst.FormattedStringText):
                break
            head.append(part.value)
        return "".join(head)
    if isinstance(value, cst.BinaryOperation) and isinstance(
        value.operator, (cst.Modulo, cst.Add)
    ):
        return sql_head(value.left)
    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value == "format"
    ):
        return sql_head(value.func.value)
    return None


DML = frozenset(
    n
    for n in MAKERS[Core.STATEMENT]
    if n.rsplit(".", 1)[1] in ("insert", "update", "delete")
)
TEXT = frozenset(n for n in MAKERS[Core.STATEMENT] if n.endswith(".text"))
# What makes the connection's writes explicit: a transaction, or a commit
TRANSACTIONAL = frozenset({"begin", "begin_nested", "commit", "execution_options"})


class ConnectionAutocommit(Rule):
    """
    ## What it does
    Checks for INSERT, UPDATE, DELETE and DDL run on a connection from
    `engine.connect()` that never begins a transaction or commits. SQL built at
    run time counts by how it starts: an f-string up to its first field,
    `"..." % args`, `"...".format(...)`, or a name bound to one of them.

    ## Why is this bad?
    SQLAlchemy 1.x committed such a write on its own ("library-level
    autocommit"). 2.x does not, and warns of nothing: the connection begins a
    transaction, and the write is rolled back when the connection closes. The
    code runs on 2.x and silently loses its writes.

    ## Example
        with engine.connect() as conn:
            conn.execute(users.insert(), {"name": "ann"})

    ## Use instead
        with engine.connect() as conn:
            conn.execute(users.insert(), {"name": "ann"})
            conn.commit()

    ## Fix safety
    The fix writes `conn.commit()` on the line after each such write: 1.x
    committed each one as it ran, so every write is committed at the same point
    and a failure leaves behind what it left (one `engine.begin()` around several
    writes would not: a failing write would roll back those before it). A commit
    with nothing to commit does nothing, so reads around the writes are
    unaffected. It needs SQLAlchemy 2.0 (1.4's legacy `Connection` has no
    `commit()`). It is unsafe inside a `try`: where the code catches a failed
    write and goes on, 2.x's transaction must be rolled back first, which 1.x
    did not need. A write that may run after its line (in a lambda or a
    generator), or whose line cannot be followed (`return conn.execute(...)`, a
    one-line block), is reported without a fix. Connections that call
    `begin()`, `begin_nested()`, `commit()` or
    `execution_options(isolation_level=...)` anywhere in the same function are
    left alone, as are connections passed in as parameters. The
    `autocommit=True` execution option, 1.x's way to autocommit any statement,
    is reported wherever it is set, without a fix: 2.x ignores it.

    ## References
    - SQLAlchemy 2.0 migration guide, "Library-level (but not driver level)
      'Autocommit' removed from both Core and ORM"
    """

    code = "ORM208"
    name = "connection-autocommit"
    message = (
        "a write on a connection outside a transaction was autocommitted by"
        " SQLAlchemy 1.x and is rolled back by 2.x; use `engine.begin()` or"
        " `conn.commit()`"
    )
    fix_title = "Commit the write: `conn.commit()` on the next line"
    fix_availability = "sometimes"
    impact = "changed"
    triggers = (b".connect(", b"autocommit")

    def __init__(self, semantic: Semantic) -> None:
        super().__init__(semantic)
        # (scope, connection name) -> the fix of each write on it
        self._by_connection: dict[tuple[int, str], dict[cst.Call, Fix]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "execution_options":
            self._autocommit_option(node)
            return
        connection = _runs_on(node)
        if connection is None or not self._opened_by_connect(connection):
            return
        if not self._is_write(node.args[0].value):
            return
        if self._is_transactional(connection):
            return
        self.report(node, fix=self._fixes(connection).get(node))

    def _fixes(self, connection: cst.Name) -> dict[cst.Call, Fix]:
        """The commit after each write on the connection, all or none: a commit
        written after one write would make the rule pass over the others in the
        next run. Unsafe for all when one is (a safe-only `--fix` leaves them all)."""
        root = self._scope_node(connection)
        key = (id(root), connection.value)
        if key not in self._by_connection:
            writes = [
                node
                for node in walk(root)
                if isinstance(node, cst.Call)
                and (runs_on := _runs_on(node)) is not None
                and runs_on.value == connection.value
                and self._is_write(node.args[0].value)
            ]
            fixes = [self._commit_after(w, connection) for w in writes]
            found: dict[cst.Call, Fix] = {}
            if all(f is not None for f in fixes):
                safe = all(f.safe for f in fixes if f is not None)
                found = {
                    w: replace(f, safe=safe)
                    for w, f in zip(writes, fixes)
                    if f is not None
                }
            self._by_connection[key] = found
        return self._by_connection[key]

    def _commit_after(self, call: cst.Call, connection: cst.Name) -> Fix | None:
        """`conn.commit()` on the line after the write: 1.x committed it as it
        ran, and a commit with nothing to commit does nothing, so the line may
        hold other calls. None where the write may run later than its line (a
        lambda, a generator) or the line cannot be followed (`return`, a
        one-line block)."""
        line = self.semantic.own_line(call)
        if line is None:
            return None
        if isinstance(line.body[0], (cst.Return, cst.Raise)) or isinstance(
            getattr(line.body[0], "value", None), (cst.Yield, cst.Await)
        ):
            return None
        if self.semantic.enclosing(
            call, (cst.Lambda, cst.GeneratorExp), stop=(cst.SimpleStatementLine,)
        ):
            return None
        commit = cst.SimpleStatementLine(
            [cst.Expr(cst.Call(cst.Attribute(connection, cst.Name("commit"))))]
        )
        # A failure the code catches leaves 2.x's transaction to roll back, where
        # 1.x had none: only then may the connection's next statements differ.
        caught = self.semantic.enclosing(
            call, cst.Try, stop=(cst.FunctionDef, cst.ClassDef)
        )
        return Fix.replace(
            line, cst.FlattenSentinel([line, commit]), safe=caught is None
        )

    def _opened_by_connect(self, name: cst.Name) -> bool:
        """Every binding of `name` is `engine.connect()` (assigned or entered)."""
        core = self.semantic.shared(CoreObjects)
        values = list(self.semantic.assigned_values(name))
        return bool(values) and all(
            isinstance(v, cst.Call)
            and isinstance(v.func, cst.Attribute)
            and v.func.attr.value == "connect"
            and not v.args
            and core.executor(v.func.value)[0] == "engine"
            for v in values
        )

    def _is_write(self, statement: cst.BaseExpression) -> bool:
        """An INSERT, UPDATE, DELETE or DDL statement, as far as can be seen."""
        if isinstance(statement, cst.Name):
            values = list(self.semantic.assigned_values(statement))
            return (
                len(values) == 1
                and isinstance(values[0], cst.BaseExpression)
                and (self._is_write(values[0]))
            )
        sql = sql_head(statement)
        if sql is not None:
            return AUTOCOMMITTED_SQL.match(sql) is not None
        if not isinstance(statement, cst.Call):
            return False
        if self.semantic.is_one_of(statement.func, TEXT) and statement.args:
            return self._is_write(statement.args[0].value)
        if self.semantic.is_one_of(statement.func, DML):
            return True
        func = statement.func
        if isinstance(func, cst.Attribute):
            if func.attr.value in TABLE_STATEMENTS - {"select"}:
                return True
            return self._is_write(func.value)  # `.where(...)`, `.values(...)`
        return False

    def _is_transactional(self, connection: cst.Name) -> bool:
        """The scope that binds the connection begins, commits, or sets options
        (`isolation_level="AUTOCOMMIT"`, `autocommit=True`) on it."""
        for node in walk(self._scope_node(connection)):
            if (
                isinstance(node, cst.Attribute)
                and node.attr.value in TRANSACTIONAL
                and isinstance(node.value, cst.Name)
                and node.value.value == connection.value
            ):
                call = self.semantic.parent(node)
                if node.attr.value != "execution_options" or (
                    isinstance(call, cst.Call)
                    and keyword_argument(call, "isolation_level") is not None
                ):
                    return True
        return False

    def _scope_node(self, connection: cst.Name) -> cst.CSTNode:
        """The function (else the module) whose scope binds the connection."""
        scope = self.semantic.scope(connection)
        return getattr(scope, "node", None) or self.semantic.module

    def _autocommit_option(self, node: cst.Call) -> None:
        """`.execution_options(autocommit=True)`: 1.x's library autocommit, which
        2.x ignores."""
        if (
            self.semantic.imports_sqlalchemy
            and keyword_argument(node, "autocommit") is not None
        ):
            self.report(
                node,
                message="the `autocommit` execution option was SQLAlchemy 1.x's"
                " library autocommit; 2.x ignores it and rolls the write back: use"
                " `engine.begin()`, `conn.commit()`, or"
                ' `isolation_level="AUTOCOMMIT"` for driver-level autocommit',
            )


def _runs_on(call: cst.Call) -> cst.Name | None:
    """The connection `conn.execute(statement, ...)` (or `scalar()`,
    `exec_driver_sql()`) runs its statement on, when it is a plain name."""
    func = call.func
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value in EXECUTE_METHODS | {"exec_driver_sql"}
        and isinstance(func.value, cst.Name)
        and call.args
    ):
        return func.value
    return None
