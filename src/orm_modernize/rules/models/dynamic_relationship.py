"""ORM409: `lazy="dynamic"` / `dynamic_loader()`: collections that are a `Query`."""

from __future__ import annotations

from functools import partial

import libcst as cst

from orm_modernize.data.records import Evidence
from orm_modernize.rewrite.write_only import write_only
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import keyword_argument, string_value

# `backref("posts", lazy="dynamic")` makes the dynamic side on the other class.
FUNCTIONS = ("relationship", "relation", "backref")
RELATIONSHIP = ("relationship", "relation")


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
    every use of the attribute in its module, as above: `append()`/`extend()`
    become `add()`/`add_all()`, `remove()` stays, and a read (`filter()`,
    `filter_by()`, `order_by()`, `limit()`, `offset()`, ended by `all()`,
    `first()`, `one()`, `one_or_none()`, `count()`, or iterated over) runs its
    statement on `object_session(obj)`, the session the dynamic query ran on.
    Unsafe: an object in no session (new, or detached) read its pending objects
    through the dynamic query, and has none to run the statement on. The
    attribute's name is all that tells a use apart, so the fix is refused when
    another module of the project reads `.name` or has the string `"name"`
    (a local variable `name` does not count), a template of the project reads
    `.name` (`{{ user.posts.count() }}`), when the module uses `.name` in
    any other way (an index, a slice, `paginate()`, a `dict.items()` when the
    relationship is `items`), names it in a string (`getattr()`, a loader
    option), assigns another attribute of that name, or reads `self.name` in
    another class. `backref(..., lazy="dynamic")` and `dynamic_loader()` are
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

    def visit_Call(self, node: cst.Call) -> None:
        lazy = keyword_argument(node, "lazy")
        if lazy is not None and string_value(lazy.value) == "dynamic":
            evidence = self.semantic.orm_function(node.func, FUNCTIONS)
            if self.semantic.orm_function(node.func, RELATIONSHIP).proven:
                self.report_fix(lazy, partial(write_only, self.semantic, node, lazy))
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
