"""ORM301: `select([a, b], whereclause, order_by=...)` -> `select(a, b).where(...)`."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from orm_modernize.conversion import Refused, namer
from orm_modernize.datatypes import Fix, ImportSpec
from orm_modernize.rule import Rule
from orm_modernize.transforms import code_of, is_constant, keep_parentheses, method

SELECTS = frozenset(
    {
        "sqlalchemy.select",
        "sqlalchemy.sql.select",
        "sqlalchemy.sql.expression.select",
        "sqlalchemy.sql.selectable.select",
    }
)
EXISTS = frozenset(
    {"sqlalchemy.exists", "sqlalchemy.sql.exists", "sqlalchemy.sql.expression.exists"}
)
# 1.x `select(columns, whereclause, from_obj, ...)`: positional parameters after
# the columns.
POSITIONAL = ("whereclause", "from_obj")
# keyword -> the generative method that replaces it; "*" unpacks a list literal
# (the keyword took a list or a single element: `util.to_list()` in 1.4).
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
}
# Keywords whose True (False for `correlate`) becomes a method call
FLAGS = frozenset({"distinct", "for_update", "correlate", "use_labels"})
# Calls that make one column expression
SINGLE_CALLS = frozenset(
    {"desc", "asc", "nulls_first", "nulls_last", "nullsfirst", "nullslast"}
    | {"label", "collate", "text", "literal_column", "column", "and_", "or_", "not_"}
)


class SelectColumnList(Rule):
    """
    ## What it does
    Checks for the 1.x calling style of `select()` and `exists()`: the columns
    in a list (`select([users.c.id, users.c.name])`), and the clauses as
    arguments (`select([...], users.c.id > 5, order_by=[users.c.name])`).

    ## Why is this bad?
    SQLAlchemy 2.0 removed it: `select()` takes the columns as positional
    arguments, and every clause is added by a method (`where()`, `order_by()`,
    ...). The old form raises `ArgumentError` on 2.x.

    ## Example
        stmt = select([t.c.id, t.c.name], t.c.id > 5, order_by=[t.c.name], limit=9)

    ## Use instead
        stmt = select(t.c.id, t.c.name).where(t.c.id > 5).order_by(t.c.name).limit(9)

    ## Fix safety
    Safe: the new form builds the same statement, and runs on SQLAlchemy 1.4 as
    well as 2.x. A literal list or tuple of columns is unpacked; `whereclause`,
    `from_obj`, `group_by`, `having`, `order_by`, `limit`, `offset`, `prefixes`,
    `suffixes`, `distinct=True`, `for_update=True`, `correlate=False` and
    `use_labels=True` become the methods that replace them (`use_labels` becomes
    `set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)`). A list held in a variable
    (`select(columns)`), a keyword whose value may be a list or a single element
    (`order_by=ordering`), and any other keyword (`bind=`, `distinct=[cols]`) are
    reported without a fix.

    ## References
    - SQLAlchemy 2.0 migration guide, "select() no longer accepts varied
      constructor arguments, columns are passed positionally"
    """

    code = "ORM301"
    name = "select-column-list"
    message = "`select([...])` and its clause arguments were removed in SQLAlchemy 2.0"
    fix_title = "Pass the columns positionally and the clauses as methods"
    fix_availability = "sometimes"
    fix_runs_on = "1.4"
    triggers = (b"select(", b"exists(")

    def visit_Call(self, node: cst.Call) -> None:
        if self.semantic.is_one_of(node.func, SELECTS):
            function = "select"
        elif self.semantic.is_one_of(node.func, EXISTS):
            function = "exists"
        else:
            return
        if not _legacy(node, function):
            return
        message = f"`{function}()` with a list of columns or clause arguments was"
        message += " removed in SQLAlchemy 2.0"
        imports: list[ImportSpec] = []
        try:
            replacement = _rewrite(node, function, namer(self.semantic, node, imports))
        except Refused as why:
            self.report(node, message=f"{message} (no fix: {why})")
            return
        fix = Fix.replace(
            node,
            keep_parentheses(node, replacement),
            safe=True,
            imports=tuple(imports),
        )
        self.report(node, fix=fix, message=message)


def _legacy(call: cst.Call, function: str) -> bool:
    """The 1.x style: a list of columns first, or any clause as an argument (the
    2.0 `select()` takes columns only)."""
    args = call.args
    if not args or args[0].star:
        return False
    if isinstance(args[0].value, (cst.List, cst.Tuple, cst.ListComp)):
        return args[0].keyword is None
    return function == "select" and any(
        a.keyword is not None and a.keyword.value in {*METHODS, *FLAGS} for a in args
    )


def _rewrite(
    call: cst.Call,
    function: str,
    name: Callable[[str, str], cst.BaseExpression | None],
) -> cst.BaseExpression:
    args = list(call.args)
    first = args[0]
    statement: cst.BaseExpression
    if first.keyword is None and isinstance(
        first.value, (cst.List, cst.Tuple, cst.ListComp)
    ):
        statement = _unpacked(call, first.value)
        args = args[1:]
    else:  # select(table, whereclause=...) in 2.0's positional style already
        columns = [a for a in args if a.keyword is None]
        args = [a for a in args if a.keyword is not None]
        if len(columns) > 1:
            raise Refused("several positional arguments besides the columns")
        columns[-1:] = [
            a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in columns[-1:]
        ]
        statement = call.with_changes(args=columns)
    clauses: list[tuple[str, cst.Arg]] = []
    for index, arg in enumerate(args):
        if arg.star:
            raise Refused(f"`{code_of(arg)}` cannot be read")
        if arg.keyword is None:
            if function != "select" or index >= len(POSITIONAL):
                raise Refused("unexpected positional arguments")
            clauses.append((POSITIONAL[index], arg))
        else:
            clauses.append((arg.keyword.value, arg))
    for keyword, arg in clauses:
        statement = _clause(statement, keyword, arg.value, name)
    return statement


def _clause(
    statement: cst.BaseExpression,
    keyword: str,
    value: cst.BaseExpression,
    name: Callable[[str, str], cst.BaseExpression | None],
) -> cst.BaseExpression:
    if keyword in METHODS:
        method_name, listed = METHODS[keyword]
        if not listed:
            return method(statement, method_name, value)
        if isinstance(value, (cst.List, cst.Tuple)):
            return method(statement, method_name, *[e.value for e in value.elements])
        if _single(value):
            return method(statement, method_name, value)
        raise Refused(
            f"`{keyword}={code_of(value)}` may be a list or one element;"
            f" write `.{method_name}(...)` by hand"
        )
    if keyword == "distinct" and is_constant(value, "True"):
        return method(statement, "distinct")
    if keyword == "for_update" and is_constant(value, "True"):
        return method(statement, "with_for_update")
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


def _unpacked(call: cst.Call, columns: cst.BaseExpression) -> cst.Call:
    """`call` with the columns as its only arguments: `[a, b]` -> `a, b`; a
    comprehension -> `*[...]`. A list spread over lines stays one column per line,
    comments kept, at the indentation of the call's arguments."""
    if not isinstance(columns, (cst.List, cst.Tuple)) or any(
        isinstance(e, cst.StarredElement) for e in columns.elements
    ):
        return call.with_changes(args=[cst.Arg(columns, star="*")])
    elements = list(columns.elements)
    if "\n" not in code_of(columns):
        args = [cst.Arg(e.value, comma=e.comma) for e in elements]
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return call.with_changes(args=args)
    opening = call.whitespace_before_args
    if isinstance(opening, cst.ParenthesizedWhitespace):  # select(\n    [\n ...
        closing = _closing(call)
    elif isinstance(columns, cst.List):  # select([\n ...: the list's own lines
        opening = columns.lbracket.whitespace_after
        closing = columns.rbracket.whitespace_before
    else:
        raise Refused("a tuple of columns spread over lines; unpack it by hand")
    if not isinstance(opening, cst.ParenthesizedWhitespace):
        raise Refused("the columns' layout is unusual; unpack them by hand")
    args = []
    for element in elements[:-1]:
        comma = element.comma
        assert isinstance(comma, cst.Comma)
        after = comma.whitespace_after
        if isinstance(after, cst.ParenthesizedWhitespace):
            after = after.with_changes(last_line=opening.last_line)
        args.append(
            cst.Arg(element.value, comma=comma.with_changes(whitespace_after=after))
        )
    last = elements[-1]
    args.append(cst.Arg(last.value, comma=cst.Comma(whitespace_after=closing)))
    return call.with_changes(whitespace_before_args=opening, args=args)


def _closing(call: cst.Call) -> cst.BaseParenthesizableWhitespace:
    """The whitespace before the call's `)`."""
    last = call.args[-1]
    if isinstance(last.comma, cst.Comma):
        return last.comma.whitespace_after
    return last.whitespace_after_arg


def _single(value: cst.BaseExpression) -> bool:
    """One column expression, never a list: `t.c.x`, `User.name`, `t.c.x.desc()`,
    `desc(t.c.x)`, `text("...")`. (`self.ordering` could hold a list.)"""
    if isinstance(value, cst.Call):
        func = value.func
        called = func.attr.value if isinstance(func, cst.Attribute) else None
        if isinstance(func, cst.Name):
            called = func.value
        return called in SINGLE_CALLS
    if isinstance(value, cst.Attribute):
        owner = value.value
        if isinstance(owner, cst.Attribute) and owner.attr.value in ("c", "columns"):
            return True
        return isinstance(owner, cst.Name) and owner.value[:1].isupper()
    return False


def _is_default(keyword: str, value: cst.BaseExpression) -> bool:
    """`distinct=False`, `use_labels=False`, `correlate=True`: nothing to add."""
    return is_constant(value, "True" if keyword == "correlate" else "False")
