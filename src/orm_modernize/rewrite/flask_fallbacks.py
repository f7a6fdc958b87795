"""Flask-SQLAlchemy 2.x's `Query.get_or_404()` and `first_or_404()` without them,
for projects that cannot have 3.0's `db.get_or_404()` and `db.first_or_404()`.

Flask-SQLAlchemy 2.5.1 ran `rv = self.get(ident)` (or `self.first()`) and called
`abort(404, description=description)` when `rv` was None: `<the 2.0 form of get()
or first()> or abort(404)` does the same wherever what it returns is true when it
is not None. A row is a non-empty tuple; an object is true unless its class
defines `__bool__` or `__len__`.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from orm_modernize.analysis.flask_query import helper_keywords
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Refused
from orm_modernize.rewrite.naming import Namer

# Where `a or b` needs no parentheses of its own.
LOOSE = (cst.Assign, cst.AnnAssign, cst.Return, cst.Expr, cst.Arg, cst.Element)


def or_abort(
    found: cst.BaseExpression,
    helper: str,
    helper_args: Sequence[cst.Arg],
    name: Namer,
    replaced: cst.CSTNode,
    semantic: Semantic,
) -> cst.BaseExpression:
    """`found or abort(404[, description=...])` with the description the helper
    was given (`get_or_404()` past its key), parenthesized unless it stands
    where `replaced` did as a whole value."""
    described = helper_keywords(helper, helper_args)
    abort = name("flask", "abort")
    if abort is None:
        raise Refused("`abort` is already bound to something else here")
    value = cst.BooleanOperation(
        left=found,
        operator=cst.Or(),
        right=cst.Call(abort, [cst.Arg(cst.Integer("404")), *described]),
    )
    if isinstance(semantic.parent(replaced), LOOSE):
        return value
    return value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def always_true(entity: cst.BaseExpression, semantic: Semantic) -> bool:
    """Objects of `entity`, a mapped class of the project, are true whenever they
    exist: neither it nor a base gives them `__bool__` or `__len__`."""
    return (
        isinstance(entity, cst.Name)
        and entity.value in semantic.project.always_true
        and semantic.is_mapped_class(entity)
    )
