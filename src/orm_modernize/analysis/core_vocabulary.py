"""The names of SQLAlchemy Core that `core_objects.CoreObjects` looks for: the
calls that make a table, an engine, metadata or a statement, the classes whose
annotation proves a kind, and the names that make a parameter likely one."""

from __future__ import annotations

import enum


class Core(enum.Enum):
    TABLE = "table"
    ENGINE = "engine"
    CONNECTION = "connection"
    RESULT = "result"
    ROW = "row"
    METADATA = "metadata"
    STATEMENT = "statement"  # an executable Core construct: select(), t.insert()


def _names(*paths: str) -> frozenset[str]:
    return frozenset(paths)


# Calls whose value is of each kind
MAKERS: dict[Core, frozenset[str]] = {
    Core.TABLE: _names(
        "sqlalchemy.Table",
        "sqlalchemy.schema.Table",
        "sqlalchemy.sql.schema.Table",
        "sqlalchemy.table",
        "sqlalchemy.sql.table",
        "sqlalchemy.sql.expression.table",
        "sqlalchemy.testing.schema.Table",  # SQLAlchemy's own tests: a real Table
    ),
    Core.ENGINE: _names(
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.engine_from_config",
        "sqlalchemy.engine.engine_from_config",
        "sqlalchemy.testing.engines.testing_engine",
    ),
    Core.METADATA: _names(
        "sqlalchemy.MetaData",
        "sqlalchemy.schema.MetaData",
        "sqlalchemy.sql.schema.MetaData",
    ),
    Core.STATEMENT: frozenset(
        f"{module}.{name}"
        for module in ("sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression")
        for name in (
            "select",
            "insert",
            "update",
            "delete",
            "union",
            "union_all",
            "intersect",
            "except_",
            "exists",
            "text",
        )
    ),
}
# Calls that make a SELECT: a `Select`, or a compound one (`union()`)
SELECT_MAKERS = frozenset(
    f"{module}.{name}"
    for module in ("sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression")
    for name in ("select", "union", "union_all", "intersect", "intersect_all")
    + ("except_", "except_all")
)
# Table methods that make a statement, and statement methods that refine one
TABLE_STATEMENTS = frozenset({"select", "insert", "update", "delete"})
GENERATIVE = frozenset(
    {"where", "values", "order_by", "group_by", "having", "limit", "offset"}
    | {"select_from", "join", "outerjoin", "distinct", "correlate", "returning"}
    | {"prefix_with", "suffix_with", "execution_options", "with_only_columns"}
    | {"column", "apply_labels", "with_labels", "set_label_style", "ordered_values"}
    | {"inline", "return_defaults", "params", "bindparams", "columns", "filter"}
    | {"filter_by", "union", "union_all", "with_for_update", "add_columns"}
)
# Annotations that prove a parameter's kind
CLASSES: dict[Core, frozenset[str]] = {
    Core.TABLE: _names("sqlalchemy.Table", "sqlalchemy.schema.Table"),
    Core.ENGINE: _names("sqlalchemy.engine.Engine", "sqlalchemy.engine.base.Engine"),
    Core.CONNECTION: _names(
        "sqlalchemy.engine.Connection", "sqlalchemy.engine.base.Connection"
    ),
    Core.RESULT: _names(
        "sqlalchemy.engine.Result",
        "sqlalchemy.engine.CursorResult",
        "sqlalchemy.engine.ResultProxy",
        "sqlalchemy.engine.result.Result",
        "sqlalchemy.engine.cursor.CursorResult",
    ),
    Core.ROW: _names(
        "sqlalchemy.engine.Row",
        "sqlalchemy.engine.RowProxy",
        "sqlalchemy.engine.row.Row",
        "sqlalchemy.engine.row.LegacyRow",
    ),
    Core.METADATA: _names("sqlalchemy.MetaData", "sqlalchemy.schema.MetaData"),
    Core.STATEMENT: frozenset(),
}
OPTIONAL = _names("typing.Optional", "typing_extensions.Optional")
# Objects of SQLAlchemy's test suite
TESTING_ENGINES = _names("sqlalchemy.testing.db", "sqlalchemy.testing.config.db")
# Names that make an unannotated parameter or an attribute LIKELY
LIKELY_NAMES: dict[Core, frozenset[str]] = {
    Core.TABLE: frozenset(),
    Core.ENGINE: _names("engine", "db_engine", "bind", "eng"),
    Core.CONNECTION: _names("conn", "connection", "db_conn", "connectable"),
    Core.RESULT: _names("result", "res", "rs", "cursor_result"),
    Core.ROW: _names("row", "r", "record"),
    Core.METADATA: _names("metadata", "meta", "md"),
    Core.STATEMENT: frozenset(),
}
# What runs a statement on an engine, a connection or a session
EXECUTE_METHODS = frozenset({"execute", "scalar"})
# Methods of a result that return one row, and those that return a list of rows
ONE_ROW = frozenset({"fetchone", "first", "one", "one_or_none"})
ROWS = frozenset({"fetchall", "fetchmany", "all", "partitions"})
