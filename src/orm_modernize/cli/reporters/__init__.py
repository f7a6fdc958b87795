"""Output formats: each module's `report(results, out, settings, *, quiet)` only
formats; `quiet` drops the summary of the human formats. A format's module is
imported when it is chosen (XML and hashing cost the one-file run otherwise)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Protocol, TextIO

from orm_modernize.data.records import FileResult, Settings

FORMATS = (
    "text",
    "concise",
    "json",
    "json-lines",
    "github",
    "gitlab",
    "sarif",
    "junit",
)


class Report(Protocol):
    def __call__(
        self,
        results: Sequence[FileResult],
        out: TextIO,
        settings: Settings,
        *,
        quiet: bool = False,
        colour: bool = False,
    ) -> None: ...


def reporter(name: str) -> Report:
    """The `report` function of the format `name` (one of `FORMATS`)."""
    if name not in FORMATS:
        raise ValueError(f"unknown output format: {name}")
    module = importlib.import_module(__name__ + "." + name.replace("-", "_"))
    report: Report = module.report
    return report
