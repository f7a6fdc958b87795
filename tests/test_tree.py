"""The fast replacements of LibCST's metadata must agree with it on every construct
of the language: tree.walk() gives the same parents, and the nodes in the order
LibCST's visitors meet them (whitespace aside); Positions the same ranges."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from orm_modernize import tree
from orm_modernize.positions import Positions
from orm_modernize.rule import Rule

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
    own = sorted((ROOT / "src" / "orm_modernize").rglob("*.py"))
    fixtures = sorted((ROOT / "fixtures").rglob("*_before.py"))[:40]
    return [("every construct", EVERY_CONSTRUCT)] + [
        (str(p.relative_to(ROOT)), p.read_text()) for p in own + fixtures
    ]


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.seen.append(node)
        return True


WHITESPACE = (
    cst.SimpleWhitespace,
    cst.ParenthesizedWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Newline,
    cst.Comment,
)


@pytest.mark.parametrize(("name", "code"), sources(), ids=lambda v: v[:40])
def test_walk_agrees_with_libcst(name: str, code: str) -> None:
    module = cst.parse_module(code)
    parents, order = tree.walk(module)
    assert parents == dict(
        MetadataWrapper(module, unsafe_skip_copy=True).resolve(ParentNodeProvider)
    )
    recorder = _Recorder()
    module.visit(recorder)
    expected = [n for n in recorder.seen if not isinstance(n, WHITESPACE)]
    walked = [n for n in order if not isinstance(n, WHITESPACE)]
    assert [type(n).__name__ for n in walked] == [type(n).__name__ for n in expected]
    assert all(a is b for a, b in zip(walked, expected))


@pytest.mark.parametrize(("name", "code"), sources(), ids=lambda v: v[:40])
def test_positions_agree_with_libcst(name: str, code: str) -> None:
    module = cst.parse_module(code)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = Positions(module)
    assert all(positions[node] == where for node, where in expected.items())


def test_positions_of_crlf_and_cr_line_endings() -> None:
    module = cst.parse_module("x = 1\r\ny = f(\r\n    2)\r\n")
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = Positions(module)
    assert all(positions[node] == where for node, where in expected.items())


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
