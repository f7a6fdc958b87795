"""GitHub Actions workflow commands: each finding an `::error` annotation on its
line of the pull request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from orm_modernize.cli.reporters import errors
from orm_modernize.cli.reporters.text import display_path
from orm_modernize.data.records import FileResult, Settings


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
    colour: bool = False,
) -> None:
    for result in results:
        name = display_path(result.path)
        for d in result.diagnostics:
            properties = ",".join(
                [
                    f"title={_property(f'orm-modernize ({d.code})')}",
                    f"file={_property(str(result.path.resolve()))}",
                    f"line={d.line}",
                    f"col={d.column}",
                    f"endLine={d.end_line}",
                    f"endColumn={d.end_column}",
                ]
            )
            text = f"{name}:{d.line}:{d.column}: {d.code} {d.message}"
            if d.fix_title:
                text += f"\n  help: {d.fix_title}"
            out.write(f"::error {properties}::{_data(text)}\n")
    for located in errors(results):
        where = ",".join(
            [
                f"title={_property('orm-modernize (error)')}",
                f"file={_property(str(located.result.path.resolve()))}",
                f"line={located.line}",
                f"col={located.column}",
            ]
        )
        text = f"{display_path(located.result.path)}: {located.error}"
        out.write(f"::error {where}::{_data(text)}\n")


def _data(text: str) -> str:
    """What a workflow command's message may not hold verbatim."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
