"""ORM410: columns a mapped class inherits come after its own in 2.0 -> `sort_order`."""

from __future__ import annotations

from functools import partial

import libcst as cst

from orm_modernize.analysis.pins import admitting_below
from orm_modernize.analysis.relationships import is_abstract
from orm_modernize.data.records import Edit, Fix, Refused
from orm_modernize.rewrite.clauses import with_arguments
from orm_modernize.rewrite.mapped_types import (
    COLUMN,
    MAPPED_COLUMN,
    keywords_mapped_column_lacks,
)
from orm_modernize.rules.base import Rule
from orm_modernize.syntax import tree
from orm_modernize.syntax.nodes import imported_root, keyword

FINDING = (
    "columns inherited from `{name}` come after the mapped class's own in"
    " SQLAlchemy 2.0 (first in 1.x)"
)
# The first release whose `mapped_column()` takes `sort_order=`.
SORT_ORDER_SINCE = "2.0.4"


class InheritedColumnOrder(Rule):
    """
    ## What it does
    Checks for `Column()` attributes of a class whose columns declarative copies
    into the mapped classes below it: a mixin, an `__abstract__` class, a base
    made with `@as_declarative()` (or by subclassing `DeclarativeBase`).

    ## Why is this bad?
    SQLAlchemy 1.x ordered a table's columns as they were created, so the
    columns of a mixin or base, defined before the class that uses them, came
    first. 2.0 places the columns a class inherits after its own (changelog
    #9297): the table's columns, `CREATE TABLE`, `SELECT *`,
    `__table__.columns`, a row of `select(Model.__table__)` and anything built
    over them (a `to_dict()`, a CSV export, a positional `insert().values()`)
    come out in another order, with no warning.

    ## Example
        class Timestamps:
            created = Column(DateTime)

        class User(Timestamps, Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)

    ## Use instead
        class Timestamps:
            created = mapped_column(DateTime, sort_order=-1)

    ## Fix safety
    Unsafe. Each `Column()` of the class becomes `mapped_column()` with a
    negative `sort_order`, which puts it before the class's own columns as 1.x
    did (`declared_attr` columns, made when each class is mapped, already come
    after them, as in 1.x). Classes of one module are ranked as they are
    defined, which is the order 1.x created their columns in; classes of
    different modules were ordered by which module was imported first, which
    the fix cannot see, so check the order of a class that inherits columns
    from several modules. A class holding columns for another use (a
    `Table()`) would also be changed. `sort_order=` needs SQLAlchemy 2.0.4:
    reported without a fix when the project admits an older 2.0. Also without
    a fix: an argument `mapped_column()` does not take, or a column made
    another way (`deferred(Column(...))`).

    ## References
    - What's new in SQLAlchemy 2.0, "ORM Declarative Applies Column Orders
      Differently; Control behavior using sort_order"
    """

    code = "ORM410"
    name = "inherited-column-order"
    message = (
        "columns inherited from a mixin or base come after the mapped class's own"
        " in SQLAlchemy 2.0 (first in 1.x)"
    )
    fix_title = "Keep them first with `mapped_column(..., sort_order=...)`"
    fix_availability = "sometimes"
    impact = "changed"
    triggers = (b"Column",)

    def visit_Module(self, node: cst.Module) -> None:
        # The columns of each top-level class whose columns are copied:
        # `Column()`s to fix, and `mapped_column()`s, which keep a fixed class
        # among those ranked when a later pass runs. (Only those classes: a
        # module of 35,000 mapped models has none.)
        made_in: dict[cst.ClassDef, list[cst.Call]] = {}
        ranked = []
        for statement in node.body:
            if not (
                isinstance(statement, cst.ClassDef) and self._copies_columns(statement)
            ):
                continue
            calls = tree.own_nodes(statement.body)
            kinds = [
                (call, self._column_kind(call))
                for call in calls
                if isinstance(call, cst.Call)
            ]
            if any(kind is not None for _, kind in kinds):
                ranked.append(statement)
                made_in[statement] = [c for c, kind in kinds if kind == "Column"]
        for rank, classdef in enumerate(ranked, start=-len(ranked)):
            made = made_in[classdef]
            columns = [c for c in made if self._assigned_in(c, classdef)]
            if not columns:
                continue
            self.report_fix(
                classdef.name,
                partial(self._fix, classdef, columns, rank, len(made) - len(columns)),
                message=FINDING.format(name=classdef.name.value),
            )

    def _copies_columns(self, classdef: cst.ClassDef) -> bool:
        """Declarative copies this class's columns into each class mapped below it
        rather than mapping them to a table of its own."""
        name = classdef.name.value
        if name in self.semantic.declarative_bases:
            return True
        if name in self.semantic.mapped_classes:
            return is_abstract(classdef)
        # A mixin: a class of no base but `object` (a class with another base
        # is a mapped one this module cannot tell, more likely than a mixin).
        return (
            all(
                isinstance(b.value, cst.Name) and b.value.value == "object"
                for b in classdef.bases
            )
            and not classdef.keywords
        )

    def _assigned_in(self, call: cst.Call, classdef: cst.ClassDef) -> bool:
        """`call` is the value of a `name = ...` statement of the class body."""
        assign = self.semantic.parent(call)
        if not (
            isinstance(assign, (cst.Assign, cst.AnnAssign)) and assign.value is call
        ):
            return False
        line = self.semantic.parent(assign)
        return line is not None and self.semantic.parent(line) is classdef.body

    def _column_kind(self, node: cst.CSTNode | None) -> str | None:
        """Which constructor makes the column: "Column", "mapped_column", or None."""
        if not isinstance(node, cst.Call):
            return None
        if self.semantic.is_one_of(node.func, COLUMN):
            return "Column"
        if self.semantic.is_one_of(node.func, MAPPED_COLUMN):
            return "mapped_column"
        if self.semantic.orm_function(node.func, ("Column",)).proven:
            return "Column"  # Flask-SQLAlchemy's `db.Column`
        return None

    def _fix(
        self, classdef: cst.ClassDef, columns: list[cst.Call], rank: int, others: int
    ) -> Fix:
        pins = self.semantic.pins
        if not admitting_below(pins, "sqlalchemy", "2.0"):
            older = admitting_below(pins, "sqlalchemy", SORT_ORDER_SINCE)
            if older is not None:
                raise Refused(
                    f"`sort_order=` needs SQLAlchemy {SORT_ORDER_SINCE}"
                    f" and {older.describe()}"
                )
        if others:
            raise Refused("a column made another way than `name = Column(...)`")
        found = self.semantic.reference(classdef, "sqlalchemy.orm", "mapped_column")
        if found is None:
            raise Refused("the name `mapped_column` is taken")
        mapped_column, needed = found
        edits = []
        for call in columns:
            unknown = keywords_mapped_column_lacks(call)
            if any(a.star for a in call.args):
                raise Refused("`*` or `**` arguments `mapped_column()` may not take")
            if unknown:
                raise Refused(f"`mapped_column()` does not take `{unknown[0]}=`")
            order = keyword(
                "sort_order",
                cst.UnaryOperation(cst.Minus(), cst.Integer(str(-rank))),
            )
            new = with_arguments(call, [*call.args, order])
            edits.append(Edit(call, new.with_changes(func=mapped_column)))
        unused = tuple(name for c in columns for name in imported_root(c.func))
        return Fix(
            tuple(edits),
            safe=False,
            imports=(needed,) if needed else (),
            unused=tuple(dict.fromkeys(unused)),
        )
