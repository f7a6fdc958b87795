"""How fast orm-modernize is, as ratios against baselines timed in the same run.

    python benchmarks/run.py [--rounds 5] [--corpora DIR] [--jobs N] [--fix-identity]

Two corpora, prepared on first use under `--corpora` (default
`~/.cache/orm-modernize-benchmarks`, outside any git checkout so that `.gitignore`
files hide nothing):

- `stdlib`: the `.py` files of the running interpreter's standard library (large,
  almost no SQLAlchemy);
- `sqlalchemy`: `test/` and `examples/` of the SQLAlchemy 1.4.54 sdist (thousands of
  `session.query()` calls), fetched with `pip download`.

Each round times, interleaved and in a rotating order so that the machine's noise
falls on every command alike: `orm-modernize check --no-cache`, `ruff check --select
UP --no-cache` and a bare parallel `libcst.parse_module` of the same files, on each
corpus. Then a warm-cache `check` of each corpus, and `check` of one file. Peak
memory is the largest summed RSS of a command's process tree, sampled in runs of
their own (sampling would slow the timed runs). The medians are compared with the
targets of issue 5; the exit status is 1 when one is missed.

`--fix-identity` also checks that `--fix --unsafe-fixes` on the SQLAlchemy corpus
writes byte-identical trees with `--jobs 1`, `--jobs 2`, and a warm cache.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
SDIST = "sqlalchemy-1.4.54.tar.gz"
SDIST_SHA256 = "4470fbed088c35dc20b78a39aaf4ae54fe81790c783b3264872a0224f437c31a"
# The pre-commit case: one module of models and queries, as a hook passes it.
ONE_FILE = "examples/association/basic_association.py"


@dataclass
class Command:
    label: str
    argv: list[str]
    cwd: Path
    times: list[float] = field(default_factory=list)
    peak_rss: int = 0  # bytes
    exit_codes: set[int] = field(default_factory=set)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--corpora",
        type=Path,
        default=Path.home() / ".cache" / "orm-modernize-benchmarks",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fix-identity", action="store_true")
    args = parser.parse_args()

    stdlib = prepare_stdlib(args.corpora / "stdlib")
    heavy = prepare_sqlalchemy(args.corpora / "sqlalchemy")
    tool, ruff = executable("orm-modernize"), executable("ruff")
    jobs = ["--jobs", str(args.jobs)]
    parse = [sys.executable, str(HERE / "parse_corpus.py"), *jobs]
    corpora = {"stdlib": stdlib, "sqlalchemy": heavy}
    no_cache = [tool, "check", "--no-cache", *jobs, "."]
    ruff_up = [ruff, "check", "--isolated", "--select", "UP", "--no-cache"]
    ruff_up += ["--exit-zero", "--quiet", "."]
    cold = {
        name: [
            Command(f"{name}: orm-modernize", no_cache, root),
            Command(f"{name}: ruff UP", ruff_up, root),
            Command(f"{name}: libcst parse", [*parse, "."], root),
        ]
        for name, root in corpora.items()
    }
    # JSON renders each fix as text edits: it must cost little more than text.
    as_json = [*no_cache[:-1], "--exit-zero", "--output-format", "json", "."]
    cold["sqlalchemy"].append(
        Command("sqlalchemy: orm-modernize, json", as_json, heavy)
    )
    warm = {
        name: Command(
            f"{name}: orm-modernize, warm cache", [tool, "check", *jobs, "."], root
        )
        for name, root in corpora.items()
    }
    one = Command(
        "one file: orm-modernize", [tool, "check", "--no-cache", ONE_FILE], heavy
    )
    # The project is the unit: one file of a large project, checked as pre-commit
    # passes it, with the project's index and results cached (issue 27).
    one_warm = Command(
        "one file, warm, sqlalchemy as a project", [tool, "check", ONE_FILE], heavy
    )
    large = prepare_large(args.corpora / "large")
    one_large = Command(
        f"one file, warm, {LARGE_MODULES} modules",
        [tool, "check", LARGE_CHECKED],
        large,
    )
    branches = prepare_branches(args.corpora / "branches")
    branchy = Command(
        "200 branches: orm-modernize", [tool, "check", "--no-cache", BRANCHES], branches
    )
    compile_package()
    print(environment(args.jobs, tool, ruff), flush=True)

    every_cold = [c for commands in cold.values() for c in commands]
    for _ in range(2):  # fill the page cache
        for command in every_cold:
            run(command, record=False)
    for number in range(args.rounds):
        shift = number % len(every_cold)
        for command in every_cold[shift:] + every_cold[:shift]:
            run(command)
        print(f"round {number + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    for command in [*warm.values(), one_warm, one_large]:
        run(command, record=False)  # fills the cache
    for _ in range(args.rounds):
        for command in [*warm.values(), one, branchy, one_warm, one_large]:
            run(command)
    for command in [*every_cold, *warm.values(), one]:
        command.peak_rss = peak_rss(command)

    print(table([*every_cold, *warm.values(), one, branchy, one_warm, one_large]))
    ok = report_targets(cold, warm, one, branchy, [one_warm, one_large])
    if args.fix_identity:
        ok = fix_identity(heavy, tool) and ok
    return 0 if ok else 1


# -- corpora -------------------------------------------------------------------------
BRANCHES = "branches.py"


def prepare_branches(root: Path) -> Path:
    """A query builder that reassigns its statement under 200 `if`s, then uses it
    as a FROM: the shape that took the analysis 2^n steps (issue 26)."""
    lines = [
        "from sqlalchemy import column, create_engine, select, table",
        't = table("t", column("x"))',
        'engine = create_engine("sqlite://")',
        "def build(a):",
        "    q = select([t])",
    ]
    for n in range(200):
        lines += [f"    if a.b{n}:", f"        q = q.where(t.c.x == {n})"]
    lines += [
        "    s = q.alias()",
        "    rows = engine.execute(select([s.c.x]).select_from(q))",
        "    return q.c.x, rows",
    ]
    root.mkdir(parents=True, exist_ok=True)
    (root / BRANCHES).write_text("\n".join(lines) + "\n")
    return root


LARGE_MODULES = 20_000
LARGE_CHECKED = "app/views.py"


def prepare_large(root: Path) -> Path:
    """A synthetic project of 20,000 modules in 200 packages: one in twenty maps
    a model on the project's base, the rest is plain Python; `app/views.py`
    queries models of other packages, through a `db` made in `app/db.py`."""
    if (root / ".complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    app = root / "app"
    app.mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "db.py").write_text(
        "from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker\n"
        "Session = scoped_session(sessionmaker())\nBase = declarative_base()\n"
    )
    imports = []
    for package in range(LARGE_MODULES // 100):
        directory = root / f"pkg{package}"
        directory.mkdir()
        (directory / "__init__.py").write_text("")
        for number in range(100 - 1 if package else 100 - 2):
            name = f"mod{number}"
            if number % 20 == 0:
                text = (
                    "from sqlalchemy import Column, Integer\n"
                    "from app.db import Base\n\n\n"
                    f"class Model{package}x{number}(Base):\n"
                    f"    __tablename__ = 't{package}x{number}'\n"
                    "    id = Column(Integer, primary_key=True)\n"
                )
                if package < 10:
                    imports.append((f"pkg{package}.{name}", f"Model{package}x{number}"))
            else:
                text = "".join(
                    f"def f{n}(x):\n    return [y * {n} for y in x if y]\n\n\n"
                    for n in range(10)
                )
            (directory / f"{name}.py").write_text(text)
    lines = ["from app import db"]
    lines += [f"from {module} import {model}" for module, model in imports]
    for _, model in imports:
        lines += ["", "", f"def get_{model}(ident):"]
        lines += [f"    return db.Session.query({model}).get(ident)"]
    (root / LARGE_CHECKED).write_text("\n".join(lines) + "\n")
    isolate(root)
    return root


def prepare_stdlib(root: Path) -> Path:
    if not (root / ".complete").exists():
        source = Path(sysconfig.get_paths()["stdlib"])
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(
            source,
            root / "Lib",
            ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"),
            symlinks=True,
        )
        isolate(root)
    return root


def prepare_sqlalchemy(root: Path) -> Path:
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        with tempfile.TemporaryDirectory() as download:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--no-binary", ":all:", "--dest", download, "sqlalchemy==1.4.54"],
                check=True,
            )  # fmt: skip
            sdist = Path(download) / SDIST
            digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
            if digest != SDIST_SHA256:
                sys.exit(f"{SDIST}: sha256 {digest}, expected {SDIST_SHA256}")
            with tarfile.open(sdist) as archive:
                top = "sqlalchemy-1.4.54/"
                members = [
                    m
                    for m in archive.getmembers()
                    if m.name.startswith((top + "test/", top + "examples/"))
                ]
                for member in members:
                    member.name = member.name[len(top) :]
                archive.extractall(root, members=members, filter="data")
        isolate(root)
    return root


def isolate(root: Path) -> None:
    """A project file of its own, so that neither tool reads settings or version
    pins from a directory above the corpus; then mark the corpus complete."""
    (root / "pyproject.toml").write_text('[project]\nname = "corpus"\n')
    (root / ".complete").touch()


# -- running -------------------------------------------------------------------------
def executable(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        sys.exit(f"{name} not found next to {sys.executable} or on PATH")
    return found


def run(command: Command, record: bool = True) -> None:
    start = time.perf_counter()
    done = subprocess.run(command.argv, cwd=command.cwd, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1, 2) or b"internal error" in done.stderr:
        sys.exit(f"{command.label} failed:\n{done.stderr.decode(errors='replace')}")
    if record:
        command.times.append(elapsed)
        command.exit_codes.add(done.returncode)


def peak_rss(command: Command) -> int:
    """The largest summed RSS of the command's process tree, sampled every 20 ms."""
    process = subprocess.Popen(
        command.argv,
        cwd=command.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.02)
    return peak


