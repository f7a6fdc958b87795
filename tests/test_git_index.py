"""The git index reader agrees with `git ls-files` on every index version, with
the extended flags of version 3 and the compressed paths of version 4."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orm_modernize.workspace.git_index import _index_file, _paths, tracks_under


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_the_index_lists_what_git_lists(tmp_path: Path, version: str) -> None:
    git(tmp_path, "init", "-q", ".")
    names = [
        "a.py",
        "app/models.py",
        "app/models_old.py",  # shares a long prefix with the one before (v4)
        "app/" + "deep/" * 40 + "module.py",  # a long path
        ".orm_modernize_cache/cache.json",
        "zz/ünïcode.py",
    ]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    git(tmp_path, "add", "-f", *names[:-1])
    git(tmp_path, "add", "-N", names[-1])  # intent to add: an extended flag (v3)
    git(tmp_path, "update-index", "--index-version", version)
    listed = git(tmp_path, "-c", "core.quotepath=off", "ls-files").splitlines()
    read = [p.decode() for p in _paths(_index_file(str(tmp_path)))]
    assert read == listed and len(read) == len(names)
    assert tracks_under(str(tmp_path / ".orm_modernize_cache"))
    assert tracks_under(str(tmp_path / "app"))
    assert not tracks_under(str(tmp_path / "ap"))  # a prefix of a name is not it
    assert not tracks_under(str(tmp_path / "other"))


def test_no_repository_or_an_unreadable_index_tracks_nothing(tmp_path: Path) -> None:
    assert not tracks_under(str(tmp_path))
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "index").write_bytes(b"not an index")
    assert not tracks_under(str(tmp_path / "x"))
