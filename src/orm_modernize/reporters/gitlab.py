"""GitLab Code Quality: a JSON list of issues, each with a fingerprint that stays
the same while the finding does (not its line), so merge requests show what is
new."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TextIO

from orm_modernize.datatypes import FileResult, Settings
from orm_modernize.reporters.text import display_path


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
) -> None:
    issues = []
    for result in results:
        path = display_path(result.path)
        seen: dict[tuple[str, str], int] = {}
        for d in result.diagnostics:
            # The n-th identical finding of a file: unchanged by edits elsewhere.
            n = seen[d.code, d.message] = seen.get((d.code, d.message), 0) + 1
            key = "\0".join([path, d.code, d.message, str(n)]).encode()
            issues.append(
                {
                    "check_name": d.code,
                    "description": f"{d.code}: {d.message}",
                    "severity": "major",
                    "fingerprint": hashlib.blake2b(key, digest_size=8).hexdigest(),
                    "location": {
                        "path": path,
                        "positions": {
                            "begin": {"line": d.line, "column": d.column},
                            "end": {"line": d.end_line, "column": d.end_column},
                        },
                    },
                }
            )
    json.dump(issues, out, indent=2)
    out.write("\n")
