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


def test_the_side_written_out_for_a_legacy_relation_uses_relationship() -> None:
    """`relation()` is gone from 2.1, so a fixture program cannot show this
    (fixtures/_combined runs it with every rule): the new side is written with
    `relationship()`, imported if need be, and `db.relation` becomes
    `db.relationship`."""
    source = b"""\
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import declarative_base, relation
Base = declarative_base()
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    posts = relation("Post", backref="author")
class Post(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("users.id"))
"""
    settings = Settings(select=("ORM406",), fix=True, unsafe_fixes=True)
    fixed = lint_source(source, Path("m.py"), settings).fixed
    assert fixed is not None
    assert b"import declarative_base, relation, relationship\n" in fixed
    assert b'    author = relationship("User", back_populates="posts")\n' in fixed
    flask = source.replace(b"relation(", b"db.relation(").replace(
        b"from sqlalchemy.orm import declarative_base, relation\n",
        b"from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n"
        b"from sqlalchemy.orm import declarative_base\n",
    )
    fixed = lint_source(flask, Path("m.py"), settings).fixed
    assert fixed is not None
    assert b'    author = db.relationship("User", back_populates="posts")\n' in fixed
