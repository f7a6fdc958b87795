"""What a run imports: pre-commit starts the tool once per commit, and a
library imported for nothing is paid each time (LibCST's matchers: 0.25 s)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LEGACY = (
    b"from sqlalchemy.ext.declarative import declarative_base\n\n"
    b"Base = declarative_base()\n"
)
# Heavy, and needed by no check or fix of one file (black: only to lay out a
# statement the own layout does not cover).
NEVER = ("libcst.codemod", "libcst.matchers", "wcmatch", "pygls", "black")

PROGRAM = """
import json, sys
from orm_modernize.cli.commands import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def imported(tmp_path: Path, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, "check", "--isolated", "--no-cache", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return set(json.loads(done.stderr.splitlines()[-1]))


def test_a_fix_imports_nothing_it_does_not_need(tmp_path: Path) -> None:
    (tmp_path / "models.py").write_bytes(LEGACY)

    modules = imported(tmp_path, "--fix", "models.py")

    assert (tmp_path / "models.py").read_bytes() != LEGACY  # the fix did run
    assert "orm_modernize.engine.import_edits" in modules
    assert not [m for m in modules if m.startswith(NEVER)]
