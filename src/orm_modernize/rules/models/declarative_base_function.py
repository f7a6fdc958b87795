"""ORM402: `declarative_base()`, `@as_declarative()` -> subclass `DeclarativeBase`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.vocabulary import AS_DECLARATIVE, DECLARATIVE_BASE_FUNCTIONS
from orm_modernize.data.records import Edit, Fix
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import (
    class_body_names,
    imported_root,
    keyword_argument,
    string_value,
)
from orm_modernize.syntax.statements import decorator_target, in_import_fallback

# automap_base() is not a declarative_base() and has no DeclarativeBase spelling.
FUNCTIONS = DECLARATIVE_BASE_FUNCTIONS - {"sqlalchemy.ext.automap.automap_base"}


class DeclarativeBaseFunction(Rule):
    """
    ## What it does
    Checks for a declarative base made by calling `declarative_base()` or by
    decorating a class with `@as_declarative()`.

    ## Why is this bad?
    SQLAlchemy 2.0 supersedes `declarative_base()` with subclassing
    `DeclarativeBase`, which is what `Mapped[]` typing and PEP 484 tools
    understand. The old function still works but is legacy; its `bind=` argument
    was removed in 2.0.

    ## Example
        Base = declarative_base(metadata=metadata)

    ## Use instead
        class Base(DeclarativeBase):
            metadata = metadata

    ## Fix safety
    Unsafe: `DeclarativeBase` is 2.0-only (an `ImportError` on 1.4) and the base
    no longer has `DeclarativeMeta` as its metaclass, so `isinstance(cls,
    DeclarativeMeta)` checks elsewhere stop matching; Flask-SQLAlchemy needs
    `SQLAlchemy(model_class=Base)`. `metadata=` becomes a class attribute, `cls=`
    mixins become base classes and a `name=` equal to the variable is dropped.
    Columns the base or a `cls=` mixin declares come after each subclass's own
    on 2.0 however the base is made (the fix does not cause it): ORM410 keeps
    1.x's order.
    An `@as_declarative()` class keeps its body and gains `DeclarativeBase` as
    its last base; one that defines `__init__` is reported without a fix, since
    `as_declarative` replaced that constructor and `DeclarativeBase` keeps it.
    Any other argument (`bind=`, `metaclass=`, `constructor=`, positional
    arguments, another `name=`) or an assignment to anything but a plain name
    (`self.Base = ...`) is reported without a fix.

    ## References
    - What's new in SQLAlchemy 2.0, "Step one - declarative_base() is superseded by
      DeclarativeBase"
    """

    code = "ORM402"
    name = "declarative-base-function"
    message = "`declarative_base()` is superseded by subclassing `DeclarativeBase`"
    fix_title = "Define `class Base(DeclarativeBase)`"
    fix_availability = "sometimes"
    triggers = (b"declarative_base", b"as_declarative")

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        decorator = next(
            (
                d
                for d in node.decorators
                if self.semantic.is_one_of(decorator_target(d), AS_DECLARATIVE)
            ),
            None,
        )
        if decorator is None or in_import_fallback(node, self.semantic.parent):
            return
        self.report(
            decorator,
            message="`@as_declarative()` is superseded by subclassing"
            " `DeclarativeBase`",
            fix=self._decorated_fix(node, decorator),
        )

    def _decorated_fix(
        self, classdef: cst.ClassDef, decorator: cst.Decorator
    ) -> Fix | None:
        call = decorator.decorator
        arguments = call.args if isinstance(call, cst.Call) else ()
        if (
            len(classdef.decorators) != 1
            or classdef.keywords
            or not isinstance(classdef.body, cst.IndentedBlock)
            or "__init__" in class_body_names(classdef.body)
            or any(not (a.keyword and a.keyword.value == "metadata") for a in arguments)
        ):
            return None
        found = self.semantic.reference(classdef, "sqlalchemy.orm", "DeclarativeBase")
        if found is None:
            return None
        declarative, needed = found
        bases = [
            b.with_changes(comma=cst.MaybeSentinel.DEFAULT)
            for b in classdef.bases
            if not (isinstance(b.value, cst.Name) and b.value.value == "object")
        ]
        body = list(classdef.body.body)
        if arguments:
            body.insert(0, _attribute("metadata", arguments[0].value))
        new = classdef.with_changes(
            decorators=(),
            leading_lines=[*classdef.leading_lines, *decorator.leading_lines],
            bases=[*bases, cst.Arg(declarative)],
            lpar=cst.LeftParen(),
            rpar=cst.RightParen(),
            body=classdef.body.with_changes(body=body),
        )
        return Fix.replace(
            classdef,
            new,
            safe=False,
            imports=(needed,) if needed else (),
            unused=imported_root(decorator_target(decorator)),
        )

    def visit_Call(self, node: cst.Call) -> None:
        if not self.semantic.is_one_of(node.func, FUNCTIONS):
            return
        if in_import_fallback(node, self.semantic.parent):
            return
        if keyword_argument(node, "bind") is not None:
            self.report(
                node,
                message="`declarative_base(bind=...)` was removed in"
                " SQLAlchemy 2.0; pass the engine to `Session` and `create_all()`",
            )
            return
        self.report(node, fix=self._fix(node))

    def _fix(self, call: cst.Call) -> Fix | None:
        assign = self.semantic.parent(call)
        line = self.semantic.parent(assign) if assign else None
        if not (
            isinstance(assign, cst.Assign)
            and isinstance(line, cst.SimpleStatementLine)
            and len(line.body) == 1
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
        ):
            return None
        name = assign.targets[0].target.value
        bases: list[cst.BaseExpression] = []
        body: list[cst.BaseStatement] = []
        for arg in call.args:
            keyword = arg.keyword.value if arg.keyword else None
            value = arg.value
            if keyword == "metadata":
                body.append(_attribute("metadata", value))
            elif keyword == "cls":
                if isinstance(value, cst.Tuple):
                    bases.extend(e.value for e in value.elements)
                elif not (isinstance(value, cst.Name) and value.value == "object"):
                    bases.append(value)
            elif keyword == "name":
                if string_value(value) != name:
                    return None
            else:
                return None
        found = self.semantic.reference(call, "sqlalchemy.orm", "DeclarativeBase")
        if found is None:
            return None
        declarative, needed = found
        classdef = cst.ClassDef(
            name=cst.Name(name),
            bases=[cst.Arg(b) for b in (*bases, declarative)],
            body=cst.IndentedBlock(
                header=line.trailing_whitespace,
                body=body or [cst.SimpleStatementLine([cst.Pass()])],
            ),
            leading_lines=line.leading_lines,
        )
        # PEP 8: two blank lines around a top-level class (one in a function).
        # Black puts one before a class opening a block, but for a function's or
        # a class's.
        block, _, index = self._place(line)
        around = 2 if isinstance(block, cst.Module) else 1
        opening = (
            block is None
            or isinstance(block, cst.Module)
            or isinstance(self.semantic.parent(block), (cst.FunctionDef, cst.ClassDef))
        )
        edits = [Edit(line, _spaced(classdef, 0 if not index and opening else around))]
        following, outer = self._following(line)
        if following is not None:
            edits.append(Edit(following, _spaced(following, 2 if outer else 1)))
        return Fix(
            tuple(edits),
            safe=False,
            imports=(needed,) if needed else (),
            unused=(call.func.value,) if isinstance(call.func, cst.Name) else (),
        )

    def _place(
        self, statement: cst.CSTNode
    ) -> tuple[cst.CSTNode | None, list[cst.CSTNode], int]:
        """The block holding `statement`, its statements, and where it is among them."""
        block = self.semantic.parent(statement)
        siblings = list(getattr(block, "body", ()))
        return (
            block,
            siblings,
            next(i for i, s in enumerate(siblings) if s is statement),
        )

    def _following(self, statement: cst.CSTNode) -> tuple[cst.CSTNode | None, bool]:
        """The statement black spaces from a class put in place of `statement`:
        the next in its block, or, last in a `with`, `for`, `while` or `if`
        block with no `else`, the one after that statement; and whether it is
        at the top level."""
        while True:
            block, siblings, index = self._place(statement)
            if index + 1 < len(siblings):
                return siblings[index + 1], isinstance(block, cst.Module)
            owner = self.semantic.parent(block) if block is not None else None
            if not isinstance(owner, (cst.With, cst.For, cst.While, cst.If)) or (
                getattr(owner, "orelse", None) is not None
            ):
                return None, False
            statement = owner


def _spaced(statement: cst.CSTNode, blank: int) -> cst.CSTNode:
    """`statement` with at least `blank` empty lines before its leading comments."""
    lines: list[cst.EmptyLine] = list(getattr(statement, "leading_lines", ()))
    empty = next((i for i, e in enumerate(lines) if e.comment), len(lines))
    if empty >= blank:
        return statement
    # Not indented: a blank line holds no spaces.
    padding: list[cst.EmptyLine] = [cst.EmptyLine(indent=False)] * (blank - empty)
    return statement.with_changes(leading_lines=[*padding, *lines])


def _attribute(name: str, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(
        [cst.Assign(targets=[cst.AssignTarget(cst.Name(name))], value=value)]
    )
