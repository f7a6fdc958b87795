"""JUnit XML: a test suite per file, a failing test case per finding, for CI
systems that show test reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
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
    failed = {id(r): [e for e in errors([r])] for r in results if r.errors}
    total = sum(len(r.diagnostics) for r in results)
    wrong = sum(len(e) for e in failed.values())
    root = ET.Element(
        "testsuites",
        name="orm-modernize",
        tests=str(total + wrong),
        failures=str(total),
        errors=str(wrong),
    )
    for result in results:
        if not (result.diagnostics or result.errors):
            continue
        name = display_path(result.path)
        count = str(len(result.diagnostics))
        problems = failed.get(id(result), [])
        suite = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(result.diagnostics) + len(problems)),
            failures=count,
            errors=str(len(problems)),
        )
        for located in problems:  # the file, or a fix of it, went wrong
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"org.orm-modernize.{located.error.kind}-error",
                classname=name.removesuffix(".py"),
                line=str(located.line),
                column=str(located.column),
            )
            error = ET.SubElement(case, "error", message=str(located.error))
            error.text = f"line {located.line}, col {located.column}, {located.error}"
        for d in result.diagnostics:
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"org.orm-modernize.{d.code}",
                classname=name.removesuffix(".py"),
                line=str(d.line),
                column=str(d.column),
            )
            failure = ET.SubElement(case, "failure", message=d.message)
            failure.text = f"line {d.line}, col {d.column}, {d.message}"
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
