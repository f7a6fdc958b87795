"""Small questions about CST nodes and builders of new ones: a call's name, a
keyword argument, a string's value, a node's code, every node below one."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from orm_modernize.syntax.tree import children


def method(value: cst.BaseExpression, name: str, *args: cst.BaseExpression) -> cst.Call:
    return cst.Call(
        func=cst.Attribute(value=value, attr=cst.Name(name)),
        args=[cst.Arg(a) for a in args],
    )


def appended(
    value: cst.BaseExpression, name: str, *args: cst.BaseExpression
) -> cst.Call:
    """`value.name(*args)` inside the parentheses around `value` (`(q.where(x))`
    gives `(q.where(x).limit(1))`), on a line of its own when the step before it
    is on one."""
    inner = value.with_changes(lpar=(), rpar=()) if value.lpar else value
    call = method(inner, name, *args)
    if (
        isinstance(inner, cst.Call)
        and isinstance(inner.func, cst.Attribute)
        and isinstance(inner.func.dot.whitespace_before, cst.ParenthesizedWhitespace)
    ):
        call = call.with_changes(func=call.func.with_changes(dot=inner.func.dot))
    return call.with_changes(lpar=value.lpar, rpar=value.rpar)


def keyword_argument(call: cst.Call, name: str) -> cst.Arg | None:
    """The `name=...` argument of `call`, if it has one."""
    return next(
        (a for a in call.args if a.keyword is not None and a.keyword.value == name),
        None,
    )


def keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    """`name=value`, without spaces around `=`."""
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )


def keep_parentheses(old: cst.CSTNode, new: cst.BaseExpression) -> cst.BaseExpression:
    """`new` wrapped in the parentheses that surrounded `old`."""
    if isinstance(old, cst.BaseExpression) and old.lpar:
        return new.with_changes(lpar=old.lpar, rpar=old.rpar)
    return new


def called_name(node: cst.CSTNode) -> str | None:
    """`f` of a call `f(...)` or `x.f(...)`; None for anything else."""
    if not isinstance(node, cst.Call):
        return None
    if isinstance(node.func, cst.Name):
        return node.func.value
    return node.func.attr.value if isinstance(node.func, cst.Attribute) else None


def is_constant(node: cst.CSTNode, value: str) -> bool:
    """`node` is the constant `True`, `False` or `None` named by `value`."""
    return isinstance(node, cst.Name) and node.value == value


def string_value(node: cst.CSTNode) -> str | None:
    """The text of a plain string literal (`"x"`, `'x'`, `r"x"`); None for anything
    else, f-strings, concatenations and bytes included."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def root_name(expr: cst.BaseExpression) -> cst.Name | None:
    """The name a dotted expression starts with: `sa` in `sa.orm.Session`; None
    when it starts with anything else (a call, a subscript)."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr if isinstance(expr, cst.Name) else None


def imported_root(expr: cst.BaseExpression) -> tuple[str, ...]:
    """`Fix.unused` for a fix that drops `expr`: the import its root name may be."""
    root = root_name(expr)
    return (root.value,) if root is not None else ()


def code_of(node: cst.CSTNode) -> str:
    """The source text of a node, for comparing expressions by spelling."""
    return cst.Module([]).code_for_node(node)


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and every node below it."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def eager_names(node: cst.CSTNode) -> list[cst.Name]:
    """Names evaluated when the expression runs (not inside lambdas or strings)."""
    collector = _EagerNames()
    node.visit(collector)
    return collector.names


class _EagerNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[cst.Name] = []

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False  # the attribute name itself is not a variable

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False  # a keyword is not a variable

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)


def assignment_targets(node: cst.CSTNode) -> list[cst.BaseExpression]:
    """What `node` assigns: the targets of `a = b = ...`, `a: T = ...` and
    `a += ...`; none for any other node."""
    if isinstance(node, cst.Assign):
        return [t.target for t in node.targets]
    if isinstance(node, (cst.AnnAssign, cst.AugAssign)):
        return [node.target]
    return []


def class_body_names(body: cst.IndentedBlock) -> set[str]:
    """The names a class body binds at its top: assignments, defs, classes."""
    names: set[str] = set()
    for statement in body.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                elif isinstance(small, cst.AnnAssign):
                    targets = [small.target]
                else:
                    continue
                names.update(t.value for t in targets if isinstance(t, cst.Name))
    return names


def is_docstring(line: cst.SimpleStatementLine) -> bool:
    """The line begins with a bare string: a module's, class's or attribute's
    docstring where it stands."""
    first = line.body[0]
    return isinstance(first, cst.Expr) and isinstance(
        first.value, (cst.SimpleString, cst.ConcatenatedString)
    )
