"""ORM407 (opt-in): `x = Column(...)` -> `x: Mapped[T] = mapped_column(...)`."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.pins import admitting_below
from orm_modernize.analysis.relationships import is_abstract
from orm_modernize.analysis.vocabulary import RELATIONSHIP
from orm_modernize.data.records import Edit, Fix, ImportSpec
from orm_modernize.rewrite.mapped_types import (
    COLUMN,
    PythonType,
    column_type,
    keywords_mapped_column_lacks,
    references,
    table_name,
)
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import imported_root, keyword_argument, string_value

# `lazy=` strategies that load the collection or object itself: `Mapped[]` fits
# (`"dynamic"` is `DynamicMapped`, `"write_only"` `WriteOnlyMapped`).
LOADED = frozenset(
    {"select", "joined", "selectin", "subquery", "immediate", "raise", "raise_on_sql"}
)


class UntypedMappedAttribute(Rule):
    """
    ## What it does
    Checks for columns and relationships of declarative classes declared without
    a `Mapped[]` annotation. Off unless selected by its code (`--select
    ORM407`): it changes annotations users see, beyond any legacy idiom.

    ## Why is this bad?
    SQLAlchemy 2.0's typed declarative form (`Mapped[]` with `mapped_column()`)
    is what type checkers and IDEs understand: `user.name` is a `str`, not a
    `Column`. Untyped classes keep working, but are where a 2.0 migration
    usually stalls, since writing hundreds of annotations by hand is slow and
    easy to get wrong.

    ## Example
        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            name = Column(String(50), nullable=False)
            nickname = Column(String(50))

    ## Use instead
        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(Integer, primary_key=True)
            name: Mapped[str] = mapped_column(String(50))
            nickname: Mapped[Optional[str]] = mapped_column(String(50))

    ## Fix safety
    Safe, and the tables are the same: the explicit SQL type is kept, so the
    annotation only spells nullability, exactly as the column had it (a
    primary key or `nullable=False` is not optional, anything else is;
    `Optional[X]`, or `X | None` when the project requires Python 3.10). The
    Python type follows the SQL type (`Integer` is `int`, `Numeric` is
    `Decimal`, `Enum(Status)` is `Status`, `JSON` and unknown types are `Any`).
    A relationship is annotated only when the foreign keys say its direction:
    `Mapped[list["Post"]]` when they are on the other class (or it has
    `secondary`), `Mapped[Optional["User"]]` when they are here; `uselist`,
    `collection_class` and relationships whose `lazy=` is not a loading
    strategy of `Mapped[]` (`"dynamic"`, `"write_only"`, a non-literal) are
    left alone.

    Reported without a fix: a column with only a `ForeignKey` (its type comes
    from the referenced column, an annotation would replace it), an argument
    `mapped_column()` does not take, a non-literal `nullable`. Flask-SQLAlchemy
    models are not checked (`db.Model` takes `Mapped[]` from 3.1 only), nor
    `__abstract__` classes, whose columns ORM410 converts keeping their order.
    `mapped_column()` needs SQLAlchemy 2.0.

    ## References
    - What's new in SQLAlchemy 2.0, "Step two - replace Declarative use of
      Column with mapped_column()" and "Step three - apply exact Python types
      as needed using Mapped"
    """

    code = "ORM407"
    name = "untyped-mapped-attribute"
    message = "mapped attribute without a `Mapped[]` annotation"
    fix_title = "Annotate it with `Mapped[]`"
    fix_availability = "sometimes"
    triggers = (b"Column", b"relationship")

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.semantic.mapped_classes.get(node.name.value) is not node:
            return
        if any(isinstance(b.value, cst.Attribute) for b in node.bases):
            return  # `db.Model`
        if is_abstract(node):
            return  # its columns are ORM410's, which keeps their order
        assert isinstance(node.body, cst.IndentedBlock)
        for statement in node.body.body:
            if not (
                isinstance(statement, cst.SimpleStatementLine)
                and len(statement.body) == 1
                and isinstance(statement.body[0], cst.Assign)
            ):
                continue
            assign = statement.body[0]
            if not (
                len(assign.targets) == 1
                and isinstance(assign.targets[0].target, cst.Name)
                and isinstance(assign.value, cst.Call)
            ):
                continue
            call = assign.value
            if self.semantic.is_one_of(call.func, COLUMN):
                self._column(assign, call)
            elif self.semantic.is_one_of(call.func, RELATIONSHIP):
                self._relationship(node, assign, call)

    def _column(self, assign: cst.Assign, call: cst.Call) -> None:
        python = column_type(call, self.semantic)
        if python is None:
            self.report(
                assign,
                message=f"{self.message} (its type comes from the column its"
                " foreign key references: give it one to annotate it)",
            )
            return
        unknown = keywords_mapped_column_lacks(call)
        nullable = keyword_argument(call, "nullable")
        primary = keyword_argument(call, "primary_key")
        flags = [_literal(a) for a in (nullable, primary) if a is not None]
        if unknown or None in flags:
            self.report(assign)
            return
        is_primary = primary is not None and _literal(primary) is True
        is_nullable = (not is_primary) if nullable is None else _literal(nullable)
        if is_primary and is_nullable:
            self.report(assign)  # a nullable primary key: say it by hand
            return
        args = [a for a in call.args if a is not nullable]
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        mapped_column = self._name(assign, "sqlalchemy.orm", "mapped_column")
        annotation = self._python(assign, python, optional=bool(is_nullable))
        if mapped_column is None or annotation is None:
            self.report(assign)
            return
        value = call.with_changes(func=mapped_column[0], args=args)
        self._annotate(
            assign, annotation, value, mapped_column[1], imported_root(call.func)
        )

    def _relationship(
        self, owner: cst.ClassDef, assign: cst.Assign, call: cst.Call
    ) -> None:
        lazy = keyword_argument(call, "lazy")
        if (
            any(
                keyword_argument(call, k) is not None
                for k in ("uselist", "collection_class", "argument")
            )
            or (lazy is not None and string_value(lazy.value) not in LOADED)
            or not call.args
            or call.args[0].keyword is not None
        ):
            return
        first = call.args[0].value
        target = first.value if isinstance(first, cst.Name) else string_value(first)
        classes = self.semantic.mapped_classes
        if target is None or target not in classes:
            return
        here, there = table_name(owner), table_name(classes[target])
        if here is None or there is None:
            return
        quoted = cst.SimpleString(f'"{target}"')
        many_here = references(owner, there, self.semantic)
        many_there = references(classes[target], here, self.semantic)
        if keyword_argument(call, "secondary") is not None or (
            many_there and not many_here
        ):
            inner = self._list(assign, quoted)
        elif many_here and not many_there:
            inner = self._optional(assign, quoted)
        else:
            return
        if inner is None:
            return
        self._annotate(assign, inner, call, (), ())

    def _annotate(
        self,
        assign: cst.Assign,
        inner: tuple[cst.BaseExpression, tuple[ImportSpec, ...]],
        value: cst.BaseExpression,
        imports: tuple[ImportSpec, ...],
        unused: tuple[str, ...],
    ) -> None:
        mapped = self._name(assign, "sqlalchemy.orm", "Mapped")
        if mapped is None:
            self.report(assign)
            return
        annotation = cst.Subscript(
            mapped[0], [cst.SubscriptElement(cst.Index(inner[0]))]
        )
        new = cst.AnnAssign(
            target=assign.targets[0].target,
            annotation=cst.Annotation(annotation),
            value=value,
        )
        fix = Fix(
            (Edit(assign, new),),
            safe=True,
            imports=(*mapped[1], *inner[1], *imports),
            unused=unused,
        )
        self.report(assign, fix=fix)

    def _python(
        self, at: cst.CSTNode, python: PythonType, *, optional: bool
    ) -> tuple[cst.BaseExpression, tuple[ImportSpec, ...]] | None:
        if python.module:
            found = self._name(at, python.module, python.name)
            if found is None:
                return None
            expression, needed = found
        else:
            expression, needed = cst.Name(python.name), ()
        if not optional:
            return expression, needed
        wrapped = self._optional(at, expression)
        return None if wrapped is None else (wrapped[0], (*needed, *wrapped[1]))

    def _optional(
        self, at: cst.CSTNode, inner: cst.BaseExpression
    ) -> tuple[cst.BaseExpression, tuple[ImportSpec, ...]] | None:
        if self._python_at_least("3.10") and not isinstance(inner, cst.SimpleString):
            return cst.BinaryOperation(inner, cst.BitOr(), cst.Name("None")), ()
        found = self._name(at, "typing", "Optional")
        if found is None:
            return None
        subscript = cst.Subscript(found[0], [cst.SubscriptElement(cst.Index(inner))])
        return subscript, found[1]

    def _list(
        self, at: cst.CSTNode, inner: cst.BaseExpression
    ) -> tuple[cst.BaseExpression, tuple[ImportSpec, ...]] | None:
        if self._python_at_least("3.9"):
            container: tuple[cst.BaseExpression, tuple[ImportSpec, ...]] = (
                cst.Name("list"),
                (),
            )
        else:
            found = self._name(at, "typing", "List")
            if found is None:
                return None
            container = found
        subscript = cst.Subscript(
            container[0], [cst.SubscriptElement(cst.Index(inner))]
        )
        return subscript, container[1]

    def _name(
        self, at: cst.CSTNode, module: str, name: str
    ) -> tuple[cst.BaseExpression, tuple[ImportSpec, ...]] | None:
        found = self.semantic.reference(at, module, name)
        if found is None:
            return None
        return found[0], (found[1],) if found[1] else ()

    def _python_at_least(self, version: str) -> bool:
        """The project requires that Python or a newer one."""
        pins = self.semantic.pins
        return any(p.name == "python" for p in pins) and not admitting_below(
            pins, "python", version
        )


def _literal(arg: cst.Arg) -> bool | None:
    value = arg.value
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return value.value == "True"
    return None
