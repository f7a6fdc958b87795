"""The qualified names of the SQLAlchemy (and Flask-SQLAlchemy) objects the
analyses look for: sessions and their factories, mappers, declarative bases,
relationships, bundles."""

from __future__ import annotations

SESSION_CLASSES = frozenset(
    {"sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session"}
)
SESSION_FACTORIES = frozenset(
    {"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"}
)
SCOPED_SESSIONS = frozenset(
    {"sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"}
)
# Functions that return a plain `Session`: the 1.x `create_session()` and the
# `fixture_session()` of SQLAlchemy's own test suite.
SESSION_FUNCTIONS = frozenset(
    {
        "sqlalchemy.orm.create_session",
        "sqlalchemy.orm.session.create_session",
        "sqlalchemy.testing.fixture_session",
        "sqlalchemy.testing.fixtures.fixture_session",
    }
)
FLASK_SQLALCHEMY = frozenset({"flask_sqlalchemy.SQLAlchemy"})
# `relationship()` by its qualified names (`relation()` is ORM404's).
RELATIONSHIP = frozenset(
    {"sqlalchemy.orm.relationship", "sqlalchemy.orm.relationships.relationship"}
)
# Classical mapping: the first argument of these calls is a mapped class.
MAPPER_FUNCTIONS = frozenset({"sqlalchemy.orm.mapper", "sqlalchemy.orm.mapper.mapper"})
# `registry()`, whose `map_imperatively()` maps a class classically
REGISTRY = frozenset({"sqlalchemy.orm.registry", "sqlalchemy.orm.decl_api.registry"})
TABLE_CLASSES = frozenset({"sqlalchemy.Table", "sqlalchemy.schema.Table"})
DECLARATIVE_BASE_FUNCTIONS = frozenset(
    {
        "sqlalchemy.orm.declarative_base",
        "sqlalchemy.orm.decl_api.declarative_base",
        "sqlalchemy.ext.declarative.declarative_base",
        "sqlalchemy.ext.declarative.api.declarative_base",
        "sqlalchemy.ext.automap.automap_base",
    }
)
DECLARATIVE_BASE_CLASSES = frozenset(
    {
        f"sqlalchemy.orm{sub}.{name}"
        for sub in ("", ".decl_api")
        for name in ("DeclarativeBase", "DeclarativeBaseNoMeta")
    }
)
AS_DECLARATIVE = frozenset(
    {
        "sqlalchemy.orm.as_declarative",
        "sqlalchemy.orm.decl_api.as_declarative",
        "sqlalchemy.ext.declarative.as_declarative",
    }
)
# SQL's aggregate functions, as `func.<name>`: a SELECT of only these, without
# GROUP BY, returns exactly one row
AGGREGATES = frozenset(
    f"{module}.func.{name}"
    for module in ("sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression")
    + ("sqlalchemy.sql.functions",)
    for name in ("count", "sum", "min", "max", "avg")
)
BUNDLES = frozenset({"sqlalchemy.orm.Bundle", "sqlalchemy.orm.util.Bundle"})
ALIASED = frozenset(
    {
        f"sqlalchemy.orm{sub}.{name}"
        for sub in ("", ".util")
        for name in ("aliased", "with_polymorphic")
    }
)
