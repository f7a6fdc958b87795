"""Every Python the package declares runs the CLI: `check`, `check --fix`, `rules`
and `explain` under each declared minor version present on the machine (found
through pyenv or as `python3.X` on PATH), in a virtualenv with the tool installed
from this checkout. A declared version that is missing is skipped with a message.

`ast.TryStar` (3.11+) crashed every command on 3.9 and 3.10, with exit status 1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, made_once

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENVS = ROOT / ".fixture-envs"


def declared() -> list[str]:
    """The minor versions of the classifiers, which must agree with
    requires-python."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    versions = [
        m.group(1)
        for c in project["classifiers"]
        if (m := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c))
    ]
    floor = re.fullmatch(r">=(3\.\d+)", project["requires-python"])
    assert floor is not None and versions[0] == floor.group(1), versions
    return versions


def interpreter(version: str) -> str | None:
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(Path(pyenv, "versions").glob(f"{version}.*/bin/python{version}"))
    candidates = [str(p) for p in found] + [shutil.which(f"python{version}") or ""]
    for candidate in filter(None, candidates):
        done = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if done.stdout.strip() == version:
            return candidate
    return None


def tool_env(version: str, python: str) -> Path:
    """A virtualenv of that Python with the tool installed (editable, so that it
    runs this checkout's code), made once and reused."""
    env = ENVS / f"python{version}"
    ready = env / ".ready"
    with made_once(env):
        if not ready.exists():
            subprocess.run([python, "-m", "venv", "--clear", str(env)], check=True)
            subprocess.run(
                [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet"]
                + ["--disable-pip-version-check", "-e", str(ROOT)],
                check=True,
            )
            ready.write_text(python + "\n")
    return env / "bin" / "orm-modernize"


@pytest.fixture(scope="module")
def tools() -> dict[str, Path | None]:
    """The tool under each declared Python present here; the virtualenvs missing
    are made side by side (pip spends most of its time waiting)."""
    from concurrent.futures import ThreadPoolExecutor

    found = {v: interpreter(v) for v in declared()}
    with ThreadPoolExecutor() as pool:
        made = {
            v: pool.submit(tool_env, v, python)
            for v, python in found.items()
            if python is not None
        }
        return {v: made[v].result() if v in made else None for v in found}


@pytest.mark.slow
@pytest.mark.parametrize("version", declared())
def test_the_cli_runs_on_every_declared_python(
    version: str, tools: dict[str, Path | None], tmp_path: Path
) -> None:
    tool = tools[version]
    if tool is None:
        pytest.skip(f"Python {version} is declared but not on this machine")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(tool), *args], capture_output=True, text=True, cwd=tmp_path
        )

    checked = run("check", "--no-cache", "examples")
    assert checked.returncode == 1, checked.stderr
    assert "ORM401" in checked.stdout and checked.stderr == ""
    fixed = run("check", "--no-cache", "--fix", "--unsafe-fixes", "examples")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    again = run("check", "--no-cache", "examples")
    assert again.returncode == 0, again.stdout + again.stderr
    for command in (["rules"], ["explain", "ORM001"]):
        done = run(*command)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert "ORM001" in done.stdout
