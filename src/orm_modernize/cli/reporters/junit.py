"""JUnit XML: a test suite per file, a failing test case per finding, for CI
systems that show test reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TextIO

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
    total = sum(len(r.diagnostics) for r in results)
    root = ET.Element(
        "testsuites",
        name="orm-modernize",
        tests=str(total),
        failures=str(total),
        errors="0",
    )
    for result in results:
        if not result.diagnostics:
            continue
        name = display_path(result.path)
        count = str(len(result.diagnostics))
        suite = ET.SubElement(
            root, "testsuite", name=name, tests=count, failures=count, errors="0"
        )
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
