"""`backref=` in the `properties` of a classical mapping, and the relationship it
implies in the other class's mapping:

    mapper_registry.map_imperatively(User, users, properties={
        "addresses": relationship(Address, backref=backref("user", lazy="joined")),
    })
    mapper_registry.map_imperatively(Address, addresses)

makes, when the mappers are configured, what 2.0 style writes out:

    mapper_registry.map_imperatively(User, users, properties={
        "addresses": relationship(Address, back_populates="user"),
    })
    mapper_registry.map_imperatively(Address, addresses, properties={
        "user": relationship(User, back_populates="addresses", lazy="joined"),
    })

The new relationship carries what a declarative backref's does
(`rewrite.backrefs`). Both mappings must be in the same block (a module, a
test's `setup_mappers()`), the other class mapped once there: a module that
maps a class in several functions maps it once per function. What the new
relationship evaluates (its class, its options) moves to the other mapping's
call, so each of those names must be bound for good before that call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import libcst as cst

from orm_modernize.analysis.names import CONDITIONAL
from orm_modernize.analysis.relationships import (
    MAPPING_FUNCTIONS,
    RELATIONSHIP_FUNCTIONS,
    identifier,
)
from orm_modernize.analysis.scopes import Assignment, ImportAssignment
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.analysis.vocabulary import REGISTRY
from orm_modernize.data.records import Edit, Evidence
from orm_modernize.rewrite.backrefs import (
    back_populates,
    backref_argument,
    constant,
    inherited_options,
    quoted_as,
    relationship_target,
    reversal_problem,
)
from orm_modernize.syntax.nodes import (
    called_name,
    eager_names,
    keyword,
    keyword_argument,
    walk,
)
from orm_modernize.syntax.replace import Replacer

Block = Sequence[cst.BaseStatement]
SPACED = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


@dataclass(frozen=True)
class Mapping:
    """One `mapper(Class, table, ...)` or `registry.map_imperatively(...)` call."""

    call: cst.Call
    cls: cst.Name  # the class it maps
    statement: cst.BaseStatement  # the statement of its block that holds it
    block: Block
    evidence: Evidence

    def properties(self) -> cst.Dict | None:
        """Its `properties=` dict literal; an empty one when it has none."""
        arg = keyword_argument(self.call, "properties")
        if arg is None:
            return cst.Dict([])
        return arg.value if isinstance(arg.value, cst.Dict) else None

    def property_names(self) -> set[str]:
        properties = self.properties()
        return {
            key
            for e in (properties.elements if properties is not None else ())
            if isinstance(e, cst.DictElement) and (key := identifier(e.key))
        }


@dataclass(frozen=True)
class ClassicalBackref:
    """`"attribute": relationship(Target, backref=...)` in `owner`'s properties."""

    owner: Mapping
    attribute: str
    call: cst.Call  # the relationship
    arg: cst.Arg  # its `backref=`
    made: Evidence  # that `relationship` is SQLAlchemy's
    name: str = ""  # the attribute the backref makes on the target
    target: Mapping | None = None
    options: tuple[cst.Arg, ...] = ()
    problem: str | None = None

    @property
    def evidence(self) -> Evidence:
        mappings = [self.owner, *([self.target] if self.target else [])]
        return min(self.made, *(m.evidence for m in mappings))

    def back_populates(self) -> cst.Arg:
        return back_populates(self.arg, self.name)

    def reverse(self) -> cst.DictElement:
        """`"name": relationship(Owner, back_populates="attribute", ...)`."""
        args = [
            cst.Arg(self.owner.cls),
            keyword("back_populates", quoted_as(self.arg, self.attribute)),
            *(a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in self.options),
        ]
        call = cst.Call(self.call.func, args)
        return cst.DictElement(quoted_as(self.arg, self.name), call)


def classical_backrefs(semantic: Semantic) -> list[ClassicalBackref]:
    """Every `backref=` of a relationship in the properties of a classical
    mapping of the module, with its target mapping or why it has none."""
    mappings = [
        m
        for call in semantic.nodes(cst.Call)
        if called_name(call) in MAPPING_FUNCTIONS and (m := _mapping(call, semantic))
    ]
    found = []
    for mapping in mappings:
        properties = keyword_argument(mapping.call, "properties")
        if properties is None or not isinstance(properties.value, cst.Dict):
            continue
        for element in properties.value.elements:
            if not isinstance(element, cst.DictElement):
                continue
            call, attribute = element.value, identifier(element.key)
            if not isinstance(call, cst.Call) or attribute is None:
                continue
            arg = keyword_argument(call, "backref")
            if arg is None:
                continue
            made = semantic.orm_function(call.func, RELATIONSHIP_FUNCTIONS)
            if made is not Evidence.NONE:
                backref = ClassicalBackref(mapping, attribute, call, arg, made)
                found.append(_completed(backref, mappings, semantic))
    return _unique(found)


