"""ORM409: `lazy="dynamic"` / `dynamic_loader()`: collections that are a `Query`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.data.records import Evidence
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import keyword_argument, string_value

# `backref("posts", lazy="dynamic")` makes the dynamic side on the other class.
FUNCTIONS = ("relationship", "relation", "backref")


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
            id: Mapped[int] = mapped_column(primary_key=True)
            posts: WriteOnlyMapped["Post"] = relationship()

        recent = session.scalars(user.posts.select().where(Post.id > 10)).all()
        total = session.scalar(
            select(func.count()).select_from(user.posts.select().subquery())
        )
        user.posts.add(Post())

    ## Fix safety
    No fix. A write-only collection has no `filter()`, `all()`, `count()`,
    iteration or `append()`: every place that uses the attribute changes, and
    each read needs a session, which the attribute alone does not give. Those
    places are found by the attribute's name on objects whose class a static
    tool cannot always tell, and `lazy="write_only"` does not exist on 1.4
    (`LoaderStrategyException`): the SQLAlchemy documentation advises moving
    once the application runs on 2.0. `lazy="dynamic"` itself still works on
    2.x, without a warning.

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
    triggers = (b"dynamic",)

    def visit_Call(self, node: cst.Call) -> None:
        lazy = keyword_argument(node, "lazy")
        if lazy is not None and string_value(lazy.value) == "dynamic":
            if self.semantic.orm_function(node.func, FUNCTIONS) is not Evidence.NONE:
                self.report(lazy)
        elif self.semantic.orm_function(node.func, ("dynamic_loader",)) is not (
            Evidence.NONE
        ):
            self.report(
                node,
                message="`dynamic_loader()` is legacy in SQLAlchemy 2.0; use a"
                " write-only collection (`WriteOnlyMapped`)",
            )
