"""The parse-free project pre-pass: which classes are mapped, across modules."""

from __future__ import annotations

from pathlib import Path

from orm_modernize.project import ProjectIndex, build_index


def index_of(tmp_path: Path, files: dict[str, str]) -> ProjectIndex:
    sources = []
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        sources.append((path, text.encode()))
    return build_index(sources)


def test_declarative_bases_and_their_subclasses_across_modules(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        {
            # a base made in a module that defines no class
            "database.py": "Base = declarative_base()\n",
            "models.py": "class User(Base):\n    pass\nclass Admin(User):\n    pass\n",
            "other.py": "class Plain(object):\n    pass\n",
        },
    )
    assert {"Base", "User", "Admin"} <= index.mapped
    assert "Plain" not in index.mapped


def test_classically_mapped_classes(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        {
            "fixtures.py": "from sqlalchemy.orm import mapper\n"
            "class Person:\n    pass\n"
            "mapper(Person, people)\n"
            "registry.map_imperatively(\n    Engineer, engineers)\n",
            # `mapper(` in a module that does not use SQLAlchemy proves nothing
            "unrelated.py": "mapper(Thing, things)\n",
        },
    )
    assert {"Person", "Engineer"} <= index.mapped
    assert "Thing" not in index.mapped


def test_query_property_is_inherited(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        {
            "database.py": "Base = declarative_base()\n"
            "Base.query = db_session.query_property()\n",
            "models.py": "class User(Base):\n    pass\n",
        },
    )
    assert index.query_property("User") == ("database", "db_session")
    assert index.query_property("Base") == ("database", "db_session")
    assert index.query_property("Other") is None


def test_sqlalchemy_evidence_is_a_word_of_the_project_or_sqlalchemy() -> None:
    index = ProjectIndex(mapped=frozenset({"User"}))
    assert index.may_use_sqlalchemy(b"from flask_sqlalchemy import SQLAlchemy\n")
    assert index.may_use_sqlalchemy(b"from app.models import User\n")
    assert not index.may_use_sqlalchemy(b"from app.people import UserName\n")
    assert not ProjectIndex().may_use_sqlalchemy(b"session.query(User)\n")
