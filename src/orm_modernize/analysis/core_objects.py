"""What a Core expression holds, as far as static analysis can prove: a table, an
engine, a connection, a result or a row. The Core counterpart of
`Semantic.session_evidence`, for the ORM2xx and ORM3xx rules.

Evidence is PROVEN when every binding of a name comes from SQLAlchemy
(`engine = create_engine(...)`, `with engine.connect() as conn`, a parameter
annotated `Connection`), and LIKELY when the chain only starts at something named
like one (`self.engine`, an unannotated parameter `conn`).
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cached_property

import libcst as cst

from orm_modernize.analysis.core_vocabulary import (
    CLASSES,
    EXECUTE_METHODS,
    GENERATIVE,
    LIKELY_NAMES,
    MAKERS,
    ONE_ROW,
    OPTIONAL,
    ROWS,
    SELECT_MAKERS,
    TABLE_STATEMENTS,
    TESTING_ENGINES,
    Core,
)
from orm_modernize.analysis.memo import Memo
from orm_modernize.analysis.scopes import Assignment, ImportAssignment
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Evidence
from orm_modernize.syntax.nodes import is_constant


class CoreObjects:
    """Answers "is this expression a Core object of kind K?" for one module."""

    def __init__(self, semantic: Semantic) -> None:
        self.semantic = semantic
        self._evidence_memo: Memo[tuple[cst.CSTNode, Core], Evidence] = Memo(
            Evidence.NONE  # `x = f(x)`: a cycle proves nothing
        )
        self._string_memo: Memo[cst.CSTNode, tuple[bool, str | None]] = Memo(
            (False, None)
        )

    def evidence(self, expr: cst.BaseExpression, kind: Core) -> Evidence:
        return self._evidence_memo.ask((expr, kind), lambda: self._evidence(expr, kind))

    def executor(self, expr: cst.BaseExpression) -> tuple[str, Evidence]:
        """What `expr.execute(...)` runs on: "engine", "connection", "session" or,
        when two are equally likely, "either" (a connection or a session); with
        the evidence for it. ("", NONE) when it is none of them."""
        found = {
            "engine": self.evidence(expr, Core.ENGINE),
            "connection": self.evidence(expr, Core.CONNECTION),
            "session": self.semantic.session_evidence(expr),
        }
        best = max(found.values())
        if best is Evidence.NONE:
            return "", best
        kinds = [k for k, e in found.items() if e is best]
        if len(kinds) == 1:
            return kinds[0], best
        return ("either" if "engine" not in kinds else ""), best

    def executes_itself(self, call: cst.Call) -> Evidence:
        """`stmt.execute()` / `stmt.scalar()`: a statement run by itself on its
        tables' bound engine (1.x implicit execution), not on an engine,
        connection or session."""
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in EXECUTE_METHODS):
            return Evidence.NONE
        evidence = self.evidence(func.value, Core.STATEMENT)
        if evidence is Evidence.NONE or self.executor(func.value)[0]:
            return Evidence.NONE
        return evidence

    def is_select(self, expr: cst.BaseExpression) -> bool:
        """`expr` is surely a SELECT statement: `select(...)`, `union(...)`,
        `t.select()` of a proven table, a generative method of one, or a name
        bound only to those (`s = select(...)`, then `s = s.where(...)`)."""
        return self._select(expr) is True

    def _select(self, expr: cst.BaseExpression) -> bool | None:
        """False when anything `expr` can come from is not a SELECT, True when one
        is and none is not, None when nothing says (only cycles: `s = s.where()`).

        A walk back through generative calls and the bindings of names, each node
        visited once: linear in the bindings, however they branch."""
        found = False
        todo, seen = [expr], set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            if isinstance(node, cst.Name):
                for value in self.semantic.assigned_values(node):
                    if not isinstance(value, cst.BaseExpression):
                        return False
                    todo.append(value)
                continue
            source = self._statement_source(node)
            if isinstance(source, cst.BaseExpression):
                todo.append(source)
            elif source:
                found = True
            else:
                return False
        return True if found else None

    def _statement_source(self, expr: cst.CSTNode) -> cst.BaseExpression | bool:
        """For one step of a statement's making: True when it makes a SELECT, the
        statement it refines when it is a generative method (`s.where(...)`), False
        when it is anything else."""
        if not isinstance(expr, cst.Call):
            return False
        func = expr.func
        if self.semantic.is_one_of(func, SELECT_MAKERS):
            return True
        if not isinstance(func, cst.Attribute):
            return False
        if func.attr.value == "select":
            return self.evidence(func.value, Core.TABLE).proven
        return func.value if func.attr.value in GENERATIVE else False

    def is_opaque(self, receiver: cst.BaseExpression) -> bool:
        """Nothing in this module says what `receiver` is: a parameter, an import,
        an attribute (`store = Store()` says it is not a statement or a table)."""
        if not isinstance(receiver, cst.Name):
            return isinstance(receiver, cst.Attribute)
        values = list(self.semantic.assigned_values(receiver))
        return bool(values) and all(
            isinstance(v, (cst.Param, cst.Import, cst.ImportFrom)) for v in values
        )

    def sql_string(self, value: cst.BaseExpression) -> tuple[bool, str | None]:
        """Whether `value` is surely a string (SQL for `execute()`), and its text
        when it is a literal."""
        return self._string_memo.ask(value, lambda: self._sql_string(value))

    def _sql_string(self, value: cst.BaseExpression) -> tuple[bool, str | None]:
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            text = value.evaluated_value
            return isinstance(text, str), text if isinstance(text, str) else None
        if isinstance(value, cst.FormattedString):
            return True, None
        if isinstance(value, cst.BinaryOperation) and isinstance(
            value.operator, cst.Modulo
        ):
            return self.sql_string(value.left)[0], None
        if (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "format"
        ):
            return self.sql_string(value.func.value)[0], None
        if isinstance(value, cst.Name):
            values = list(self.semantic.assigned_values(value))
            found = [
                self.sql_string(v)
                if isinstance(v, cst.BaseExpression)
                else (False, None)
                for v in values
            ]
            if found and all(is_string for is_string, _ in found):
                texts = {text for _, text in found}
                return True, texts.pop() if len(texts) == 1 else None
        return False, None

    def is_any(self, expr: cst.BaseExpression, kinds: Collection[Core]) -> Evidence:
        return max((self.evidence(expr, k) for k in kinds), default=Evidence.NONE)

    def _evidence(self, expr: cst.BaseExpression, kind: Core) -> Evidence:
        if isinstance(expr, cst.Name):
            return self._name(expr, kind)
        if isinstance(expr, cst.Call):
            return self._call(expr, kind)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, kind)
        if isinstance(expr, cst.Subscript):
            return self._subscript(expr, kind)
        return Evidence.NONE

    def _name(self, name: cst.Name, kind: Core) -> Evidence:
        if kind is Core.ENGINE and self.semantic.is_one_of(name, TESTING_ENGINES):
            return Evidence.PROVEN
        if self._narrowed_away(name, kind):
            return Evidence.NONE
        found = []
        for assignment in self.semantic.assignments(name):
            if isinstance(assignment, ImportAssignment):
                found.append(self._by_name(name.value, kind))
            elif isinstance(assignment, Assignment):
                if not self._placeholder(assignment.node):
                    found.append(self._bound(assignment.node, name.value, kind))
            else:
                found.append(Evidence.NONE)
        # `users = None`, set for real in `setup_class`: using it as a table while
        # it is None fails anyway, so only the other bindings say what it is
        return min(found, default=Evidence.NONE)

    def _narrowed_away(self, name: cst.Name, kind: Core) -> bool:
        """Its scope checks the name against other classes (`isinstance(record,
        dict)`): the code expects something else there, and no guess goes
        against that."""
        scope = self.semantic.scope(name)
        checked = self._isinstance_checks.get((scope, name.value), ())
        return any(
            not any(self.semantic.is_one_of(c, CLASSES[kind]) for c in classes)
            for classes in checked
        )

    @cached_property
    def _isinstance_checks(
        self,
    ) -> dict[tuple[object, str], list[list[cst.BaseExpression]]]:
        """(scope, name) -> the classes of each `isinstance(name, classes)`."""
        found: dict[tuple[object, str], list[list[cst.BaseExpression]]] = {}
        for call in self.semantic.nodes(cst.Call):
            if not (
                isinstance(call.func, cst.Name)
                and call.func.value == "isinstance"
                and len(call.args) == 2
                and isinstance(call.args[0].value, cst.Name)
            ):
                continue
            classes = call.args[1].value
            listed = (
                [e.value for e in classes.elements]
                if isinstance(classes, cst.Tuple)
                else [classes]
            )
            key = (self.semantic.scope(call), call.args[0].value.value)
            found.setdefault(key, []).append(listed)
        return found

    def _placeholder(self, node: cst.CSTNode) -> bool:
        """`name = None`."""
        target = self.semantic.parent(node)
        assign = self.semantic.parent(target) if target is not None else None
        return (
            isinstance(target, cst.AssignTarget)
            and isinstance(assign, cst.Assign)
            and is_constant(assign.value, "None")
        )

    def _bound(self, node: cst.CSTNode, name: str, kind: Core) -> Evidence:
        """The evidence one binding site gives `name`."""
        if isinstance(node, cst.Param):
            if node.annotation is not None:  # `record: dict` is no row
                return self._annotated(node.annotation, kind)
            return self._by_name(name, kind)
        iterated = self._iterated(node)
        if iterated is not None:
            return self._element_of(iterated, kind)
        parent = self.semantic.parent(node)
        if isinstance(parent, cst.AssignTarget):
            assign = self.semantic.parent(parent)
            if isinstance(assign, cst.Assign):
                return self.evidence(assign.value, kind)
        if isinstance(parent, cst.AnnAssign) and parent.target is node:
            if parent.value is not None:
                return self.evidence(parent.value, kind)
            return self._annotated(parent.annotation, kind)
        if isinstance(parent, cst.AsName):
            item = self.semantic.parent(parent)
            if isinstance(item, cst.WithItem):
                return self._entered(item.item, kind)
        return Evidence.NONE

    def _iterated(self, node: cst.CSTNode) -> cst.BaseExpression | None:
        """What `for node in X` (or a comprehension's `for`) iterates over."""
        parent = self.semantic.parent(node)
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.target is node:
            return parent.iter
        return None

    def _element_of(self, iterable: cst.BaseExpression, kind: Core) -> Evidence:
        """Iterating over a result, or the list of rows one returns, gives rows."""
        if kind is not Core.ROW:
            return Evidence.NONE
        return max(self.evidence(iterable, Core.RESULT), self._rows(iterable))

    def _rows(self, expr: cst.BaseExpression) -> Evidence:
        """`result.fetchall()`, or a name bound only to such lists."""
        if isinstance(expr, cst.Name):
            values = list(self.semantic.assigned_values(expr))
            return min(
                (
                    self._rows(v) if isinstance(v, cst.Call) else Evidence.NONE
                    for v in values
                ),
                default=Evidence.NONE,
            )
        if (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in ROWS
        ):
            return self.evidence(expr.func.value, Core.RESULT)
        return Evidence.NONE

    def _entered(self, item: cst.BaseExpression, kind: Core) -> Evidence:
        """`with engine.connect() as conn` / `with engine.begin() as conn`."""
        if (
            kind is Core.CONNECTION
            and isinstance(item, cst.Call)
            and isinstance(item.func, cst.Attribute)
            and item.func.attr.value == "begin"
        ):
            return self.evidence(item.func.value, Core.ENGINE)
        return self.evidence(item, kind)

    def _call(self, call: cst.Call, kind: Core) -> Evidence:
        func = call.func
        if kind in MAKERS and self.semantic.is_one_of(func, MAKERS[kind]):
            return Evidence.PROVEN
        if not isinstance(func, cst.Attribute):
            return Evidence.NONE
        method, owner = func.attr.value, func.value
        if kind is Core.CONNECTION and method == "connect":
            return self.is_any(owner, (Core.ENGINE, Core.CONNECTION))
        if kind is Core.CONNECTION and method == "connection":
            return self.semantic.session_evidence(owner)
        if kind is Core.RESULT and method == "execute":
            # A Session's rows too: 1.4 read them by name as well (deprecated)
            return max(
                self.is_any(owner, (Core.ENGINE, Core.CONNECTION)),
                self.semantic.session_evidence(owner),
            )
        if kind is Core.ROW and method in ONE_ROW:
            return self.evidence(owner, Core.RESULT)
        if kind is Core.STATEMENT and method in TABLE_STATEMENTS:
            return self.evidence(owner, Core.TABLE)
        if kind is Core.STATEMENT and method in GENERATIVE:
            return self.evidence(owner, Core.STATEMENT)
        return Evidence.NONE

    def from_session(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """Whether a row or result may come from `Session.execute()`: 1.4 made
        those rows with 2.0's behaviour already (`in` tests values), unlike a
        connection's."""
        if depth > 8:  # names bound to names: bounded, and then say maybe
            return True
        if isinstance(expr, cst.Name):
            values = list(self.semantic.assigned_values(expr))
            sources = [v for v in values if isinstance(v, cst.BaseExpression)]
            sources += [  # the loops binding it: what they iterate over
                iterated
                for binding in self.semantic.assignments(expr)
                if isinstance(binding, Assignment)
                and (iterated := self._iterated(binding.node)) is not None
            ]
            return any(self.from_session(v, depth + 1) for v in sources)
        if isinstance(expr, cst.Subscript):
            return self.from_session(expr.value, depth + 1)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            method, owner = expr.func.attr.value, expr.func.value
            if method == "execute":
                return self.semantic.session_evidence(owner) is not Evidence.NONE
            if method in ONE_ROW | ROWS:
                return self.from_session(owner, depth + 1)
        return False

    def _attribute(self, attribute: cst.Attribute, kind: Core) -> Evidence:
        if kind is Core.ENGINE and self.semantic.is_one_of(attribute, TESTING_ENGINES):
            return Evidence.PROVEN
        if kind is Core.TABLE:
            if attribute.attr.value == "__table__":
                owner = attribute.value
                return (
                    Evidence.PROVEN
                    if self.semantic.is_mapped_class(owner)
                    else Evidence.LIKELY
                )
            if self.semantic.is_fixture(attribute, "tables"):
                return Evidence.PROVEN
            return Evidence.NONE
        if kind is Core.METADATA and attribute.attr.value == "metadata":
            # `Base.metadata`, `User.metadata`
            owner = attribute.value
            if self.semantic.is_mapped_class(owner) or (
                isinstance(owner, cst.Name)
                and owner.value in self.semantic.declarative_bases
            ):
                return Evidence.PROVEN
            return Evidence.NONE
        # `self.engine`, `self._conn`
        if (
            attribute.attr.value.lstrip("_") in LIKELY_NAMES[kind]
            and self.semantic.imports_sqlalchemy
        ):
            return Evidence.LIKELY
        return Evidence.NONE

    def _subscript(self, subscript: cst.Subscript, kind: Core) -> Evidence:
        """`metadata.tables["users"]` is a table; `result.fetchall()[0]` a row."""
        value = subscript.value
        if kind is Core.TABLE:
            if isinstance(value, cst.Attribute) and value.attr.value == "tables":
                return (
                    Evidence.LIKELY
                    if self.semantic.imports_sqlalchemy
                    else Evidence.NONE
                )
            return Evidence.NONE
        if kind is Core.ROW:
            return self._rows(value)
        return Evidence.NONE

    def _annotated(self, annotation: cst.Annotation | None, kind: Core) -> Evidence:
        """PROVEN for the kind's class (`Optional[...]` or `| None` of it too)."""
        if annotation is None:
            return Evidence.NONE
        node = annotation.annotation
        if (
            isinstance(node, cst.Subscript)
            and len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
            and self.semantic.is_one_of(node.value, OPTIONAL)
        ):
            node = node.slice[0].slice.value
        if isinstance(node, cst.BinaryOperation) and isinstance(
            node.operator, cst.BitOr
        ):
            node = node.right if is_constant(node.left, "None") else node.left
        if isinstance(node, (cst.Name, cst.Attribute)) and self.semantic.is_one_of(
            node, CLASSES[kind]
        ):
            return Evidence.PROVEN
        return Evidence.NONE

    def _by_name(self, name: str, kind: Core) -> Evidence:
        if name in LIKELY_NAMES[kind] and self.semantic.imports_sqlalchemy:
            return Evidence.LIKELY
        return Evidence.NONE
