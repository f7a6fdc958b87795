"""What converting a Query to a `select()` has built so far, and what every step
handler is given: the names `semantic` knows and a way to import new ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from orm_modernize.analysis.models import Shape
from orm_modernize.analysis.query_chain import Step, then
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Refused
from orm_modernize.rewrite.naming import Namer
from orm_modernize.syntax.nodes import called_name


@dataclass
class Converted:
    """A `select()` and what executing it needs to return what the Query did."""

    statement: cst.BaseExpression
    shapes: list[Shape]
    entities: list[cst.BaseExpression]  # what each shape is the shape of
    streamed: bool = False  # yield_per(): Query did not de-duplicate
    params: list[cst.DictElement] = field(default_factory=list)
    guessed: bool = False  # an entity was taken for a class by its name alone
    # The last joined entity: what `filter_by()` applies to (None: not an entity
    # we can spell, such as `join(User.addresses)`).
    joined: cst.BaseExpression | None = None
    joins: int = 0
    selected_from: cst.BaseExpression | None = None
    polymorphic: bool = False  # the entity became `with_polymorphic(...)`
    # `from_self()`: the entity is an alias of the query before it, as a subquery
    subquery_entity: bool = False
    loader_options: bool = False
    joined_loads: bool = False  # a loader option that may join (`joinedload()`)
    compound: bool = False  # selects its entities from a UNION (or another set op)
    # `name = aliased(Class)` lines the statement needs before it (`aliased=True`)
    aliases: list[tuple[str, cst.Call]] = field(default_factory=list)
    # (class, alias): later criteria on the class are read from the alias
    adapting: tuple[str, str] | None = None
    joinpoint_reset: bool = False  # `reset_joinpoint()`: filter_by() on entity zero
    grouped: bool = False  # GROUP BY: an aggregate gives a row per group
    # A FROM besides the selected entity's: a class, table or subquery the steps
    # name, several classes selected, a union (joins are counted in `joins`)
    other_froms: bool = False
    # The `select(...)` that `start()` made: still the statement when no step has
    # been applied yet
    initial: cst.BaseExpression | None = None

    @property
    def single_entity(self) -> bool:
        return self.shapes == [Shape.ENTITY]

    def absorb(self, other: Converted) -> None:
        """What makes `other`'s rows repeat makes these repeat: a query built
        over several statements may run after any of them."""
        self.other_froms |= other.other_froms
        self.joined_loads |= other.joined_loads

    def needs_unique(self, terminal: str | None, joined_eager: bool) -> bool:
        """Whether rows must be de-duplicated as Query de-duplicated results
        holding a mapped entity (unless `yield_per()`). Rows of one class from one
        FROM cannot repeat (each has its own primary key): they repeat after a
        join or with another FROM (not under `first()`'s LIMIT 1), and when a
        collection is loaded by a join (a loader option; `lazy="joined"` in the
        project: `joined_eager`), where 2.x refuses to fetch without unique()."""
        if Shape.ENTITY not in self.shapes or self.streamed:
            return False
        # A class taken by its name alone: its relationships are not known.
        if joined_eager or self.joined_loads or self.guessed:
            return True
        return terminal != "first" and (bool(self.joins) or self.other_froms)


class StepContext:
    """What a step handler needs besides the conversion: what names are, and the
    names it may import."""

    def __init__(self, semantic: Semantic, name: Namer) -> None:
        self.semantic = semantic
        self.name = name

    def import_name(self, module: str, name: str) -> cst.BaseExpression:
        found = self.name(module, name)
        if found is None:
            raise Refused(f"`{name}` is already bound to something else here")
        return found

    def chain(
        self,
        converted: Converted,
        step: Step,
        name: str,
        args: Sequence[cst.Arg] | None = None,
    ) -> None:
        """Re-attach `step` to the statement, keeping its whitespace and arguments."""
        converted.statement = then(step, converted.statement, name, args)


def select_root(statement: cst.BaseExpression) -> cst.Call | None:
    """The `select(...)` call at the root of a statement chain (None when the chain
    starts at the call of a helper returning the statement)."""
    node = statement
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        node = node.func.value
    if isinstance(node, cst.Call) and called_name(node) == "select":
        return node
    return None


def select_args(statement: cst.BaseExpression) -> Sequence[cst.Arg]:
    """The arguments of the `select(...)` at the root of a statement chain."""
    root = select_root(statement)
    return root.args if root is not None else ()


def looks_like_class(node: cst.BaseExpression) -> bool:
    """`Widget` (or `A`) in `session.query(Widget)`: a class name by convention, not
    proof. `MAX_ROWS` is a constant by the same convention."""
    return (
        isinstance(node, cst.Name)
        and node.value[:1].isupper()
        and (len(node.value) == 1 or not node.value.isupper())
    )


def alone(state: Converted) -> Converted:
    """`state`, if it needs no `aliased()` made before its statement: within a flow
    the alias would have to reach every statement that adds criteria."""
    if state.aliases:
        raise Refused(
            "`join(..., aliased=True)` or `from_self()` in a query built over"
            " several statements: make one `aliased()` entity by hand, and use it"
            " in each"
        )
    return state


def continued(base: Converted, root: cst.BaseExpression) -> Converted:
    """The flow's state, continued from a read of the query variable (or a call of
    the helper returning it)."""
    return dataclasses.replace(
        base, statement=root, shapes=list(base.shapes), entities=list(base.entities)
    )


def entity_root(expr: cst.BaseExpression) -> str | None:
    """`User` of `User`, `User.name` or `User.name.label("n")`: through calls too,
    unlike `syntax.nodes.root_name()`."""
    while isinstance(expr, (cst.Attribute, cst.Call)):
        expr = expr.value if isinstance(expr, cst.Attribute) else expr.func
    return expr.value if isinstance(expr, cst.Name) else None
