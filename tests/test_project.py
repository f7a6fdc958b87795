"""The parse-free project pre-pass: which classes are mapped, across modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from orm_modernize.analysis.module_names import absolute
from orm_modernize.analysis.project import ProjectIndex, build_index


def index_of(tmp_path: Path, files: dict[str, str]) -> ProjectIndex:
    sources = []
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
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


def test_shared_objects_and_every_name_they_are_imported_as(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        {
            "app/__init__.py": "from .extensions import db  # noqa: F401\n",
            "app/extensions.py": (
                "from flask_sqlalchemy import SQLAlchemy\n"
                "from sqlalchemy import orm\n\n"
                "db = SQLAlchemy()\n"
                "Session = orm.scoped_session(orm.sessionmaker())\n"
                "SessionLocal: orm.sessionmaker = orm.sessionmaker(bind=None)\n"
                "def f():\n    inner = orm.sessionmaker()\n"
            ),
            "app/models.py": "from app import db\nfrom . import extensions as ext\n",
            "app/views/__init__.py": (
                "from ..extensions import (\n    Session,  # the scoped one\n"
                "    SessionLocal as Local,\n)\n"
            ),
            # Not the library's: the module imports neither package
            "other.py": "db = SQLAlchemy()\nSession = scoped_session(x)\n",
            # A cycle of re-exports ends nowhere
            "loop/__init__.py": "from loop.a import x\n",
            "loop/a.py": "from loop import x\n",
        },
    )
    assert index.object("app.extensions.db") == "db"
    assert index.object("app.db") == "db"  # the package re-exports it
    assert index.origin("app.db") == "app.extensions.db"
    assert index.object("app.models.db") == "db"  # through the package
    assert index.object("app.extensions.Session") == "scoped_session"
    assert index.object("app.views.Session") == "scoped_session"
    assert index.object("app.views.Local") == "sessionmaker"
    assert index.object("app.extensions.inner") is None  # not at the top level
    assert index.object("other.db") is None and index.object("other.Session") is None
    assert index.object("loop.x") is None


def test_flask_models_know_their_db_and_query_class(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/ext.py": (
                "from flask_sqlalchemy import SQLAlchemy\n"
                "db = SQLAlchemy()\n"
                "custom = SQLAlchemy(\n    query_class=MyQuery,\n)\n"
            ),
            "app/models.py": (
                "from app.ext import db, custom\n\n"
                "class User(db.Model):\n    id = 1\n\n"
                "class Tagged(db.Model):\n    query_class = TagQuery\n\n"
                "class Note(custom.Model):\n    id = 1\n"
            ),
            "app/admin.py": (
                "from app.models import User\n\nclass Admin(User):\n    pass\n"
            ),
            "app/api.py": "from .models import User as Person\n",
        },
    )
    assert index.flask_model("app.models.User") == ("app.ext.db", False)
    assert index.flask_model("app.models.Tagged") == ("app.ext.db", True)
    assert index.flask_model("app.models.Note") == ("app.ext.custom", True)
    assert index.flask_model("app.admin.Admin") == ("app.ext.db", False)
    assert index.flask_model("app.api.Person") == ("app.ext.db", False)
    assert index.flask_model("app.ext.db") is None


def test_relative_names_are_made_absolute() -> None:
    assert absolute(".models.User", "app") == "app.models.User"
    assert absolute("..models.User", "app.views") == "app.models.User"
    assert absolute("app.models.User", "anything") == "app.models.User"
    assert absolute(".models.User", "") is None  # a module outside any package
    assert absolute("...x", "app.views") is None  # above the top package


def test_a_relationship_loaded_by_a_join_anywhere_keeps_unique(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows of one class repeat when a collection is loaded by a join: a
    `lazy="joined"` in another module keeps `.unique()` in the module checked
    alone, and nothing else in the project does."""
    from click.testing import CliRunner

    from orm_modernize.cli.commands import main

    models = (
        "from sqlalchemy.orm import declarative_base, relationship\n"
        "Base = declarative_base()\n"
        "class User(Base):\n"
        "    __tablename__ = 'users'\n"
        '    addresses = relationship("Address", lazy={lazy!r})\n'
    )
    view = (
        "from sqlalchemy.orm import Session\n"
        "from models import User\n"
        "def names(session: Session):\n"
        "    return session.query(User).all()\n"
    )
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (tmp_path / "views.py").write_text(view)
    monkeypatch.chdir(tmp_path)
    fixed = {}
    for lazy in ("joined", "select"):
        (tmp_path / "models.py").write_text(models.format(lazy=lazy))
        result = CliRunner().invoke(
            main, ["check", "--no-cache", "--select", "ORM002", "--diff", "views.py"]
        )
        fixed[lazy] = next(
            line for line in result.stdout.splitlines() if line.startswith("+    ")
        )
    assert fixed == {
        "joined": "+    return session.scalars(select(User)).unique().all()",
        "select": "+    return session.scalars(select(User)).all()",
    }
    index = index_of(tmp_path, {"m.py": 'r = relationship("A", lazy=False)\n'})
    assert index.joined_eager
    assert not index_of(tmp_path, {"m.py": 'r = relationship("A")\n'}).joined_eager


