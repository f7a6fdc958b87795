"""A module reprinted after edits reuses the text of the statements the edits
left alone (at the top, and in the blocks rebuilt around an edit), and must come
out as LibCST prints the whole module: on real files, with every kind of edit a
fix makes (a node replaced, a statement added or removed at the top or in a
block, the header's comments changed), and with the line endings and final
newline a file may have."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest
from syntax_sample import own_code_and_fixtures

from orm_modernize.data.records import Replacement
from orm_modernize.syntax import tree
from orm_modernize.syntax.positions import statement_lines
from orm_modernize.syntax.replace import Origins, replaced
from orm_modernize.syntax.reprint import reprinted

# An edit: the new module, and the nodes it rebuilt (as `replaced()` says).
Edit = Callable[[cst.Module], tuple[cst.Module, Origins]]


def _rename_each_nth(n: int, start: int = 0) -> Edit:
    """Every `n`th name from the `start`th renamed (longer, so that lines change
    length)."""

    def edit(module: cst.Module) -> tuple[cst.Module, Origins]:
        names = [node for node in tree.walk(module)[1] if isinstance(node, cst.Name)]
        edits = {
            id(name): name.with_changes(value=name.value + "_x")
            for name in names[start::n]
        }
        origins: Origins = {}
        return cast_module(replaced(module, edits, origins)), origins

    return edit


def _in_blocks(make: Callable[[cst.BaseStatement], Replacement]) -> Edit:
    """Every statement of an indented block that is not a block itself made
    into `make(statement)`, at each third block."""

    def edit(module: cst.Module) -> tuple[cst.Module, Origins]:
        blocks = [
            node for node in tree.walk(module)[1] if isinstance(node, cst.IndentedBlock)
        ]
        edits: dict[int, Replacement] = {
            id(statement): make(statement)
            for block in blocks[::3]
            for statement in block.body
            if isinstance(statement, cst.SimpleStatementLine)
        }
        origins: Origins = {}
        return cast_module(replaced(module, edits, origins)), origins

    return edit


def _doubled(statement: cst.BaseStatement) -> Replacement:
    return cst.FlattenSentinel([statement, statement.deep_clone()])


def _removed(statement: cst.BaseStatement) -> Replacement:
    return cst.RemoveFromParent()


def _without(change: Callable[[cst.Module], cst.Module]) -> Edit:
    return lambda module: (change(module), {})


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
    "rename-one-in-forty-later": _rename_each_nth(40, start=17),
    "block-statements-doubled": _in_blocks(_doubled),
    "block-statements-removed": _in_blocks(_removed),
    "import-added": _without(_import_added),
    "first-removed": _without(_first_removed),
    "last-removed": _without(_last_removed),
    "header-changed": _without(_header_changed),
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


class Nested(  # a comment in the header
    Base,
):  # after the colon
    # before the first statement
    a = 1

    @property
    # between decorator and def
    def b(self): return 2

    class Inner:
        c = 3
            # deeper than the block
        # at the block's indentation
    # at the class's

    async def d(self):
        async with x as y:
            for z in y:
                while z:
                    z -= 1
        if y:
            pass
        else:
            pass



def tabbed():
	if x:
		return 4
	# after a tabbed block


def outer():
    def inner():
        pass  # trailing
    return inner


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
        new, origins = EDITS[name](module)
        assert reprinted(module, code, lines, new, origins) == new.code, name
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
    assert _check(
        code,
        ["rename-some", "rename-one-in-forty-later", "block-statements-doubled"]
        + ["import-added", "last-removed"],
    )
