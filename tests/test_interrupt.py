"""Interrupting `check --fix` at any moment leaves every file either wholly as it
was or wholly fixed, no temporary file behind, and no worker running on.

A real run over a tree of legacy modules is killed at random points, with Ctrl-C
(SIGINT to the whole process group, as a terminal sends it) or SIGTERM (to the
main process only, as `kill` or a CI timeout sends it). The seed is printed, and
`ORM_MODERNIZE_INTERRUPT_SEED` replays a failure.
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

MODULES = 40
TRIALS = 4
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


def test_an_interrupted_fix_leaves_each_file_old_or_new(
    trees: tuple[Path, Path, float], tmp_path: Path
) -> None:
    before, after, duration = trees
    old, new = files(before), files(after)
    assert old.keys() == new.keys() and all(old[p] != new[p] for p in old)
    seed = int(os.environ.get("ORM_MODERNIZE_INTERRUPT_SEED", random.randrange(10**6)))
    print(f"ORM_MODERNIZE_INTERRUPT_SEED={seed}")
    chance = random.Random(seed)
    cases = [("SIGINT", "2"), ("SIGTERM", "2"), ("SIGINT", "1"), ("SIGTERM", "1")]
    fixed_counts = []
    for trial, (name, jobs) in enumerate(cases[:TRIALS]):
        tree = tmp_path / f"trial{trial}"
        shutil.copytree(before, tree)
        run = subprocess.Popen(
            [*COMMAND, "--fix", "--verbose", "--jobs", jobs, str(tree)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, as a shell job
        )
        time.sleep(chance.uniform(0.5, duration * 0.8))
        if name == "SIGINT":
            os.killpg(run.pid, signal.SIGINT)  # a terminal's Ctrl-C: every process
        else:
            os.kill(run.pid, signal.SIGTERM)  # the main process alone
        _, err = run.communicate(timeout=120)

        number = getattr(signal, name)
        finished = run.returncode == 1  # it may have ended before the signal
        assert finished or run.returncode == 128 + number, (trial, err)
        if not finished:
            assert b"Interrupted: each file is either as it was or wholly fixed" in err
        # No worker lives on: each would hold the pipes, and `communicate()` would
        # have waited for it.
        now = files(tree)
        assert now.keys() == old.keys(), (trial, set(now) ^ set(old))  # no temporary
        torn = [p for p, data in now.items() if data not in (old[p], new[p])]
        assert not torn, (trial, torn)
        fixed_counts.append(sum(now[p] == new[p] for p in now))
    print("files fixed before each interruption:", fixed_counts)