def tree_rss(root: int) -> int:
    page = os.sysconf("SC_PAGE_SIZE")
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                # pid (comm) state ppid ...: comm may hold spaces and parentheses
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def compile_package() -> None:
    """Write the package's .pyc files, as `pip install` does: an editable install
    run with PYTHONDONTWRITEBYTECODE would otherwise compile every module on every
    run (60 ms of the one-file run), which no installed copy does."""
    import compileall

    import orm_modernize

    for directory in orm_modernize.__path__:
        compileall.compile_dir(directory, quiet=1)


# -- reporting -----------------------------------------------------------------------
def environment(jobs: int, tool: str, ruff: str) -> str:
    def version(argv: Sequence[str]) -> str:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()

    from importlib.metadata import version as installed

    return "\n".join(
        [
            f"date: {date.today().isoformat()}",
            f"machine: {platform.machine()}, {os.cpu_count()} cores, --jobs {jobs}",
            f"python: {platform.python_version()}",
            f"orm-modernize: {version([tool, '--version'])}",
            f"libcst: {installed('libcst')}",
            f"ruff: {version([ruff, '--version'])}",
            "",
        ]
    )


def table(commands: Sequence[Command]) -> str:
    rows = [f"{'command':<44} {'median s':>9} {'min s':>7} {'peak RSS MB':>12}"]
    for c in commands:
        rows.append(
            f"{c.label:<44} {c.median:>9.3f} {min(c.times):>7.3f}"
            f" {c.peak_rss / 2**20:>12.0f}"
        )
    return "\n".join(rows) + "\n"


