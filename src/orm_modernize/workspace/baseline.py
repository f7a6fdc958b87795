"""A baseline of known findings, for adopting the check as a gate before migrating.

`check --baseline FILE --update-baseline` records every current finding in FILE;
`check --baseline FILE` then reports only the findings it does not record. Findings
are recorded by fingerprint (see `fingerprints.py`), so moving code or editing
other lines does not bring them back, and with paths relative to FILE's directory,
so the baseline holds whatever directory the check runs from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from orm_modernize.data.records import FileResult
from orm_modernize.workspace.atomic import write_atomically
from orm_modernize.workspace.fingerprints import fingerprinted

FORMAT = 1
SNIPPET = 80  # characters of the flagged code kept for the reader of the file


class BaselineError(Exception):
    """A baseline file that cannot be read; the message names it."""


@dataclass(frozen=True)
class Filtered:
    results: list[FileResult]  # with the recorded findings taken out
    matched: int  # findings the baseline records
    stale: int  # recorded findings of the files checked that no longer occur


Entry = dict[str, str]  # file, code, code_text, fingerprint


def load(path: Path) -> list[Entry]:
    """The findings recorded in `path`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"{path}: no such baseline (write it with --update-baseline)"
        ) from None
    except OSError as error:
        raise BaselineError(f"{path}: cannot read: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"{path}: not a baseline: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f"{path}: not a baseline of this version of orm-modernize")
    findings = data.get("findings")
    if not isinstance(findings, list) or not all(
        isinstance(f, dict)
        and isinstance(f.get("file"), str)
        and isinstance(f.get("fingerprint"), str)
        for f in findings
    ):
        raise BaselineError(f"{path}: not a baseline: `findings` is malformed")
    return findings


def write(
    path: Path, results: Sequence[FileResult], previous: Sequence[Entry] = ()
) -> int:
    """Record every finding of `results` in `path`, keeping what `previous`
    recorded of the files this run did not check; returns how many it records."""
    checked = {_relative(result.path, path.parent) for result in results}
    findings = [entry for entry in previous if entry["file"] not in checked]
    findings += [
        {
            "file": name,
            "code": f.diagnostic.code,
            "code_text": f.snippet[:SNIPPET],
            "fingerprint": f.fingerprint,
        }
        for result in results
        for name in (_relative(result.path, path.parent),)
        for f in fingerprinted(result, name)
    ]
    findings.sort(key=lambda f: (f["file"], f["code"], f["fingerprint"]))
    text = json.dumps({"format": FORMAT, "findings": findings}, indent=2) + "\n"
    write_atomically(path, text.encode())
    return len(findings)


def without_known(
    results: Sequence[FileResult], entries: Sequence[Entry], path: Path
) -> Filtered:
    """`results` less the findings that the baseline at `path` records."""
    known = {entry["fingerprint"] for entry in entries}
    kept: list[FileResult] = []
    matched: set[str] = set()
    checked: set[str] = set()
    for result in results:
        name = _relative(result.path, path.parent)
        checked.add(name)
        new = []
        for f in fingerprinted(result, name):
            if f.fingerprint in known:
                matched.add(f.fingerprint)
            else:
                new.append(f.diagnostic)
        kept.append(replace(result, diagnostics=tuple(new)))
    stale = {
        e["fingerprint"]
        for e in entries
        if e["file"] in checked and e["fingerprint"] not in matched
    }
    return Filtered(kept, len(matched), len(stale))


def _relative(path: Path, directory: Path) -> str:
    absolute = os.path.abspath(path)
    try:
        return Path(os.path.relpath(absolute, os.path.abspath(directory))).as_posix()
    except ValueError:  # another drive, on Windows
        return Path(absolute).as_posix()
