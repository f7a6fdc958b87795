"""GitLab Code Quality: a JSON list of issues, each with a fingerprint that stays
the same while the finding does (not its line, see `fingerprints.py`), so merge
requests show what is new. Paths are relative to the repository's top, as GitLab
reads them, wherever the run started."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from orm_modernize.cli.reporters import errors, repository_path
from orm_modernize.data.records import FileResult, Settings
from orm_modernize.workspace.cache import digest
from orm_modernize.workspace.fingerprints import fingerprinted


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
    colour: bool = False,
) -> None:
    issues = []
    for result in results:
        path = repository_path(result.path)
        for found in fingerprinted(result, path):
            d = found.diagnostic
            issues.append(
                {
                    "check_name": d.code,
                    "description": f"{d.code}: {d.message}",
                    "severity": "major",
                    "fingerprint": found.fingerprint,
                    "location": {
                        "path": path,
                        "lines": {"begin": d.line},
                        "positions": {
                            "begin": {"line": d.line, "column": d.column},
                            "end": {"line": d.end_line, "column": d.end_column},
                        },
                    },
                }
            )
    for located in errors(results):
        path = repository_path(located.result.path)
        at = {"line": located.line, "column": located.column}
        issues.append(
            {
                "check_name": f"orm-modernize-{located.error.kind}-error",
                "description": f"{located.error.kind} error: {located.error}",
                "severity": "blocker",  # the file went unchecked
                "fingerprint": digest(f"{path}\0{located.error}".encode()),
                "location": {
                    "path": path,
                    "lines": {"begin": located.line},
                    "positions": {"begin": at, "end": at},
                },
            }
        )
    json.dump(issues, out, indent=2)
    out.write("\n")