def report_targets(
    cold: dict[str, list[Command]],
    warm: dict[str, Command],
    one: Command,
    branchy: Command,
    one_warm: Sequence[Command],
) -> bool:
    tool, ruff, _ = cold["stdlib"]
    heavy, _, bare, as_json = cold["sqlalchemy"]
    peak = max(c.peak_rss for c in [tool, heavy, *warm.values(), one]) / 2**20
    targets = [
        ("1. stdlib, no cache: tool / ruff", tool.median / ruff.median, 1.0),
        ("2. sqlalchemy, no cache: tool / parse", heavy.median / bare.median, 1.5),
        *((f"3. warm cache, {name} (s)", c.median, 0.3) for name, c in warm.items()),
        ("4. one file, interpreter start included (s)", one.median, 0.3),
        ("5. peak RSS of any orm-modernize run (MB)", peak, 500),
        ("6. sqlalchemy, no cache: json / text", as_json.median / heavy.median, 1.2),
        ("7. 200 conditional reassignments, one file (s)", branchy.median, 1.0),
        *((f"8. {c.label} (s)", c.median, 0.3) for c in one_warm),
    ]  # fmt: skip
    print(f"{'target':<52} {'measured':>9} {'limit':>7}")
    for label, value, limit in targets:
        verdict = "met" if value <= limit else "MISSED"
        print(f"{label:<52} {value:>9.3f} {limit:>7.2f}  {verdict}")
    return all(value <= limit for _, value, limit in targets)


def fix_identity(corpus: Path, tool: str) -> bool:
    """`--fix` writes the same bytes whatever the jobs and the cache."""
    with tempfile.TemporaryDirectory() as scratch:
        trees = {}
        runs: dict[str, Callable[[Path], list[str]]] = {
            "--jobs 1": lambda d: [tool, "check", "--no-cache", "--jobs", "1"],
            "--jobs 2": lambda d: [tool, "check", "--no-cache", "--jobs", "2"],
            "warm cache": lambda d: [tool, "check", "--jobs", "2"],
        }
        for label, argv in runs.items():
            tree = Path(scratch, label.replace(" ", "_"))
            shutil.copytree(corpus, tree)
            if label == "warm cache":  # a cache filled by a check of the same tree
                subprocess.run([*argv(tree), "."], cwd=tree, capture_output=True)
            subprocess.run(
                [*argv(tree), "--fix", "--unsafe-fixes", "."],
                cwd=tree,
                capture_output=True,
            )
            trees[label] = tree_digest(tree)
            print(f"--fix with {label}: tree sha256 {trees[label][:16]}")
    same = len(set(trees.values())) == 1
    print("fix identity: " + ("byte-identical" if same else "DIFFERENT"))
    return same


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


if __name__ == "__main__":
    sys.exit(main())
