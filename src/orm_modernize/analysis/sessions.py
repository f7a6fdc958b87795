"""Sessions and Flask-SQLAlchemy `db` objects: how sure the analysis is that a
receiver is one, from this module or one it imports."""

from __future__ import annotations

from collections.abc import Collection

import libcst as cst

from orm_modernize.analysis.models import Models
from orm_modernize.analysis.scopes import (
    QualifiedNameSource,
)
from orm_modernize.analysis.vocabulary import (
    FLASK_SQLALCHEMY,
    SCOPED_SESSIONS,
    SESSION_CLASSES,
    SESSION_FACTORIES,
    SESSION_FUNCTIONS,
)
from orm_modernize.data.records import (
    Evidence,
)
from orm_modernize.syntax import tree
from orm_modernize.syntax.statements import decorator_name

# Receivers that are only *named* like a session. `db` is the FastAPI tutorial's name.
SESSION_NAMES = frozenset({"session", "sess", "db", "dbsession", "db_session"})


def is_session_name(name: str) -> bool:
    return name in SESSION_NAMES or name.endswith("_session")


class Sessions(Models):
    """Whether an expression is a session, a `db` or a session factory."""

    # -- ORM functions ---------------------------------------------------------------
    def orm_function(
        self, func: cst.BaseExpression, names: Collection[str]
    ) -> Evidence:
        """Is `func` one of the `sqlalchemy.orm` functions `names` (short names:
        `relationship`)? PROVEN when it resolves there, or is the same name on a
        module-level Flask-SQLAlchemy `db = SQLAlchemy()` (which re-exports them);
        LIKELY on a `db` imported from elsewhere (the usual `from app import
        db`) in a module that imports SQLAlchemy or maps a class."""
        if self.is_one_of(func, {f"sqlalchemy.orm.{name}" for name in names}):
            return Evidence.PROVEN
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value in names
            and isinstance(func.value, cst.Name)
        ):
            return Evidence.NONE
        return self._db_evidence(
            func.value.value, list(self.assigned_values(func.value)), func.value
        )

    def module_db(self, name: str) -> Evidence:
        """Is the module-level `name` Flask-SQLAlchemy's `db`, as `orm_function`
        judges a `db.relationship` of the module?"""
        scope = self.scope(self.module)
        if scope is None or name not in scope:
            return Evidence.NONE
        values = list(self._values(scope[name]))
        return self._db_evidence(name, values, cst.Name(name), self.module)

    def _db_evidence(
        self,
        name: str,
        values: list[cst.CSTNode | None],
        node: cst.BaseExpression,
        at: cst.CSTNode | None = None,
    ) -> Evidence:
        """PROVEN when `name` is bound to `SQLAlchemy(...)` only, here or by the
        module of the project it is imported from; LIKELY when it is a `db` only
        imported, in a module that imports SQLAlchemy or maps a class."""
        if self._flask_sqlalchemy(values) or self.project_object(node, at) == "db":
            return Evidence.PROVEN
        if (
            name == "db"
            and values
            and all(isinstance(v, cst.ImportFrom) for v in values)
            and (self.imports_sqlalchemy or bool(self.mapped_classes))
        ):
            return Evidence.LIKELY
        return Evidence.NONE

    def _flask_sqlalchemy(self, values: list[cst.CSTNode | None]) -> bool:
        """The values a name is bound to are all `SQLAlchemy(...)`: it is
        Flask-SQLAlchemy's `db`."""
        return bool(values) and all(self.calls(v, FLASK_SQLALCHEMY) for v in values)

    # -- sessions --------------------------------------------------------------------
    def session_evidence(
        self,
        receiver: cst.BaseExpression,
        entities: Collection[cst.BaseExpression] = (),
    ) -> Evidence:
        """How sure we are that `receiver` is a SQLAlchemy `Session` (or scoped one).

        A receiver only named like a session counts as LIKELY when something else says
        SQLAlchemy: a mapped class among `entities`, or (for `x.session`) an import of
        SQLAlchemy in the module.
        """
        evidence = self._receiver_evidence(receiver)
        if evidence is not Evidence.LIKELY:
            return evidence
        if any(self.is_mapped_reference(e) for e in entities):
            return Evidence.LIKELY
        if isinstance(receiver, cst.Attribute) and self.imports_sqlalchemy:
            return Evidence.LIKELY
        return Evidence.NONE

    def _receiver_evidence(self, expr: cst.BaseExpression) -> Evidence:
        if isinstance(expr, cst.Name):
            return self._name_evidence(expr)
        if isinstance(expr, cst.Call):
            return self._session_value_evidence(expr)
        if isinstance(expr, cst.Attribute):
            if self.project_object(expr) == "scoped_session":  # model.Session
                return Evidence.PROVEN
            if self._instance_session(expr):
                return Evidence.PROVEN
            if not is_session_name(expr.attr.value):
                return Evidence.NONE
            # Flask-SQLAlchemy: `db = SQLAlchemy(app)` makes `db.session` a scoped one.
            owner = expr.value
            if (
                expr.attr.value == "session"
                and isinstance(owner, cst.Name)
                and (
                    self._flask_sqlalchemy(list(self.assigned_values(owner)))
                    or self.project_object(owner) == "db"
                )
            ):
                return Evidence.PROVEN
            return Evidence.LIKELY
        return Evidence.NONE

    def _instance_session(self, expr: cst.Attribute) -> bool:
        """`self.db` where every assignment of `self.db` in the class is a proven
        session (`self.db = scoped_session(sessionmaker(...))` in `__init__`)."""
        if not (isinstance(expr.value, cst.Name) and expr.value.value == "self"):
            return False
        classdef = self._enclosing_class(expr)
        if classdef is None:
            return False
        values = [
            value
            for cls in self._with_subclasses(classdef)
            for value in self._instance_attributes(cls).get(expr.attr.value, ())
        ]
        return bool(values) and all(
            v is not None and self._session_value_evidence(v).proven for v in values
        )

    def _with_subclasses(self, classdef: cst.ClassDef) -> list[cst.ClassDef]:
        """`classdef` and the classes of the module that derive from it, which
        may assign its attributes otherwise."""
        known = self._subclasses_of.get(classdef)
        if known is not None:
            return known
        found = self._subclasses_of[classdef] = [classdef]
        names = {classdef.name.value}
        for other in self.nodes(cst.ClassDef):
            if other not in found and any(
                isinstance(b.value, cst.Name) and b.value.value in names
                for b in other.bases
            ):
                found.append(other)
                names.add(other.name.value)
        return found

    def _instance_attributes(
        self, classdef: cst.ClassDef
    ) -> dict[str, list[cst.BaseExpression | None]]:
        """What the methods of `classdef` assign to `self.<name>`, by name (None:
        a value not written out, as in `self.a, self.b = pair`)."""
        known = self._attributes_of.get(classdef)
        if known is not None:
            return known
        found: dict[str, list[cst.BaseExpression | None]] = {}
        for node in tree.walk(classdef)[1]:
            targets: list[tuple[cst.BaseExpression, cst.BaseExpression | None]] = []
            if isinstance(node, cst.Assign):
                for assign in node.targets:
                    if isinstance(assign.target, (cst.Tuple, cst.List)):
                        targets.extend((e.value, None) for e in assign.target.elements)
                    else:
                        targets.append((assign.target, node.value))
            elif isinstance(node, cst.AnnAssign):
                targets = [(node.target, node.value)]
            elif isinstance(node, (cst.AugAssign, cst.For)):
                targets = [(node.target, None)]
            for target, value in targets:
                if (
                    isinstance(target, cst.Attribute)
                    and isinstance(target.value, cst.Name)
                    and target.value.value == "self"
                ):
                    found.setdefault(target.attr.value, []).append(value)
        self._attributes_of[classdef] = found
        return found

    def _name_evidence(self, name: cst.Name) -> Evidence:
        imported = self.project_object(name)
        if imported is not None:  # a scoped_session is used as a session
            return Evidence.PROVEN if imported == "scoped_session" else Evidence.NONE
        values = list(self.assigned_values(name))
        if not values:
            return Evidence.LIKELY if is_session_name(name.value) else Evidence.NONE
        found = [self._session_value_evidence(v, name.value) for v in values]
        return min(found)

    def _session_value_evidence(
        self, value: cst.CSTNode | None, name: str = ""
    ) -> Evidence:
        by_name = Evidence.LIKELY if is_session_name(name) else Evidence.NONE
        if isinstance(value, cst.Param):
            return self._annotation_evidence(value.annotation) or by_name
        if not isinstance(value, cst.Call):
            return by_name
        func = value.func
        if self.is_one_of(func, SESSION_CLASSES | SCOPED_SESSIONS | SESSION_FUNCTIONS):
            return Evidence.PROVEN
        if isinstance(func, cst.Name) and self._is_session_factory(func):
            return Evidence.PROVEN
        if isinstance(func, cst.Attribute) and self.project_object(func) in (
            "sessionmaker",
            "scoped_session",
        ):
            return Evidence.PROVEN  # model.Session(): a session of a factory
        # `with factory.begin() as session` yields a session too.
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "begin"
            and isinstance(func.value, (cst.Name, cst.Call))
            and self._is_session_source(func.value)
        ):
            return Evidence.PROVEN
        if self._is_foreign_call(func):
            return Evidence.NONE  # requests.Session(), boto3.Session(), ...
        if self._session_function(value):
            return Evidence.PROVEN
        return by_name

    def _session_function(self, call: cst.Call) -> bool:
        """A call of a function of this module (or a method of this class, as
        `self._session()`) that returns only proven sessions, or is annotated to;
        or, as the item of a `with`, a `@contextmanager` one that yields only
        them."""
        function = self._called_function(call.func)
        if function is None or function in self._functions_open:
            return False
        nodes = tree.own_nodes(function.body)
        generator = any(isinstance(n, cst.Yield) for n in nodes)
        if generator:
            if not (
                isinstance(self.parent(call), cst.WithItem)
                and any(
                    decorator_name(d) == "contextmanager" for d in function.decorators
                )
            ):
                return False
        elif (
            function.returns is not None
            and self._annotation_evidence(function.returns).proven
        ):
            return True
        kind = cst.Yield if generator else cst.Return
        results = [
            n.value
            for n in nodes
            if isinstance(n, kind) and isinstance(n.value, cst.BaseExpression)
        ]
        self._functions_open.add(function)
        try:
            return bool(results) and all(
                self._receiver_evidence(r).proven for r in results
            )
        finally:
            self._functions_open.discard(function)

    def _called_function(self, func: cst.BaseExpression) -> cst.FunctionDef | None:
        if isinstance(func, cst.Name):
            values = list(self.assigned_values(func))
            if len(values) == 1 and isinstance(values[0], cst.FunctionDef):
                return values[0]
            return None
        if not (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == "self"
        ):
            return None
        classdef = self._enclosing_class(func)
        if classdef is None:
            return None
        found = [
            s
            for s in classdef.body.body
            if isinstance(s, cst.FunctionDef) and s.name.value == func.attr.value
        ]
        return found[0] if len(found) == 1 else None

    def _is_session_source(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name):
            return self._is_session_factory(expr)
        return self._session_value_evidence(expr).proven

    def _is_session_factory(self, name: cst.Name) -> bool:
        """`name` is bound only to `sessionmaker(...)` or `scoped_session(...)`,
        here or by the module of the project it is imported from."""
        if self.project_object(name) in ("sessionmaker", "scoped_session"):
            return True
        values = list(self.assigned_values(name))
        return bool(values) and all(
            self.calls(v, SESSION_FACTORIES | SCOPED_SESSIONS) for v in values
        )

    def _annotation_evidence(self, annotation: cst.Annotation | None) -> Evidence:
        if annotation is None:
            return Evidence.NONE
        node = annotation.annotation
        # Optional[Session]
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            element = node.slice[0].slice
            if isinstance(element, cst.Index):
                node = element.value
        # Session | None
        if isinstance(node, cst.BinaryOperation) and isinstance(
            node.operator, cst.BitOr
        ):
            node = node.left
        if isinstance(node, (cst.Name, cst.Attribute)) and self.is_one_of(
            node, SESSION_CLASSES | SCOPED_SESSIONS
        ):
            return Evidence.PROVEN
        return Evidence.NONE

    def _is_foreign_call(self, func: cst.BaseExpression) -> bool:
        """A call of something imported from a package other than SQLAlchemy."""
        scope = self.scope(func)
        if scope is None:
            return False
        names = scope.qualified_names(func)
        return bool(names) and all(
            q.source is QualifiedNameSource.IMPORT
            and not q.name.startswith(("sqlalchemy", "."))
            and q.name.split(".", 1)[0] not in self.project.packages
            for q in names
        )
