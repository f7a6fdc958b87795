"""ORM409: `lazy="dynamic"` / `dynamic_loader()`: collections that are a `Query`."""

from __future__ import annotations

import os
from functools import partial

import libcst as cst

from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.data.records import DynamicUses, Evidence, Exports, Refused
from orm_modernize.rewrite.write_only import (
    assigned_attribute,
    uses_elsewhere,
    write_only,
    write_only_here,
)
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import keyword_argument, string_value

# `backref("posts", lazy="dynamic")` makes the dynamic side on the other class.
FUNCTIONS = ("relationship", "relation", "backref")
RELATIONSHIP = ("relationship", "relation")
USE = (
    'relationship with `lazy="dynamic"`, legacy in SQLAlchemy 2.0: use it as a'
    " write-only collection"
)


class DynamicRelationship(Rule):
    """
    ## What it does
    Checks for relationships loaded with `lazy="dynamic"` (on `relationship()`,
    `backref()` or Flask-SQLAlchemy's `db.relationship()`) and for
    `dynamic_loader()`.

    ## Why is this bad?
    A dynamic relationship returns a legacy `Query` instead of a collection.
    SQLAlchemy 2.0 keeps it only as legacy: it cannot be typed with `Mapped[]`
    and does not work with asyncio's `AsyncSession`. Its 2.0 replacement is the
    *write-only* collection, which never loads itself: reads go through an
    explicit `select()` run by a session, writes through `add()` / `remove()`.

    ## Example
        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            posts = relationship("Post", lazy="dynamic")

        recent = user.posts.filter(Post.id > 10).all()
        total = user.posts.count()
        user.posts.append(Post())

    ## Use instead
        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            posts = relationship("Post", lazy="write_only")

        recent = object_session(user).scalars(user.posts.select().where(Post.id > 10)).all()
        total = object_session(user).scalar(select(func.count()).select_from(user.posts.select().subquery()))
        user.posts.add(Post())

    ## Fix safety
    A `relationship(..., lazy="dynamic")` assigned in a class body becomes
    `lazy="write_only"` (SQLAlchemy 2.0 only: the fix needs a 2.0 target) with
    every use of the attribute in the project, as above: `append()`/`extend()`
    become `add()`/`add_all()`, `remove()` stays, and a read (`filter()`,
    `filter_by()`, `order_by()`, `limit()`, `offset()`, ended by `all()`,
    `first()`, `one()`, `one_or_none()`, `count()`, or iterated over) runs its
    statement on `object_session(obj)`, the session the dynamic query ran on.
    A use in another module is reported there, and the relationship and all its
    uses are rewritten in one run, or none of them. Unsafe: an object in no
    session (new, or detached) read its pending objects through the dynamic
    query, and has none to run the statement on.

    The attribute's name is all that tells a use apart, so no module changes
    when one module of the project uses `.name` in another way (an index, a
    slice, `paginate()`, a `dict.items()` when the relationship is `items`),
    names it in a string (`getattr()`, a loader option, a dict key), assigns
    an attribute of that name (another class's), reads `self.name` in another
    class, or has a `# noqa` on a use; when a template of the project reads
    `.name` (`{{ user.posts.count() }}`); and, with `--fix`, when a module that
    uses it is not in the run (pre-commit passes the changed files): each
    finding says which. A local variable `name` is not a use. Another dynamic
    relationship of the same name in another module keeps both to their own
    modules. `backref(..., lazy="dynamic")` and `dynamic_loader()` are
    reported only: their attribute is on the other class. `lazy="dynamic"`
    itself still works on 2.x, without a warning.

    ## References
    - SQLAlchemy 2.0 migration guide, "Dynamic relationship loaders superseded
      by Write Only"
    - SQLAlchemy documentation, "Working with Large Collections"
    """

    code = "ORM409"
    name = "dynamic-relationship"
    message = (
        '`lazy="dynamic"` is legacy in SQLAlchemy 2.0; use a write-only'
        " collection (`WriteOnlyMapped`)"
    )
    fix_title = "Make it a write-only collection, with its uses"
    fix_availability = "sometimes"
    triggers = (b"dynamic",)

    @classmethod
    def triggered(cls, source: bytes, project: ProjectIndex | None) -> bool:
        return b"dynamic" in source or (
            project is not None
            and any(name.encode() in source for name in project.dynamic_probed)
        )

    def visit_Module(self, node: cst.Module) -> None:
        """The uses of a dynamic relationship another module declares, in the runs
        that rewrite the relationship with its uses in every module."""
        project = self.semantic.project
        here = self.semantic.path and os.path.abspath(self.semantic.path)
        for name in sorted(project.dynamic_probed):
            if project.dynamic_declared_in(name) != here:
                self._uses(name)

    def _uses(self, name: str) -> None:
        decided = self.semantic.project.write_only_of(name)
        try:
            uses = uses_elsewhere(self.semantic, name, converted=decided is not None)
        except Refused as why:
            self._export(name, f"{self._here()}: {why}")
            return
        self._export(name, "", *(use for use, _ in uses))
        if decided is None or not decided.uses:
            return  # asked only, or the relationship stays dynamic
        message = f"`.{name}` is a {USE}"
        for use, fix in uses:
            if decided.refused:
                self.report(use, message=f"{message} (no fix: {decided.refused})")
            else:
                self.report(use, fix=fix, message=message)

    def visit_Call(self, node: cst.Call) -> None:
        lazy = keyword_argument(node, "lazy")
        if lazy is not None and string_value(lazy.value) == "dynamic":
            evidence = self.semantic.orm_function(node.func, FUNCTIONS)
            if self.semantic.orm_function(node.func, RELATIONSHIP).proven:
                fixed = self.report_fix(
                    lazy, partial(write_only, self.semantic, node, lazy)
                )
                name = assigned_attribute(self.semantic, node)
                if name in self.semantic.project.dynamic_probed:
                    self._export(name, "" if fixed else "its relationship", lazy)
                elif (
                    name is not None
                    and not fixed
                    and self._named_elsewhere(name)
                    and not self._own_part(node, lazy)
                ):
                    # Its finding says why already: the runner need not ask
                    # the modules that name it
                    self._export(name, "its relationship")
            elif evidence is not Evidence.NONE:
                self.report(lazy)
        elif self.semantic.orm_function(node.func, ("dynamic_loader",)) is not (
            Evidence.NONE
        ):
            self.report(
                node,
                message="`dynamic_loader()` is legacy in SQLAlchemy 2.0; use a"
                " write-only collection (`WriteOnlyMapped`)",
            )

    def _export(self, name: str, refused: str, *reported: cst.CSTNode) -> None:
        """This module's part of making `name` write-only: possible unless it is
        `refused`, or a `# noqa` keeps the fix of a node `reported` from applying."""
        suppressions = self.semantic.suppressions
        for node in reported if not refused else ():
            line = self.semantic.source_position(node)[0]
            if suppressions.suppresses(self.code, line):
                refused = f"{self._here()}: a `# noqa` on line {line} keeps it as it is"
                break
        self.semantic.exports += Exports(dynamic_uses=(DynamicUses(name, refused),))

    def _named_elsewhere(self, name: str) -> bool:
        """Whether a module of the project besides this one names `.name`."""
        return bool(self.semantic.project.naming_besides(name, self.semantic.path))

    def _own_part(self, call: cst.Call, lazy: cst.Arg) -> bool:
        """Whether this module could make the relationship write-only if no other
        module named it."""
        try:
            write_only_here(self.semantic, call, lazy)
        except Refused:
            return False
        return True

    def _here(self) -> str:
        """This module, as the other modules' findings name it."""
        return os.path.relpath(self.semantic.path) if self.semantic.path else "-"
