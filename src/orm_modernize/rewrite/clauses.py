"""The 1.x constructor arguments of Core statements (`select(..., order_by=...)`,
`insert(t, values=...)`, `union(a, b, limit=...)`) and the generative methods
that replace them in 2.0, shared by the ORM3xx rules."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Refused
from orm_modernize.rewrite.naming import Namer
from orm_modernize.syntax.nodes import code_of, is_constant, method

# keyword -> (the generative method that replaces it, whether the keyword took a
# list or a single element: `util.to_list()` in 1.4, so a list literal is unpacked)
METHODS: dict[str, tuple[str, bool]] = {
    "whereclause": ("where", False),
    "from_obj": ("select_from", True),
    "group_by": ("group_by", True),
    "having": ("having", False),
    "order_by": ("order_by", True),
    "limit": ("limit", False),
    "offset": ("offset", False),
    "prefixes": ("prefix_with", True),
    "suffixes": ("suffix_with", True),
    "returning": ("returning", True),
}
# Keywords whose True (False for `correlate`) becomes a method call
FLAGS = frozenset({"distinct", "for_update", "correlate", "use_labels", "inline"})
# Calls that make one column expression
SINGLE_CALLS = frozenset(
    {"desc", "asc", "nulls_first", "nulls_last", "nullsfirst", "nullslast"}
    | {"label", "collate", "text", "literal_column", "column", "and_", "or_", "not_"}
)


def clause(
    statement: cst.BaseExpression,
    keyword: str,
    value: cst.BaseExpression,
    name: Namer,
    semantic: Semantic,
) -> cst.BaseExpression:
    """`statement` with the clause that `keyword=value` gave the 1.x constructor,
    as a method call; Refused when no method says the same."""
    if keyword in METHODS:
        method_name, listed = METHODS[keyword]
        if not listed:
            return method(statement, method_name, value)
        if collection_kind(semantic, value) == "list" and not isinstance(
            value, cst.List
        ):  # a comprehension, or a name only ever bound to a list: spread it
            return cst.Call(
                cst.Attribute(statement, cst.Name(method_name)),
                args=[cst.Arg(value, star="*")],
            )
        return method(statement, method_name, *elements(keyword, value, method_name))
    if keyword == "distinct" and is_constant(value, "True"):
        return method(statement, "distinct")
    if keyword == "for_update" and is_constant(value, "True"):
        return method(statement, "with_for_update")
    if keyword == "inline" and is_constant(value, "True"):
        return method(statement, "inline")
    if keyword == "correlate" and is_constant(value, "False"):
        return method(statement, "correlate", cst.Name("None"))
    if keyword == "use_labels" and is_constant(value, "True"):
        style = name("sqlalchemy", "LABEL_STYLE_TABLENAME_PLUS_COL")
        if style is None:
            raise Refused("`LABEL_STYLE_TABLENAME_PLUS_COL` is taken in this module")
        return method(statement, "set_label_style", style)
    if keyword in FLAGS and _is_default(keyword, value):
        return statement
    raise Refused(f"`{keyword}={code_of(value)}` has no faithful 2.0 form here")


def elements(
    keyword: str, value: cst.BaseExpression, method_name: str
) -> list[cst.BaseExpression]:
    """The arguments of `.method_name(...)` for a keyword that took a list or one
    element: a literal list unpacked, or the one column expression."""
    if isinstance(value, (cst.List, cst.Tuple)) and not any(
        isinstance(e, cst.StarredElement) for e in value.elements
    ):
        return [e.value for e in value.elements]
    if is_single(value):
        return [value]
    raise Refused(
        f"`{keyword}={code_of(value)}` may be a list or one element;"
        f" write `.{method_name}(...)` by hand"
    )


def is_single(value: cst.BaseExpression) -> bool:
    """One column expression, never a list: `t.c.x`, `User.name`, `t.c.x.desc()`,
    `desc(t.c.x)`, `text("...")`. (`self.ordering` could hold a list.)"""
    if isinstance(value, cst.Call):
        func = value.func
        called = func.attr.value if isinstance(func, cst.Attribute) else None
        if isinstance(func, cst.Name):
            called = func.value
        return called in SINGLE_CALLS
    return is_column_attribute(value)


def is_column_attribute(value: cst.BaseExpression) -> bool:
    """`t.c.x`, `t.columns.x`, `User.name`: a column, never a list or a position."""
    if not isinstance(value, cst.Attribute):
        return False
    owner = value.value
    if isinstance(owner, cst.Attribute) and owner.attr.value in ("c", "columns"):
        return True
    return isinstance(owner, cst.Name) and owner.value[:1].isupper()


def collection_kind(semantic: Semantic, value: cst.BaseExpression) -> str | None:
    """ "list" or "dict" when `value` surely is one (a display, a comprehension,
    or a name only ever bound to one), else None."""
    if isinstance(value, (cst.List, cst.ListComp)):
        return "list"
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return "dict"
    if not isinstance(value, cst.Name):
        return None
    kinds = {
        collection_kind(semantic, v) if isinstance(v, cst.BaseExpression) else None
        for v in semantic.assigned_values(value)
    }
    return kinds.pop() if len(kinds) == 1 else None


def is_sequence(node: cst.BaseExpression) -> bool:
    """A list or tuple display, or a list comprehension."""
    return isinstance(node, (cst.List, cst.Tuple, cst.ListComp))


def unpacked(
    call: cst.Call, items: cst.BaseExpression, rest: Sequence[cst.Arg] = ()
) -> cst.Call:
    """`call` with the items of a list as its arguments, followed by `rest`:
    `[a, b]` -> `a, b`; a comprehension -> `*[...]`. A list spread over lines stays
    one item per line, comments kept, at the indentation of the call's arguments,
    and each of `rest` gets a line of its own."""
    rest = list(rest)
    if not isinstance(items, (cst.List, cst.Tuple)) or any(
        isinstance(e, cst.StarredElement) for e in items.elements
    ):
        spread = cst.Arg(items, star="*", comma=_comma(rest))
        return call.with_changes(args=without_trailing_comma([spread, *rest]))
    listed = list(items.elements)
    if not listed:  # select([]) -> select()
        return call.with_changes(args=without_trailing_comma(rest))
    if "\n" not in code_of(items):
        args = [cst.Arg(e.value, comma=e.comma) for e in listed]
        args[-1] = args[-1].with_changes(comma=_comma(rest))
        return call.with_changes(args=without_trailing_comma([*args, *rest]))
    opening = call.whitespace_before_args
    if isinstance(opening, cst.ParenthesizedWhitespace):  # select(\n    [\n ...
        closing = _closing(call)
    elif isinstance(items, cst.List):  # select([\n ...: the list's own lines
        opening = items.lbracket.whitespace_after
        closing = items.rbracket.whitespace_before
    else:
        raise Refused("a tuple spread over lines; unpack it by hand")
    if not isinstance(opening, cst.ParenthesizedWhitespace):
        raise Refused("the list's layout is unusual; unpack it by hand")
    args = []
    for element in listed[:-1]:
        comma = element.comma
        assert isinstance(comma, cst.Comma)
        after = comma.whitespace_after
        if isinstance(after, cst.ParenthesizedWhitespace):
            after = after.with_changes(last_line=opening.last_line)
        args.append(
            cst.Arg(element.value, comma=comma.with_changes(whitespace_after=after))
        )
    on_own_line = cst.Comma(whitespace_after=opening)
    args.append(cst.Arg(listed[-1].value, comma=on_own_line))
    args += [
        arg.with_changes(
            comma=on_own_line, whitespace_after_arg=cst.SimpleWhitespace("")
        )
        for arg in rest
    ]
    args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=closing))
    return call.with_changes(whitespace_before_args=opening, args=args)


def _comma(rest: Sequence[cst.Arg]) -> cst.Comma | cst.MaybeSentinel:
    return (
        cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        if rest
        else cst.MaybeSentinel.DEFAULT
    )


def without_trailing_comma(args: list[cst.Arg]) -> list[cst.Arg]:
    return [
        *args[:-1],
        *(a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in args[-1:]),
    ]


def _closing(call: cst.Call) -> cst.BaseParenthesizableWhitespace:
    """The whitespace before the call's `)`."""
    last = call.args[-1]
    if isinstance(last.comma, cst.Comma):
        return last.comma.whitespace_after
    return last.whitespace_after_arg


def _is_default(keyword: str, value: cst.BaseExpression) -> bool:
    """`distinct=False`, `use_labels=False`, `correlate=True`: nothing to add."""
    return is_constant(value, "True" if keyword == "correlate" else "False")


def with_arguments(call: cst.Call, args: list[cst.Arg]) -> cst.Call:
    """`call` with new arguments, one per line if its arguments were."""
    if not args:
        return call.with_changes(
            args=(), whitespace_before_args=cst.SimpleWhitespace("")
        )
    opening = call.whitespace_before_args
    if not isinstance(opening, cst.ParenthesizedWhitespace):
        return call.with_changes(args=without_trailing_comma(args))
    last = call.args[-1]
    closing = (
        last.comma.whitespace_after
        if isinstance(last.comma, cst.Comma)
        else last.whitespace_after_arg
    )
    between = cst.Comma(whitespace_after=opening)
    args = [a.with_changes(comma=between) for a in args]
    args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=closing))
    return call.with_changes(args=args)
