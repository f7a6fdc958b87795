"""The cache of results: reused when nothing changed, never when something did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from orm_modernize.cli.commands import main

MODELS = """\
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
"""
PLAIN_MODELS = "class User:\n    pass\n"
# Nothing here names SQLAlchemy: only the project index says `User` is mapped.
VIEWS = """\
from app.models import User


def first(session):
    return session.query(User).get(1)
"""
CACHE = Path(".orm_modernize_cache")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text(MODELS)
    (tmp_path / "app" / "views.py").write_text(VIEWS)
    return tmp_path


def check(*args: str) -> str:
    result = CliRunner().invoke(main, ["check", "--jobs", "1", *args])
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def test_warm_run_reports_what_a_cold_run_does_and_writes_nothing(
    project: Path,
) -> None:
    cold = check("app")
    cache = project / CACHE / "cache.json"
    stamp = cache.stat().st_mtime_ns
    assert check("app") == cold == check("--no-cache", "app")
    assert "ORM001" in cold and "ORM402" in cold
    assert cache.stat().st_mtime_ns == stamp  # every result came from the cache


def test_cache_lives_in_the_project_root_and_ignores_itself(project: Path) -> None:
    (project / "app" / "sub").mkdir()
    os.chdir(project / "app" / "sub")
    check("..")
    assert (project / CACHE / ".gitignore").read_text().splitlines()[-1] == "*"


def test_no_cache_neither_reads_nor_writes_one(project: Path) -> None:
    check("--no-cache", "app")
    assert not (project / CACHE).exists()


def test_an_edited_file_is_checked_again(project: Path) -> None:
    check("app")
    views = project / "app" / "views.py"
    views.write_text(VIEWS.replace(".get(1)", ".all()"))
    out = check("app")
    assert "ORM001" not in out and "views.py:5:12: ORM002" in out


def test_another_module_mapping_a_class_changes_the_result(project: Path) -> None:
    # views.py is unchanged, but whether `User` is mapped comes from models.py.
    (project / "app" / "models.py").write_text(PLAIN_MODELS)
    assert "views.py" not in check("app")
    (project / "app" / "models.py").write_text(MODELS)
    assert "views.py:5:12: ORM001" in check("app")


def test_other_settings_get_their_own_results(project: Path) -> None:
    check("app")
    assert "ORM402" not in check("--select", "ORM001", "app")
    assert "ORM402" in check("app")


def test_fix_with_a_warm_cache_fixes(project: Path) -> None:
    check("app")
    check("--fix", "--unsafe-fixes", "app")
    assert "session.get(User, 1)" in (project / "app" / "views.py").read_text()
    assert "ORM001" not in check("app")


def test_unreadable_or_foreign_cache_is_ignored(project: Path) -> None:
    cold = check("app")
    (project / CACHE / "cache.json").write_text("{not json")
    assert check("app") == cold
    json.loads((project / CACHE / "cache.json").read_text())  # rewritten whole
    (project / CACHE / "cache.json").write_text(json.dumps({"format": 0}))
    assert check("app") == cold


def test_cache_that_cannot_be_written_does_not_fail_the_run(project: Path) -> None:
    (project / CACHE).write_text("a file where the directory should be")
    assert "ORM001" in check("app")


def test_cache_dir_option_and_environment(project: Path) -> None:
    check("--cache-dir", "elsewhere", "app")
    assert (project / "elsewhere" / "cache.json").is_file()
    result = CliRunner(env={"ORM_MODERNIZE_CACHE_DIR": "viaenv"}).invoke(
        main, ["check", "app"]
    )
    assert result.exit_code == 1 and (project / "viaenv" / "cache.json").is_file()


def test_concurrent_runs_share_one_cache_safely(project: Path) -> None:
    for n in range(8):
        (project / "app" / f"copy{n}.py").write_text(MODELS)
    command = [sys.executable, "-m", "orm_modernize", "check", "--jobs", "1", "app"]
    expected = subprocess.run([*command, "--no-cache"], capture_output=True).stdout
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE) for _ in range(4)]
    outputs = [run.communicate()[0] for run in runs]
    assert outputs == [expected] * 4
    json.loads((project / CACHE / "cache.json").read_text())
    assert subprocess.run(command, capture_output=True).stdout == expected


def test_an_edited_tool_does_not_reuse_the_results_of_the_old_one(
    tmp_path: Path,
) -> None:
    # A copy of the package, run from source as an editable install is: editing a
    # rule's message must show in the next run, not the cached old message.
    import shutil

    import orm_modernize

    source = tmp_path / "tool"
    shutil.copytree(
        Path(orm_modernize.__file__).parent,
        source / "orm_modernize",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / "models.py").write_text(
        "from sqlalchemy.ext.declarative import declarative_base\n"
    )

    def check() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "orm_modernize", "check", "--isolated", "."],
            capture_output=True,
            text=True,
            cwd=project,
            env={**os.environ, "PYTHONPATH": str(source)},
        )
        return done.stdout

    assert "is not where this name lives" in check()
    rule = source / "orm_modernize" / "rules" / "models" / "ext_declarative_import.py"
    text = rule.read_text()
    assert "is not where this name lives" in text
    rule.write_text(text.replace("is not where this name lives", "moved (edited)"))
    assert "moved (edited)" in check()


@pytest.mark.parametrize(
    ("name", "checked"),
    [("flask_factory", "app/views.py"), ("write_only", "blog/views.py")],
)
def test_the_cached_index_is_the_index(tmp_path: Path, name: str, checked: str) -> None:
    # Every field the modules' facts make survives the round trip through
    # index.json: a field forgotten there would differ here. (The definers of
    # dynamic relationships were, and a warm run lost their uses' findings.)
    import shutil
    from dataclasses import fields

    from conftest import FIXTURES

    from orm_modernize.analysis.project import ProjectIndex
    from orm_modernize.workspace.cache import INDEXED, Cache
    from orm_modernize.workspace.config import DEFAULT
    from orm_modernize.workspace.files import project_modules

    root = tmp_path / "app"
    shutil.copytree(FIXTURES / "_projects" / name, root)
    (root / ".git").mkdir()
    files = [root / checked]
    fresh = project_modules(files, DEFAULT)
    assert fresh[0] and fresh[1].mapped
    assert fresh[1].flask_models if name == "flask_factory" else fresh[1].dynamic
    # What is not kept is made by the run itself: pins, and the runs' findings.
    per_run = {f.name for f in fields(ProjectIndex)} - set(INDEXED)
    assert per_run == {
        "pins",
        "roots",
        "line_lengths",
        "query_helpers",
        "accepted_helpers",
        "refused_helpers",
        "foreign_backrefs",
        "accepted_backrefs",
        "dynamic_probed",
        "write_only",
    }
    cache = Cache.load(tmp_path / "cache")
    assert project_modules(files, DEFAULT, cache) == fresh
    cache.save()
    assert project_modules(files, DEFAULT, Cache.load(tmp_path / "cache")) == fresh


def test_a_warm_one_file_run_reads_the_index_not_the_modules_facts(
    project: Path,
) -> None:
    check("app")
    (project / CACHE / "facts.json").unlink()
    assert "views.py:5:12: ORM001" in check("app/views.py")
    assert not (project / CACHE / "facts.json").exists()  # never needed
    # A module that changes makes the index again, from every module's facts.
    (project / "app" / "models.py").write_text(PLAIN_MODELS)
    assert "views.py" not in check("app/views.py")
    assert (project / CACHE / "facts.json").is_file()


def _hide_findings(cache: Path) -> None:
    """Empty every cached result's findings, as a crafted cache would."""
    data = json.loads(cache.read_text())
    for results in data["results"].values():
        for result in results.values():
            result["diagnostics"] = []
    cache.write_text(json.dumps(data))


