"""SARIF 2.1.0, for GitHub code scanning and other tools that read static analysis
results: one run, every rule described (with its docs and a link to them), one
result per finding with its region in the file, its fingerprint (the one GitLab's
report carries) and its fix as replacements."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from orm_modernize import __version__
from orm_modernize.cli.reporters import errors, repository_path
from orm_modernize.cli.reporters.text import display_path
from orm_modernize.data.codes import docs_url
from orm_modernize.data.records import Diagnostic, FileResult, Settings
from orm_modernize.workspace.fingerprints import fingerprinted

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
ROOT = "%SRCROOT%"  # results name files relative to the working directory


def report(
    results: Sequence[FileResult],
    out: TextIO,
    settings: Settings,
    *,
    quiet: bool = False,
    colour: bool = False,
) -> None:
    from orm_modernize.rules import ALL_RULES

    index = {rule.code: i for i, rule in enumerate(ALL_RULES)}
    found_results: list[dict[str, Any]] = []
    for result in results:
        uri = Path(display_path(result.path)).as_posix()
        for found in fingerprinted(result, repository_path(result.path)):
            d = found.diagnostic
            fix = f" ({d.applicability} fix: {d.fix_title})" if d.applicability else ""
            entry: dict[str, Any] = {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": "error",
                "message": {"text": f"{d.message}{fix}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri, "uriBaseId": ROOT},
                            "region": _region(
                                d.line, d.column, d.end_line, d.end_column
                            ),
                        }
                    }
                ],
                # Code scanning matches a result across commits by it.
                "partialFingerprints": {"ormModernize/v1": found.fingerprint},
            }
            if d.edits:
                entry["fixes"] = [_fix(d, uri)]
            found_results.append(entry)
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.message},
            "fullDescription": {"text": _what_it_does(rule.docs())},
            "help": {"text": rule.docs(), "markdown": rule.docs()},
            **({"helpUri": url} if (url := docs_url(rule.code)) else {}),
            "properties": {"fix": rule.fix_availability},
        }
        for rule in ALL_RULES
    ]
    driver: dict[str, Any] = {
        "name": "orm-modernize",
        "version": __version__,
        "rules": rules,
    }
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                # Our columns count code points, not SARIF's default UTF-16 units.
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": {ROOT: {"uri": _directory_uri(os.getcwd())}},
                "results": found_results,
                "invocations": [_invocation(results)],
            }
        ],
    }
    json.dump(log, out, indent=2)
    out.write("\n")


def _region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    return {
        "startLine": line,
        "startColumn": column,
        "endLine": end_line,
        "endColumn": end_column,
    }


def _fix(d: Diagnostic, uri: str) -> dict[str, Any]:
    """The finding's fix as SARIF's replacements of regions of the file."""
    return {
        "description": {"text": f"{d.fix_title} ({d.applicability} fix)"},
        "artifactChanges": [
            {
                "artifactLocation": {"uri": uri, "uriBaseId": ROOT},
                "replacements": [
                    {
                        "deletedRegion": _region(
                            e.line, e.column, e.end_line, e.end_column
                        ),
                        "insertedContent": {"text": e.content},
                    }
                    for e in d.edits
                ],
            }
        ],
    }


def _invocation(results: Sequence[FileResult]) -> dict[str, Any]:
    """Whether the run checked everything, and a notification for each file it
    could not (read, parse, write) or each fix it dropped."""
    notes = [
        {
            "level": "error",
            "message": {"text": f"{located.error.kind} error: {located.error}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": Path(display_path(located.result.path)).as_posix(),
                            "uriBaseId": ROOT,
                        },
                        "region": {
                            "startLine": located.line,
                            "startColumn": located.column,
                        },
                    }
                }
            ],
        }
        for located in errors(results)
    ]
    return {"executionSuccessful": not notes, "toolExecutionNotifications": notes}


def _what_it_does(docs: str) -> str:
    section = docs.split("## What it does", 1)[-1].split("\n## ", 1)[0]
    return " ".join(section.split())


def _directory_uri(path: str) -> str:
    uri = Path(path).resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"