def _unique(backrefs: list[ClassicalBackref]) -> list[ClassicalBackref]:
    """Two backrefs that would give one mapping the same attribute are refused:
    SQLAlchemy refuses them too, when it configures the mappers."""
    seen = [(id(b.target.call), b.name) for b in backrefs if b.target and not b.problem]
    return [
        replace(b, problem=f"another backref makes `{b.name}` on the same class")
        if b.target and not b.problem and seen.count((id(b.target.call), b.name)) > 1
        else b
        for b in backrefs
    ]


def _mapping(call: cst.Call, semantic: Semantic) -> Mapping | None:
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "map_imperatively":
        evidence = _registry_evidence(func.value, semantic)
    elif isinstance(func, (cst.Name, cst.Attribute)):
        evidence = semantic.orm_function(func, {"mapper"})
    else:
        return None
    first = call.args[0] if call.args else None
    if (
        evidence is Evidence.NONE
        or first is None
        or first.keyword is not None
        or not isinstance(first.value, cst.Name)
    ):
        return None
    held = _in_block(call, semantic)
    if held is None:
        return None
    statement, block = held
    return Mapping(call, first.value, statement, block, evidence)


def _registry_evidence(receiver: cst.BaseExpression, semantic: Semantic) -> Evidence:
    """PROVEN for a name bound only to `registry()`; LIKELY for anything else
    (`cls.mapper_registry`, `Base.registry`): the method's name is SQLAlchemy's."""
    if isinstance(receiver, cst.Name):
        values = list(semantic.assigned_values(receiver))
        if values and all(semantic.calls(v, REGISTRY) for v in values):
            return Evidence.PROVEN
    return Evidence.LIKELY


def _completed(
    backref: ClassicalBackref, mappings: list[Mapping], semantic: Semantic
) -> ClassicalBackref:
    """The backref with its name, target mapping and options, or its problem."""
    name, options = backref_argument(backref.arg.value, semantic)
    if name is None:
        return replace(backref, problem="its `backref` is not a name or a `backref()`")
    backref = replace(backref, name=name)
    target = relationship_target(backref.call)
    if target is None:
        return replace(backref, problem="its class is not named by a plain name")
    if keyword_argument(backref.call, "back_populates") is not None:
        return replace(backref, problem="it has `back_populates` too, which wins")
    owner = backref.owner
    same = [m for m in mappings if m.cls.value == target and m.block is owner.block]
    if len(same) != 1:
        problem = (
            f"`{target}` is not mapped in the same body (a module's or a"
            f" function's) as `{owner.cls.value}`"
            if not same
            else f"`{target}` is mapped more than once beside `{owner.cls.value}`"
        )
        return replace(backref, problem=f"{problem}: declare `{name}` by hand")
    (mapping,) = same
    first, last = (
        _index(owner.block, mapping.statement),
        _index(owner.block, owner.statement),
    )
    if (
        mapping is not owner
        and first < last
        and not _inert(owner.block[first : last + 1])
    ):
        # Something between the two (an `aliased()`, a query) may configure the
        # mappers while the new relationship names a class not mapped yet.
        problem = (
            f"`{target}` is mapped before `{owner.cls.value}`, with code between"
            f" that may configure the mappers: declare `{name}` there by hand, or"
            " map it after"
        )
        return replace(backref, problem=problem)
    if any(_inherits(m, target) for m in mappings if m.block is owner.block):
        # A backref checks the whole hierarchy for its name; a property does not.
        problem = f"`{target}` is in a hierarchy of mapped classes"
        return replace(backref, problem=problem)
    if mapping.properties() is None:
        return replace(backref, problem=f"the `properties` of `{target}` are no dict")
    if name in mapping.property_names():
        return replace(backref, problem=f"`{target}` already has `{name}`")
    overridden = {a.keyword.value for a in options if a.keyword is not None}
    carried = (*options, *inherited_options(backref.call, overridden))
    reversal = reversal_problem(
        backref.call, carried, self_referential=mapping is owner
    )
    if reversal is not None:
        return replace(backref, problem=reversal)
    moved = [owner.cls, *(a.value for a in carried if not constant(a.value))]
    if mapping is not owner and not all(
        _bound_before(v, mapping, semantic) for v in moved
    ):
        problem = (
            f"what the new relationship names is not bound before `{target}` is"
            f" mapped: declare `{name}` there by hand"
        )
        return replace(backref, problem=problem)
    return replace(backref, target=mapping, options=carried)


# Calls that cannot configure the mappers: mapping, declaring properties and
# tables, building SQL expressions
INERT_CALLS = frozenset(
    {"mapper", "map_imperatively", "relationship", "relation", "backref"}
    | {"column_property", "deferred", "synonym", "composite", "foreign", "remote"}
    | {"Table", "Column", "ForeignKey", "and_", "or_", "not_", "desc", "asc"}
)


def _inert(statements: Block) -> bool:
    """Whether `statements` (those from the other class's mapping to this
    one's) only map classes and declare what mappings take: nothing in them can
    configure the mappers before this class is mapped."""
    return all(
        isinstance(statement, cst.SimpleStatementLine)
        and all(
            called_name(node) in INERT_CALLS
            for node in walk(statement)
            if isinstance(node, cst.Call)
        )
        for statement in statements
    )


