"""ORM405: `relationship(lazy=True/False/None)`: old loader strategy spellings."""

from __future__ import annotations

import libcst as cst

from orm_modernize.data.records import Evidence, Fix
from orm_modernize.rules.base import Rule

# `backref("user", lazy=False)` takes a relationship's arguments too.
FUNCTIONS = ("relationship", "relation", "backref")
# What SQLAlchemy reads each constant as (`RelationshipProperty.strategy_for()`).
STRATEGIES = {"True": "select", "False": "joined"}
FINDING = '`lazy={value}` is an old spelling of `lazy="{strategy}"`'


class LazyBoolean(Rule):
    """
    ## What it does
    Checks for `lazy=True`, `lazy=False` and `lazy=None` given to
    `relationship()`, `relation()` or `backref()` (also Flask-SQLAlchemy's
    `db.relationship()`).

    ## Why is this bad?
    Loader strategies are named by strings since SQLAlchemy 0.6; the constants
    are read as aliases: `True` is `"select"`, `False` is `"joined"` and `None`
    is `"noload"`. The strings say what is meant, and `"noload"` (so `None`) is
    deprecated in SQLAlchemy 2.1, which warns when the mappers are configured.

    ## Example
        addresses = relationship("Address", lazy=False)

    ## Use instead
        addresses = relationship("Address", lazy="joined")

    ## Fix safety
    Safe: the string names the very strategy the constant stood for, on 1.4 as
    on 2.x. `lazy=None` is reported without a fix: its exact spelling,
    `"noload"`, is deprecated too. Choose `"raise"` (access raises instead of
    giving an empty collection), `"write_only"`, or keep `"noload"` until 2.1.

    ## References
    - SQLAlchemy documentation, "Relationship Loading Techniques"
    - SQLAlchemy 2.1 changelog: the `noload` loader strategy is deprecated
    """

    code = "ORM405"
    name = "lazy-boolean"
    message = "`lazy=True`, `False` and `None` are old spellings of loader strategies"
    fix_title = "Name the loader strategy"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"
    triggers = (b"lazy=",)

    def visit_Call(self, node: cst.Call) -> None:
        arg = next(
            (
                a
                for a in node.args
                if a.keyword is not None
                and a.keyword.value == "lazy"
                and isinstance(a.value, cst.Name)
                and a.value.value in ("True", "False", "None")
            ),
            None,
        )
        if arg is None:
            return
        evidence = self.semantic.orm_function(node.func, FUNCTIONS)
        if evidence is Evidence.NONE:
            return
        assert isinstance(arg.value, cst.Name)
        value = arg.value.value
        if value == "None":
            self.report(
                arg,
                message='`lazy=None` is `lazy="noload"`, deprecated in SQLAlchemy'
                ' 2.1: choose `"raise"`, `"write_only"` or `"noload"`',
            )
            return
        strategy = STRATEGIES[value]
        fix = Fix.replace(
            arg.value,
            cst.SimpleString(f'"{strategy}"'),
            safe=evidence.proven,
        )
        self.report(
            arg, fix=fix, message=FINDING.format(value=value, strategy=strategy)
        )
