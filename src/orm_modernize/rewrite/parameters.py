"""The parameters of a 1.x `execute()` call, as the one argument 2.0 takes.

1.x `Connection.execute(statement, *multiparams, **params)` read its parameters
the way `_distill_params` did in 1.4: keywords are one named row; one dict is one
row; one list or tuple whose first item is a dict, list or tuple holds many rows
(executemany); any other list or tuple is one positional row; several arguments
are many rows when they are all dicts, lists or tuples, else one positional row.
2.0 takes exactly one `parameters` argument: a dict or a list of dicts for
`text()` and Core statements, and also tuples for `exec_driver_sql()`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.data.records import Refused
from orm_modernize.syntax.nodes import code_of


class Style(enum.Enum):
    NONE = "none"  # no parameters
    NAMED = "named"  # a dict, or a list of dicts
    POSITIONAL = "positional"  # a tuple, or a list of tuples
    UNKNOWN = "unknown"  # one expression we cannot see into: passed on as it is


@dataclass(frozen=True)
class Parameters:
    value: cst.BaseExpression | None  # the one 2.0 argument; None: no parameters
    style: Style
    changed: bool  # the 1.x arguments were not already that one argument


ROWS = (cst.Dict, cst.List, cst.Tuple)
LITERALS = (
    cst.Integer,
    cst.Float,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.UnaryOperation,
)


def distilled(args: Sequence[cst.Arg]) -> Parameters:
    """The one 2.0 parameters argument for the 1.x arguments after the statement;
    Refused when their meaning depends on values we cannot see."""
    if len(args) == 1 and args[0].star == "**":  # keywords from a mapping: one row
        return Parameters(args[0].value, Style.NAMED, changed=True)
    if any(a.star for a in args):
        raise Refused("`*args` / `**kwargs` parameters cannot be read")
    positional = [a.value for a in args if a.keyword is None]
    named = [a for a in args if a.keyword is not None]
    if named and positional:
        raise Refused("both positional and keyword parameters")
    if named:
        return Parameters(_dict(named), Style.NAMED, changed=True)
    if not positional:
        return Parameters(None, Style.NONE, changed=False)
    if len(positional) == 1:
        return _one(positional[0])
    if all(isinstance(p, cst.Dict) for p in positional):
        return Parameters(_list(positional), Style.NAMED, changed=True)
    if all(isinstance(p, (cst.Tuple, cst.List)) for p in positional):
        rows = [_tuple(p) for p in positional]
        return Parameters(_list(rows), Style.POSITIONAL, changed=True)
    if all(_is_scalar(p) for p in positional):
        return Parameters(_tuple_of(positional), Style.POSITIONAL, changed=True)
    raise Refused(
        f"cannot tell whether `{', '.join(code_of(p) for p in positional)}` are"
        " several rows or the values of one"
    )


def _one(value: cst.BaseExpression) -> Parameters:
    if isinstance(value, cst.Dict):
        return Parameters(value, Style.NAMED, changed=False)
    if _is_scalar(value):  # one value: a positional row of one
        return Parameters(_tuple_of([value]), Style.POSITIONAL, changed=True)
    if not isinstance(value, (cst.List, cst.Tuple)):
        return Parameters(value, Style.UNKNOWN, changed=False)
    items = [e.value for e in value.elements if isinstance(e, cst.Element)]
    if len(items) != len(value.elements):
        raise Refused(f"`{code_of(value)}` cannot be read")
    if not items:
        return Parameters(None, Style.NONE, changed=True)
    if all(isinstance(i, cst.Dict) for i in items):
        return Parameters(
            _list(items), Style.NAMED, changed=isinstance(value, cst.Tuple)
        )
    if all(isinstance(i, (cst.Tuple, cst.List)) for i in items):
        rows = [_tuple(i) for i in items]
        changed = not (
            isinstance(value, cst.List) and all(isinstance(i, cst.Tuple) for i in items)
        )
        if not changed:
            return Parameters(value, Style.POSITIONAL, changed=False)
        return Parameters(_list(rows), Style.POSITIONAL, changed=True)
    if any(isinstance(i, ROWS) for i in items):
        raise Refused(f"`{code_of(value)}` mixes rows and values")
    if all(_is_scalar(i) for i in items):
        if isinstance(value, cst.Tuple):
            return Parameters(value, Style.POSITIONAL, changed=False)
        return Parameters(_tuple_of(items), Style.POSITIONAL, changed=True)
    raise Refused(f"cannot tell whether `{code_of(value)}` holds rows or values")


def _is_scalar(node: cst.BaseExpression) -> bool:
    """A value that cannot be a row: a literal (a name could hold a dict)."""
    return isinstance(node, LITERALS) or (
        isinstance(node, cst.Name) and node.value in ("None", "True", "False")
    )


def _dict(named: Sequence[cst.Arg]) -> cst.Dict:
    return cst.Dict(
        [
            cst.DictElement(cst.SimpleString(f'"{a.keyword.value}"'), a.value)
            for a in named
            if a.keyword is not None
        ]
    )


def _list(items: Sequence[cst.BaseExpression]) -> cst.List:
    return cst.List([cst.Element(i) for i in items])


def _tuple(row: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(row, cst.List):
        return _tuple_of([e.value for e in row.elements])
    return row


def _tuple_of(items: Sequence[cst.BaseExpression]) -> cst.Tuple:
    elements = [cst.Element(i) for i in items]
    if len(elements) == 1:  # (x,)
        elements = [cst.Element(items[0], comma=cst.Comma())]
    return cst.Tuple(elements)


# Annotations of a value 1.x read as one parameter, and of a row or rows.
SCALAR_TYPES = frozenset(
    {"int", "str", "float", "bool", "bytes", "Decimal", "date", "datetime", "UUID"}
)
ROW_TYPES = frozenset(
    {"list", "tuple", "dict", "List", "Tuple", "Dict", "Sequence", "Mapping"}
)
# A name that holds a row or rows: `rows`, `params`, `values`, ... (a guess)
ROWS_NAME = re.compile(r"(?:.*[^s]s|params|args|parameters|data|batch|row)$")
# Driver placeholders outside quotes: positional (`?`, `%s`) and named
POSITIONAL_MARK = re.compile(r"\?|%s")
NAMED_MARK = re.compile(r"%\(\w+\)s|(?<![:\w]):\w")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def one_driver_parameter(
    parameters: Parameters, sql: str | None, core: CoreObjects
) -> tuple[Parameters, bool]:
    """The `exec_driver_sql()` argument for one 1.x parameter argument that is not
    a literal dict, list or tuple, and whether that is exact. 1.x judged it by its
    type at run time: a dict was a named row, a list or tuple a row or rows, any
    other value one positional value (`(value,)` in 2.x, which rejects a bare
    one). The value's bindings or annotation say which it is; without them, the
    SQL's placeholders, then the name (`rows` holds rows), guess."""
    value = parameters.value
    if parameters.style is not Style.UNKNOWN or value is None:
        return parameters, parameters.style is not Style.UNKNOWN
    kind = _value_kind(value, core)
    if kind == "rows":
        return parameters, False  # a list of values was one row in 1.x, not in 2.x
    if kind is None and sql is not None:
        bare = QUOTED.sub("", sql)
        if NAMED_MARK.search(bare) or len(POSITIONAL_MARK.findall(bare)) != 1:
            return parameters, False
    if kind is None and isinstance(value, (cst.Name, cst.Attribute)):
        name = value.value if isinstance(value, cst.Name) else value.attr.value
        if ROWS_NAME.match(name.lower()):
            return parameters, False
    one = Parameters(_tuple_of([value]), Style.POSITIONAL, changed=True)
    return one, kind == "scalar"


def _value_kind(
    value: cst.BaseExpression, core: CoreObjects
) -> Literal["scalar", "rows"] | None:
    if _is_scalar(value) or core.sql_string(value)[0]:
        return "scalar"
    if isinstance(value, (*ROWS, cst.ListComp, cst.DictComp)):
        return "rows"
    if not isinstance(value, cst.Name):
        return None
    kinds = set()
    for bound in core.semantic.assigned_values(value):
        if isinstance(bound, cst.Param):
            kinds.add(_annotated_kind(bound.annotation))
        elif isinstance(bound, cst.BaseExpression):
            kinds.add(
                _value_kind(bound, core) if not isinstance(bound, cst.Name) else None
            )
        else:
            kinds.add(None)
    return kinds.pop() if len(kinds) == 1 else None


def _annotated_kind(
    annotation: cst.Annotation | None,
) -> Literal["scalar", "rows"] | None:
    node = annotation.annotation if annotation is not None else None
    if isinstance(node, cst.Subscript):
        node = node.value
    name = (
        node.value
        if isinstance(node, cst.Name)
        else node.attr.value
        if isinstance(node, cst.Attribute)
        else None
    )
    if name in SCALAR_TYPES:
        return "scalar"
    return "rows" if name in ROW_TYPES else None
