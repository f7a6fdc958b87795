"""The rule registry, each rule's docs, and its fixtures stay in step."""

from __future__ import annotations

import importlib
import pkgutil
import re
import textwrap
from pathlib import Path

import pytest
from conftest import FIXTURES

import orm_modernize.rules as rules_package
from orm_modernize.analysis.project import build_index
from orm_modernize.data.codes import CODES
from orm_modernize.data.records import Settings
from orm_modernize.engine.lint import lint_source
from orm_modernize.rules import ALL_RULES
from orm_modernize.rules.base import Rule

SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")


def test_every_rule_module_is_registered_once() -> None:
    found = set()
    prefix = "orm_modernize.rules."
    for info in pkgutil.walk_packages(rules_package.__path__, prefix):
        if info.name == prefix + "base":  # the base classes, not rules
            continue
        module = importlib.import_module(info.name)
        found.update(
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Rule)
            and value is not Rule
            and value.__module__ == module.__name__
        )
    # A part of one rule in a module of its own (ORM002's `HelperCalls`) has no
    # code, and is a base of that rule only.
    parts = {rule for rule in found if "code" not in vars(rule)}
    for part in parts:
        assert len([r for r in ALL_RULES if issubclass(r, part)]) == 1, part
    assert found - parts == set(ALL_RULES)
    codes = [rule.code for rule in ALL_RULES]
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)


def test_codes_list_every_rule_in_order() -> None:
    # Add a new rule's code to src/orm_modernize/data/codes.py too.
    assert tuple(rule.code for rule in ALL_RULES) == CODES


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_identity(rule: type[Rule]) -> None:
    assert re.fullmatch(r"ORM\d{3}", rule.code)
    assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", rule.name)
    assert rule.__module__.rsplit(".", 1)[1] == rule.name.replace("-", "_")
    assert not rule.message[0].isupper() and not rule.message.endswith(".")
    assert rule.triggers
    assert rule.fix_availability in ("always", "sometimes", "never")
    assert (rule.fix_title is None) == (rule.fix_availability == "never")


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_docs_have_every_section(rule: type[Rule]) -> None:
    headers = re.findall(r"^## (.+)$", rule.docs(), re.M)
    assert [h for h in headers if h in SECTIONS] == list(SECTIONS)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_fixture_folder_has_before_and_noop(rule: type[Rule]) -> None:
    folder = FIXTURES / rule.code
    assert list(folder.glob("*_before.py")), f"{folder} has no _before case"
    assert list(folder.glob("noop_*.py")), f"{folder} has no noop_ case"
    # ORM401 is about imports themselves; ORM900 about comments, which import nothing
    assert list(folder.glob("aliased_import_before.py")) or rule.code in (
        "ORM401",
        "ORM900",
    )


def _section(docs: str, title: str) -> str:
    body = docs.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return textwrap.dedent(body).strip() + "\n"


@pytest.mark.parametrize(
    "rule", [r for r in ALL_RULES if r.fix_title], ids=lambda r: r.code
)
def test_example_fixed_is_use_instead(rule: type[Rule], tmp_path: Path) -> None:
    """The docs cannot drift from what the rule does."""
    docs = rule.docs()
    example, use_instead = _section(docs, "Example"), _section(docs, "Use instead")
    imports = _doc_preamble(rule.code)
    source, path = (imports + example).encode(), tmp_path / "example.py"
    result = lint_source(
        source,
        path,
        # On one line, as the docs write it, however long
        Settings(
            select=(rule.code, *JUDGED.get(rule.code, ())),
            fix=True,
            unsafe_fixes=True,
            line_length=320,
        ),
        project=build_index([(path, source)]),  # a project of this one module
    )
    assert result.diagnostics == () and result.errors == ()
    assert result.fixed is not None
    assert use_instead.strip() in result.fixed.decode()


# The rules whose findings ORM900's example judges a noqa comment by.
JUDGED = {"ORM900": ("ORM002",)}


