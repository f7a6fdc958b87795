"""Our own code meets the bar it sets: ruff (lint and format) and mypy --strict."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_check() -> None:
    done = run("ruff", "check", "src", "tests")
    assert done.returncode == 0, done.stdout


def test_ruff_format() -> None:
    done = run("ruff", "format", "--check", "src", "tests")
    assert done.returncode == 0, done.stdout


def test_mypy_strict() -> None:
    done = run("mypy", "--strict", "src")
    assert done.returncode == 0, done.stdout
