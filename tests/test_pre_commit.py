"""The hooks of `.pre-commit-hooks.yaml`, run by pre-commit itself on a git
repository holding legacy code, whose `.pre-commit-config.yaml` names this checkout
(its working tree as a commit, as `pre-commit try-repo` makes it) by `repo:` and
`rev:`, as a user's does: pre-commit installs it into a hook environment once."""

from __future__ import annotations

import os
import shutil
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


@pytest.fixture(scope="module")
def hooks(
    tmp_path_factory: pytest.TempPathFactory, environment: dict[str, str]
) -> tuple[Path, str]:
    """This checkout as a repository of hooks: a clone with the working tree's
    changes committed (what `try-repo` does on each call), and its commit."""
    shadow = tmp_path_factory.mktemp("hooks") / "repo"
    subprocess.run(
        ["git", "clone", "-q", str(ROOT), str(shadow)], check=True, env=environment
    )
    changed = subprocess.run(
        ["git", "ls-files", "-z", "--modified", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, changed):
        if (ROOT / name).is_file():
            (shadow / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, shadow / name)
        else:
            (shadow / name).unlink(missing_ok=True)  # deleted in the working tree
    _git(shadow, "add", "-A", env=environment)
    _git(shadow, "commit", "-q", "--allow-empty", "-m", "working tree", env=environment)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=shadow, check=True, capture_output=True
    )
    return shadow, head.stdout.decode().strip()


def _git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _hook(
    repo: Path, hook: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PRE_COMMIT), "run", hook, "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow(10)
def test_the_hook_fails_on_legacy_code_and_passes_after_the_fix_hook(
    tmp_path: Path, environment: dict[str, str], hooks: tuple[Path, str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", env=environment)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks[0]}\n    rev: {hooks[1]}\n    hooks:\n"
        "      - id: orm-modernize\n      - id: orm-modernize-fix\n"
    )
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
