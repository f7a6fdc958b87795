"""Nothing superlinear: the analysis of a name bound many times over grows with
the number of bindings, not with the number of paths through them.

A function that builds a statement over n conditional reassignments (`q =
q.where(...)` under n `if`s) was analysed in 2^n steps: 16 branches took 2 s, 21
took 50 s, and real query builders never finished. The work is counted here in
lookups of a name's bindings (what every analysis of a value goes through), not
in seconds: doubling the branches may at most quadruple it. The timing of such a
module is in benchmarks/run.py. And a file whose analysis runs past its budget
anyway is reported and left as it was, while the run goes on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Settings
from orm_modernize.engine.lint import lint_source

HEAD = """\
from sqlalchemy import Column, Integer, MetaData, String, Table, column, select, table
from sqlalchemy import create_engine, text
from sqlalchemy.orm import declarative_base, relationship, sessionmaker
Base = declarative_base()
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String)
class Address(Base):
    __tablename__ = "addresses"
    id = Column(Integer, primary_key=True)
    user = relationship(User, backref="addresses")
t = table("t", column("x"))
engine = create_engine("sqlite://")
metadata = MetaData()
SessionLocal = sessionmaker(bind=engine)
"""

# kind -> (the first binding, the reassignment under each branch, the uses after)
SHAPES: dict[str, tuple[str, str, str]] = {
    "select-as-from": (
        "q = select([t])",
        "q = q.where(t.c.x == {i})",
        "s = q.alias()\nengine.execute(select([s.c.x]).select_from(q))\nprint(q.c.x)",
    ),
    "select-executed": ("q = select([t])", "q = q.where(t.c.x == {i})", "q.execute()"),
    "sql-percent": (
        "sql = 'SELECT %s'",
        "sql = sql % ('x{i}',)",
        "with engine.connect() as conn:\n    conn.execute(sql)",
    ),
    "sql-format": (
        "sql = 'SELECT {{}}'",
        "sql = sql.format('x{i}')",
        "with engine.connect() as conn:\n    conn.execute(sql)",
    ),
    "query": (
        "session = SessionLocal()\nquery = session.query(User)",
        "query = query.filter(User.id == {i})",
        "print(query.all(), query.count(), query.get(1))",
    ),
    "query-join": (
        "query = SessionLocal().query(User)",
        "query = query.join(Address).filter(Address.id == {i})",
        "query.one()\nquery.delete()",
    ),
    "result": (
        "conn = engine.connect()\nresult = conn.execute(t.select())",
        "result = conn.execute(t.select().where(t.c.x == {i}))",
        "row = result.fetchone()\nprint(row.keys(), 'x' in row, row['x'])",
    ),
    "connection": (
        "conn = engine.connect()",
        "conn = conn.execution_options(x={i})",
        "conn.execute('INSERT INTO t VALUES (1)')",
    ),
    "table": (
        "tab = Table('a', metadata, Column('id', Integer))",
        "tab = tab.alias()",
        "tab.select().execute()\nselect([tab]).where(tab.c.id == 1)",
    ),
    "statement": (
        "stmt = t.insert()",
        "stmt = stmt.values(x={i})",
        "with engine.connect() as conn:\n    conn.execute(stmt)",
    ),
    "new-object": (
        "session = SessionLocal()\nu = User()",
        "u = User(name='{i}')",
        "a = Address(user=u)\nsession.add(u)",
    ),
}


def module(kind: str, branches: int, form: str) -> bytes:
    first, step, uses = SHAPES[kind]
    lines = [HEAD, "def build(a, items):", *_indented(first, 1)]
    for i in range(branches):
        if form == "if":
            lines += [f"    if a.b{i}:", *_indented(step.format(i=i), 2)]
        elif form == "loop":  # every binding reaches every use: cycles
            lines += ["    for x in items:", f"        if x == {i}:"]
            lines += _indented(step.format(i=i), 3)
        else:
            lines += ["    try:", *_indented(step.format(i=i), 2)]
            lines += ["    except ValueError:", "        pass"]
    lines += _indented(uses, 1)
    return ("\n".join(lines) + "\n").encode()


def _indented(code: str, depth: int) -> list[str]:
    return ["    " * depth + line for line in code.splitlines()]


def lookups(source: bytes, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many times checking (and fixing) `source` looks up a name's bindings."""
    count = 0
    lookup = Semantic.assignments

    def counted(self: Semantic, name: object) -> object:
        nonlocal count
        count += 1
        return lookup(self, name)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(Semantic, "assignments", counted)
        result = lint_source(
            source, Path("build.py"), Settings(fix=True, unsafe_fixes=True)
        )
    assert result.diagnostics or result.applied, "the module has legacy code to find"
    return count


@pytest.mark.parametrize("form", ["if", "loop", "try"])
@pytest.mark.parametrize("kind", SHAPES)
def test_doubling_the_branches_at_most_quadruples_the_work(
    kind: str, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 10 -> 20 branches: 2^10 times the work before the memo, the test ran minutes
    small = lookups(module(kind, 10, form), monkeypatch)
    large = lookups(module(kind, 20, form), monkeypatch)
    assert large <= 4 * small, (small, large)


def run_cli(
    tmp_path: Path, *args: str, budget: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orm_modernize", "check", "--isolated", "--no-cache"]
        + list(args),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "ORM_MODERNIZE_FILE_BUDGET": budget},
    )


def test_two_hundred_branches_are_checked_within_a_modest_budget(
    tmp_path: Path,
) -> None:
    (tmp_path / "build.py").write_bytes(module("select-as-from", 200, "if"))
    done = run_cli(tmp_path, "build.py", budget="20")
    assert done.returncode == 1, done.stderr
    assert "ORM305" in done.stdout


def test_a_file_over_its_budget_is_reported_and_left_alone(tmp_path: Path) -> None:
    # 3,000 models take seconds, far over a budget of 0.5 s; the other file's
    # pass takes a few milliseconds (the fix's imports are made outside it)
    models = [f"class M{i}(Base):\n    id = Column(Integer)\n" for i in range(3000)]
    slow = (HEAD + "".join(models)).encode()
    (tmp_path / "slow.py").write_bytes(slow)
    (tmp_path / "good.py").write_bytes(
        b"from sqlalchemy.ext.declarative import declarative_base\n"
    )
    done = run_cli(tmp_path, "--fix", ".", budget="0.5")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "slow.py: analysis took too long (a pass over 0.5 s of processor time);"
        " file left as is"
    ]
    assert (tmp_path / "slow.py").read_bytes() == slow
    assert (tmp_path / "good.py").read_bytes().startswith(b"from sqlalchemy.orm import")
