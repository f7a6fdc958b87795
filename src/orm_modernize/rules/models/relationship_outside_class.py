"""ORM403: `User.posts = relationship(...)` after the class body -> inside it."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.vocabulary import RELATIONSHIP
from orm_modernize.data.records import Edit, Fix
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import class_body_names

COLUMN_PROPERTY = frozenset(
    {"sqlalchemy.orm.column_property", "sqlalchemy.orm.properties.column_property"}
)


class RelationshipOutsideClass(Rule):
    """
    ## What it does
    Checks for a `relationship()` or `column_property()` assigned to a mapped
    class after its class body (`User.posts = relationship("Post")`).

    ## Why is this bad?
    Declared in the class body, the attribute is where readers and type
    checkers look for it, and it can take a `Mapped[]` annotation in 2.0 style
    (which a post-hoc assignment cannot).

    ## Example
        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)


        User.posts = relationship("Post", back_populates="user")

    ## Use instead
        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            posts = relationship("Post", back_populates="user")

    ## Fix safety
    Safe when every name the expression uses is already defined, and never
    rebound, before the class statement: moved into the body, it runs when the
    class is created instead of later. Names inside strings and lambdas are
    resolved at mapper configuration and may be defined anywhere. A
    `relationship()` argument that names a class defined later (`Post`,
    `order_by=Post.id`) becomes a lambda (`lambda: Post.id`), which SQLAlchemy
    calls when it configures the mappers, after the module ran, as the old line
    did; that takes the argument (or `argument=`), `secondary`, `order_by`,
    `primaryjoin`, `secondaryjoin`, `foreign_keys` and `remote_side`, and names
    bound once by a top-level statement. Any other argument that needs a later
    name is reported without a fix; a `column_property()` that must stay after
    the class (it often exists *because* of such a forward reference) is valid
    2.0 code and is not reported.

    ## References
    - SQLAlchemy ORM docs, "Adding relationships to mapped classes after
      declaration"
    """

    code = "ORM403"
    name = "relationship-outside-class"
    message = "`relationship()` assigned outside the class body of its mapped class"
    fix_title = "Move it into the class body"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"
    triggers = (b"relationship", b"column_property")

    def visit_Assign(self, node: cst.Assign) -> None:
        line = self.semantic.parent(node)
        if not (
            isinstance(line, cst.SimpleStatementLine)
            and len(line.body) == 1
            and isinstance(self.semantic.parent(line), cst.Module)
            and len(node.targets) == 1
            and isinstance(node.value, cst.Call)
        ):
            return
        target = node.targets[0].target
        if not (
            isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
        ):
            return
        is_relationship = self.semantic.is_one_of(node.value.func, RELATIONSHIP)
        if not (
            is_relationship or self.semantic.is_one_of(node.value.func, COLUMN_PROPERTY)
        ):
            return
        classdef = self.semantic.mapped_classes.get(target.value.value)
        if classdef is None or not self.semantic.is_mapped_class(target.value):
            return
        fix = self._fix(line, node, target.attr.value, classdef)
        if fix is None and not is_relationship:
            return
        message = (
            None
            if is_relationship
            else self.message.replace("relationship", "column_property")
        )
        self.report(node, fix=fix, message=message)

    def _lazy(
        self, value: cst.BaseExpression, classdef: cst.ClassDef
    ) -> cst.Call | None:
        """The `relationship()` with each argument that names something bound
        after the class made a lambda (`order_by=lambda: Post.id`), which
        SQLAlchemy calls when it configures the mappers, after the module ran;
        None when another argument needs a later name, or one is rebound."""
        if not isinstance(value, cst.Call) or not self.semantic.is_one_of(
            value.func, RELATIONSHIP
        ):
            return None
        args = []
        for index, arg in enumerate(value.args):
            if self.semantic.bound_before(arg.value, classdef):
                args.append(arg)
                continue
            if arg.keyword is not None:
                name = arg.keyword.value
            else:
                name = LAZY[index] if index < 2 else ""
            lazily = name in LAZY_KEYWORDS and self.semantic.bound_once(arg.value)
            if arg.star or not lazily:
                return None
            lazy = cst.Lambda(cst.Parameters(), arg.value)
            args.append(arg.with_changes(value=lazy))
        return value.with_changes(args=args)

    def _fix(
        self,
        line: cst.SimpleStatementLine,
        assign: cst.Assign,
        attribute: str,
        classdef: cst.ClassDef,
    ) -> Fix | None:
        body = classdef.body
        if not isinstance(body, cst.IndentedBlock) or attribute in class_body_names(
            body
        ):
            return None
        value: cst.BaseExpression | None = assign.value
        if not self.semantic.bound_before(assign.value, classdef):
            value = self._lazy(assign.value, classdef)
            if value is None:
                return None
        moved = cst.SimpleStatementLine(
            body=[
                assign.with_changes(
                    targets=[cst.AssignTarget(cst.Name(attribute))], value=value
                )
            ],
            leading_lines=[e for e in line.leading_lines if e.comment is not None],
            trailing_whitespace=line.trailing_whitespace,
        )
        new_class = classdef.with_changes(
            body=body.with_changes(body=[*body.body, moved])
        )
        edits = [Edit(line, cst.RemoveFromParent()), Edit(classdef, new_class)]
        following = _next_statement(self.semantic.module, line)
        if following is not None:
            # The blank lines that set the moved line apart now set the next one apart.
            blank = [e for e in line.leading_lines if e.comment is None]
            own = list(following.leading_lines)
            while own and own[0].comment is None:
                own.pop(0)
            edits.append(
                Edit(following, following.with_changes(leading_lines=blank + own))
            )
        return Fix(tuple(edits), safe=True)


# relationship()'s arguments that SQLAlchemy also takes as a callable, evaluated
# when the mappers are configured: by keyword, and the first two by position
LAZY = ("argument", "secondary", "order_by", "primaryjoin", "secondaryjoin")
LAZY_KEYWORDS = frozenset({*LAZY, "foreign_keys", "remote_side"})


def _next_statement(
    module: cst.Module, statement: cst.CSTNode
) -> cst.SimpleStatementLine | cst.BaseCompoundStatement | None:
    body = list(module.body)
    index = next(i for i, s in enumerate(body) if s is statement)
    return body[index + 1] if index + 1 < len(body) else None