def _doc_preamble(code: str) -> str:
    """What the docs' examples leave unsaid: a session and a mapped class."""
    return {
        "ORM001": "from sqlalchemy.orm import Session, declarative_base\n"
        "from flask_sqlalchemy import SQLAlchemy\n"
        "Base = declarative_base()\nclass User(Base):\n    pass\nsession = Session()\n"
        "db = SQLAlchemy()\nclass Author(db.Model):\n    pass\n",
        "ORM002": "from sqlalchemy.orm import Session, declarative_base\n"
        "Base = declarative_base()\nclass User(Base):\n    pass\nsession = Session()\n",
        "ORM003": "from sqlalchemy.orm import Session, declarative_base, joinedload,"
        " relationship\nBase = declarative_base()\nclass User(Base):\n"
        "    orders = relationship('Order')\n    addresses = relationship('Address')\n"
        "class Order(Base):\n    items = relationship('Item')\n"
        "session = Session()\n",
        "ORM004": "from sqlalchemy.orm import Session, declarative_base\n"
        "Base = declarative_base()\nclass User(Base):\n    pass\nsession = Session()\n",
        "ORM005": "from sqlalchemy import create_engine\n"
        "from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker\n"
        "engine = create_engine('sqlite://')\n",
        "ORM301": "from sqlalchemy import column, select, table\n"
        "t = table('t', column('id'), column('name'))\n",
        "ORM101": "from sqlalchemy.orm import Session\n",
        "ORM102": "from sqlalchemy import Column, ForeignKey, Integer\n"
        "from sqlalchemy.orm import declarative_base, object_session, relationship\n"
        "Base = declarative_base()\n"
        "class User(Base):\n"
        "    __tablename__ = 'users'\n"
        "    id = Column(Integer, primary_key=True)\n"
        "class Address(Base):\n"
        "    __tablename__ = 'addresses'\n"
        "    id = Column(Integer, primary_key=True)\n"
        "    user_id = Column(ForeignKey('users.id'))\n"
        "    user = relationship(User, backref='addresses')\n",
        "ORM201": "from sqlalchemy import create_engine\n"
        "conn = create_engine('sqlite://').connect()\n",
        "ORM409": "from sqlalchemy import Column, ForeignKey, Integer\n"
        "from sqlalchemy.orm import declarative_base, relationship\n"
        "Base = declarative_base()\n"
        "class Post(Base):\n"
        "    __tablename__ = 'posts'\n"
        "    id = Column(Integer, primary_key=True)\n"
        "    user_id = Column(ForeignKey('users.id'))\n",
        "ORM202": "from sqlalchemy import column, create_engine, func, select, table\n"
        "engine = create_engine('sqlite://')\nusers = table('users', column('id'))\n",
        "ORM203": "from sqlalchemy import column, create_engine, table\n"
        "conn = create_engine('sqlite://').connect()\n"
        "users = table('users', column('name'))\n",
        "ORM204": "from sqlalchemy import column, create_engine, select, table\n"
        "conn = create_engine('sqlite://').connect()\n"
        "users = table('users', column('name'), column('age'))\n",
        "ORM302": "from sqlalchemy import case, column, table\n"
        "t = table('t', column('age'))\n",
        "ORM205": "from sqlalchemy import Column, MetaData, String, Table\n"
        "from sqlalchemy import create_engine\n"
        "engine = create_engine('sqlite://')\n"
        "metadata = MetaData(bind=engine)\n"
        "users = Table('users', metadata, Column('name', String))\n",
        "ORM206": "from sqlalchemy import MetaData, Table, create_engine\n"
        "engine = create_engine('sqlite://')\n",
        "ORM207": "from sqlalchemy import create_engine\n"
        "engine = create_engine('sqlite://')\n",
        "ORM208": "from sqlalchemy import Column, Integer, MetaData, Table\n"
        "from sqlalchemy import create_engine\nengine = create_engine('sqlite://')\n"
        "users = Table('users', MetaData(), Column('id', Integer))\n",
        "ORM209": "from sqlalchemy import create_engine\nurl = 'sqlite://'\n",
        "ORM210": "from sqlalchemy import create_engine\nurl = 'sqlite://'\n",
        "ORM303": "from sqlalchemy import Column, Integer, MetaData, String, Table\n"
        "t = Table('t', MetaData(), Column('id', Integer), Column('name', String))\n",
        "ORM304": "from sqlalchemy import column, select, table\n"
        "t = table('t', column('a'), column('b'))\n",
        "ORM305": "from sqlalchemy import column, func, select, table\n"
        "t = table('t', column('a'))\n",
        "ORM306": "from sqlalchemy import column, table, union\n"
        "t = table('t', column('id'))\nu = table('u', column('id'))\n",
        "ORM307": "from sqlalchemy import column, select, table\n"
        "t = table('t', column('a'))\n",
        "ORM401": "",
        "ORM402": "from sqlalchemy.orm import declarative_base\n",
        "ORM403": "from sqlalchemy import Column, Integer\n"
        "from sqlalchemy.orm import declarative_base, relationship\n"
        "Base = declarative_base()\n",
        "ORM404": "from sqlalchemy import Column, Integer\n",
        "ORM405": "from sqlalchemy.orm import relationship\n",
        "ORM407": "from typing import Optional\n"
        "from sqlalchemy import Column, Integer, String\n"
        "from sqlalchemy.orm import Mapped, declarative_base, mapped_column\n"
        "Base = declarative_base()\n",
        "ORM408": "",
        "ORM900": "from sqlalchemy import select\n"
        "from sqlalchemy.orm import declarative_base\n"
        "Base = declarative_base()\nclass User(Base):\n    pass\n",
        "ORM410": "from sqlalchemy import Column, DateTime, Integer\n"
        "from sqlalchemy.orm import declarative_base\n"
        "Base = declarative_base()\n",
        "ORM406": "from sqlalchemy import Column, ForeignKey, Integer\n"
        "from sqlalchemy.orm import backref, declarative_base, relationship\n"
        "Base = declarative_base()\n",
    }[code]


def test_readme_rules_table_is_current() -> None:
    from conftest import ROOT

    from orm_modernize.cli.rule_docs import rules_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("-->\n", 1)[1].split("<!-- end rules-table -->", 1)[0]
    assert table == rules_table(), "run `orm-modernize rules --markdown` into README.md"


def test_docs_rules_md_is_current() -> None:
    from conftest import ROOT

    from orm_modernize.cli.rule_docs import rules_reference

    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == rules_reference(), (
        "run `orm-modernize rules --docs > docs/rules.md`"
    )


def test_every_rule_links_to_its_section_of_the_docs() -> None:
    from conftest import ROOT

    from orm_modernize.data.codes import docs_url

    headings = re.findall(
        r"^## (ORM\d+)$", (ROOT / "docs" / "rules.md").read_text(), re.M
    )
    assert headings == [rule.code for rule in ALL_RULES]
    for rule in ALL_RULES:
        url = docs_url(rule.code)
        assert url is not None and url.endswith(f"docs/rules.md#{rule.code.lower()}")
