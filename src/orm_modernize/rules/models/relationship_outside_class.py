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
    `relationship()` that refers to a later name is reported without a fix (use a
    string or a lambda argument); a `column_property()` that must stay after the
    class (it often exists *because* of such a forward reference) is valid 2.0
    code and is not reported.

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
        if not self.semantic.bound_before(assign.value, classdef):
            return None
        moved = cst.SimpleStatementLine(
            body=[assign.with_changes(targets=[cst.AssignTarget(cst.Name(attribute))])],
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


def _next_statement(
    module: cst.Module, statement: cst.CSTNode
) -> cst.SimpleStatementLine | cst.BaseCompoundStatement | None:
    body = list(module.body)
    index = next(i for i, s in enumerate(body) if s is statement)
    return body[index + 1] if index + 1 < len(body) else None
