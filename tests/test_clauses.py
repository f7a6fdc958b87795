"""Unpacking a 1.x list argument and dropping arguments, on shapes the fixtures
do not hold."""

from __future__ import annotations

import libcst as cst
import pytest

from orm_modernize.rewrite.clauses import unpacked, with_arguments


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("select([])", "select()"),
        ("select([], x=1)", "select(x=1)"),
        ("select([a, b])", "select(a, b)"),
        ("case([a], else_=b)", "case(a, else_=b)"),
        ("select([c for c in t.c])", "select(*[c for c in t.c])"),
    ],
)
def test_unpacked(source: str, expected: str) -> None:
    call = cst.parse_expression(source)
    assert isinstance(call, cst.Call)
    items, rest = call.args[0].value, call.args[1:]
    assert cst.Module([]).code_for_node(unpacked(call, items, rest)) == expected


@pytest.mark.parametrize(
    ("source", "keep", "expected"),
    [
        ("f(a, future=True)", 1, "f(a)"),
        ("f(\n    a,\n    future=True,\n)", 1, "f(\n    a,\n)"),
        ("f(\n    future=True,\n)", 0, "f()"),
        ("f(future=True)", 0, "f()"),
    ],
)
def test_with_arguments_keeps_the_layout(source: str, keep: int, expected: str) -> None:
    call = cst.parse_expression(source)
    assert isinstance(call, cst.Call)
    new = with_arguments(call, list(call.args[:keep]))
    assert cst.Module([]).code_for_node(new) == expected
