"""A legacy `Query`'s steps, converted to the `select()` that returns the same rows.

The rules decide *whether* a query is rewritten (receiver proof, where it ends); this
module decides what the `select()` is and what the caller must add to keep the old
results: `.unique()` where `Query` de-duplicated entity rows, the parameters of
`.params()`, and whether rows are objects (`scalars()`) or tuples (`execute()`).
A step without a faithful `Select` spelling makes the conversion fail with a reason
the finding can show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import ClassVar

import libcst as cst

from orm_modernize.analysis.models import Shape
from orm_modernize.analysis.query_chain import Step
from orm_modernize.data.records import Refused
from orm_modernize.rewrite.aliased_joins import retarget
from orm_modernize.rewrite.converted import (
    Converted,
    StepContext,
    entity_root,
    looks_like_class,
)
from orm_modernize.rewrite.from_self import (
    check_after,
    from_self,
    select_entity_from,
)
from orm_modernize.rewrite.query_joins import (
    POLYMORPHIC_OPTIONS,
    filter_by,
    join,
    with_parent,
    with_polymorphic,
)
from orm_modernize.rewrite.string_paths import removed_options
from orm_modernize.syntax.nodes import called_name, code_of, keyword, method, walk
from orm_modernize.syntax.tree import children

# Same name, same meaning on `Select` (2.0 migration guide, "ORM Query Unified with
# Core Select"). `join`, `filter_by`, `options`, `distinct` are checked first below.
SAME = frozenset(
    {
        "where",
        "order_by",
        "group_by",
        "having",
        "limit",
        "offset",
        "slice",
        "correlate",
        "correlate_except",
        "with_for_update",
        "execution_options",
        "prefix_with",
        "suffix_with",
        "with_hint",
        "with_statement_hint",
        "set_label_style",
        "add_columns",
        "from_statement",
    }
)
RENAMED = {
    "filter": "where",
    "add_entity": "add_columns",
    "add_column": "add_columns",
    "with_entities": "with_only_columns",
}
# Query's set operations, and the Core functions that build the same compound.
SET_OPERATIONS = {
    "union": "union",
    "union_all": "union_all",
    "intersect": "intersect",
    "intersect_all": "intersect_all",
    "except_": "except_",
    "except_all": "except_all",
}
# Steps whose arguments name no FROM (loader options are `loader_options`).
NOT_FROMS = frozenset(
    {"options", "params", "limit", "offset", "slice", "execution_options"}
    | {"populate_existing", "yield_per", "autoflush", "reset_joinpoint"}
)
# Calls that make a FROM of their own: a name bound to one names another FROM.
FROM_MAKERS = frozenset(
    {"aliased", "alias", "subquery", "cte", "select", "table", "Table", "join"}
    | {"outerjoin", "union", "union_all", "lateral", "values", "with_polymorphic"}
)
RAW_SQL = frozenset({"text", "literal_column"})
# Steps whose spread arguments mean the same on `Select`: `filter(*criteria)` is
# `where(*criteria)`, and `filter_by(**values)` names the one entity's columns
SPREAD_KEPT = {"filter": {"*"}, "where": {"*"}, "filter_by": {"**"}}
# Calls whose arguments are a subquery of their own, which adds no FROM here
SUBQUERIES = frozenset(
    {"any", "has", "exists", "select", "in_", "not_in", "notin_", "with_parent"}
)
# Loader options that load without a join (so repeat no row)
SEPARATE_LOADS = frozenset(
    {"selectinload", "subqueryload", "lazyload", "noload", "raiseload"}
    | {"immediateload", "defaultload", "load_only", "defer", "undefer"}
    | {"undefer_group", "with_expression", "selectin_polymorphic", "Load"}
)
# Query methods that became execution options of the statement.
EXECUTION_OPTIONS = {"populate_existing": 0, "yield_per": 1, "autoflush": 1}

REMOVED = {
    "enable_eagerloads": "`Query.enable_eagerloads()` has no `Select` equivalent:"
    " drop the eager loader options instead",
    "with_labels": "`Query.with_labels()` is legacy: use"
    " `set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)`",
    "apply_labels": "`Query.apply_labels()` is legacy: use"
    " `set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)`",
}


_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


class Converter(StepContext):
    """Converts the steps of one query; `semantic` answers what names are."""

    def start(self, query: cst.Call) -> Converted:
        """`session.query(A, B)` as `select(A, B)`."""
        select = self.import_name("sqlalchemy", "select")
        entities = [arg.value for arg in query.args]
        shapes = [self.semantic.shape(entity) for entity in entities]
        statement = query.with_changes(func=select)
        converted = Converted(statement, shapes, entities, initial=statement)
        # `query(User, Address.email)`: a FROM for each; the rows repeat unless
        # each FROM's entity is selected whole.
        converted.other_froms = len({entity_root(e) for e in entities}) > 1 and any(
            shape is not Shape.ENTITY for shape in shapes
        )
        return converted

    def resolve_shapes(self, converted: Converted) -> None:
        """Rows are objects or tuples: a lone unknown must be guessed or refused."""
        if converted.shapes != [Shape.UNKNOWN]:
            return
        entity = converted.entities[0]
        if looks_like_class(entity):
            converted.shapes, converted.guessed = [Shape.ENTITY], True
            return
        if (
            isinstance(entity, cst.Attribute)
            and looks_like_class(entity.value)
            and not looks_like_class(entity.attr)
        ):  # `Person.name`: an attribute of a class, so a column by convention
            converted.shapes, converted.guessed = [Shape.COLUMN], True
            return
        raise Refused(
            "cannot tell whether the query selects objects or columns;"
            " rewrite it by hand"
        )

    def apply(self, converted: Converted, steps: Sequence[Step]) -> Converted:
        for step in steps:
            self._step(converted, step)
        return converted

    # -- one step -----------------------------------------------------------------
    def _step(self, converted: Converted, step: Step) -> None:
        _check_step(converted, step)
        name = step.name
        if name not in NOT_FROMS:
            converted.other_froms |= self._names_another_from(converted, step.call)
            # What `*criteria` holds is not seen: it may name another FROM.
            converted.other_froms |= any(a.star == "*" for a in step.call.args)
        check_after(converted, step)
        if name in EXECUTION_OPTIONS:
            self._execution_option(converted, step)
        elif name in ("filter", "order_by", "group_by") and converted.adapting:
            self._adapted(converted, step)
        elif name in SET_OPERATIONS:
            self._set_operation(converted, step)
        elif name in self._STEPS:
            self._STEPS[name](self, converted, step)
        elif name in SAME or name in RENAMED:
            self._same(converted, step)
        else:
            raise Refused(f"`Query.{name}()` has no `Select` equivalent here")

    def _names_another_from(self, converted: Converted, call: cst.Call) -> bool:
        """Whether the arguments of a step name a FROM the query does not select:
        another class (`Address.user_id == User.id`), a table or subquery
        (`t.c.x`, a name bound to `aliased()` or `.subquery()`), or raw SQL."""
        selected = {entity_root(e) for e in converted.entities}
        stack: list[cst.CSTNode] = [arg.value for arg in call.args]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Call):
                name = called_name(node)
                if name in RAW_SQL:
                    return True
                if name in SUBQUERIES:  # `User.addresses.any(...)`: no FROM here
                    stack.append(node.func)
                    continue
            stack.extend(children(node))
            if not isinstance(node, cst.Attribute):
                continue
            if node.attr.value in ("c", "columns"):
                return True
            root = node.value
            if not isinstance(root, cst.Name) or root.value in selected:
                continue
            if root.value[:1].isupper() or any(
                isinstance(value, cst.Call) and called_name(value) in FROM_MAKERS
                for value in self.semantic.assigned_values(root)
            ):
                return True
        return False

    def _same(self, converted: Converted, step: Step) -> None:
        """A step that `Select` has too, by the same or another name."""
        name, call = step.name, step.call
        converted.grouped |= name == "group_by"
        if name == "with_entities":
            converted.entities = [a.value for a in call.args]
            converted.shapes = [self.semantic.shape(e) for e in converted.entities]
            if converted.statement is converted.initial:  # `select(A.id)` itself
                assert isinstance(converted.statement, cst.Call)
                converted.statement = converted.statement.with_changes(args=call.args)
                return
        elif name in ("add_columns", "add_entity", "add_column"):
            converted.entities += [a.value for a in call.args]
            converted.shapes += [self.semantic.shape(a.value) for a in call.args]
        self.chain(converted, step, RENAMED.get(name, name))

    def _execution_option(self, converted: Converted, step: Step) -> None:
        """`yield_per(n)` -> `execution_options(yield_per=n)`, one call for
        consecutive options."""
        name, call = step.name, step.call
        if name == "yield_per":
            converted.streamed = True
        if len(call.args) != EXECUTION_OPTIONS[name] or any(
            a.keyword for a in call.args
        ):
            raise Refused(f"unexpected arguments to `{name}()`")
        option = keyword(name, call.args[0].value if call.args else cst.Name("True"))
        last = converted.statement
        if (
            isinstance(last, cst.Call)
            and isinstance(last.func, cst.Attribute)
            and last.func.attr.value == "execution_options"
        ):
            args = [*last.args[:-1], last.args[-1].with_changes(comma=_COMMA)]
            converted.statement = last.with_changes(args=[*args, option])
        else:
            self.chain(converted, step, "execution_options", [option])

    def _adapted(self, converted: Converted, step: Step) -> None:
        """A criterion after `join(..., aliased=True)`, re-targeted to the alias."""
        assert converted.adapting is not None
        converted.grouped |= step.name == "group_by"
        args = retarget(step.call.args, *converted.adapting)
        self.chain(converted, step, RENAMED.get(step.name, step.name), args)
        if step.name == "order_by":
            self._order_by(converted, step)

    def _params_step(self, converted: Converted, step: Step) -> None:
        converted.params.extend(_params(step.call))

    def _reset_joinpoint(self, converted: Converted, step: Step) -> None:
        # Ends `aliased=True` adaptation and sends filter_by() back to the first
        # entity; a Select has no joinpoint to reset.
        if step.call.args:
            raise Refused("`Query.reset_joinpoint()` has no `Select` equivalent here")
        converted.adapting, converted.joinpoint_reset = None, True

    def _chained_options(self, converted: Converted, step: Step) -> None:
        self._options(converted, step)
        self._same(converted, step)

    def _distinct(self, converted: Converted, step: Step) -> None:
        if step.call.args:
            raise Refused(
                "`distinct(expr)` (DISTINCT ON) is deprecated in 2.1: use"
                " `.ext(postgresql.distinct_on(...))`"
            )
        self._same(converted, step)

    def _chained_order_by(self, converted: Converted, step: Step) -> None:
        self._order_by(converted, step)
        self._same(converted, step)

    def _select_from(self, converted: Converted, step: Step) -> None:
        call = step.call
        converted.selected_from = call.args[0].value if call.args else None
        selected = {entity_root(e) for e in converted.entities}
        converted.other_froms |= any(
            entity_root(a.value) not in selected for a in call.args
        )
        self._same(converted, step)

    def _options(self, converted: Converted, step: Step) -> None:
        if removed_options(step, self.semantic):
            raise Refused(
                "loader options with string paths were removed in 2.0: see ORM003"
            )
        for node in walk(step.call):
            name = called_name(node)
            if name is not None and name.endswith("load_all"):
                raise Refused(
                    f"`{name}()` was removed in 1.4: chain one loader per"
                    " relationship (`joinedload(A.b).joinedload(B.c)`)"
                )
        converted.loader_options = True
        converted.joined_loads |= not all(
            _loads_without_join(a.value) for a in step.call.args
        )
        if converted.polymorphic:
            raise Refused(POLYMORPHIC_OPTIONS)

    def _order_by(self, converted: Converted, step: Step) -> None:
        # 1.4's Query added ORDER BY columns to a DISTINCT select; 2.x does not, and
        # PostgreSQL then rejects the statement.
        if not _has_distinct(converted.statement):
            return
        selected = {code_of(e) for e in converted.entities}
        for arg in step.call.args:
            column = _without_modifiers(arg.value)
            root = _root(column)
            if code_of(column) not in selected and (
                root is None or code_of(root) not in selected
            ):
                raise Refused(
                    "DISTINCT with ORDER BY a column that is not selected: 2.x no"
                    " longer adds it; select it too and use `.columns()`"
                )

    def _set_operation(self, converted: Converted, step: Step) -> None:
        """`q1.union(q2)`: Query selected its entities from the union, which
        `select(Model).from_statement(union(stmt1, stmt2))` does too. The other
        queries become statements where they are made (`use_of`: a "value")."""
        args = step.call.args
        if not args or any(a.keyword or a.star for a in args) or converted.params:
            raise Refused(f"unexpected arguments to `{step.name}()`")
        if not converted.entities:
            raise Refused(
                f"`{step.name}()` of a query another module returns: its entities"
                " are spelled there; convert it by hand"
            )
        compound = cst.Call(
            self.import_name("sqlalchemy", SET_OPERATIONS[step.name]),
            [
                cst.Arg(converted.statement, comma=_COMMA),
                *(a.with_changes(comma=_COMMA) for a in args[:-1]),
                args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT),
            ],
        )
        entities = [
            cst.Arg(
                e,
                comma=_COMMA
                if i < len(converted.entities) - 1
                else cst.MaybeSentinel.DEFAULT,
            )
            for i, e in enumerate(converted.entities)
        ]
        select = cst.Call(self.import_name("sqlalchemy", "select"), entities)
        converted.statement = method(select, "from_statement", compound)
        converted.compound = True
        converted.other_froms = True  # UNION ALL repeats rows

    def one_row(self, converted: Converted) -> bool:
        """The statement returns one row at most, so that `Session.scalar()`
        returns what `Query.scalar()` did: it selects only aggregates, without
        GROUP BY or a set operation (HAVING, LIMIT or OFFSET can only leave
        none), or only `exists()` and `literal()`, from no table at all
        (`select(literal(True)).where(q.exists())`)."""
        if not converted.entities or converted.grouped or converted.compound:
            return False
        tableless = not (
            converted.joins or converted.other_froms or converted.selected_from
        )
        return all(
            self.semantic.is_aggregate(e)
            or (tableless and called_name(e) in ("exists", "literal"))
            for e in converted.entities
        )

    # The steps with a handler of their own (the others: `_step()`)
    _STEPS: ClassVar[dict[str, Callable[[Converter, Converted, Step], None]]] = {
        "params": _params_step,
        "join": join,
        "outerjoin": join,
        "reset_joinpoint": _reset_joinpoint,
        "filter_by": filter_by,
        "options": _chained_options,
        "distinct": _distinct,
        "order_by": _chained_order_by,
        "with_parent": with_parent,
        "from_self": from_self,
        "select_entity_from": select_entity_from,
        "with_polymorphic": with_polymorphic,
        "select_from": _select_from,
    }


def _check_step(converted: Converted, step: Step) -> None:
    """Refused: a step after a union, a removed or private method, arguments
    spread with `*`."""
    name, call = step.name, step.call
    if converted.compound:
        raise Refused(
            "steps after a union apply to it as a subquery: select"
            " `aliased(Model, union(...).subquery())` and filter on the alias"
        )
    if name in REMOVED:
        raise Refused(REMOVED[name])
    if name.startswith("_"):
        raise Refused(f"`Query.{name}()` is private API")
    spread = {a.star for a in call.args if a.star}
    if spread and spread != SPREAD_KEPT.get(name):
        stars = "*args" if "*" in spread else "**kwargs"
        raise Refused(f"`{name}({stars})` arguments are not checked; rewrite by hand")


def _params(call: cst.Call) -> Iterator[cst.DictElement]:
    for arg in call.args:
        if arg.keyword is not None:
            key = cst.SimpleString(f'"{arg.keyword.value}"')
            yield cst.DictElement(key, arg.value)
        elif isinstance(arg.value, cst.Dict) and all(
            isinstance(e, cst.DictElement) for e in arg.value.elements
        ):
            for element in arg.value.elements:
                assert isinstance(element, cst.DictElement)
                yield element.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        else:
            raise Refused("`params()` with a non-literal dictionary")


def _has_distinct(statement: cst.BaseExpression) -> bool:
    node = statement
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value == "distinct":
            return True
        node = node.func.value
    return False


def _without_modifiers(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`User.name` for `User.name.desc()` or `desc(User.name)`."""
    if (
        isinstance(expr, cst.Call)
        and len(expr.args) == 1
        and isinstance(expr.func, cst.Name)
    ):
        return expr.args[0].value
    if (
        isinstance(expr, cst.Call)
        and not expr.args
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in ("desc", "asc", "nulls_first", "nulls_last")
    ):
        return _without_modifiers(expr.func.value)
    return expr


def _root(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """`User` for `User.name` or `User.name.desc()`; None for anything else."""
    while True:
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            expr = expr.func.value
        elif isinstance(expr, cst.Attribute):
            if isinstance(expr.value, cst.Name):
                return expr.value
            expr = expr.value
        else:
            return None


def _loads_without_join(option: cst.BaseExpression) -> bool:
    """`selectinload(User.addresses).load_only(...)`: a chain of loaders none of
    which joins (an option held in a variable may)."""
    while isinstance(option, cst.Call):
        if called_name(option) not in SEPARATE_LOADS:
            return False
        func = option.func
        if not isinstance(func, cst.Attribute):
            return True
        option = func.value
    return isinstance(option, cst.Name) and option.value == "Load"
