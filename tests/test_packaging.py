"""The sdist and the wheel, built as a release would build them (`python -m
build`, isolated): the wheel carries the package, its types marker and the
license; the sdist carries what the test suite needs, and tests run from it."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from environments import made_once

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> tuple[Path, Path]:
    # Built once for the run: xdist's workers share the directory above their own.
    base = tmp_path_factory.getbasetemp()
    out = (base if worker_id == "master" else base.parent) / "dist"
    with made_once(out):
        if not list(out.glob("*.whl")):
            subprocess.run(
                [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                check=True,
                capture_output=True,
            )
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


@pytest.mark.slow(10)
def test_the_wheel_has_the_license_and_the_types_marker(
    built: tuple[Path, Path],
) -> None:
    with zipfile.ZipFile(built[1]) as wheel:
        names = wheel.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        header = wheel.read(metadata).decode()
    assert "orm_modernize/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in header  # PEP 639, not the old table
    assert not any(n.startswith(("tests/", "fixtures/")) for n in names)


@pytest.mark.slow(10)
def test_tests_run_from_the_unpacked_sdist(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    with tarfile.open(built[0]) as sdist:
        names = sdist.getnames()
        sdist.extractall(tmp_path, filter="data")
    top = names[0].split("/")[0]
    for needed in ("LICENSE", "tests/conftest.py", "scripts/test.sh", "examples"):
        assert f"{top}/{needed}" in names, needed
    assert not any("__pycache__" in n or ".orm_modernize_cache" in n for n in names)
    unpacked = tmp_path / top
    # A slice of the suite, on the sdist's own code, fixtures and examples.
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        + ["tests/test_fixtures.py", "-k", "ORM001 or ORM401"],
        cwd=unpacked,
        env={**os.environ, "PYTHONPATH": str(unpacked / "src")},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
