"""The tool never runs the user's code: it reads files, parses them and writes
them, and nothing else. Python's audit hooks see every import, `exec`, process
start and network call of the interpreter (and of its forked workers); the CLI runs
here under a hook that records each one the tool has no business making, on a
project whose every file would show itself if run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Runs the CLI under an audit hook; the log file gets one line per forbidden event.
GUARD = textwrap.dedent(
    """
    import os, sys

    log_path, project = sys.argv[1], os.path.realpath(sys.argv[2])
    probe = sys.argv[3] == "probe"
    del sys.argv[1:4]

    def mine(filename):
        # Relative names are not files: "<string>", "<frozen importlib.machinery>".
        name = os.fsdecode(filename or "")
        return os.path.isabs(name) and os.path.realpath(name).startswith(project)

    def hook(event, args):
        if event == "import":
            bad = mine(args[1]) or args[0].split(".")[0] in {"app", "setup", "conftest"}
        elif event == "exec":
            bad = mine(getattr(args[0], "co_filename", ""))
        elif event in {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                       "os.spawn", "pty.spawn"}:
            bad = True
        else:
            bad = event.startswith(("socket.", "urllib.", "http.", "ftplib.",
                                    "smtplib.", "webbrowser."))
        if bad:
            with open(log_path, "a") as log:
                log.write(f"{os.getpid()} {event} {str(args)[:200]}\\n")

    sys.addaudithook(hook)
    if probe:  # the hook sees what running the project would do
        sys.path.insert(0, project)
        import app.models
    else:
        from orm_modernize.cli.commands import main
        main()
    """
)

# Each file, were it run, would import, connect and start a process.
TRAP = (
    "import socket, subprocess\n"
    "try:\n"
    "    socket.create_connection(('192.0.2.1', 9), timeout=0.01)\n"
    "except OSError:\n"
    "    pass\n"
    "subprocess.run(['true'])\n"
)
PROJECT = {
    "pyproject.toml": '[tool.orm-modernize]\nselect = ["ORM"]\nunsafe-fixes = true\n',
    "setup.py": (
        "from setuptools import setup\n"
        + TRAP
        + "setup(name='app', install_requires=['sqlalchemy>=1.4,<2.1'])\n"
    ),
    "setup.cfg": "[options]\ninstall_requires =\n    sqlalchemy>=1.4\n",
    "requirements.txt": "sqlalchemy==1.4.54\n",
    "conftest.py": "import app.models\n" + TRAP,
    "app/__init__.py": TRAP,
    "app/models.py": (
        "from sqlalchemy import Column, Integer\n"
        "from sqlalchemy.ext.declarative import declarative_base\n"
        "from sqlalchemy.orm import Session\n"
        + TRAP
        + "Base = declarative_base()\n\n\n"
        "class User(Base):\n"
        "    __tablename__ = 'users'\n"
        "    id = Column(Integer, primary_key=True)\n\n\n"
        "def first(session: Session):\n"
        "    return session.query(User).get(1)\n"
    ),
    "app/views.py": (
        "from app.models import User\n" + TRAP + "def names(session):\n"
        "    return [u.id for u in session.query(User).all()]\n"
    ),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for name, text in PROJECT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (tmp_path / "guard.py").write_text(GUARD)
    return root


def guarded(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    log = project.parent / "events.log"
    log.write_text("")
    done = subprocess.run(
        [sys.executable, str(project.parent / "guard.py"), str(log), str(project)]
        + list(args),
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, log.read_text()


def test_the_guard_sees_the_project_run(project: Path) -> None:
    # Without this, a guard that saw nothing would pass the test below.
    _, events = guarded(project, "probe")
    for event in ("exec", "import", "socket.connect", "subprocess.Popen"):
        assert f" {event} " in events, events


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_check_and_fix_run_nothing_of_the_project(project: Path, jobs: str) -> None:
    for args in (
        ["check"],
        ["check", "--fix", "--show-fixes", "--no-cache"],
        ["check", "--diff"],
        ["check", "--add-noqa"],
    ):
        done, events = guarded(project, "run", *args, "--jobs", jobs, ".")
        assert done.returncode in (0, 1), done.stdout + done.stderr
        assert events == "", f"{args}: {events}"
    # And the work was real: the fix run rewrote both modules.
    assert "session.get(User, 1)" in (project / "app/models.py").read_text()
    assert "select(User)" in (project / "app/views.py").read_text()
