"""ORM406 cases that cannot be fixture programs: code SQLAlchemy itself rejects
when the mappers are configured, which the rule must still not make worse."""

from pathlib import Path

from orm_modernize.data.records import Settings
from orm_modernize.engine.lint import lint_source


def test_no_relationship_is_added_to_an_abstract_class() -> None:
    """An `__abstract__` class maps nothing of its own: a backref into it is
    reported, and no attribute is written into its body."""
    source = b"""\
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base, relationship
Base = declarative_base()
class Stamped(Base):
    __abstract__ = True
    id = Column(Integer, primary_key=True)
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    stamps = relationship("Stamped", backref="user")
"""
    settings = Settings(select=("ORM406",), fix=True, unsafe_fixes=True)
    result = lint_source(source, Path("m.py"), settings)
    assert result.errors == () and result.fixed is None
    [finding] = result.diagnostics
    assert "`Stamped` is abstract" in finding.message
