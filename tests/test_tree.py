"""The fast replacements of LibCST's metadata must agree with it on every construct
of the language: tree.walk() gives the same parents, and the nodes in the order
LibCST's visitors meet them (whitespace aside); Positions the same ranges."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider
from syntax_sample import own_code_and_fixtures

from orm_modernize.rules.base import Rule
from orm_modernize.syntax import tree
from orm_modernize.syntax.positions import Positions, statement_lines

ROOT = Path(__file__).resolve().parents[1]
EVERY_CONSTRUCT = """\
from .. import a as b, c
from ...pkg.mod import (d, e as f)
import g.h as i

@decorator(arg=1)
@other
class K(Base, metaclass=Meta):
    x: int = field(default=1)

    @property
    async def m(self, a, /, b: int = 2, *args, c=3, **kw) -> Ret:
        async for p, q in aiter():
            async with ctx() as r, other():
                y = [s async for s in t if s if not s]
        return (yield z) if a else await w

def n(*, k=lambda u, v=1: u[1:2, ::3]):
    global G
    try:
        pass
    except* ValueError as e:
        raise Other from e
    try:
        assert n, f"{k=!r:>{width}}"
    except (A, B):
        del x[0], y.z
    else:
        pass
    finally:
        pass
    while (walrus := next(it)) is not None:
        x @= {**a, 'k': v, **{c: d for c, d in e.items()}}
    match command:
        case Point(x=0, y=0) | [1, *rest] if rest:
            pass
        case {"k": v, **others}:
            pass
        case _:
            pass
    return not a or b and -c ** d in e
"""


def sources() -> list[tuple[str, str]]:
    return [("every construct", EVERY_CONSTRUCT)] + [
        (str(p.relative_to(ROOT)), p.read_text()) for p in own_code_and_fixtures()
    ]


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.seen.append(node)
        return True


def _code(nodes: Iterable[cst.CSTNode]) -> list[cst.CSTNode]:
    return [n for n in nodes if type(n) not in tree.SYNTAX]


@pytest.mark.parametrize(("name", "code"), sources(), ids=lambda v: v[:40])
def test_walk_agrees_with_libcst(name: str, code: str) -> None:
    """Every node that holds code, none other, with LibCST's parent, in the order
    LibCST's visitors meet them."""
    module = cst.parse_module(code)
    parents, order = tree.walk(module)
    expected_parents = MetadataWrapper(module, unsafe_skip_copy=True).resolve(
        ParentNodeProvider
    )
    assert parents == {
        node: parent
        for node, parent in expected_parents.items()
        if type(node) not in tree.SYNTAX
    }
    recorder = _Recorder()
    module.visit(recorder)
    expected = _code(recorder.seen)
    assert len(order) == len(expected) < len(recorder.seen)
    assert [type(n).__name__ for n in order] == [type(n).__name__ for n in expected]
    assert all(a is b for a, b in zip(order, expected))


@pytest.mark.parametrize(("name", "code"), sources(), ids=lambda v: v[:40])
def test_positions_agree_with_libcst(name: str, code: str) -> None:
    """Printing the whole module, and printing only the statement around each node
    (anchored on the lines Python's parser gives)."""
    module = cst.parse_module(code)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    whole = Positions(module)
    assert all(whole[node] == where for node, where in expected.items())
    anchored = Positions(module, tree.walk(module)[0], code.encode())
    assert statement_lines(module, code.encode()) is not None
    assert all(anchored[node] == where for node, where in expected.items())
    assert all(anchored.start(node) == where.start for node, where in expected.items())


def test_positions_of_a_syntax_newer_than_the_running_python() -> None:
    """`ast` cannot read it (before 3.12): the whole module is printed instead."""
    code = "type Pair = tuple[int, int]\nx = f(\n    1)\n"
    module = cst.parse_module(code)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    anchored = Positions(module, tree.walk(module)[0], code.encode())
    assert all(anchored[node] == where for node, where in expected.items())


@pytest.mark.parametrize(
    "code",
    [
        "x = 1\r\ny = f(\r\n    2)\r\n",
        "if a:\n\tif b:\n\t\tx = f(\n  1,\n\t\t2)\n\telse: y = 1; z = 2\n",
        "# coding: latin-1\n\x0cs = 'caf\xe9'; t = g(s)\nu = \\\n    h(t)\n",
        "@d\n# between\n@e(1)\nasync def f():\n    try:\n        pass\n"
        "    except* E:\n        pass\n    finally:\n        return [w for w in v]\n",
        "if a:\n    pass\nelif b:\n  # c\n\n  while d: pass\n"
        "else:\n\tclass E(F): x = 1\n",
    ],
)
def test_positions_of_line_endings_and_layouts(code: str) -> None:
    source = code.encode("latin-1")
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for positions in (
        Positions(module),
        Positions(module, tree.walk(module)[0], source),
    ):
        assert all(positions[node] == where for node, where in expected.items())
        assert all(positions.start(n) == where.start for n, where in expected.items())
    assert statement_lines(module, source) is not None


def test_dispatch_calls_a_rules_own_visit_methods_in_order() -> None:
    seen: list[str] = []

    class Names(cst.BatchableCSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            seen.append(node.value)

    module = cst.parse_module("@d\ndef f(a=b):\n    return c if e else g\n")
    tree.dispatch(tree.walk(module)[1], [Names()])
    assert seen == ["d", "f", "a", "b", "c", "e", "g"]


def test_dispatch_refuses_a_rule_that_leaves() -> None:
    class Leaves(Rule):
        def leave_Name(self, node: cst.Name) -> None:
            pass

    with pytest.raises(TypeError, match="rules only visit"):
        tree.dispatch([], [Leaves.__new__(Leaves)])
