"""The hooks of `.pre-commit-hooks.yaml`, run by pre-commit itself (`try-repo`
installs this checkout into a hook environment, as a user's `repo:` entry would) on
a git repository holding legacy code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
SELECT_LIST = """\
from sqlalchemy import Column, Integer, MetaData, Table, select

t = Table("t", MetaData(), Column("id", Integer))
stmt = select([t])
"""
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One pre-commit home for the module: the hook environment is built once."""
    if not (ROOT / ".git").exists():
        pytest.skip("pre-commit installs hooks from a git repository; this is not one")
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {**os.environ, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(home)}


def _git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _hook(
    repo: Path, hook: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(ROOT), hook, "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow(25)
def test_the_hook_fails_on_legacy_code_and_passes_after_the_fix_hook(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", env=environment)
    legacy = repo / "queries.py"
    legacy.write_text(SELECT_LIST)
    (repo / "notes.txt").write_text("select([t]) in a text file is not Python\n")
    # pre-commit names every file; the hooks still honour the project's excludes
    (repo / "vendor").mkdir()
    (repo / "vendor" / "old.py").write_text(SELECT_LIST)
    (repo / "pyproject.toml").write_text(
        '[tool.orm-modernize]\nextend-exclude = ["vendor"]\n'
    )
    _git(repo, "add", ".", env=environment)

    checked = _hook(repo, "orm-modernize", environment)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "queries.py:4:8: ORM301" in checked.stdout
    assert "notes.txt" not in checked.stdout
    assert "vendor" not in checked.stdout

    fixed = _hook(repo, "orm-modernize-fix", environment)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "files were modified by this hook" in fixed.stdout
    assert legacy.read_text() == SELECT_LIST.replace("select([t])", "select(t)")
    assert (repo / "vendor" / "old.py").read_text() == SELECT_LIST

    _git(repo, "add", ".", env=environment)
    again = _hook(repo, "orm-modernize", environment)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Passed" in again.stdout
