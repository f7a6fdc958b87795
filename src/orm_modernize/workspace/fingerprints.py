"""Fingerprints of findings that survive edits elsewhere in the file.

A finding is known by its file, its code and its source text (whitespace
collapsed, so reformatting keeps it), and by its rank among the findings of that
file with the same code and text: moving the code, or editing other lines, keeps
the fingerprint; editing the flagged code itself makes a new finding. The line
number and the message (some messages name another line) are left out on purpose.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from orm_modernize.data.records import Diagnostic, FileResult
from orm_modernize.syntax.noqa import source_lines


@dataclass(frozen=True)
class Fingerprinted:
    diagnostic: Diagnostic
    snippet: str  # the finding's source text, whitespace collapsed
    fingerprint: str


def fingerprinted(result: FileResult, path: str) -> Iterator[Fingerprinted]:
    """The diagnostics of `result` with their fingerprints; `path` is the file's
    name as the fingerprints should know it (relative, with `/`)."""
    lines = source_lines(result.source) if result.diagnostics else []
    seen: dict[tuple[str, str], int] = {}
    for diagnostic in result.diagnostics:
        snippet = " ".join(_text(lines, diagnostic).split())
        same = (diagnostic.code, snippet)
        rank = seen[same] = seen.get(same, 0) + 1
        key = "\0".join([path, diagnostic.code, snippet, str(rank)]).encode()
        digest = hashlib.blake2b(key, digest_size=8).hexdigest()
        yield Fingerprinted(diagnostic, snippet, digest)


def _text(lines: list[str], d: Diagnostic) -> str:
    if not lines or d.end_line > len(lines):
        return ""
    if d.line == d.end_line:
        return lines[d.line - 1][d.column - 1 : d.end_column - 1]
    first = lines[d.line - 1][d.column - 1 :]
    middle = lines[d.line : d.end_line - 1]
    return first + "".join(middle) + lines[d.end_line - 1][: d.end_column - 1]
