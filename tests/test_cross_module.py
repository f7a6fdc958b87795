"""A `backref=` whose other class is mapped in another module: the run that sees
both modules writes out both ends of the `back_populates` pair, or neither."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, run_program, write_package

from orm_modernize.cli.commands import main

PROJECT = FIXTURES / "_cross_module"


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["check", "--isolated", "--no-cache", "--select", "ORM406", *args]
    )
    return result.exit_code, result.stdout


@pytest.fixture
def blog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(PROJECT, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sources(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.py")}


def test_both_ends_are_written_in_one_run_and_behave_the_same(
    blog: Path, sqlalchemy14: Path, sqlalchemy2: str
) -> None:
    code, out = check(".")
    assert code == 1
    assert (
        "blog/tag.py:6:7: ORM406 `Tag` does not declare `posts`, which `backref=` of"
        " `Post.tags` makes in `blog.post` [*]" in out
    )
    assert "Found 6 errors" in out and "6 fixable" in out

    code, out = check("--fix", ".")
    assert code == 0, out
    user = (blog / "blog/user.py").read_text()
    assert (
        'profile = relationship("Profile", back_populates="user", uselist=False)'
        in (user)
    )
    assert '"Post", back_populates="author", order_by="Post.id"' in user
    assert "backref=" not in user and "import relationship\n" in user
    post = (blog / "blog/post.py").read_text()
    assert 'author = relationship("User", back_populates="posts", lazy="joined")' in (
        post
    )
    tag = (blog / "blog/tag.py").read_text()
    assert "from sqlalchemy.orm import relationship\n" in tag
    assert (
        'posts = relationship("Post", back_populates="tags", secondary="post_tags")'
        in tag
    )
    assert check(".") == (0, "All checks passed!\n")

    old = run_program(sqlalchemy14, PROJECT / "bin/main.py", strict=False)
    new = run_program(sqlalchemy2, blog / "bin/main.py", strict=True)
    assert old.returncode == 0, old.stderr
    assert (new.returncode, new.stdout) == (0, old.stdout), new.stderr
    # The joined backref still loads the author with the post: one SELECT.
    assert old.stdout.startswith("Post('b') User('ann') 1\n")


def test_owner_alone_is_reported_and_left_as_it_is(blog: Path) -> None:
    """Pre-commit passes only the changed files: the other end is not in the run."""
    before = sources(blog)
    code, out = check("--fix", "blog/user.py", "blog/base.py")
    assert code == 1
    assert (
        "`Post` is not a declarative class of this module or of one checked with it:"
        " declare `author` on it by hand" in out
    )
    assert sources(blog) == before


@pytest.mark.parametrize(
    "edit",
    [
        # The other class's module refuses it: a noqa on the class.
        ("blog/post.py", "class Post(Base):", "class Post(Base):  # noqa: ORM406"),
        # It already has the attribute.
        ("blog/post.py", "    title = ", "    author = None\n    title = "),
        # Two modules define a `Post`: which one the string names is not known.
        (
            "blog/tag.py",
            "class Tag(Base):",
            "class Post:\n    pass\n\n\nclass Tag(Base):",
        ),
        # An option that is not a literal means something else in the other module.
        ("blog/user.py", 'lazy="joined"', "lazy=LAZY"),
    ],
    ids=["noqa", "attribute-exists", "ambiguous-class", "non-literal-option"],
)
def test_a_pair_the_other_module_cannot_complete_changes_neither_end(
    blog: Path, edit: tuple[str, str, str]
) -> None:
    name, old, new = edit
    path = blog / name
    path.write_text(path.read_text().replace(old, new, 1))
    if "LAZY" in new:
        path.write_text(
            path.read_text().replace("\n\nclass", '\nLAZY = "joined"\n\n\nclass', 1)
        )
    post, user = (
        (blog / "blog/post.py").read_text(),
        (blog / "blog/user.py").read_text(),
    )

    check("--fix", ".")
    # The other pairs are converted; User.posts / Post.author is not.
    assert 'backref=backref("author"' in (blog / "blog/user.py").read_text()
    assert (blog / "blog/post.py").read_text().count("author = ") == post.count(
        "author = "
    )
    assert "back_populates" in (blog / "blog/tag.py").read_text()
    assert user != (blog / "blog/user.py").read_text()  # its own `profile` end
    code, out = check(".")
    assert code == 1 and "by hand" in out and "`Post` is mapped" in out


FLASK_USER = """\
{db}


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    posts = db.relationship("Post", backref="author")
"""
FLASK_POST = """\
from {db} import db


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("user.id"))
"""


@pytest.mark.parametrize(
    "db",
    [
        "from flask_ext import db",  # both ends only likely: not the project's
        "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()",  # one proven
    ],
    ids=["both-likely", "one-proven"],
)
def test_both_ends_are_as_safe_as_the_less_safe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    """A `db` imported from outside the project is only likely Flask-SQLAlchemy's:
    then both ends are unsafe (though one is proven), so without `--unsafe-fixes`
    neither changes, and with it both do."""
    monkeypatch.chdir(tmp_path)
    user, post = FLASK_USER.format(db=db), FLASK_POST.format(db="flask_ext")
    write_flask_app(tmp_path, user, post)
    code, out = check("--fix", "app")
    assert code == 1 and "2 hidden fixes can be enabled" in out, out
    assert (tmp_path / "app/user.py").read_text() == user
    assert (tmp_path / "app/post.py").read_text() == post

    code, out = check("--fix", "--unsafe-fixes", "app")
    assert code == 0, out
    assert (
        'db.relationship("Post", back_populates="author")'
        in (tmp_path / "app/user.py").read_text()
    )
    assert (
        '    author = db.relationship("User", back_populates="posts")\n'
        in (tmp_path / "app/post.py").read_text()
    )


def test_a_db_imported_from_the_module_of_the_project_that_makes_it_is_proven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`from app.ext import db` where `app/ext.py` makes `db = SQLAlchemy()`, and
    `from app.user import db` re-exporting it: as proven as in `ext.py`, so both
    ends are safe fixes."""
    monkeypatch.chdir(tmp_path)
    user = FLASK_USER.format(db="from app.ext import db")
    write_flask_app(tmp_path, user, FLASK_POST.format(db="app.user"))
    code, out = check("--fix", "app")
    assert code == 0, out
    assert "back_populates" in (tmp_path / "app/user.py").read_text()
    assert "author = db.relationship(" in (tmp_path / "app/post.py").read_text()


