"""A module reprinted after edits reuses the text of the top-level statements
the edits left alone, and must come out as LibCST prints the whole module: on
real files, with every kind of edit a fix makes (a node replaced, a statement
added or removed at the top, the header's comments changed), and with the line
endings and final newline a file may have."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest
from syntax_sample import own_code_and_fixtures

from orm_modernize.syntax import tree
from orm_modernize.syntax.positions import statement_lines
from orm_modernize.syntax.replace import replaced
from orm_modernize.syntax.reprint import reprinted

Edit = Callable[[cst.Module], cst.Module]


def _rename_each_nth(n: int) -> Edit:
    """Every `n`th name renamed (longer, so that lines change length)."""

    def edit(module: cst.Module) -> cst.Module:
        names = [node for node in tree.walk(module)[1] if isinstance(node, cst.Name)]
        edits = {
            id(name): name.with_changes(value=name.value + "_x") for name in names[::n]
        }
        return cast_module(replaced(module, edits))

    return edit


def _import_added(module: cst.Module) -> cst.Module:
    line = cst.parse_statement("from sqlalchemy import select\n")
    return module.with_changes(body=[line, *module.body])


def _first_removed(module: cst.Module) -> cst.Module:
    return module.with_changes(body=module.body[1:])


def _last_removed(module: cst.Module) -> cst.Module:
    return module.with_changes(body=module.body[:-1])


def _header_changed(module: cst.Module) -> cst.Module:
    comment = cst.EmptyLine(comment=cst.Comment("# a new first line"))
    return module.with_changes(header=[comment, *module.header])


EDITS: dict[str, Edit] = {
    "rename-some": _rename_each_nth(7),
    "rename-one-in-forty": _rename_each_nth(40),
    "import-added": _import_added,
    "first-removed": _first_removed,
    "last-removed": _last_removed,
    "header-changed": _header_changed,
}


def cast_module(node: cst.CSTNode) -> cst.Module:
    assert isinstance(node, cst.Module)
    return node


# The layouts that decide where a statement's text begins and ends.
LAYOUTS = """\
#!/usr/bin/env python
# a header comment

\"\"\"The docstring.\"\"\"
import os; import sys  # two on a line
# a comment before a decorator
@decorator
# a comment between decorators
@other(
    argument,
)

def decorated():
    pass
    # a comment ending the block, indented as it


class Table(Base):
    __tablename__ = "table"

    def method(self):
        x = 1 + \\
            2
        return x
# a comment at column 0 after a class


if x:
    y = 1
elif z:
    y = 2
else:
    y = 3
try:
    pass
except Exception:  # why
    raise
finally:
    pass
value = [
    1,
    2,
]

# the footer
"""


def _variants(text: str) -> dict[str, str]:
    """The file as it is, with Windows line ends, and without its final newline."""
    return {
        "as-is": text,
        "crlf": text.replace("\n", "\r\n"),
        "no-final-newline": text.rstrip("\n"),
    }


def _check(code: str, edits: list[str]) -> bool:
    """Each edit's module reprinted as LibCST prints it; whether Python's parser
    read the module (else everything is printed anew)."""
    module = cst.parse_module(code)
    lines = statement_lines(module, code.encode())
    for name in edits:
        new = EDITS[name](module)
        assert reprinted(module, code, lines, new) == new.code, name
    return lines is not None


@pytest.mark.parametrize("variant", ["as-is", "crlf", "no-final-newline"])
def test_every_layout_is_reprinted_as_libcst_prints_it(variant: str) -> None:
    assert _check(_variants(LAYOUTS)[variant], list(EDITS))


SAMPLE = [
    path
    for path in own_code_and_fixtures()
    if b"def " in path.read_bytes() or b"class " in path.read_bytes()
]


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.name))
def test_real_modules_are_reprinted_as_libcst_prints_them(path: Path) -> None:
    code = path.read_text(encoding="utf-8")
    try:
        cst.parse_module(code)
    except cst.ParserSyntaxError:
        pytest.skip("a fixture of bad input")
    assert _check(code, ["rename-some", "import-added", "last-removed"])
