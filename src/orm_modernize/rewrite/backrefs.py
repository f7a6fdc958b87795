"""`backref=` relationships of one module, and the relationship each implies on
the other class.

    class User(Base):
        posts = relationship("Post", backref=backref("author", lazy="joined"))

makes, when the mappers are configured, what 2.0 style writes out:

    class User(Base):
        posts = relationship("Post", back_populates="author")

    class Post(Base):
        author = relationship("User", back_populates="posts", lazy="joined")

What the new relationship carries is what `RelationshipProperty._generate_backref`
gives it: the arguments of `backref()`, the `secondary` table, the join conditions
(swapped for a many-to-many), the user's `foreign_keys`, and the `viewonly`,
`post_update`, `passive_updates` and `sync_backref` of the relationship itself.
Each value must mean the same in the other class's body: literals and lambdas
do; an expression is kept when its names are bound before that class, wrapped
in a lambda where SQLAlchemy accepts a callable, and refused otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import libcst as cst

from orm_modernize.analysis.relationships import (
    RELATIONSHIP_FUNCTIONS,
    class_body_calls,
    class_name,
    identifier,
)
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Evidence, ForeignBackref
from orm_modernize.syntax.nodes import (
    called_name,
    class_body_names,
    code_of,
    eager_names,
    keyword,
    keyword_argument,
    walk,
)

# Arguments SQLAlchemy also accepts as a callable, resolved at mapper configuration.
DEFERRABLE = frozenset(
    {"secondary", "primaryjoin", "secondaryjoin", "order_by", "foreign_keys"}
    | {"remote_side"}
)
# Given to the backref by the relationship unless `backref()` sets them.
INHERITED = ("viewonly", "post_update", "passive_updates", "sync_backref")
LINE_LENGTH = 88  # black's and ruff's
NO_SPACE = cst.SimpleWhitespace("")


@dataclass(frozen=True)
class Backref:
    """One `name = relationship(Target, backref=...)` in the body of `owner`."""

    owner: cst.ClassDef
    attribute: str
    call: cst.Call
    arg: cst.Arg  # the `backref=` argument
    target: str  # the class the relationship leads to
    name: str  # the attribute the backref makes on it
    evidence: Evidence
    options: tuple[cst.Arg, ...] = ()  # what the new relationship carries
    problem: str | None = None  # why it cannot be written out
    # The other class is in another module, which declares the new relationship.
    elsewhere: ForeignBackref | None = None

    @property
    def self_referential(self) -> bool:
        return self.target == self.owner.name.value

    def back_populates(self) -> cst.Arg:
        return back_populates(self.arg, self.name)

    def arguments(self) -> list[str]:
        """The new relationship's arguments, as code:
        `"Owner", back_populates="attribute", ...`."""
        args = [
            cst.Arg(quoted_as(self.arg, self.owner.name.value)),
            keyword("back_populates", quoted_as(self.arg, self.attribute)),
            *self.options,
        ]
        # Without the comma and the line break that may follow the last argument.
        bare = {"comma": cst.MaybeSentinel.DEFAULT, "whitespace_after_arg": NO_SPACE}
        return [code_of(a.with_changes(**bare)) for a in args]

    def reverse(
        self, indent: int = 4, function: str | None = None
    ) -> cst.SimpleStatementLine:
        """The new relationship, declared in the other class's body, made by
        `function` (by default, what made this one)."""
        spelled = function or code_of(self.call.func)
        return statement(self.name, spelled, self.arguments(), indent)

    def non_literal_option(self) -> str | None:
        """The first option whose value is not a literal."""
        return next(
            (
                a.keyword.value
                for a in self.options
                if a.keyword is not None and not constant(a.value, lambdas=False)
            ),
            None,
        )

    def foreign(self, semantic: Semantic) -> ForeignBackref | None:
        """What another module needs to declare the new relationship: None when an
        option is not a literal, whose names would mean something else there."""
        if self.non_literal_option() is not None:
            return None
        func = self.call.func
        return ForeignBackref(
            module=semantic.module_name,
            owner=self.owner.name.value,
            attribute=self.attribute,
            target=self.target,
            name=self.name,
            function=code_of(func),
            flask=not semantic.is_one_of(
                func, {f"sqlalchemy.orm.{name}" for name in RELATIONSHIP_FUNCTIONS}
            ),
            arguments=tuple(self.arguments()),
            safe=self.evidence.proven,
        )


def back_populates(arg: cst.Arg, name: str) -> cst.Arg:
    """`back_populates="name"`, the argument that replaces `backref=` (`arg`)."""
    return arg.with_changes(
        keyword=cst.Name("back_populates"), value=quoted_as(arg, name)
    )


def quoted_as(arg: cst.Arg, text: str) -> cst.SimpleString:
    """`text` as a string literal quoted as the name of the `backref=` argument
    `arg` was."""
    value = arg.value
    if isinstance(value, cst.Call) and value.args:
        value = value.args[0].value
    quote = value.quote if isinstance(value, cst.SimpleString) else '"'
    return cst.SimpleString(f"{quote}{text}{quote}")


def statement(
    name: str, function: str, arguments: list[str] | tuple[str, ...], indent: int
) -> cst.SimpleStatementLine:
    """`name = function(arguments)`, with an argument per line when one line at
    `indent` would pass 88 columns."""
    line = f"{name} = {function}({', '.join(arguments)})"
    if indent + len(line) > LINE_LENGTH:
        inner = "".join(f"    {a},\n" for a in arguments)
        line = f"{name} = {function}(\n{inner})"
    parsed = cst.parse_statement(line + "\n")
    assert isinstance(parsed, cst.SimpleStatementLine)
    return parsed


def module_backrefs(semantic: Semantic) -> list[Backref]:
    """Every `backref=` relationship declared in the body of a mapped class of the
    module, in source order."""
    return [
        backref
        for owner in semantic.mapped_classes.values()
        for attribute, call in class_body_calls(owner)
        if (backref := _declared(owner, attribute, call, semantic)) is not None
    ]


def _declared(
    owner: cst.ClassDef, attribute: str, call: cst.Call, semantic: Semantic
) -> Backref | None:
    arg = keyword_argument(call, "backref")
    if arg is None:
        return None
    evidence = semantic.orm_function(call.func, RELATIONSHIP_FUNCTIONS)
    if evidence is Evidence.NONE:
        return None
    found = Backref(owner, attribute, call, arg, "", "", evidence)
    name, options = backref_argument(arg.value, semantic)
    if name is None:
        problem = "its `backref` is not a name or a `backref()` call"
        return replace(found, problem=problem)
    related = relationship_target(call)
    if related is None:
        problem = "its class is not named by a plain name or string"
        return replace(found, problem=problem)
    found = replace(found, target=related, name=name)
    if keyword_argument(call, "back_populates") is not None:
        return replace(found, problem="it has `back_populates` too, which wins")
    overridden = {a.keyword.value for a in options if a.keyword is not None}
    carried = [*options, *inherited_options(call, overridden)]
    reversal = reversal_problem(
        call, carried, self_referential=owner.name.value == related
    )
    return replace(
        found,
        options=tuple(a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in carried),
        problem=reversal,
    )


def reversal_problem(
    call: cst.Call, carried: Sequence[cst.Arg], *, self_referential: bool
) -> str | None:
    """Why the join a backref carries cannot be written out as it is. SQLAlchemy
    gives a backref its relationship's join with the `remote()` side reversed:
    `remote()` and `foreign()` written in the join would point the wrong way, and
    a self-referential join without `remote_side` takes its direction from it."""
    joins = [a for a in carried if a.keyword and a.keyword.value in JOINS]
    if any(_annotated(a.value) for a in joins):
        return "its join uses `remote()` or `foreign()`, which the backref reverses"
    if (
        self_referential
        and joins
        and keyword_argument(call, "remote_side") is None
        and not any(a.keyword and a.keyword.value == "remote_side" for a in carried)
    ):
        return "its self-referential join gets its direction from the backref"
    return None


JOINS = frozenset({"primaryjoin", "secondaryjoin"})


def _annotated(node: cst.CSTNode) -> bool:
    """Whether `node` calls `remote()` or `foreign()` (by name)."""
    return any(called_name(n) in ("remote", "foreign") for n in walk(node))


def backref_argument(
    value: cst.BaseExpression, semantic: Semantic
) -> tuple[str | None, list[cst.Arg]]:
    """The name, and the keyword arguments of `backref("name", **kw)`."""
    if isinstance(value, cst.Call):
        if semantic.orm_function(value.func, ("backref",)) is Evidence.NONE:
            return None, []
        positional = [a for a in value.args if a.keyword is None and not a.star]
        options = [a for a in value.args if a.keyword is not None]
        if len(positional) != 1 or len(options) + 1 != len(value.args):
            return None, []
        return identifier(positional[0].value), options
    return identifier(value), []


def inherited_options(call: cst.Call, overridden: set[str]) -> list[cst.Arg]:
    """What the relationship passes on to its backref, unless `backref()` says."""
    secondary = keyword_argument(call, "secondary")
    carried = [secondary] if secondary is not None else []
    joins = {
        name: arg
        for name in ("primaryjoin", "secondaryjoin")
        if (arg := keyword_argument(call, name)) is not None
    }
    if secondary is not None:  # the many-to-many's joins, swapped
        swapped = {"primaryjoin": "secondaryjoin", "secondaryjoin": "primaryjoin"}
        carried += [
            arg.with_changes(keyword=cst.Name(swapped[name]))
            for name, arg in joins.items()
            if swapped[name] not in overridden
        ]
    elif "primaryjoin" in joins and "primaryjoin" not in overridden:
        carried.append(joins["primaryjoin"])
    for name in ("foreign_keys", *INHERITED):
        arg = keyword_argument(call, name)
        if arg is not None and name not in overridden:
            carried.append(arg)
    return carried


def relationship_target(call: cst.Call) -> str | None:
    """The class the relationship leads to: its first argument or `argument=`."""
    first = call.args[0] if call.args else None
    if first is None or first.star:
        return None
    if first.keyword is not None:
        first = keyword_argument(call, "argument")
    return None if first is None else class_name(first.value)


def carried_options(
    backref: Backref, target: cst.ClassDef, semantic: Semantic
) -> tuple[tuple[cst.Arg, ...], str | None]:
    """The options as they must be written in `target`'s body (same module), or
    the reason one cannot be."""
    if backref.self_referential:
        return backref.options, None  # the same class body: the same names
    body = backref.owner.body
    owner_names = (
        class_body_names(body) if isinstance(body, cst.IndentedBlock) else set()
    )
    options = []
    for arg in backref.options:
        assert arg.keyword is not None
        name, value = arg.keyword.value, arg.value
        if constant(value):
            options.append(arg)
            continue
        owner = backref.owner.name.value
        own = [n for n in eager_names(value) if n.value in owner_names]
        if own and name not in DEFERRABLE:
            return (), f"`{name}=` uses a name bound in the body of `{owner}`"
        if own:  # `[user_id]` in Post's body is `lambda: [Post.user_id]` elsewhere
            qualified = _Qualified(owner, {id(n) for n in own})
            spelled = value.visit(qualified)
            assert isinstance(spelled, cst.BaseExpression)
            lambda_ = cst.Lambda(cst.Parameters(), spelled)
            options.append(arg.with_changes(value=lambda_))
        elif semantic.bound_before(value, target):
            options.append(arg)
        elif name in DEFERRABLE:
            lambda_ = cst.Lambda(cst.Parameters(), value)
            options.append(arg.with_changes(value=lambda_))
        else:
            return (), f"`{name}=` uses a name defined after `{backref.target}`"
    return tuple(options), None


def constant(node: cst.BaseExpression, *, lambdas: bool = True) -> bool:
    """A literal, or (with `lambdas`) a lambda, evaluated at mapper configuration
    with the names of the module it is in."""
    if isinstance(node, (cst.SimpleString, cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.Lambda):
        return lambdas
    if isinstance(node, cst.ConcatenatedString):
        return constant(node.left, lambdas=lambdas) and constant(
            node.right, lambdas=lambdas
        )
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return all(
            isinstance(e, cst.Element) and constant(e.value, lambdas=lambdas)
            for e in node.elements
        )
    return False


class _Qualified(cst.CSTTransformer):
    """Names of the owner's class body, spelt as attributes of the class."""

    def __init__(self, owner: str, names: set[int]) -> None:
        super().__init__()
        self.owner = owner
        self.names = names

    def leave_Name(
        self, original: cst.Name, updated: cst.Name
    ) -> cst.Name | cst.Attribute:
        if id(original) in self.names:
            return cst.Attribute(cst.Name(self.owner), updated)
        return updated