def write_flask_app(root: Path, user: str, post: str) -> None:
    ext = "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n"
    write_package(root, {"ext.py": ext, "user.py": user, "post.py": post})


def test_a_cached_run_sees_the_pair_too(
    blog: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cache = tmp_path_factory.mktemp("cache")
    args = ["check", "--isolated", "--select", "ORM406", "--cache-dir", str(cache)]
    first = CliRunner().invoke(main, [*args, "."])
    second = CliRunner().invoke(main, [*args, "."])
    assert first.exit_code == second.exit_code == 1
    assert first.stdout == second.stdout and "6 fixable" in second.stdout


MODELS_WRITTEN_OUT = """\
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    addresses = relationship("Address", back_populates="user")


class Address(Base):
    __tablename__ = "addresses"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("users.id"))
    user = relationship(User, back_populates="addresses")
"""
VIEWS = """\
from app.models import Address


def add_address(session, user):
    Address(user=user)
    session.commit()
"""


# The same pair, made by a `backref=` on either side (as before ORM406).
BACKREF_ON_USER = MODELS_WRITTEN_OUT.replace(
    '    user = relationship(User, back_populates="addresses")\n', ""
).replace('back_populates="user"', 'backref="user"')
BACKREF_ON_ADDRESS = (
    MODELS_WRITTEN_OUT.replace(
        '    addresses = relationship("Address", back_populates="user")\n', ""
    )
    .replace(
        'user = relationship(User, back_populates="addresses")',
        "user = relation(\n"
        '        User, backref=backref("addresses", lazy="select")\n'
        "    )",
    )
    .replace("relationship\n", "relation, backref\n")
)


@pytest.mark.parametrize(
    "models",
    [MODELS_WRITTEN_OUT, BACKREF_ON_USER, BACKREF_ON_ADDRESS],
    ids=["back_populates", "backref-made", "backref-declaring"],
)
def test_a_two_way_relationship_of_another_module_is_two_way_however_spelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models: str
) -> None:
    # ORM406 writes `backref=` out as a `back_populates=` pair; the object that
    # 1.4 cascaded along it is as lost on 2.x as before. `Address.user` is two-way
    # whichever side declares the pair, and in 1.x spelling (`relation()`).
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text(models)
    (tmp_path / "app" / "views.py").write_text(VIEWS)
    result = CliRunner().invoke(main, ["check", "--select", "ORM102", "app"])
    assert "app/views.py:5:13: ORM102" in result.stdout, result.output
