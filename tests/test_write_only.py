"""A dynamic relationship becomes write-only only with every use of it: when
another module of the project names the attribute, neither end changes, checked
alone or with the project; and only for a project on SQLAlchemy 2.0."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from orm_modernize.cli.commands import main

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
PINS = '[project]\nname = "app"\ndependencies = ["sqlalchemy{pin}"]\n'


def check(*args: str, status: int = 1) -> str:
    result = CliRunner().invoke(
        main, ["check", "--no-cache", "--select", "ORM409", "--unsafe-fixes", *args]
    )
    assert result.exit_code == status, result.output
    return result.output


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(PINS.format(pin=">=2.0"))
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("paths", [["app/models.py"], ["."]])
def test_a_use_in_another_module_keeps_the_relationship(
    app: Path, paths: list[str]
) -> None:
    (app / "app/views.py").write_text(VIEWS)

    found = check("--fix", *paths)

    assert "other modules of the project may use `.posts` (app/views.py)" in found
    assert (app / "app/models.py").read_text() == MODELS


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
    (app / "pyproject.toml").write_text(PINS.format(pin=">=1.4"))

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
