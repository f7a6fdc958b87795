"""A query helper function is converted with its calls in every module of the
project that imports it, or not at all, whichever files are passed: a file
checked alone or through stdin gets the whole project's findings, and a run that
fixes without every module involved leaves them all and says which is missing.
A module that may call it in a way not followed (`import *`, through its
module, through a re-export) keeps both ends as they are."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_cli import CALLERS, HELPER, helper_project

from orm_modernize.cli.commands import main


def check(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(
        main,
        ["check", "--no-cache", "--select", "ORM002", "--unsafe-fixes", *args],
        input=stdin,
    )
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def lines(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(name)]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    helper_project(tmp_path)
    (tmp_path / ".git").mkdir()  # the repository's top: the project root
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_each_end_alone_gets_the_projects_findings(app: Path) -> None:
    whole = check("app")
    assert "[*] 3 fixable" in whole
    for name in ("app/queries.py", "app/views.py"):
        assert lines(check(name), name) == lines(whole, name) != []
        piped = check("--stdin-filename", name, "-", stdin=(app / name).read_text())
        assert lines(piped, name) == lines(whole, name)


@pytest.mark.parametrize(
    "alone, why",
    [
        ("app/queries.py", "app/views.py, which calls `app.queries.adults()`"),
        ("app/views.py", "app/queries.py, which defines `app.queries.adults()`"),
    ],
)
def test_fixing_one_end_alone_leaves_both_and_says_which(
    app: Path, alone: str, why: str
) -> None:
    found = check("--fix", alone)

    assert f"{why}, is not checked" in found and "[*]" not in found
    assert (app / "app/queries.py").read_text() == HELPER
    assert (app / "app/views.py").read_text() == CALLERS


CALL = "\n\n\ndef z(s):\n    return {}(s).all()\n"


@pytest.mark.parametrize(
    "name, module",
    [
        # Its calls are not followed through `*`: the import says so
        ("app/star.py", "from app.queries import *" + CALL.format("adults")),
        # Through its module, named otherwise
        ("app/jobs.py", "from app import queries as q" + CALL.format("q.adults")),
        # Through the package, which re-exports it (and calls it, as it can)
        ("app/__init__.py", "from app.queries import adults" + CALL.format("adults")),
    ],
)
def test_a_call_not_followed_keeps_both_ends(app: Path, name: str, module: str) -> None:
    (app / name).write_text(module)
    if name == "app/__init__.py":
        (app / "app/jobs.py").write_text(
            "from app import adults" + CALL.format("adults")
        )

    found = check("--fix", "app")

    assert "which another module imports and does not always finish it" in found
    assert (app / "app/queries.py").read_text() == HELPER
    assert (app / "app/views.py").read_text() == CALLERS
    if name == "app/star.py":
        assert "calls through `import *` are not followed" in found


@pytest.mark.parametrize(
    "views, unique",
    [
        # The class the helper selects, imported as there: no other FROM
        (CALLERS, False),
        # Another name for it: its criteria may name another FROM
        (
            CALLERS.replace("import User\n", "import User as Person\n").replace(
                "User.name", "Person.name"
            ),
            True,
        ),
    ],
)
def test_a_callers_criteria_on_the_helpers_class_keep_rows_unique(
    app: Path, views: str, unique: bool
) -> None:
    (app / "app/views.py").write_text(views)

    check("--fix", "app")

    fixed = (app / "app/views.py").read_text()
    assert ("session.scalars(adults(session)" in fixed) and (
        (".unique()" in fixed) is unique
    ), fixed
