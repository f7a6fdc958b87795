"""`orm-modernize report`: the migration report of a project, as Markdown and as a
self-contained HTML page, through the real command line; the page is opened in a
headless Chromium when the machine has one."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from orm_modernize.cli.commands import main

MODELS = """\
from sqlalchemy import Column, Integer, String, create_engine, select
from sqlalchemy.ext.declarative import declarative_base

Base = declarative_base()
engine = create_engine("sqlite://")


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String)


def names():
    return [row["name"] for row in engine.execute(select([Item.__table__]))]
"""
VIEWS = """\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)


def page(number):
    return Post.query.order_by(Post.id).paginate(number, 20)


def pages(number):
    return Post.query.order_by(Post.id.desc()).paginate(number, 10)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text("flask-sqlalchemy>=2.5,<3\n")
    (tmp_path / "shop" / "models").mkdir(parents=True)
    (tmp_path / "shop" / "models" / "__init__.py").write_text(MODELS)
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "views.py").write_text(VIEWS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--no-cache"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_markdown_report_counts_sites_by_rule_package_and_reason(
    project: Path,
) -> None:
    text = run("report", ".")
    assert (
        "7 legacy sites in 2 files: 3 break on SQLAlchemy 2.x, 4 still run as"
        " legacy. `--fix` rewrites 4, `--fix --unsafe-fixes` 1 more (to review), 2"
        " are left to do by hand."
    ) in text
    assert (
        "| ORM202 `connectionless-execution` | raises (removed) | 1 | 1 | 0 | 0 |"
        in (text)
    )
    assert "| ORM002 `legacy-query` | runs (legacy) | 2 | 0 | 0 | 2 |" in text
    # packages, most sites first
    assert text.index("| `shop` | 5 | 3 | 4 | 1 | 0 |") < text.index(
        "| `web` | 2 | 0 | 0 | 0 | 2 |"
    )
    assert (
        "| 2 | `db.paginate()` needs Flask-SQLAlchemy 3.0 and requirements.txt"
        " admits older versions | raise that pin |"
    ) in text
    # the report leaves the code alone, and a project done reads so
    assert (project / "web" / "views.py").read_text() == VIEWS
    (project / "web" / "views.py").write_text("x = 1\n")
    (project / "shop" / "models" / "__init__.py").write_text("y = 2\n")
    assert "No legacy SQLAlchemy left." in run("report", ".")


def test_progress_against_a_baseline(project: Path) -> None:
    CliRunner().invoke(
        main, ["check", "--baseline", "base.json", "--update-baseline", "."]
    )
    CliRunner().invoke(main, ["check", "--fix", "--no-cache", "shop"])
    (project / "web" / "more.py").write_text(VIEWS.replace("Post", "Note"))
    text = run("report", "--baseline", "base.json", ".")
    # the 4 safe fixes of shop/ are done; web/more.py brings 2 new sites
    assert (
        "**57% migrated** since the baseline: 4 of its 7 sites gone, 3 left, 2 new."
    ) in text


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        self.links += [str(v) for k, v in attrs if k in ("src", "href") and v]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_html_report_is_one_self_contained_page(project: Path) -> None:
    run("report", "--format", "html", "-o", "report.html", ".")
    page = (project / "report.html").read_text()
    parsed = _Page()
    parsed.feed(page)
    assert page.startswith("<!DOCTYPE html>")
    assert {"headline", "packages", "rules", "reasons"} <= parsed.ids
    assert "script" not in parsed.tags and not parsed.links  # nothing to fetch or run
    text = "".join(parsed.text)
    assert "7 legacy sites in 2 files" in text
    # a bar per package, as long as its share of the largest: shop 5, web 2
    assert page.count('class="bar"') == 2
    assert 'class="bar" style="width:100%"' in page
    assert 'class="bar" style="width:40%"' in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (Debian: chromium)")
def test_a_browser_shows_the_html_report(project: Path) -> None:
    run("report", "--format", "html", "-o", "report.html", ".")
    assert CHROMIUM is not None
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"]
        + [(project / "report.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "SQLAlchemy 2.0 migration report</h1>" in dom
    assert "7 legacy sites in 2 files" in dom
    assert dom.count('class="bar"') == 2
