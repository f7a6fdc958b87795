"""A JSON list of findings, in the shape of ruff's `--output-format json`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from orm_modernize.cli.reporters import errors
from orm_modernize.cli.reporters.text import display_path
from orm_modernize.data.codes import docs_url
from orm_modernize.data.records import FileResult, Settings


def rows(results: Sequence[FileResult]) -> Iterator[dict[str, Any]]:
    """Each finding as ruff's JSON has it, then each error of a file."""
    for r in results:
        for d in r.diagnostics:
            yield {
                "code": d.code,
                "message": d.message,
                "filename": display_path(r.path),
                "location": {"row": d.line, "column": d.column},
                "end_location": {"row": d.end_line, "column": d.end_column},
                "fix": None
                if d.applicability is None
                else {
                    "applicability": d.applicability,
                    "message": d.fix_title,
                    "edits": [
                        {
                            "content": e.content,
                            "location": {"row": e.line, "column": e.column},
                            "end_location": {
                                "row": e.end_line,
                                "column": e.end_column,
                            },
                        }
                        for e in d.edits
                    ],
                },
                "url": docs_url(d.code),
            }
    for r, error, line, column in errors(results):
        # As ruff reports a file it cannot parse: no code, no fix.
        yield {
            "code": None,
            "message": f"{error.kind} error: {error}",
            "filename": display_path(r.path),
            "location": {"row": line, "column": column},
            "end_location": {"row": line, "column": column},
            "fix": None,
            "url": None,
        }


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
    colour: bool = False,
) -> None:
    json.dump(list(rows(results)), out, indent=2)
    out.write("\n")
