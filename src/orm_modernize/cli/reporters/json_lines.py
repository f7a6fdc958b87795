"""One JSON object per line per finding, in the shape of ruff's `json-lines`:
for tools that stream."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from orm_modernize.cli.reporters.json import rows
from orm_modernize.data.records import FileResult, Settings


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
    colour: bool = False,
) -> None:
    for row in rows(results):
        out.write(json.dumps(row) + "\n")