def _inherits(mapping: Mapping, target: str) -> bool:
    """`mapping` maps `target` as a subclass, or a subclass of `target`."""
    inherits = keyword_argument(mapping.call, "inherits")
    if inherits is None:
        return False
    parent = inherits.value
    return mapping.cls.value == target or (
        isinstance(parent, cst.Name) and parent.value == target
    )


def _in_block(
    node: cst.CSTNode, semantic: Semantic
) -> tuple[cst.BaseStatement, Block] | None:
    """The statement of a module's or an indented block's body that holds
    `node`, and that body."""
    child = node
    for parent in semantic.ancestors(node):
        if isinstance(parent, (cst.Module, cst.IndentedBlock)):
            assert isinstance(child, cst.BaseStatement)
            return child, parent.body
        child = parent
    return None


def _bound_before(
    value: cst.BaseExpression, mapping: Mapping, semantic: Semantic
) -> bool:
    """Every name `value` evaluates is bound for good before `mapping`'s
    statement: by an earlier statement of its block, not inside an `if`, a loop
    or a `try`; or as a parameter or an import (bound on entry)."""
    index = _index(mapping.block, mapping.statement)
    for name in eager_names(value):
        for assignment in semantic.assignments(name):
            if not isinstance(assignment, Assignment):
                continue  # a builtin
            if isinstance(assignment, ImportAssignment) or isinstance(
                assignment.node, cst.Param
            ):
                continue
            held = _in_block(assignment.node, semantic)
            if held is None:
                return False
            statement, block = held
            if block is not mapping.block:
                # Bound in another block: only a module-level binding of a
                # function's mapping counts, made when the module ran.
                if block is not semantic.module.body or isinstance(
                    statement, CONDITIONAL
                ):
                    return False
                continue
            if _index(block, statement) >= index or isinstance(statement, CONDITIONAL):
                return False
    return True


def _index(block: Block, statement: cst.BaseStatement) -> int:
    return next(i for i, s in enumerate(block) if s is statement)


def edits(backrefs: list[ClassicalBackref]) -> tuple[Edit, ...]:
    """The mapping calls rewritten: each backref's own argument, and the new
    relationships in the other mappings' properties."""
    rewritten = {id(b.arg): b.back_populates() for b in backrefs}
    added: dict[int, list[cst.DictElement]] = {}
    calls: dict[int, cst.Call] = {}
    for backref in backrefs:
        assert backref.target is not None
        for mapping in (backref.owner, backref.target):
            calls[id(mapping.call)] = mapping.call
        added.setdefault(id(backref.target.call), []).append(backref.reverse())
    result = []
    for key, call in calls.items():
        new = call.visit(Replacer(rewritten))
        assert isinstance(new, cst.Call)
        result.append(Edit(call, _with_properties(new, added.get(key, []))))
    return tuple(result)


def _with_properties(call: cst.Call, elements: list[cst.DictElement]) -> cst.Call:
    """`call` with `elements` at the end of its `properties` (made if need be)."""
    if not elements:
        return call
    arg = keyword_argument(call, "properties")
    if arg is None:
        new = keyword("properties", cst.Dict(_separated(elements)))
        last = call.args[-1]
        # After the last argument, as the others are separated; a trailing
        # comma stays the last
        between = last.comma if isinstance(last.comma, cst.Comma) else None
        args = [
            *call.args[:-1],
            last.with_changes(comma=between or SPACED),
            new.with_changes(comma=last.comma),
        ]
        return call.with_changes(args=args)
    assert isinstance(arg.value, cst.Dict)
    old = list(arg.value.elements)
    if not old:
        value = arg.value.with_changes(elements=_separated(elements))
    else:
        final = old[-1]
        # The new entries laid out as the last one is: on a line of their own
        # after its comma, or on its line
        comma = _between(arg.value)
        fresh = _separated(elements, comma)
        fresh[-1] = fresh[-1].with_changes(comma=final.comma)
        value = arg.value.with_changes(
            elements=[*old[:-1], final.with_changes(comma=comma), *fresh]
        )
    replaced = Replacer({id(arg.value): value})
    new_call = call.visit(replaced)
    assert isinstance(new_call, cst.Call)
    return new_call


def _between(properties: cst.Dict) -> cst.Comma:
    """The comma (with what follows it) between two entries of the dict: as
    between its first two, else as after its `{` (a line of its own)."""
    elements = properties.elements
    if len(elements) > 1 and isinstance(elements[0].comma, cst.Comma):
        return elements[0].comma
    after = properties.lbrace.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=after)
    return SPACED


def _separated(
    elements: list[cst.DictElement], comma: cst.Comma | None = None
) -> list[cst.DictElement]:
    between = comma or SPACED
    return [
        e.with_changes(
            comma=between if i < len(elements) - 1 else cst.MaybeSentinel.DEFAULT
        )
        for i, e in enumerate(elements)
    ]
