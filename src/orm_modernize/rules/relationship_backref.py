"""ORM406: `relationship(..., backref=...)` -> a `back_populates` pair."""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from orm_modernize.backrefs import Backref, carried_options, module_backrefs
from orm_modernize.datatypes import Edit, Fix
from orm_modernize.relationships import is_abstract
from orm_modernize.rule import Rule
from orm_modernize.semantic import Evidence
from orm_modernize.transforms import Replacer, class_body_names, imported_root


class RelationshipBackref(Rule):
    """
    ## What it does
    Checks for `relationship()` with `backref=`, which makes a second
    relationship on the other class when the mappers are configured.

    ## Why is this bad?
    The SQLAlchemy 2.0 documentation calls `backref` legacy: the attribute it
    makes appears nowhere in the other class, so readers, type checkers and
    `Mapped[]` annotations cannot see it, and it exists only once the mappers
    are configured (`select(Post.author)` before that fails). Two relationships
    linked by `back_populates` say the same thing explicitly.

    ## Example
        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            posts = relationship("Post", backref=backref("author", lazy="joined"))


        class Post(Base):
            __tablename__ = "posts"
            id = Column(Integer, primary_key=True)
            user_id = Column(ForeignKey("users.id"))

    ## Use instead
        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            posts = relationship("Post", back_populates="author")


        class Post(Base):
            __tablename__ = "posts"
            id = Column(Integer, primary_key=True)
            user_id = Column(ForeignKey("users.id"))
            author = relationship("User", back_populates="posts", lazy="joined")

    ## Fix safety
    Safe when both classes are mapped in the module: the new relationship gets
    what SQLAlchemy gave the backref (the `backref()` arguments, `secondary`, the
    join conditions, swapped for a many-to-many, `foreign_keys`, `viewonly`,
    `post_update`, `passive_updates`, `sync_backref`), and runs on 1.4 too. An
    expression is carried over when its names are bound before the other class,
    else wrapped in a lambda where SQLAlchemy accepts one (`order_by`,
    `secondary`, the joins, `foreign_keys`, `remote_side`). Unsafe when
    `relationship` is only Flask-SQLAlchemy's `db` imported from elsewhere.

    All the backrefs of a module are rewritten together, in one fix. Reported
    without a fix: the other class in another module, unknown or
    `__abstract__`, an option that names something of the class's own body, a
    `backref` that is not a string or a `backref()` call, or a class that
    already has the attribute.

    Whichever spelling, SQLAlchemy 2.0 no longer cascades an object into the
    session along a backref (`post.author = user` no longer adds `post` to
    `user`'s session): code that relied on it must call `session.add(post)`.

    ## References
    - SQLAlchemy ORM docs, "Using the legacy 'backref' relationship parameter"
    """

    code = "ORM406"
    name = "relationship-backref"
    message = "`backref=` makes a relationship the other class does not declare"
    fix_title = "Declare both sides with `back_populates`"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"
    triggers = (b"backref",)

    def visit_Module(self, node: cst.Module) -> None:
        backrefs = [self._checked(b) for b in module_backrefs(self.semantic)]
        fixable = [
            b
            for b in backrefs
            if b.problem is None and not self.semantic.suppressed(self.code, b.arg)
        ]
        fix = self._fix(fixable) if fixable else None
        for backref in backrefs:
            if backref.problem is not None:
                self.report(backref.arg, message=f"{self.message} ({backref.problem})")
            else:
                self.report(backref.arg, fix=fix)

    def _checked(self, backref: Backref) -> Backref:
        """The backref with its options as the other class's body must spell
        them, or with the reason it cannot be written out there."""
        if backref.problem is not None:
            return backref
        target = self.semantic.mapped_classes.get(backref.target)
        problem: str | None
        if target is None:
            problem = (
                f"`{backref.target}` is not a declarative class of this module:"
                f" declare `{backref.name}` on it by hand"
            )
        elif is_abstract(target):
            problem = (
                f"`{backref.target}` is abstract (`__abstract__ = True`):"
                " a relationship to it is not mapped"
            )
        elif not isinstance(target.body, cst.IndentedBlock):
            problem = f"`{backref.target}` has a one-line body"
        elif backref.name in class_body_names(target.body):
            problem = f"`{backref.target}` already has `{backref.name}`"
        else:
            options, problem = carried_options(backref, target, self.semantic)
            if problem is None:
                return replace(backref, options=options)
        return replace(backref, problem=problem)

    def _fix(self, backrefs: list[Backref]) -> Fix:
        """One fix for the module: each class that gains relationships is
        replaced once, with its own `backref=` arguments rewritten."""
        classes = self.semantic.mapped_classes
        added: dict[str, list[cst.SimpleStatementLine]] = {}
        for backref in backrefs:
            body = classes[backref.target].body
            indent = (
                getattr(body, "indent", None) or self.semantic.module.default_indent
            )
            added.setdefault(backref.target, []).append(backref.reverse(len(indent)))
        rewritten = {id(b.arg): b.back_populates() for b in backrefs}
        edits = []
        for name, classdef in classes.items():
            args_inside = [b.arg for b in backrefs if b.owner is classdef]
            if name not in added and not args_inside:
                continue
            replacer = Replacer({id(a): rewritten[id(a)] for a in args_inside})
            replaced = classdef.visit(replacer)
            assert isinstance(replaced, cst.ClassDef)
            new = _with_statements(replaced, added.get(name, []))
            edits.append(Edit(classdef, new))
        safe = all(b.evidence is Evidence.PROVEN for b in backrefs)
        # `backref` itself, once no call of it is left
        freed = {
            name
            for b in backrefs
            if isinstance(b.arg.value, cst.Call)
            for name in imported_root(b.arg.value.func)
        }
        return Fix(tuple(edits), safe=safe, unused=tuple(sorted(freed)))


def _with_statements(
    classdef: cst.ClassDef, statements: list[cst.SimpleStatementLine]
) -> cst.ClassDef:
    """`statements` after the class's attributes: before its first method or
    nested class, else at the end."""
    if not statements:
        return classdef
    body = classdef.body
    assert isinstance(body, cst.IndentedBlock)
    lines = list(body.body)
    at = next(
        (i for i, s in enumerate(lines) if not isinstance(s, cst.SimpleStatementLine)),
        len(lines),
    )
    return classdef.with_changes(
        body=body.with_changes(body=[*lines[:at], *statements, *lines[at:]])
    )