def test_which_classes_a_joined_eager_load_may_repeat(tmp_path: Path) -> None:
    models = (
        "class Group(Base):\n"
        '    members = relationship("User", secondary=t, lazy="joined")\n'
        "class User(Base):\n"
        "    group_id = Column(ForeignKey('groups.id'))\n"
        '    group = relationship("Group", lazy="joined", foreign_keys=[group_id])\n'
        "class Profile(Base):\n"
        '    owner = relationship("Other", uselist=False, lazy="joined")\n'
        "class Admin(User):\n"
        "    pass\n"
        "class Plain(Base):\n"
        '    items = relationship("Item", backref=backref("x", lazy="dynamic"))\n'
    )
    index = index_of(tmp_path, {"models.py": models})
    # Group loads a collection by a join; User loads Group so; Admin is a User.
    assert index.joined_collections == {"Group", "User", "Admin"}
    assert not index.joined_eager
    backref = (
        "class A(Base):\n"
        '    b = relationship("B", backref=backref("a", lazy="joined"))\n'
    )
    assert index_of(tmp_path, {"models.py": backref}).joined_eager


def test_a_class_whose_objects_can_be_false_is_not_always_true(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        {
            "models.py": "Base = declarative_base()\n"
            "class Plain(Base):\n    pass\n"
            "class Sized(Base):\n    def __len__(self):\n        return 0\n"
            "class Truthy(Base):\n    async  def __bool__(self):\n        return 0\n"
            "class Child(Sized):\n    pass\n"
            # not in a class body: a function of the module, and a docstring's
            'class Loose(Base):\n    """x\ndef __bool__(self): ..."""\n'
            "def __len__(self):\n    return 0\n"
            "class Named(Base):\n    asyncdef = 1\n    x = 'def __bool__'\n",
        },
    )
    assert index.always_true == {"Plain", "Loose", "Named"}


def test_a_query_property_is_removed_once_no_module_reads_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from orm_modernize.cli.commands import main

    (tmp_path / ".git").mkdir()
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    db = tmp_path / "app" / "db.py"
    db.write_text(
        "from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker\n"
        "db_session = scoped_session(sessionmaker())\n"
        "Base = declarative_base()\n"
        "Base.query = db_session.query_property()\n"
    )
    views = tmp_path / "app" / "views.py"
    views.write_text("from app.models import User\n\nusers = User.query.all()\n")
    monkeypatch.chdir(tmp_path)

    def check(*args: str) -> str:
        invoked = CliRunner().invoke(
            main, ["check", "--isolated", "--no-cache", "--select", "ORM005", *args]
        )
        return invoked.stdout

    # Read in another module: no fix, whichever files are passed
    for paths in (["app/db.py"], ["."]):
        assert "(no fix: a module of the project reads a `query`" in check(*paths)
    views.write_text("users = []  # converted\n")
    assert "hidden fix" in check("app/db.py")
    check("--fix", "--unsafe-fixes", "app/db.py")
    assert db.read_text().endswith("Base = declarative_base()\n")


def test_what_reads_a_query_attribute() -> None:
    from orm_modernize.analysis.module_facts import module_facts

    read = [
        b"User.query.all()",
        b"q = Model.query\n",
        b"getattr(User, 'query')",
        b'model.__dict__["query"]',
        b"x.query == y",
    ]
    not_read = [b"session.query(User)", b"session.query (User)", b"Base.query = p"]
    assert all(module_facts(s).query_read for s in read)
    assert not any(module_facts(s).query_read for s in not_read)
