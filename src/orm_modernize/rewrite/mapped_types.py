"""The Python type a `Mapped[]` annotation names for a column or a relationship of
a declarative class, read from the class's source.

    name = Column(String(50), nullable=False)      ->  Mapped[str]
    born = Column(Date)                            ->  Mapped[Optional[datetime.date]]
    posts = relationship("Post")  (FK on Post)     ->  Mapped[list["Post"]]
    author = relationship("User") (FK here)        ->  Mapped[Optional["User"]]

The column keeps its explicit SQL type, so the annotation decides nothing but
nullability, which is spelt to match the column: a primary key or
`nullable=False` is not optional, anything else is. A relationship's annotation
decides its `uselist`, so one is given only when the foreign keys say which side
holds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from orm_modernize.analysis.semantic import Semantic
from orm_modernize.syntax.nodes import keyword_argument, string_value

# SQLAlchemy type (by class name, in `sqlalchemy` / `sqlalchemy.types`) ->
# (module, name) of the Python type; ("", "int") is a builtin.
PYTHON_TYPES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        ("Integer", "SmallInteger", "BigInteger", "INTEGER", "BIGINT", "SMALLINT"),
        ("", "int"),
    ),
    **dict.fromkeys(
        ("String", "Text", "Unicode", "UnicodeText", "VARCHAR", "CHAR", "TEXT"),
        ("", "str"),
    ),
    "Boolean": ("", "bool"),
    "BOOLEAN": ("", "bool"),
    "Float": ("", "float"),
    "FLOAT": ("", "float"),
    "REAL": ("", "float"),
    "Double": ("", "float"),
    "Numeric": ("decimal", "Decimal"),
    "NUMERIC": ("decimal", "Decimal"),
    "DECIMAL": ("decimal", "Decimal"),
    "DateTime": ("datetime", "datetime"),
    "DATETIME": ("datetime", "datetime"),
    "TIMESTAMP": ("datetime", "datetime"),
    "Date": ("datetime", "date"),
    "DATE": ("datetime", "date"),
    "Time": ("datetime", "time"),
    "TIME": ("datetime", "time"),
    "Interval": ("datetime", "timedelta"),
    **dict.fromkeys(("LargeBinary", "BLOB", "BINARY", "VARBINARY"), ("", "bytes")),
    "JSON": ("typing", "Any"),
    "Enum": ("", "str"),  # Enum("a", "b"); Enum(PyEnum) names its class instead
}
TYPE_MODULES = ("sqlalchemy", "sqlalchemy.types", "sqlalchemy.sql.sqltypes")
COLUMN = frozenset(
    {"sqlalchemy.Column", "sqlalchemy.schema.Column", "sqlalchemy.sql.schema.Column"}
)
MAPPED_COLUMN = frozenset(
    {"sqlalchemy.orm.mapped_column", "sqlalchemy.orm._orm_constructors.mapped_column"}
)
# Keyword arguments of `Column` that `mapped_column` takes alike.
MAPPED_COLUMN_KEYWORDS = frozenset(
    {
        "type_", "primary_key", "nullable", "default", "server_default", "index",
        "unique", "onupdate", "server_onupdate", "autoincrement", "doc", "key",
        "info", "comment", "quote", "system", "name",
    }
)  # fmt: skip

FOREIGN_KEY = frozenset({"sqlalchemy.ForeignKey", "sqlalchemy.schema.ForeignKey"})


def keywords_mapped_column_lacks(call: cst.Call) -> list[str]:
    """The keyword arguments of a `Column(...)` call that `mapped_column()` does
    not take alike."""
    return [
        a.keyword.value
        for a in call.args
        if a.keyword is not None and a.keyword.value not in MAPPED_COLUMN_KEYWORDS
    ]


@dataclass(frozen=True)
class PythonType:
    """`module.name` (module "" for a builtin or a class of this module)."""

    module: str
    name: str


def column_type(call: cst.Call, semantic: Semantic) -> PythonType | None:
    """The Python type of `Column(...)`'s SQL type; None when it has none (a
    foreign key alone takes the type of the column it references)."""
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    if positional and string_value(positional[0]) is not None:
        positional = positional[1:]  # the column's name
    typed = keyword_argument(call, "type_")
    if typed is None and not positional:
        return None
    candidate = typed.value if typed is not None else positional[0]
    callee = candidate.func if isinstance(candidate, cst.Call) else candidate
    if semantic.is_one_of(callee, FOREIGN_KEY):
        return None
    name = next(
        (
            n
            for n in PYTHON_TYPES
            if semantic.is_one_of(callee, {f"{m}.{n}" for m in TYPE_MODULES})
        ),
        None,
    )
    if name is None:
        return PythonType("typing", "Any")  # a type of the project's own, say
    module, python = PYTHON_TYPES[name]
    if isinstance(candidate, cst.Call):
        if name == "Enum":
            enum = [a.value for a in candidate.args if a.keyword is None]
            if len(enum) == 1 and isinstance(enum[0], cst.Name):
                return PythonType("", enum[0].value)  # Enum(Status): the class
        flag = keyword_argument(candidate, "asdecimal")
        if flag is not None and isinstance(flag.value, cst.Name):
            if (
                name in ("Numeric", "NUMERIC", "DECIMAL")
                and flag.value.value == "False"
            ):
                return PythonType("", "float")
            if (
                name in ("Float", "FLOAT", "REAL", "Double")
                and flag.value.value == "True"
            ):
                return PythonType("decimal", "Decimal")
    return PythonType(module, python)


def table_name(classdef: cst.ClassDef) -> str | None:
    """`__tablename__ = "users"` of a class body."""
    body = classdef.body
    if not isinstance(body, cst.IndentedBlock):
        return None
    for statement in body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and small.targets[0].target.value == "__tablename__"
                ):
                    return string_value(small.value)
    return None


def references(classdef: cst.ClassDef, table: str, semantic: Semantic) -> bool:
    """Whether a column of the class body has a `ForeignKey("table.column")`."""
    for node in semantic.nodes(cst.Call):
        if not semantic.is_one_of(node.func, FOREIGN_KEY) or not node.args:
            continue
        target = string_value(node.args[0].value)
        if target is None or target.rsplit(".", 1)[0] != table:
            continue
        if semantic.within(node, classdef):
            return True
    return False
