"""What the suite runs besides its own interpreter, made on first use under
`.fixture-envs/` and reused while it stays right: the SQLAlchemy 1.4.54
virtualenv that runs the legacy fixtures, one with Flask-SQLAlchemy 2.5.1 for the
projects pinned to it, the SQLAlchemy 1.4.54 sdist that the sweep fixes, and a
virtualenv of the tool under each declared Python.

The suite's workers (pytest-xdist) share them: the first to need one makes it
under a file lock, and the others find it made. `prepare()`, started in the
background when the run starts, makes them while the first tests run, so that
no worker waits on pip for them later.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
ENVS = ROOT / ".fixture-envs"
# What users migrate from: the last 1.4, with the last Flask-SQLAlchemy that runs on
# it (catalogue, "Harness notes and version pins").
LEGACY_REQUIREMENTS = ("sqlalchemy==1.4.54", "flask-sqlalchemy==3.0.5", "flask==3.0.3")
LEGACY_ENV = ENVS / "sqlalchemy-1.4.54"
FLASK_SQLALCHEMY_2_REQUIREMENTS = (
    "sqlalchemy==1.4.54",
    "flask-sqlalchemy==2.5.1",
    "flask==2.1.3",
    "werkzeug==2.1.2",
)
FLASK_SQLALCHEMY_2_ENV = ENVS / "flask-sqlalchemy-2.5.1"
SDIST = "sqlalchemy-1.4.54.tar.gz"
SDIST_SHA256 = "4470fbed088c35dc20b78a39aaf4ae54fe81790c783b3264872a0224f437c31a"
DOWNLOADS = ENVS / "downloads"


@contextmanager
def made_once(path: Path) -> Iterator[None]:
    """Held while `path` is checked and made: the suite's workers each run the
    session's fixtures, and the first to come makes what the others then find."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def legacy_python() -> Path:
    """A virtualenv with SQLAlchemy 1.4.54 and Flask-SQLAlchemy 3.0.5, created on
    first use and reused while its requirements stay the same."""
    return _virtualenv(LEGACY_ENV, LEGACY_REQUIREMENTS)


def flask_sqlalchemy_2_python() -> Path:
    """A virtualenv with Flask-SQLAlchemy 2.5.1 (and the Flask it runs on) over
    SQLAlchemy 1.4.54: the projects that cannot have Flask-SQLAlchemy 3 yet."""
    return _virtualenv(FLASK_SQLALCHEMY_2_ENV, FLASK_SQLALCHEMY_2_REQUIREMENTS)


def _virtualenv(env: Path, requirements: tuple[str, ...]) -> Path:
    python = env / "bin" / "python"
    ready = env / ".ready"
    wanted = "\n".join(requirements) + "\n"
    with made_once(env):
        if python.exists() and ready.exists() and ready.read_text() == wanted:
            return python
        # Without a pip of its own: the suite's installs into it (half the time).
        venv.create(env, with_pip=False, clear=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install"]
            + ["--quiet", "--disable-pip-version-check", *requirements],
            check=True,
        )
        ready.write_text(wanted)
    return python


def sqlalchemy_sdist() -> Path:
    """The sdist, downloaded once and checked against its published digest."""
    sdist = DOWNLOADS / SDIST
    with made_once(sdist):
        if not sdist.exists():
            DOWNLOADS.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
                + ["--no-binary", ":all:", "--dest", str(DOWNLOADS)]
                + ["sqlalchemy==1.4.54"],
                check=True,
            )
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert digest == SDIST_SHA256, f"{sdist}: unexpected sha256 {digest}"
    return sdist


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
    """That minor version of Python on this machine, through pyenv or PATH."""
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
    runs this checkout's code), made once and reused. Without a pip of its own:
    the suite's pip installs into it (`pip --python`), which saves bootstrapping
    one per Python."""
    env = ENVS / f"python{version}"
    ready = env / ".ready"
    # Made again when the tool's dependencies change (editable: its code needs not).
    wanted = "\n".join([python, *_dependencies()]) + "\n"
    with made_once(env):
        if not ready.exists() or ready.read_text() != wanted:
            subprocess.run(
                [python, "-m", "venv", "--clear", "--without-pip", str(env)],
                check=True,
            )
            subprocess.run(
                [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python")]
                + ["install", "--quiet", "--disable-pip-version-check"]
                + ["-e", str(ROOT)],
                check=True,
            )
            ready.write_text(wanted)
        # The checkout compiled for that Python (it may not write bytecode: each
        # run of the CLI would compile the tool again); quick when up to date.
        subprocess.run(
            [str(env / "bin" / "python"), "-m", "compileall", "-q", str(ROOT / "src")],
            check=True,
        )
    return env / "bin" / "orm-modernize"


def _dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def tools() -> dict[str, Path | None]:
    """The tool under each declared Python present here (None: not on this
    machine); the virtualenvs missing are made side by side (pip spends much of
    its time waiting)."""
    found = {v: interpreter(v) for v in declared()}
    with ThreadPoolExecutor() as pool:
        made = {
            v: pool.submit(tool_env, v, python)
            for v, python in found.items()
            if python is not None
        }
        return {v: made[v].result() if v in made else None for v in found}


def prepare() -> None:
    """Everything above, made if missing; a failure is left for the test that
    needs the environment to meet and report."""
    for make in (legacy_python, flask_sqlalchemy_2_python, sqlalchemy_sdist, tools):
        with contextlib.suppress(Exception):
            make()
