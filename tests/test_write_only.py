"""A dynamic relationship becomes write-only only with every use of it, in every
module of the project or none: when one module cannot take its part, or is not
in a run that fixes, no module changes and the finding says why; and only for a
project on SQLAlchemy 2.0. The executed proof is `fixtures/_projects/write_only`
(test_projects.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, copy_project, run_program, write_package

from orm_modernize.cli.commands import main
from orm_modernize.workspace.checker import Checker

MODELS = """\
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    posts = relationship("Post", lazy="dynamic")

    def post_count(self):
        return self.posts.count()


class Post(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("users.id"))
"""
VIEWS = """\
def show(user):
    return user.posts.all()
"""


def check(*args: str, status: int = 1) -> str:
    result = CliRunner().invoke(
        main, ["check", "--no-cache", "--select", "ORM409", "--unsafe-fixes", *args]
    )
    assert result.exit_code == status, result.output
    return result.output


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_package(tmp_path, {"models.py": MODELS}, pin=">=2.0")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("paths", [["app/models.py"], ["app/views.py"], ["."]])
def test_a_use_in_another_module_without_a_form_keeps_every_module_as_it_is(
    app: Path, paths: list[str]
) -> None:
    views = "def show(user):\n    return user.posts.all(), user.posts[0]\n"
    (app / "app/views.py").write_text(views)

    found = check("--fix", *paths, status=1 if "app/views.py" not in paths else 0)

    if paths != ["app/views.py"]:
        assert "(no fix: app/views.py: `.posts` on line 2 is used otherwise" in found
    assert "app/views.py" not in found.replace("(no fix: app/views.py", "")
    assert (app / "app/models.py").read_text() == MODELS
    assert (app / "app/views.py").read_text() == views


@pytest.mark.parametrize(
    "views",
    [
        # Another class's `self.posts`: the name is all a use has to go by.
        "class Feed:\n    def show(self):\n        return self.posts.all()\n",
        # Another class declares an attribute of that name.
        "class Blog:\n    posts = []\n\n\ndef show(user):\n"
        "    return user.posts.all()\n",
        # A string may name it: `getattr()`, a serializer's field.
        'def show(user):\n    return getattr(user, "posts").all()\n',
        # A noqa keeps one use as it is: the others would break it.
        "def show(user):\n    return user.posts.all()  # noqa: ORM409\n",
    ],
    ids=["self-of-another-class", "class-attribute", "string", "noqa"],
)
def test_a_module_that_cannot_take_its_part_keeps_every_module_as_it_is(
    app: Path, views: str
) -> None:
    (app / "app/views.py").write_text(views)

    found = check("--fix", ".")

    assert "(no fix: app/views.py: " in found, found
    assert (app / "app/models.py").read_text() == MODELS
    assert (app / "app/views.py").read_text() == views


def test_uses_in_another_module_are_rewritten_with_the_relationship(
    app: Path,
) -> None:
    (app / "app/views.py").write_text(VIEWS)

    found = check(".", status=1)
    assert "app/views.py:2:12: ORM409 `.posts` is a relationship with" in found

    check("--fix", ".", status=0)
    assert 'lazy="write_only"' in (app / "app/models.py").read_text()
    assert (app / "app/views.py").read_text() == (
        "from sqlalchemy.orm import object_session\n\n\n"
        "def show(user):\n"
        "    return object_session(user).scalars(user.posts.select()).all()\n"
    )


def test_a_class_of_another_module_with_an_attribute_of_that_name_keeps_it(
    app: Path,
) -> None:
    """No module reads `Blog.posts`, but `user.posts` may be a `Blog`'s."""
    (app / "app/views.py").write_text(VIEWS)
    (app / "app/blog.py").write_text("class Blog:\n    posts: list = []\n")

    found = check("--fix", "app/views.py", "app/models.py")

    assert "(no fix: app/blog.py: line 2 assigns `posts`)" in found, found
    assert (app / "app/models.py").read_text() == MODELS


def test_a_migration_naming_the_table_does_not_keep_it(app: Path) -> None:
    """Alembic revisions are not rewritten, and name tables in strings."""
    (app / "app/views.py").write_text(VIEWS)
    versions = app / "app/migrations/versions"
    versions.mkdir(parents=True)
    (versions / "1_posts.py").write_text(
        'down_revision = None\n\n\ndef upgrade(op):\n    op.drop_table("posts")\n'
    )

    check("--fix", ".", status=0)

    assert 'lazy="write_only"' in (app / "app/models.py").read_text()
    assert "object_session(user)" in (app / "app/views.py").read_text()


