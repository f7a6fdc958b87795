"""How fast the language server answers as the user types (issue 32): one open
2,000-line module of an ordinary project (a query every 80 lines among plain
code), checked again after each edit, as `orm-modernize server` checks it.

    python benchmarks/server.py [--rounds 10]

Target: after the first check (which indexes the project), each check of the
edited document answers within 0.3 s. The bare LibCST parse of the same text,
measured in the same run, is the baseline the ratio is given against.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import libcst

from orm_modernize.server.language_server import Server

LIMIT = 0.3  # seconds, after the first check


def module(lines: int = 2000) -> str:
    out = [
        "from sqlalchemy import Column, Integer, String",
        "from sqlalchemy.orm import Session, declarative_base",
        "",
        "Base = declarative_base()",
        "",
        "class User(Base):",
        "    __tablename__ = 'users'",
        "    id = Column(Integer, primary_key=True)",
        "    name = Column(String)",
        "",
    ]
    n = 0
    while len(out) < lines:
        out += [
            f"def helper_{n}(values, factor={n}):",
            "    total = 0",
            "    for index, value in enumerate(values):",
            "        if value % 3 == 0:",
            "            total += value * factor",
            "        else:",
            "            total -= index",
            "    return {'total': total, 'count': len(values)}",
            "",
        ]
        if n % 8 == 0:
            out += [
                f"def query_{n}(session: Session):",
                f"    return session.query(User).filter(User.id > {n}).all()",
                "",
            ]
        n += 1
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / ".git").mkdir()
        path = Path(root) / "views.py"
        text = module()
        path.write_text(text)
        server = Server()
        uri = path.as_uri()
        start = time.perf_counter()
        server.check(uri, text, False, False)
        first = time.perf_counter() - start
        checks, parses = [], []
        for number in range(args.rounds):
            edited = text + f"# edit {number}\n"
            start = time.perf_counter()
            server.check(uri, edited, False, False)
            checks.append(time.perf_counter() - start)
            start = time.perf_counter()
            libcst.parse_module(edited)
            parses.append(time.perf_counter() - start)
    check, parse = statistics.median(checks), statistics.median(parses)
    print(f"first check (indexes the project): {first:.3f} s")
    print(f"later checks, median of {args.rounds}: {check:.3f} s (limit {LIMIT} s)")
    ratio = check / parse
    print(
        f"bare LibCST parse of the same text: {parse:.3f} s; check / parse {ratio:.2f}"
    )
    met = check <= LIMIT
    print("target met" if met else "target MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
