"""Fixture projects: applications whose SQLAlchemy is spread over modules, as real
ones are (`fixtures/_projects/*/README.md` says what each holds).

Each runs before on SQLAlchemy 1.4.54 and, fixed with safe fixes only, on 2.1 with
deprecation warnings as errors: the same output. The proof a fix rests on is
imported (a `db` or a session made in another module, a model mapped there), and
is as strong there as it was where it was made, so those fixes are safe. Every
file gets the same findings checked alone, through stdin, or with the project.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, copy_project, run_program

from orm_modernize.cli.commands import main

PROJECTS = FIXTURES / "_projects"
# What stays after `--fix`, and why
REMAINING = {
    # `Tag.query` is a `TagQuery` (app/queries.py): its methods are not Query's
    # `NamedMixin`'s column would come after `User`'s own on 2.x: an unsafe fix
    "flask_factory": {("app/tags.py", "ORM002"), ("app/mixins.py", "ORM410")},
    # `declarative_base()` -> `DeclarativeBase` changes the base's type: unsafe
    "scoped_session": {("shop/db.py", "ORM402")},
}


def check(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(
        main,
        ["check", "--isolated", "--no-cache", "--exit-zero", *args],
        input=stdin,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def findings(root: Path, *args: str, stdin: str | None = None) -> dict[str, list]:
    found: dict[str, list] = {}
    for item in json.loads(check("--output-format", "json", *args, stdin=stdin)):
        fix = item["fix"] or {}
        name = str(Path(item["filename"]).resolve().relative_to(root))
        found.setdefault(name, []).append(
            (
                item["code"],
                item["location"],
                item["message"],
                fix.get("applicability"),
                fix.get("edits"),
            )
        )
    return found


@pytest.fixture
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    root = copy_project(request.param, tmp_path)
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize("project", sorted(REMAINING), indirect=True)
def test_safe_fixes_resting_on_imported_proof_behave_the_same(
    project: Path, sqlalchemy14: Path, sqlalchemy2: str
) -> None:
    program = project / "bin" / "main.py"
    old = run_program(sqlalchemy14, program, strict=False)
    assert old.returncode == 0, old.stderr
    before = findings(project, ".")
    assert sum(map(len, before.values())) > len(REMAINING[project.name])

    check("--fix", ".")
    after = findings(project, ".")
    remaining = {(name, f[0]) for name, found in after.items() for f in found}
    assert remaining == REMAINING[project.name]
    new = run_program(sqlalchemy2, program, strict=True)
    assert (new.returncode, new.stdout) == (0, old.stdout), new.stderr


@pytest.mark.parametrize(
    "project", ["flask_sqlalchemy_2"], indirect=True, ids=["flask_sqlalchemy_2"]
)
def test_flask_sqlalchemy_2_helpers_abort_as_they_did(
    project: Path, flask_sqlalchemy2: Path
) -> None:
    # Pinned below Flask-SQLAlchemy 3: no `db.get_or_404()` to move to, so each
    # helper becomes the 2.0 form of `get()` or `first()`, then `or abort(404)`.
    # Safe where the model's objects are never false; `Shelf` defines `__len__`,
    # and `paginate()` has no exact form: both stay.
    program = project / "bin" / "main.py"
    old = run_program(flask_sqlalchemy2, program, strict=False)
    assert old.returncode == 0, old.stderr
    check("--fix", ".")
    after = findings(project, ".")
    remaining = sorted((name, f[0]) for name, found in after.items() for f in found)
    assert remaining == [("app/views.py", "ORM001"), ("app/views.py", "ORM002")]
    views = (project / "app" / "views.py").read_text()
    assert "return db.session.get(Author, ident) or abort(404)\n" in views
    assert 'or abort(404, description=f"no author named {name}")' in views
    assert "Shelf.query.get_or_404(ident" in views and ".paginate(number, 1)" in views
    # Written in 2.0 style: SQLAlchemy 1.4 with SQLALCHEMY_WARN_20 raises nothing.
    new = run_program(flask_sqlalchemy2, program, strict=True)
    assert (new.returncode, new.stdout) == (0, old.stdout), new.stderr
    assert "404: no author named cid" in old.stdout


@pytest.mark.parametrize(
    "project",
    [*sorted(REMAINING), "flask_sqlalchemy_2", "repository", "write_only"],
    indirect=True,
)
def test_each_file_alone_or_through_stdin_gets_the_projects_findings(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = findings(project, ".")
    for path in sorted(project.rglob("*.py")):
        name = str(path.relative_to(project))
        alone = findings(project, name).get(name, [])
        assert alone == whole.get(name, []), name
        piped = findings(
            project, "--stdin-filename", name, "-", stdin=path.read_text()
        ).get(name, [])
        assert piped == whole.get(name, []), name
    # From another directory, by an absolute path: the same project.
    somewhere = project.parent / "elsewhere"
    somewhere.mkdir()
    monkeypatch.chdir(somewhere)
    for name in whole:
        alone = findings(project, str(project / name)).get(name, [])
        assert alone == whole[name], name