@pytest.mark.parametrize(
    ("fixed", "missing", "how"),
    [
        ("app/views.py", "app/models.py", "declares"),
        ("app/models.py", "app/views.py", "also uses"),
    ],
)
def test_fixing_one_end_alone_changes_neither_and_says_why(
    app: Path, fixed: str, missing: str, how: str
) -> None:
    """Pre-commit passes the changed files: the other end is not in the run."""
    (app / "app/views.py").write_text(VIEWS)

    found = check("--fix", fixed)

    assert f"(no fix: {missing} {how} `.posts` and is not checked)" in found, found
    assert (app / "app/models.py").read_text() == MODELS
    assert (app / "app/views.py").read_text() == VIEWS


def test_uses_in_its_own_module_only_are_rewritten(app: Path) -> None:
    # A local variable of the attribute's name is not a use of it.
    (app / "app/views.py").write_text("def page(found):\n    posts = list(found)\n")

    check("--fix", ".", status=0)

    fixed = (app / "app/models.py").read_text()
    assert 'posts = relationship("Post", lazy="write_only")' in fixed
    assert (
        "        return object_session(self).scalar(\n"
        "            select(func.count()).select_from(self.posts.select().subquery())\n"
        "        )\n"
    ) in fixed


def test_a_project_on_1_4_gets_no_fix(app: Path) -> None:
    write_package(app, {}, pin=">=1.4")

    found = check("--fix", ".")

    assert "the target is 1.4" in found, found
    assert (app / "app/models.py").read_text() == MODELS


@pytest.mark.parametrize("paths", [["app/models.py"], ["."]])
def test_a_use_in_a_template_keeps_the_relationship(
    app: Path, paths: list[str]
) -> None:
    (app / "app/templates").mkdir()
    (app / "app/templates/user.html").write_text(
        "<p>{{ user.posts.count() }} posts</p>\n"
    )

    found = check("--fix", *paths)

    assert "a template may use `.posts` (app/templates/user.html)" in found
    assert (app / "app/models.py").read_text() == MODELS


def test_object_session_imported_from_its_own_module_is_reused(app: Path) -> None:
    imported = "from sqlalchemy.orm.session import object_session\n"
    (app / "app/models.py").write_text(imported + MODELS)

    check("--fix", ".", status=0)

    fixed = (app / "app/models.py").read_text()
    assert fixed.startswith(imported)
    assert fixed.count("object_session") == 2, fixed


def test_a_relationship_used_across_a_package_behaves_the_same_written_only(
    tmp_path: Path, sqlalchemy14: Path, sqlalchemy2: str
) -> None:
    project = FIXTURES / "_projects" / "write_only"
    root = copy_project("write_only", tmp_path)
    old = run_program(sqlalchemy14, project / "bin/main.py", strict=False)
    assert old.returncode == 0, old.stderr

    result = CliRunner().invoke(
        main,
        ["check", "--isolated", "--no-cache", "--fix", "--unsafe-fixes", str(root)],
    )

    assert result.exit_code == 0, result.output
    assert "Found 10 errors (10 fixed, 0 remaining)" in result.output
    for name in ("views.py", "services.py", "models.py"):
        assert "dynamic" not in (root / "blog" / name).read_text()
    new = run_program(sqlalchemy2, root / "bin/main.py", strict=True)
    assert (new.returncode, new.stdout) == (0, old.stdout), new.stderr
    assert "['a', 'b', 'dd'] (3, Post('a')) Post('dd')" in old.stdout


def test_a_warm_run_finds_the_uses_in_other_modules_again(app: Path) -> None:
    """Pre-commit runs warm: the cached index keeps which module declares it."""
    (app / "app/views.py").write_text(VIEWS)

    def warm(*paths: str) -> str:
        result = CliRunner().invoke(
            main, ["check", "--select", "ORM409", "--unsafe-fixes", *paths]
        )
        assert result.exit_code == 1, result.output
        return result.output

    cold = warm(".")
    assert "app/views.py:2:12: ORM409" in cold
    assert warm(".") == cold
    assert "app/views.py:2:12: ORM409" in warm("app/views.py")


@pytest.mark.parametrize("paths", [["."], ["app/models.py"]])
def test_a_relationship_its_own_module_cannot_rewrite_asks_no_other_module(
    app: Path, paths: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its own module refuses whatever the others say: the first run's finding
    # says why, and no module is checked again to ask. (A run without the
    # declaring module reads and asks it, as before.)
    models = MODELS.replace("self.posts.count()", 'getattr(self, "posts").count()')
    (app / "app/models.py").write_text(models)
    (app / "app/views.py").write_text(VIEWS)
    asked: list[str] = []
    check_all = Checker.check_all

    def spied(self: Checker, items, project, progress=None):  # type: ignore[no-untyped-def]
        asked.extend(project.dynamic_probed)
        return check_all(self, items, project, progress)

    monkeypatch.setattr(Checker, "check_all", spied)

    found = check(*paths)

    assert asked == []
    assert "(no fix: the string on line 13 may name the attribute)" in found
    assert "app/views.py" not in found
