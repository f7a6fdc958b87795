"""Fixture discovery, expectation markers, the fixture programs' runs, and the order
of the tests; the environments they run in are `environments.py`'s."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from environments import ROOT, flask_sqlalchemy_2_python, legacy_python, prepare

from orm_modernize.analysis.project import ProjectIndex, build_index

FIXTURES = ROOT / "fixtures"
SERVER = Path(__file__).resolve().parent / "fixture_server.py"

# `# expect: ORM001` / `# expect: ORM001[unsafe], ORM402[nofix]` at the end of a line.
MARKER = re.compile(r"[ \t]*# expect: (?P<items>[^\n]*)$", re.M)
ITEM = re.compile(r"(?P<code>ORM\d{3})(?:\[(?P<kind>unsafe|nofix)\])?")


# `pytest --fuzz N`: N random examples per test of test_fuzz.py (0: its short run).
# Set before the test modules are imported, which read it in their decorators.
fuzz_examples = 0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz",
        type=int,
        default=0,
        metavar="N",
        help="run N random examples per fuzz test instead of the short fixed run",
    )


def pytest_configure(config: pytest.Config) -> None:
    global fuzz_examples
    fuzz_examples = config.getoption("fuzz")
    config.addinivalue_line(
        "markers", "slow(seconds): a test of many seconds on an idle machine"
    )


_preparing: threading.Thread | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    """The environments made in the background from the start, by the process
    that runs no test (xdist's controller)."""
    global _preparing
    if hasattr(session.config, "workerinput") or not session.config.getoption(
        "numprocesses", None
    ):
        return  # a worker, or one process: each environment is made when needed
    _preparing = threading.Thread(target=prepare, name="prepare", daemon=True)
    _preparing.start()


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """The slow tests first, the slowest first, shared out among the workers.

    xdist's worksteal schedule gives each worker one contiguous share of this
    order, and a worker that runs out takes tests from the end of another's
    share, never its head: slow tests all at the front would all stay with the
    first worker. So each share begins with its part of the slow tests, dealt
    longest first to the share with the least so far, and ends with fast ones."""
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    slow = sorted((i for i in items if _seconds(i)), key=_seconds, reverse=True)
    fast = iter([i for i in items if not _seconds(i)])
    shares: list[list[pytest.Item]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for item in slow:
        least = loads.index(min(loads))
        shares[least].append(item)
        loads[least] += _seconds(item)
    ordered: list[pytest.Item] = []
    left = len(items)
    for n, share in enumerate(shares):
        size = left // (workers - n)  # as worksteal splits the collection
        ordered += share + list(itertools.islice(fast, max(0, size - len(share))))
        left -= size
    items[:] = ordered + list(fast)


def _seconds(item: pytest.Item) -> float:
    """What a test's `slow(seconds)` mark says it takes (`slow` alone: 5); 0 for
    the others."""
    marker = item.get_closest_marker("slow")
    if marker is None:
        return 0
    return float(marker.args[0]) if marker.args else 5


@dataclass(frozen=True)
class Expected:
    code: str
    line: int
    kind: str  # "safe", "unsafe" or "nofix"


@dataclass(frozen=True)
class Case:
    code: str  # the folder: the rule under test
    name: str
    before: Path
    after: Path | None  # None: must come out unchanged

    @property
    def id(self) -> str:
        return f"{self.code}/{self.name}"

    def source(self) -> bytes:
        """The input with its markers stripped (columns stay where they were)."""
        return MARKER.sub("", self.before.read_text(encoding="utf-8")).encode("utf-8")

    def expected(self) -> list[Expected]:
        found = []
        text = self.before.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            match = MARKER.search(line)
            if match:
                for item in ITEM.finditer(match.group("items")):
                    found.append(Expected(item["code"], number, item["kind"] or "safe"))
        return sorted(found, key=lambda e: (e.line, e.code))


def discover_cases() -> list[Case]:
    cases = []
    for before in sorted(FIXTURES.glob("*/*_before.py")):
        name = before.name[: -len("_before.py")]
        after = before.with_name(f"{name}_after.py")
        cases.append(
            Case(before.parent.name, name, before, after if after.exists() else None)
        )
    return cases


def fixture_index(case: Path) -> ProjectIndex:
    """What the CLI knows when checking `case` with the modules it imports: the
    shared models, and the case's own classes (those of `db.Model`, say)."""
    files = [FIXTURES / "_models.py", case]
    return build_index([(path, path.read_bytes()) for path in files])


def discover_noops() -> list[Path]:
    return sorted(FIXTURES.glob("*/noop_*.py"))


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    lines: frozenset[int] = frozenset()  # the program's lines that ran


def write_package(root: Path, modules: dict[str, str], *, pin: str = "") -> None:
    """The package `app` of `modules` (name -> code) under `root` and, with a
    `pin` (">=2.0"), a pyproject.toml that requires `sqlalchemy<pin>`: the
    projects of the CLI tests of fixes across modules."""
    if pin:
        (root / "pyproject.toml").write_text(
            f'[project]\nname = "app"\ndependencies = ["sqlalchemy{pin}"]\n'
        )
    package = root / "app"
    package.mkdir(exist_ok=True)
    for name, code in {"__init__.py": "", **modules}.items():
        (package / name).write_text(code)


def copy_project(name: str, into: Path) -> Path:
    """A copy of the fixture project `fixtures/_projects/<name>` under `into`,
    with a `.git` directory: the repository's top, the project root."""
    root = into / name
    shutil.copytree(FIXTURES / "_projects" / name, root)
    (root / ".git").mkdir()
    return root


def run_program(python: Path | str, path: Path, *, strict: bool) -> Run:
    """What the program at `path` prints under `python`. A fixture's program is
    run once per worker (three tests run each `_before.py` on 1.4); a program
    written by a test is run every time."""
    if Path(path).is_relative_to(FIXTURES):
        key = (str(python), str(path), strict, Path(path).stat().st_mtime_ns)
        if key not in _RUNS:
            _RUNS[key] = _run_program(python, path, strict=strict)
        return _RUNS[key]
    return _run_program(python, path, strict=strict)


_RUNS: dict[tuple[str, str, bool, int], Run] = {}


def _run_program(python: Path | str, path: Path, *, strict: bool) -> Run:
    server = _servers.get(str(python))
    if server is None or server.poll() is not None:
        server = _servers[str(python)] = _start_server(python)
    assert server.stdin is not None and server.stdout is not None
    mode = "strict" if strict else "legacy"
    request = {"mode": mode, "path": str(Path(path).resolve())}
    server.stdin.write(json.dumps(request) + "\n")
    server.stdin.flush()
    line = server.stdout.readline()
    if not line:  # the server itself failed: say why
        assert server.stderr is not None
        raise RuntimeError(f"fixture server of {python}: {server.stderr.read()}")
    reply = json.loads(line)
    return Run(
        reply["returncode"], reply["stdout"], reply["stderr"], frozenset(reply["lines"])
    )


# One fixture server per SQLAlchemy environment in this worker: see fixture_server.py.
_servers: dict[str, subprocess.Popen[str]] = {}


def _start_server(python: Path | str) -> subprocess.Popen[str]:
    # On 1.4, every 2.0 deprecation is raised (read when SQLAlchemy is imported):
    # strict programs fail on them, legacy ones print them to stderr.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQLALCHEMY_")}
    env["SQLALCHEMY_WARN_20"] = "1"
    return subprocess.Popen(
        [str(python), str(SERVER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,  # the server's own failure; programs' go in replies
        text=True,
        env=env,
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _preparing is not None:
        _preparing.join()  # no pip left running on, half done
    for server in _servers.values():
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)


@pytest.fixture(scope="session")
def sqlalchemy14() -> Path:
    return legacy_python()


@pytest.fixture(scope="session")
def flask_sqlalchemy2() -> Path:
    """Flask-SQLAlchemy 2.5.1 with Flask 2.1, on SQLAlchemy 1.4.54."""
    return flask_sqlalchemy_2_python()


@pytest.fixture(scope="session")
def sqlalchemy2() -> str:
    return sys.executable
