"""Mapped classes, declarative bases, and what each argument of
`session.query(...)` selects."""

from __future__ import annotations

import enum
from collections.abc import Collection
from functools import cached_property

import libcst as cst

from orm_modernize.analysis.names import Names
from orm_modernize.analysis.vocabulary import (
    AGGREGATES,
    ALIASED,
    AS_DECLARATIVE,
    BUNDLES,
    DECLARATIVE_BASE_CLASSES,
    DECLARATIVE_BASE_FUNCTIONS,
    MAPPER_FUNCTIONS,
    TABLE_CLASSES,
)
from orm_modernize.syntax.nodes import code_of, keyword_argument
from orm_modernize.syntax.statements import (
    decorator_name,
    decorator_target,
    module_imports,
)


class Shape(enum.Enum):
    """What one argument of `session.query(...)` selects."""

    ENTITY = "entity"  # a mapped class or an aliased() of one: rows are objects
    COLUMN = "column"  # a column attribute or SQL expression: rows are tuples
    UNKNOWN = "unknown"


class Models(Names):
    """Which names are mapped classes and bases, in this module or the project."""

    # -- mapped classes --------------------------------------------------------------
    @cached_property
    def mapped_classes(self) -> dict[str, cst.ClassDef]:
        """Module-level classes mapped by a declarative base, by name."""
        bases = set(self.declarative_bases)
        mapped: dict[str, cst.ClassDef] = {}
        for statement in self.module.body:
            if not isinstance(statement, cst.ClassDef):
                continue
            if statement.name.value in bases:
                continue
            if any(
                self._is_mapped_base(arg.value, bases, mapped)
                for arg in statement.bases
            ) or any(
                decorator_name(d) in ("mapped", "mapped_as_dataclass")
                for d in statement.decorators
            ):
                mapped[statement.name.value] = statement
        return mapped

    @cached_property
    def declarative_bases(self) -> dict[str, cst.CSTNode]:
        """Module-level names of declarative bases: `Base = declarative_base()`, ..."""
        found: dict[str, cst.CSTNode] = {}
        for statement in self.module.body:
            if isinstance(statement, cst.ClassDef):
                if any(
                    self.is_one_of(arg.value, DECLARATIVE_BASE_CLASSES)
                    for arg in statement.bases
                ) or any(
                    self.is_one_of(decorator_target(d), AS_DECLARATIVE)
                    for d in statement.decorators
                ):
                    found[statement.name.value] = statement
                continue
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and isinstance(small.value, cst.Call)
                ):
                    continue
                func = small.value.func
                if self.is_one_of(func, DECLARATIVE_BASE_FUNCTIONS) or (
                    isinstance(func, cst.Attribute)
                    and func.attr.value == "generate_base"
                    and self.imports_sqlalchemy
                ):
                    found[small.targets[0].target.value] = small
        return found

    def _is_mapped_base(
        self, expr: cst.BaseExpression, bases: Collection[str], mapped: Collection[str]
    ) -> bool:
        if isinstance(expr, cst.Attribute):
            # Flask-SQLAlchemy's `db.Model`.
            return expr.attr.value == "Model" and isinstance(expr.value, cst.Name)
        if not isinstance(expr, cst.Name):
            return False
        if expr.value in bases or expr.value in mapped:
            return True
        return self._imported_mapped(expr)

    def _imported_mapped(self, name: cst.Name) -> bool:
        for value in self.assigned_values(name):
            if not isinstance(value, cst.ImportFrom):
                continue
            module = "" if value.module is None else code_of(value.module)
            if self.project.knows(module, name.value, bool(value.relative)):
                return True
        return False

    def is_mapped_class(self, expr: cst.BaseExpression) -> bool:
        """A mapped class: declarative (here or in the project), mapped classically
        by `mapper()` / `map_imperatively()`, or one of SQLAlchemy's test fixtures'
        classes (`self.classes.User`)."""
        if self.is_fixture(expr, "classes"):
            return True
        if isinstance(expr, cst.Attribute):
            return self._module_attribute_mapped(expr)
        if not isinstance(expr, cst.Name):
            return False
        values = list(self.assigned_values(expr))
        return bool(values) and all(self._is_mapped_value(expr, v) for v in values)

    def _module_attribute_mapped(self, expr: cst.Attribute) -> bool:
        """`model.Package` where `model` is a module of the project (`from ckan
        import model`) and `Package` a class mapped in the project."""
        name = self.project_name(expr)
        if name is None:
            return False
        module, _, cls = name.rpartition(".")
        return (
            module.split(".", 1)[0] in self.project.packages
            and cls in self.project.mapped
            and module.rpartition(".")[2] not in self.project.mapped
        )

    def _is_mapped_value(self, name: cst.Name, value: cst.CSTNode | None) -> bool:
        if isinstance(value, cst.ClassDef):
            if self.mapped_classes.get(name.value) is value:
                return True
            if name.value in self.classically_mapped:
                return True
            return any(self._is_local_base(arg.value) for arg in value.bases)
        if isinstance(value, cst.ImportFrom):
            return self._imported_mapped(name)
        if isinstance(value, cst.Param):
            return self._mapped_cls(value)
        return value is not None and self.is_fixture(value, "classes")

    def _mapped_cls(self, param: cst.Param) -> bool:
        """`cls` of a classmethod of a mapped class: the class or a subclass,
        mapped too."""
        function = self.parent(self.parent(param) or param)
        if not (
            isinstance(function, cst.FunctionDef)
            and function.params.params[:1] == (param,)
            and any(
                isinstance(d.decorator, cst.Name) and d.decorator.value == "classmethod"
                for d in function.decorators
            )
        ):
            return False
        body = self.parent(function)
        classdef = self.parent(body) if body is not None else None
        if not isinstance(classdef, cst.ClassDef):
            return False
        name = classdef.name
        if self.mapped_classes.get(name.value) is classdef:
            return True
        return self.is_mapped_class(name) if self.scope(name) is not None else False

    def _is_local_base(self, expr: cst.BaseExpression) -> bool:
        """A base of a class defined inside a function: `Base = declarative_base()`
        in the same function, or any class known to be mapped."""
        if not isinstance(expr, cst.Name):
            return False
        if expr.value in self.declarative_bases:
            return True
        values = list(self.assigned_values(expr))
        return bool(values) and all(
            self.calls(v, DECLARATIVE_BASE_FUNCTIONS)
            or (isinstance(v, cst.ClassDef) and self._is_mapped_value(expr, v))
            for v in values
        )

    @cached_property
    def classically_mapped(self) -> frozenset[str]:
        """Names passed first to `mapper(X, table)` or `registry.map_imperatively(X,
        table)` anywhere in the module."""
        found: set[str] = set()
        for call in self.nodes(cst.Call):
            func = call.func
            if not call.args or not isinstance(call.args[0].value, cst.Name):
                continue
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value == "map_imperatively"
            ) or (
                isinstance(func, (cst.Name, cst.Attribute))
                and self.is_one_of(func, MAPPER_FUNCTIONS)
            ):
                found.add(call.args[0].value.value)
        return frozenset(found)

    def made_by_backref(self, node: cst.Attribute) -> bool:
        """`User.orders` where `orders` is made by a `backref=` on another class
        (by name across the project, exactly within this module)."""
        owner = node.value
        if not isinstance(owner, cst.Name):
            return False
        attribute = node.attr.value
        if (owner.value, attribute) in self.relationships.backrefs:
            return True
        return (
            attribute in self.project.backrefs
            and (owner.value, attribute) not in self.relationships.declared
            and (self.is_mapped_class(owner) or owner.value[:1].isupper())
        )

    def is_mapped_reference(self, expr: cst.BaseExpression) -> bool:
        """A mapped class, or an attribute of one (`User`, `User.name`,
        `model.User.name`)."""
        while isinstance(expr, cst.Attribute) and not self.is_fixture(expr, "classes"):
            if self._module_attribute_mapped(expr):
                return True
            expr = expr.value
        return self.is_mapped_class(expr)

    def shape(self, expr: cst.BaseExpression) -> Shape:
        """Whether a `query()` argument selects whole objects or column values."""
        if self.is_mapped_class(expr):
            return Shape.ENTITY
        if isinstance(expr, cst.Name):
            values = list(self.assigned_values(expr))
            if values and all(self.calls(v, ALIASED) for v in values):
                return Shape.ENTITY
            if values and all(self.is_selectable(v) for v in values):
                return Shape.COLUMN  # a Table or a subquery: rows of its columns
            if values and all(self._is_bundle(v) for v in values):
                return Shape.COLUMN  # rows holding the bundle, never de-duplicated
            return Shape.UNKNOWN
        if isinstance(expr, cst.Call) and self.calls(expr, ALIASED):
            return Shape.ENTITY
        if isinstance(expr, cst.Attribute):
            owner = expr.value
            if isinstance(owner, cst.Attribute) and owner.attr.value == "c":
                return Shape.COLUMN if self.imports_sqlalchemy else Shape.UNKNOWN
            if self.is_fixture(expr, "tables"):
                return Shape.COLUMN
            if self.shape(owner) is Shape.ENTITY:
                return Shape.COLUMN
        if isinstance(expr, cst.Call) and self._is_sql_expression(expr):
            return Shape.COLUMN
        return Shape.UNKNOWN

    def is_selectable(self, value: cst.CSTNode | None) -> bool:
        if value is None:
            return False
        if self.is_fixture(value, "tables") or self.calls(value, TABLE_CLASSES):
            return True
        return (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in ("subquery", "alias", "cte")
            and self.imports_sqlalchemy
        )

    def is_aggregate(self, expr: cst.BaseExpression) -> bool:
        """`func.count(...)`, `sa.func.max(...)`, or one of them labelled: SQL's
        aggregates, which give one row for a SELECT without GROUP BY."""
        if (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value == "label"
        ):
            expr = expr.func.value
        return isinstance(expr, cst.Call) and self.is_one_of(expr.func, AGGREGATES)

    def _is_bundle(self, value: cst.CSTNode | None) -> bool:
        """`Bundle("b", ...)`, which Query returned inside rows (unlike a bundle with
        `single_entity=True`, returned alone)."""
        return (
            isinstance(value, cst.Call)
            and self.calls(value, BUNDLES)
            and keyword_argument(value, "single_entity") is None
        )

    def _is_sql_expression(self, call: cst.Call) -> bool:
        func = call.func
        if any(n.startswith("sqlalchemy.") for n in self.qualified_names(func)):
            return True  # func.count(...), sa.func.max(...), literal_column(...)
        # User.name.label("n"), func.count(User.id).label("n")
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value in ("label", "distinct")
            and self.shape(func.value) is Shape.COLUMN
        )

    @cached_property
    def imports_sqlalchemy_testing(self) -> bool:
        return any(
            source.startswith("sqlalchemy.testing")
            or (source == "sqlalchemy" and name == "testing")
            for source, name, _ in module_imports(self.module)
        )

    def is_fixture(self, node: cst.CSTNode, kind: str) -> bool:
        """`self.classes.User` / `self.classes("User", ...)` (kind "classes") or the
        same with `tables`: the registries of SQLAlchemy's test fixtures."""
        if isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        else:
            return False
        return (
            isinstance(node, cst.Attribute)
            and node.attr.value == kind
            and isinstance(node.value, cst.Name)
            and node.value.value in ("self", "cls")
            and self.imports_sqlalchemy_testing
        )
