"""Interrupting `check --fix` at any moment leaves every file either wholly as it
was or wholly fixed, no temporary file behind, and no worker running on.

A real run over a tree of legacy modules is killed at points drawn from a fixed
seed, with Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or
SIGTERM (to the main process, as `kill` sends it, or to the group, as a CI
timeout may). `ORM_MODERNIZE_INTERRUPT_SEED` draws other points. At least one
trial must stop part way, or the test proves nothing.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES

MODULES = 24  # enough for the workers to hold several files each when stopped
SEED = 2026
# (signal, whom it is sent to, --jobs): a terminal's Ctrl-C reaches the whole
# process group; `kill` or a CI timeout the main process, or the whole group.
CASES = [
    ("SIGINT", "group", "2"),
    ("SIGTERM", "main", "2"),
    ("SIGTERM", "group", "2"),
    ("SIGINT", "group", "1"),
    ("SIGTERM", "main", "1"),
]
COMMAND = [sys.executable, "-m", "orm_modernize", "check", "--isolated", "--no-cache"]


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """The tree before, the tree after a whole run, and how long the run took."""
    root = tmp_path_factory.mktemp("interrupt")
    before = root / "before"
    legacy = (FIXTURES / "_combined" / "legacy_app.py").read_bytes()
    for n in range(MODULES):
        package = before / f"package{n % 4}"
        package.mkdir(parents=True, exist_ok=True)
        # Distinct contents: a file swapped with another's would be caught.
        (package / f"module{n}.py").write_bytes(legacy + f"# {n}\n".encode())
    after = root / "after"
    shutil.copytree(before, after)
    start = time.monotonic()
    done = subprocess.run([*COMMAND, "--fix", str(after)], capture_output=True)
    assert done.returncode == 1, done.stderr  # unsafe fixes are left
    return before, after, time.monotonic() - start


def files(root: Path) -> dict[Path, bytes]:
    return {
        p.relative_to(root): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def inodes(root: Path) -> dict[Path, int]:
    return {p.relative_to(root): p.stat().st_ino for p in root.rglob("*.py")}


@pytest.mark.slow(15)
def test_an_interrupted_fix_leaves_each_file_old_or_new(
    trees: tuple[Path, Path, float], tmp_path: Path
) -> None:
    before, after, duration = trees
    old, new = files(before), files(after)
    assert old.keys() == new.keys() and all(old[p] != new[p] for p in old)
    # A fixed seed, so that a run is the same run; the variable replays others.
    seed = int(os.environ.get("ORM_MODERNIZE_INTERRUPT_SEED", SEED))
    print(f"ORM_MODERNIZE_INTERRUPT_SEED={seed}")
    chance = random.Random(seed)
    fixed_counts = []
    for trial, (name, target, jobs) in enumerate(CASES):
        tree = tmp_path / f"trial{trial}"
        shutil.copytree(before, tree)
        original = inodes(tree)
        run = subprocess.Popen(
            [*COMMAND, "--fix", "--verbose", "--jobs", jobs, str(tree)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, as a shell job
        )
        time.sleep(chance.uniform(0.5, duration * 0.8))
        number = getattr(signal, name)
        if target == "group":
            os.killpg(run.pid, number)  # a terminal's Ctrl-C: every process
        else:
            os.kill(run.pid, number)  # the main process alone: `kill`, a timeout
        _, err = run.communicate(timeout=120)
        # No worker lives on: each would hold the pipes, and `communicate()` would
        # have waited for it.
        now = files(tree)
        assert now.keys() == old.keys(), (trial, set(now) ^ set(old))  # no temporary
        torn = [p for p, data in now.items() if data not in (old[p], new[p])]
        assert not torn, (trial, torn)
        fixed = [p for p in now if now[p] == new[p]]
        fixed_counts.append(len(fixed))
        # A fixed file is a new file put in place (`os.replace`), never the old
        # one written over, which an interruption would leave torn.
        replaced = inodes(tree)
        assert all(replaced[p] != original[p] for p in fixed), trial
        if len(fixed) < MODULES:  # stopped by the signal: says so, exits 128 + n
            assert run.returncode == 128 + number, (trial, run.returncode, err)
            assert b"Interrupted: each file is either as it was or wholly fixed" in err
        else:  # the run was done; a signal in Python's last moments (its
            # handlers already restored) ends the process as it would any: -n
            assert run.returncode in (1, 128 + number, -number), (trial, err)
        assert b"Traceback" not in err, (trial, err.decode())  # no worker's either
    print("files fixed before each interruption:", fixed_counts)
    assert any(0 < n < MODULES for n in fixed_counts), fixed_counts


def test_sigterm_to_the_group_ends_idle_workers_quietly(tmp_path: Path) -> None:
    # One worker busy on a large module, the other idle once the small one is
    # done: the idle one used to raise the main process's SIGTERM handler in its
    # wait for work, and multiprocessing printed its traceback.
    models = "".join(
        f"class M{n}(Base):\n    __tablename__ = 'm{n}'\n"
        "    id = Column(Integer, primary_key=True)\n"
        # Large enough to be still running after 3 s on an idle machine with the
        # package compiled (6,000 classes no longer were).
        for n in range(20000)
    )
    large = (
        "from sqlalchemy import Column, Integer\n"
        "from sqlalchemy.ext.declarative import declarative_base\n"
        "Base = declarative_base()\n" + models
    )
    (tmp_path / "large.py").write_text(large)
    (tmp_path / "small.py").write_text(
        "from sqlalchemy.ext.declarative import declarative_base\n"
    )
    run = subprocess.Popen(
        [*COMMAND, "--jobs", "2", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    time.sleep(3)  # the small module takes well under that, the large one more
    os.killpg(run.pid, signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 128 + signal.SIGTERM, err
    assert err.decode().splitlines() == [
        "Interrupted: each file is either as it was or wholly fixed."
    ]
