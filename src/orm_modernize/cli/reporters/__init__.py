"""Output formats: each module's `report(results, out, settings, *, quiet)` only
formats; `quiet` drops the summary of the human formats. A format's module is
imported when it is chosen (XML and hashing cost the one-file run otherwise).

A file that could not be checked, read or written is on standard error in every
format, and the machine formats carry it too, the way their readers expect (a
dashboard must not show a clean run): `errors()` gives them where it is known."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol, TextIO

from orm_modernize.data.records import FileError, FileResult, Settings

FORMATS = (
    "text",
    "full",
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


def repository_path(path: Path) -> str:
    """`path` relative to the top of the git repository holding the working
    directory (else to the working directory), with `/`: what GitLab and code
    scanning expect, and a fingerprint that does not depend on where the run
    started."""
    from orm_modernize.workspace.git_index import repository_top

    here = os.getcwd()
    top = repository_top(here) or here
    return Path(os.path.relpath(os.path.abspath(path), top)).as_posix()


class Located(NamedTuple):
    result: FileResult
    error: FileError
    line: int  # 1 when the error names no place in the file
    column: int


def errors(results: Sequence[FileResult]) -> Iterator[Located]:
    """Each file's errors, at the place the message names, else at its start."""
    for result in results:
        for error in result.errors:
            yield Located(result, error, *error.place)
