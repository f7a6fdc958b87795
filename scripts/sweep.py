"""Try orm-modernize on real codebases, as a new user would, and say what happened.

    .venv/bin/python scripts/sweep.py [--limit SECONDS] [--keep DIR] [SPEC ...]

Each SPEC is a PyPI sdist (`ihatemoney==5.2.0`); the default list mixes Flask
apps, Core-heavy libraries, half-migrated projects and projects pinned below
SQLAlchemy 1.4. For each, in a fresh copy of its source:

1. `check` (JSON), timed, under a time limit;
2. `check --fix --unsafe-fixes`, timed, under the same limit;
3. every changed file must compile, and a second `--fix` must change nothing;
4. files with findings (a sample of `--alone` of them), checked alone as
   pre-commit passes them, must get the findings the whole-project run gave;
5. a changed file that kept to the project's ruff configuration before (`ruff
   format --check`, and `ruff check --select E501,I001`: line length and
   isort) must still keep to it.

Nothing of the downloaded code is kept unless `--keep` says where: the fixed trees
are for reading the fixes one by one. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

SPECS = [
    "ihatemoney==5.2.0",  # Flask app, pinned SQLAlchemy>=1.3,<1.4
    "FlaskBB==2.0.2",  # Flask app, pinned SQLAlchemy==1.2.7
    "Flask-AppBuilder==3.4.5",  # Flask framework, SQLAlchemy<1.5
    "Flask-Admin==1.6.1",  # Flask admin, SQLAlchemy unpinned
    "dataset==1.5.2",  # Core-heavy
    "sqlalchemy_continuum==1.4.2",  # ORM internals, SQLAlchemy>=1.4
    "Kotti==2.0.9",  # Pyramid CMS, half-migrated (1.4 pins)
    "keystone==26.0.0",  # OpenStack identity server, query builders
    "ckan==2.10.4",  # scoped_session across modules, sqlalchemy==1.4.41
    "fittrackee==1.3.6",  # Flask app on SQLAlchemy 2.0, lazy="dynamic"
    "sqlalchemy==1.4.54",  # SQLAlchemy's own test/ and examples/
]
TOOL = [sys.executable, "-m", "orm_modernize", "check", "--no-cache"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="*", default=SPECS)
    parser.add_argument("--limit", type=float, default=600.0)
    parser.add_argument("--downloads", type=Path, default=Path(".sweep-downloads"))
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--alone", type=int, default=12)
    args = parser.parse_args()
    failed = False
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for spec in args.specs:
            root = unpack(download(spec, args.downloads), Path(scratch))
            if spec.lower().startswith("sqlalchemy=="):
                for extra in ("lib", "doc", "setup.py", "setup.cfg", "tox.ini"):
                    path = root / extra
                    shutil.rmtree(path) if path.is_dir() else path.unlink(True)
            row, problems = sweep(spec, root, args.limit, args.alone)
            rows.append(row)
            for problem in problems:
                print(f"{spec}: {problem}", file=sys.stderr)
            failed |= bool(problems)
            if args.keep:
                shutil.copytree(root, args.keep / root.name, dirs_exist_ok=True)
    print(
        "| project | files | check s | fix s | findings | fixed safe | fixed unsafe |"
        " report-only | changed files | alone = whole | still formatted |"
        " still E501/I001-clean |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(v) for v in row) + " |")
    return 1 if failed else 0


def download(spec: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    name = spec.split("==")[0].lower().replace("_", "-")
    version = spec.split("==")[1]
    for path in into.iterdir():
        stem = path.name.lower().replace("_", "-")
        if stem.startswith(f"{name}-{version}.") and path.suffix in (".gz", ".zip"):
            return path
    # `pip download` builds the metadata of an sdist, which fails for some old
    # ones; the file is there all the same.
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        + ["--no-binary", ":all:", "-d", str(into), spec],
        capture_output=True,
    )
    return download(spec, into)


def unpack(archive: Path, scratch: Path) -> Path:
    target = scratch / archive.name
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(target)
    else:
        with tarfile.open(archive) as opened:
            opened.extractall(target, filter="data")
    (top,) = target.iterdir()
    subprocess.run(["git", "init", "-q", str(top)], check=True)  # its own project
    return top


def run(root: Path, *args: str, limit: float) -> tuple[float, str, str, int]:
    start = time.monotonic()
    try:
        done = subprocess.run(
            [*TOOL, *args], capture_output=True, text=True, cwd=root, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return limit, "", "timed out", -1
    return time.monotonic() - start, done.stdout, done.stderr, done.returncode


def findings(output: str) -> dict[str, list[tuple[str, int, int, str]]]:
    found: dict[str, list[tuple[str, int, int, str]]] = {}
    for item in json.loads(output or "[]"):
        where = (item["code"], item["location"]["row"], item["location"]["column"])
        fix = item.get("fix") or {}
        found.setdefault(item["filename"], []).append(
            (*where, fix.get("applicability", "none"))
        )
    return found


def sweep(
    spec: str, root: Path, limit: float, sample: int
) -> tuple[list[object], list[str]]:
    problems: list[str] = []
    files = sorted(p for p in root.rglob("*.py") if ".git" not in p.parts)
    before = {p: p.read_bytes() for p in files}
    check_s, out, err, code = run(
        root, "--exit-zero", "--output-format", "json", ".", limit=limit
    )
    if code not in (0, 2):
        problems.append(f"check: exit {code}: {err.strip()[:300]}")
    whole = findings(out) if code in (0, 2) else {}
    for line in err.splitlines():
        if "internal error" in line or "took too long" in line:
            problems.append(f"check: {line}")
    kinds = Counter(a for items in whole.values() for *_, a in items)
    alone_same = 0
    names = sorted(whole)
    step = max(1, len(names) // sample) if sample else len(names) + 1
    chosen = names[::step][:sample]
    for name in chosen:
        items = whole[name]
        _, one, _, _ = run(
            root, "--exit-zero", "--output-format", "json", name, limit=limit
        )
        if sorted(findings(one).get(name, [])) == sorted(items):
            alone_same += 1
        else:
            problems.append(f"{name}: alone gives other findings than in the project")
    formatted, styled = styled_files(root, files)
    fix_s, out, err, code = run(root, "--fix", "--unsafe-fixes", ".", limit=limit)
    if code < 0 or "internal error" in err or "took too long" in err:
        problems.append(f"fix: exit {code}: {err.strip()[:300]}")
    changed = [p for p in files if p.read_bytes() != before[p]]
    for path in changed:
        try:
            compile(path.read_bytes(), str(path), "exec")
        except SyntaxError as error:
            problems.append(f"{path}: fixed code does not compile: {error}")
    kept: list[str] = []  # "still n/of n that kept to it before", format then check
    after = styled_files(root, changed)
    for was, now, what in zip((formatted, styled), after, ("format", "check")):
        keeping = sorted(p for p in changed if p in was)
        for path in (p for p in keeping if p not in now):
            problems.append(f"{path.relative_to(root)}: fails `ruff {what}` now")
        kept.append(f"{sum(p in now for p in keeping)}/{len(keeping)}")
    snapshot = {p: p.read_bytes() for p in changed}
    _, out2, _, _ = run(root, "--fix", "--unsafe-fixes", ".", limit=limit)
    again = [p for p in files if p.read_bytes() != snapshot.get(p, before[p])]
    if again:
        problems.append(f"second fix changed {len(again)} files: {again[:3]}")
        for path in again[:1]:
            old = snapshot.get(path, before[path]).decode(errors="replace")
            new = path.read_text(errors="replace")
            diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="")
            problems.append("\n".join(list(diff)[:30]))
    row: list[object] = [
        spec,
        len(files),
        f"{check_s:.1f}",
        f"{fix_s:.1f}",
        sum(kinds.values()),
        kinds["safe"],
        kinds["unsafe"],
        kinds["none"],
        len(changed),
        f"{alone_same}/{len(chosen)}",
        *kept,
    ]
    return row, problems


def styled_files(root: Path, files: list[Path]) -> tuple[set[Path], set[Path]]:
    """Of `files`, those `ruff format` leaves as they are, and those with no
    E501 or I001 finding, each by the project's own ruff configuration."""
    if not files:
        return set(), set()
    names = [str(p.relative_to(root)) for p in files]
    ruff = [sys.executable, "-m", "ruff"]
    diff = subprocess.run(
        [*ruff, "format", "--diff", *names], capture_output=True, text=True, cwd=root
    )
    reformatted = {
        line[4:].strip() for line in diff.stdout.splitlines() if line.startswith("--- ")
    }
    lint = subprocess.run(
        [*ruff, "check", "--select", "E501,I001", "--output-format", "json"]
        + ["--exit-zero", *names],
        capture_output=True,
        text=True,
        cwd=root,
    )
    failing = {Path(f["filename"]).resolve() for f in json.loads(lint.stdout or "[]")}
    return (
        {p for p, n in zip(files, names) if n not in reformatted},
        {p for p in files if p.resolve() not in failing},
    )


if __name__ == "__main__":
    sys.exit(main())
