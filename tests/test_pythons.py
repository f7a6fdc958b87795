"""Every Python the package declares runs the CLI: `check`, `check --fix`, `report`,
`rules` and `explain` under each declared minor version present on the machine (found
through pyenv or as `python3.X` on PATH), in a virtualenv with the tool installed
from this checkout. A declared version that is missing is skipped with a message.

`ast.TryStar` (3.11+) crashed every command on 3.9 and 3.10, with exit status 1;
on 3.12+, fixing a file printed CPython's SyntaxWarnings about its code.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from environments import ROOT, declared
from environments import tools as made_tools


@pytest.fixture(scope="module")
def tools() -> dict[str, Path | None]:
    """The tool under each declared Python present here."""
    return made_tools()


@pytest.mark.slow
@pytest.mark.parametrize("version", declared())
def test_the_cli_runs_on_every_declared_python(
    version: str, tools: dict[str, Path | None], tmp_path: Path
) -> None:
    tool = tools[version]
    if tool is None:
        pytest.skip(f"Python {version} is declared but not on this machine")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    # Code CPython warns about as it parses it (a SyntaxWarning since 3.12): the
    # warnings are not the tool's to print.
    (tmp_path / "examples" / "warned.py").write_text(
        "from sqlalchemy.ext.declarative import declarative_base\n"
        'pattern = "\\d"\nif pattern is 1:\n    pass\n'
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(tool), *args], capture_output=True, text=True, cwd=tmp_path
        )

    checked = run("check", "--no-cache", "examples")
    assert checked.returncode == 1, checked.stderr
    assert "ORM401" in checked.stdout and checked.stderr == ""
    reported = run("report", "--no-cache", "--format", "html", "examples")
    assert reported.returncode == 0 and reported.stderr == "", reported.stderr
    assert "SQLAlchemy 2.0 migration report</h1>" in reported.stdout
    fixed = run("check", "--no-cache", "--fix", "--unsafe-fixes", "examples")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Warning:" not in fixed.stderr, fixed.stderr  # CPython's, of the code
    again = run("check", "--no-cache", "examples")
    assert again.returncode == 0, again.stdout + again.stderr
    for command in (["rules"], ["explain", "ORM001"]):
        done = run(*command)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert "ORM001" in done.stdout