@pytest.mark.parametrize("committed", [False, True])
def test_a_cache_that_git_tracks_is_never_read(project: Path, committed: bool) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], check=True, capture_output=True)

    git("init", "-q", ".")
    assert "ORM001" in check("app")
    _hide_findings(project / CACHE / "cache.json")
    if committed:  # its own .gitignore keeps it out unless forced in
        git("add", "-f", str(CACHE))
    result = CliRunner().invoke(main, ["check", "--jobs", "1", "app"])
    if committed:
        assert "ORM001" in result.stdout
        assert "not using the cache" in result.stderr and "git tracks" in result.stderr
    else:  # an untracked cache is the user's own: read, tampering included
        assert "ORM001" not in result.stdout and result.stderr == ""


def test_clean_deletes_the_cache_and_nothing_it_did_not_make(project: Path) -> None:
    check("app")
    assert (project / CACHE / "cache.json").exists()
    cleaned = CliRunner().invoke(main, ["clean"])
    assert cleaned.exit_code == 0 and not (project / CACHE).exists(), cleaned.output
    assert CliRunner().invoke(main, ["clean"]).stdout.startswith("No cache in ")
    # Another's directory named by mistake: refused, every file kept.
    (project / "notes").mkdir()
    (project / "notes" / "todo.txt").write_text("keep me")
    refused = CliRunner().invoke(main, ["clean", "--cache-dir", "notes"])
    assert refused.exit_code == 2
    assert "not a cache this tool made" in refused.stderr
    assert (project / "notes" / "todo.txt").read_text() == "keep me"


def test_facts_read_by_workers_are_the_facts_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A large project's modules are read in a process pool, in chunks: the same
    # index and classes as read one by one, with or without the cache, and when
    # the cache knows the bytes of a touched module.
    import shutil

    from conftest import FIXTURES

    from orm_modernize.workspace import files as module
    from orm_modernize.workspace.cache import Cache
    from orm_modernize.workspace.config import DEFAULT
    from orm_modernize.workspace.files import project_modules

    root = tmp_path / "app"
    for project in sorted((FIXTURES / "_projects").iterdir()):
        shutil.copytree(project, root / project.name)
    (root / ".git").mkdir()
    (root / "gone.py").symlink_to(root / "nowhere.py")  # listed, not readable
    files = [root / "flask_factory" / "app" / "views.py"]
    alone = project_modules(files, DEFAULT)
    monkeypatch.setattr(module, "PARALLEL_FACTS", 0)
    monkeypatch.setattr(module, "FACTS_CHUNK", 2)
    assert len(list(root.rglob("*.py"))) > 4 * module.FACTS_CHUNK
    assert project_modules(files, DEFAULT, jobs=2) == alone
    cache = Cache.load(tmp_path / "cache")
    assert project_modules(files, DEFAULT, cache, jobs=2) == alone
    cache.save()
    for path in root.rglob("*.py"):
        if path.exists():
            os.utime(path, ns=(1, 1))  # new stats, the same bytes
    cache = Cache.load(tmp_path / "cache")
    assert project_modules(files, DEFAULT, cache, jobs=2) == alone
    assert all(stamp[0] == 1 for _, _, stamp in cache.facts.values())
    cache.save()
    models = root / "flask_factory" / "app" / "models" / "user.py"
    models.write_text(models.read_text() + "\n\nclass Extra(User):\n    pass\n")
    changed = project_modules(files, DEFAULT, Cache.load(tmp_path / "cache"), jobs=2)
    assert "Extra" in changed[1].mapped
    assert changed == project_modules(files, DEFAULT)
