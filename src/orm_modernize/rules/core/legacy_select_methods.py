"""ORM304: `s.with_only_columns([a, b])` -> `s.with_only_columns(a, b)`;
`s.apply_labels()` -> `s.set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.core_objects import CoreObjects
from orm_modernize.analysis.core_vocabulary import Core
from orm_modernize.data.records import Evidence, Fix, ImportSpec, Refused
from orm_modernize.rewrite.clauses import collection_kind, unpacked
from orm_modernize.rewrite.naming import namer
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import keep_parentheses

LABEL_METHODS = frozenset({"apply_labels", "with_labels"})


class LegacySelectMethods(Rule):
    """
    ## What it does
    Checks for `Select.with_only_columns()` given a list of columns, and for
    `Select.apply_labels()` and `Query.with_labels()`.

    ## Why is this bad?
    SQLAlchemy 2.0 takes the columns of `with_only_columns()` positionally (a
    list raises `ArgumentError`) and removed `apply_labels()` and
    `with_labels()` (`AttributeError` on a `select()`, deprecated on `Query`):
    the label style is set with `set_label_style()`.

    ## Example
        stmt = select(t.c.a).with_only_columns([t.c.a, t.c.b])
        labelled = stmt.apply_labels()

    ## Use instead
        stmt = select(t.c.a).with_only_columns(t.c.a, t.c.b)
        labelled = stmt.set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)

    ## Fix safety
    Both rewrites build the same statement and run on SQLAlchemy 1.4 as well as
    2.x (where `Query` has `set_label_style()` too). Safe when the receiver is
    proven to be a statement (`select(...)`, `t.select()`, or a name bound to
    one); unsafe otherwise, since only the method name says it is SQLAlchemy. A
    list held in a variable is spread (`*cols`) when the variable is only ever
    bound to a list; any other argument is left alone. `with_labels()` is always
    an unsafe fix: only `Query` had it, and only its name says it is one.

    ## References
    - SQLAlchemy 2.0 migration guide, "select() no longer accepts varied
      constructor arguments, columns are passed positionally"
    - SQLAlchemy 1.4 changelog: `Select.apply_labels()` deprecated in favour of
      `set_label_style()`
    """

    code = "ORM304"
    name = "legacy-select-methods"
    message = "`{method}()` {what} was removed in SQLAlchemy 2.0"
    fix_title = "Use the 2.0 form of the method"
    fix_availability = "sometimes"
    impact = "removed"
    fix_runs_on = "1.4"
    triggers = (b"with_only_columns(", b"apply_labels(", b"with_labels(")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method == "with_only_columns":
            self._with_only_columns(node, func)
        elif method in LABEL_METHODS and not node.args:
            self._labels(node, func)

    def _evidence(self, receiver: cst.BaseExpression) -> Evidence:
        evidence = self.semantic.shared(CoreObjects).evidence(receiver, Core.STATEMENT)
        if evidence is Evidence.NONE and self.semantic.imports_sqlalchemy:
            return Evidence.LIKELY
        return evidence

    def _with_only_columns(self, node: cst.Call, func: cst.Attribute) -> None:
        if not node.args or node.args[0].keyword or node.args[0].star:
            return
        columns = node.args[0].value
        if collection_kind(self.semantic, columns) != "list":
            return  # already positional, or not knowable
        evidence = self._evidence(func.value)
        if evidence is Evidence.NONE:
            return
        message = self.message.format(method="with_only_columns", what="with a list")
        fix = Fix.replace(
            node,
            keep_parentheses(node, unpacked(node, columns, node.args[1:])),
            safe=evidence.proven,
        )
        self.report(node, fix=fix, message=message)

    def _labels(self, node: cst.Call, func: cst.Attribute) -> None:
        evidence = self._evidence(func.value)
        if evidence is Evidence.NONE:
            return
        if func.attr.value == "with_labels":
            if evidence.proven:
                return  # a Core select never had it: 1.4 raises already
            evidence = Evidence.LIKELY  # `Query.with_labels()`, from its name alone
        message = self.message.format(method=func.attr.value, what="on `select()`")
        imports: list[ImportSpec] = []

        def build() -> Fix:
            style = namer(self.semantic, node, imports)(
                "sqlalchemy", "LABEL_STYLE_TABLENAME_PLUS_COL"
            )
            if style is None:
                raise Refused("`LABEL_STYLE_TABLENAME_PLUS_COL` is taken here")
            replacement = node.with_changes(
                func=func.with_changes(attr=cst.Name("set_label_style")),
                args=[cst.Arg(style)],
            )
            return Fix.replace(
                node,
                replacement,
                safe=evidence.proven,
                imports=tuple(imports),
            )

        self.report_fix(node, build, message=message)
