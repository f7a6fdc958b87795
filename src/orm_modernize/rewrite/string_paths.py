"""Query forms SQLAlchemy 2.0 removed that name relationships by string, rewritten
to class attributes: loader-option paths and legacy `join()` arguments.

    query(User).options(joinedload("orders.items"))
    -> query(User).options(defaultload(User.orders).joinedload(Order.items))
    query(User).join("orders", "items")
    -> query(User).join(User.orders).join(Order.items)

The rewrite follows how 1.4 resolved the strings: a loader path starts at the
query's first entity (or `Load(Entity)`), and only its last token gets the loader's
strategy (the ones before are `defaultload`); a string join starts at the first
entity on each `join()` call, and each further target of one call starts where
the previous one led. Every output form runs on 1.4 and 2.x.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from orm_modernize.analysis.models import Shape
from orm_modernize.analysis.query_chain import QueryChain, Step, then
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Refused
from orm_modernize.rewrite.naming import Namer
from orm_modernize.syntax.nodes import is_constant, keyword_argument, string_value

LOADERS = frozenset(
    {
        "joinedload",
        "subqueryload",
        "selectinload",
        "lazyload",
        "immediateload",
        "noload",
        "raiseload",
        "defaultload",
        "defer",
        "undefer",
        "contains_eager",
        "load_only",
    }
)
LOADER_MODULES = ("sqlalchemy.orm", "sqlalchemy.orm.strategy_options")
JOIN_KEYWORDS = frozenset({"isouter", "full"})


@dataclass(frozen=True)
class Entity:
    """Where a path token is looked up: an expression to spell attributes on, and
    the mapped class's name when known (for following relationships)."""

    expression: cst.BaseExpression
    class_name: str | None


def removed_join(step: Step, semantic: Semantic) -> bool:
    """`join("a")`, `join((A, on))`, `join(A.b, B.c)`, `join(table, B)`: forms 2.0
    removed."""
    if step.name not in ("join", "outerjoin"):
        return False
    positional = [a.value for a in step.call.args if a.keyword is None]
    if any(isinstance(v, (cst.BaseString, cst.Tuple)) for v in positional):
        return True
    return len(positional) > 2 or (
        len(positional) == 2
        and (
            _is_relationship(positional[0], semantic)
            or _is_join_target(positional[1], semantic)
        )
    )


def _is_join_target(expr: cst.BaseExpression, semantic: Semantic) -> bool:
    """A class, an alias or a table where 1.x's `join(a, b)` wanted an ON clause:
    1.4 joined both in turn; 2.0's `join(target, onclause)` rejects it."""
    if semantic.shape(expr) is Shape.ENTITY:
        return True
    values = list(semantic.assigned_values(expr)) if isinstance(expr, cst.Name) else []
    return bool(values) and all(semantic.is_selectable(v) for v in values)


def removed_options(step: Step, semantic: Semantic) -> bool:
    """`options(joinedload("a"))` or `options(joinedload(A.b, B.c))`."""
    return step.name == "options" and any(
        _removed_loader(arg.value, semantic) for arg in step.call.args
    )


def _removed_loader(expr: cst.BaseExpression, semantic: Semantic) -> bool:
    while isinstance(expr, cst.Call):
        name = _loader_name(expr, semantic)
        if name is not None and name != "load_only":
            positional = [a.value for a in expr.args if a.keyword is None]
            if len(positional) > 1 or any(_is_path_string(v) for v in positional):
                return True
        elif name == "load_only" and any(
            isinstance(a.value, cst.BaseString) for a in expr.args
        ):
            return True
        if not isinstance(expr.func, cst.Attribute):
            break
        expr = expr.func.value
    return False


def _is_path_string(node: cst.BaseExpression) -> bool:
    """A string naming attributes; `"*"` (every relationship) is still valid."""
    return isinstance(node, cst.BaseString) and string_value(node) != "*"


def _loader_name(call: cst.Call, semantic: Semantic) -> str | None:
    """`joinedload` for `joinedload(...)`, `orm.joinedload(...)` or a chained
    `<loader>.joinedload(...)`."""
    func = call.func
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value in LOADERS
        and _is_loader_chain(func.value, semantic)
    ):
        return func.attr.value
    names = semantic.qualified_names(func)
    for module in LOADER_MODULES:
        for name in LOADERS:
            if f"{module}.{name}" in names:
                return name
    return None


def _is_loader_chain(expr: cst.BaseExpression, semantic: Semantic) -> bool:
    return isinstance(expr, cst.Call) and (
        _loader_name(expr, semantic) is not None or _is_load(expr, semantic)
    )


def _is_load(call: cst.Call, semantic: Semantic) -> bool:
    names = semantic.qualified_names(call.func)
    return bool(names & {f"{m}.Load" for m in LOADER_MODULES})


def _is_relationship(expr: cst.BaseExpression, semantic: Semantic) -> bool:
    """`User.orders`: an attribute of an entity, as a join target."""
    return (
        isinstance(expr, cst.Attribute)
        and semantic.shape(expr.value) is Shape.ENTITY
        and semantic.shape(expr) is not Shape.ENTITY
    )


class PathRewriter:
    """Rewrites the removed forms of one Query chain; `declared` stays True while
    every relationship followed was read from a class body."""

    def __init__(self, semantic: Semantic, chain: QueryChain, name: Namer) -> None:
        self.semantic = semantic
        self.chain = chain
        self.name = name
        self.declared = True
        first = chain.entities[0] if chain.entities else None
        # Loader paths start at the first entity; joins at the first entity or at
        # the class of the first column (1.4's `_entity_zero()`).
        self.lead = self._entity(first) if first is not None else None
        self.join_lead = self.lead
        if self.lead is None and isinstance(first, cst.Attribute):
            self.join_lead = self._entity(first.value)

    def rewrite(self) -> cst.BaseExpression:
        value: cst.BaseExpression = self.chain.start
        selected_from = False
        joinpoint = self.join_lead
        for step in self.chain.steps:
            if removed_join(step, self.semantic):
                if selected_from:
                    raise Refused("a string join after `select_from()`")
                value, joinpoint = self._join(value, step, joinpoint)
                continue
            if removed_options(step, self.semantic):
                args = [
                    arg.with_changes(value=self._loader(arg.value)[0])
                    for arg in step.call.args
                ]
                value = then(step, value, None, args)
                continue
            if step.name in ("join", "outerjoin"):
                positional = [a.value for a in step.call.args if a.keyword is None]
                joinpoint = self._after(positional[0]) if positional else None
            selected_from |= step.name == "select_from"
            value = then(step, value)
        return value

    # -- joins ----------------------------------------------------------------------
    def _join(
        self, value: cst.BaseExpression, step: Step, joinpoint: Entity | None
    ) -> tuple[cst.BaseExpression, Entity | None]:
        keywords: list[cst.Arg] = []  # carried to every join the call becomes
        from_joinpoint = False
        aliased: cst.Arg | None = None
        for arg in step.call.args:
            if arg.keyword is None:
                continue
            name = arg.keyword.value
            if name == "from_joinpoint" and is_constant(arg.value, "True"):
                from_joinpoint = True
            elif name in JOIN_KEYWORDS:
                keywords.append(_bare(arg))
            elif name == "aliased" and is_constant(arg.value, "True"):
                aliased = arg  # ORM002 makes the alias; one target, from the lead
            else:
                raise Refused(
                    f"`{step.name}(..., {name}=...)`: join an `aliased()` entity and"
                    " filter on the alias"
                )
        targets = self._join_targets(step)
        if any(
            len(t) == 1 and _is_join_target(t[0], self.semantic) for t in targets[1:]
        ):
            # 1.4 joined it from the target before it, which `join()` would not.
            raise Refused(
                f"`{step.name}(a, B)` joined `B` from `a`: write"
                " `.join(a).join_from(a, B)`"
            )
        if aliased is not None:
            if from_joinpoint or len(targets) != 1:
                raise Refused(
                    f"`{step.name}(..., aliased=True)` from a joinpoint or with"
                    " several targets: join `aliased()` entities and filter on them"
                )
            keywords.append(_bare(aliased))
        left = joinpoint if from_joinpoint else self.join_lead
        for join_args in targets:
            target, onclause = (
                join_args[0],
                join_args[1] if len(join_args) > 1 else None,
            )
            args: list[cst.BaseExpression]
            if isinstance(target, cst.BaseString):
                if onclause is not None:
                    raise Refused("a string join target with an ON clause")
                relationship = self._attribute(left, target)
                args, left = [relationship], self._follow(left, target)
            elif onclause is None:
                args, left = [target], self._after(target)
            else:
                if isinstance(onclause, cst.BaseString):
                    onclause = self._attribute(left, onclause)
                args, left = [target, onclause], self._entity(target)
            call_args = [cst.Arg(a) for a in args] + keywords
            value = then(step, value, None, call_args)
        # Past an alias the joinpoint is the alias, which no string path can name.
        return value, None if aliased is not None else left

    def _join_targets(self, step: Step) -> list[list[cst.BaseExpression]]:
        """1.4's reading of `join()` arguments: one (target, onclause) pair, or a
        chain of single targets and tuples."""
        positional = [a.value for a in step.call.args if a.keyword is None]
        if (
            len(positional) == 2
            and not isinstance(positional[0], (cst.BaseString, cst.Tuple))
            and not _is_relationship(positional[0], self.semantic)
            and not isinstance(positional[1], cst.Tuple)
            and not _is_join_target(positional[1], self.semantic)
        ):
            return [positional]
        targets: list[list[cst.BaseExpression]] = []
        for value in positional:
            if isinstance(value, cst.Tuple):
                pair = [e.value for e in value.elements]
                if len(pair) != 2 or any(
                    isinstance(e, cst.StarredElement) for e in value.elements
                ):
                    raise Refused("a join tuple that is not `(target, onclause)`")
                if isinstance(pair[0], cst.BaseString) or _is_relationship(
                    pair[0], self.semantic
                ):
                    pair.reverse()  # 1.4 accepted `(onclause, target)` too
                targets.append(pair)
            else:
                targets.append([value])
        return targets

    # -- loader options -------------------------------------------------------------
    def _loader(
        self, expr: cst.BaseExpression
    ) -> tuple[cst.BaseExpression, Entity | None]:
        """The loader expression rewritten, and the entity its path ends at."""
        if not isinstance(expr, cst.Call):
            return expr, None
        if _is_load(expr, self.semantic):
            args = [a.value for a in expr.args if a.keyword is None]
            return expr, self._entity(args[0]) if len(args) == 1 else None
        name = _loader_name(expr, self.semantic)
        if name is None:
            return expr, None
        func = expr.func
        base: cst.BaseExpression | None = None
        start = self.lead
        if isinstance(func, cst.Attribute) and _is_loader_chain(
            func.value, self.semantic
        ):
            base, start = self._loader(func.value)
        positional = [a.value for a in expr.args if a.keyword is None]
        keywords = [a for a in expr.args if a.keyword is not None]
        if keyword_argument(expr, "alias") is not None:
            raise Refused("`contains_eager(..., alias=...)`: use `of_type()`")
        if name == "load_only":
            columns = [
                self._attribute(start, v) if isinstance(v, cst.BaseString) else v
                for v in positional
            ]
            call = _with_args(expr, base, [*columns], keywords)
            return call, start
        tokens = [t for v in positional for t in _tokens(v)]
        if len(tokens) == 1 and isinstance(tokens[0], str) and tokens[0] == "*":
            return _with_args(expr, base, positional, keywords), None
        if len(positional) == 1 and not isinstance(positional[0], cst.BaseString):
            return _with_args(expr, base, positional, keywords), self._after(
                positional[0]
            )
        at = start
        parts: list[cst.BaseExpression] = []
        for token in tokens:
            if isinstance(token, str):
                if token == "*" or not token.isidentifier():
                    raise Refused(f"the path token `{token}` has no attribute form")
                parts.append(self._attribute(at, token))
                at = self._follow(at, token)  # a chained loader goes on from here
            else:
                parts.append(token)
                at = self._after(token)
        value = base
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            strategy = name if last else "defaultload"
            extra = [_bare(k) for k in keywords] if last else []
            func = (
                self._root_func(expr, strategy)
                if value is None
                else cst.Attribute(value, cst.Name(strategy))
            )
            value = cst.Call(func, [cst.Arg(part), *extra])
        assert value is not None
        return value, at

    def _root_func(self, original: cst.Call, strategy: str) -> cst.BaseExpression:
        """The loader function `strategy`, spelled like the original one."""
        func = original.func
        if isinstance(func, cst.Attribute):
            return func.with_changes(attr=cst.Name(strategy))
        if _loader_name(original, self.semantic) == strategy:
            return func
        found = self.name("sqlalchemy.orm", strategy)
        if found is None:
            raise Refused(f"`{strategy}` is already bound to something else here")
        return found

    # -- names and classes -------------------------------------------------------------
    def _attribute(
        self, entity: Entity | None, token: cst.BaseString | str
    ) -> cst.Attribute:
        name = token if isinstance(token, str) else string_value(token)
        if entity is None:
            raise Refused(f'cannot tell which class `"{name}"` belongs to')
        if name is None or not name.isidentifier():
            raise Refused("a string path that is not a plain attribute name")
        return cst.Attribute(entity.expression, cst.Name(name))

    def _follow(
        self, entity: Entity | None, token: cst.BaseString | str
    ) -> Entity | None:
        """The entity relationship `token` of `entity` leads to (None: unknown, which
        only matters if the path goes on)."""
        name = token if isinstance(token, str) else string_value(token)
        if entity is None or entity.class_name is None or name is None:
            return None
        found = self.semantic.relationships.target(entity.class_name, name)
        if found is None or not self._bound_here(found.name):
            return None
        self.declared &= found.declared
        return Entity(cst.Name(found.name), found.name)

    def _after(self, target: cst.BaseExpression) -> Entity | None:
        """Where `join(User.orders)` or `joinedload(User.orders)` leads."""
        if isinstance(target, cst.Attribute):
            owner = self._entity(target.value)
            return self._follow(owner, target.attr.value)
        return self._entity(target)

    def _entity(self, expr: cst.BaseExpression) -> Entity | None:
        if self.semantic.shape(expr) is not Shape.ENTITY:
            return None
        if isinstance(expr, cst.Name) and self.semantic.is_mapped_class(expr):
            return Entity(expr, expr.value)
        return Entity(expr, None)

    def _bound_here(self, name: str) -> bool:
        scope = self.semantic.scope(self.chain.start)
        return scope is not None and name in scope


def _tokens(node: cst.BaseExpression) -> list[str | cst.BaseExpression]:
    if isinstance(node, cst.BaseString):
        value = string_value(node)
        if value is None:
            raise Refused("a loader path that is not a plain string")
        return list(value.split("."))
    return [node]


def _with_args(
    original: cst.Call,
    base: cst.BaseExpression | None,
    positional: list[cst.BaseExpression],
    keywords: list[cst.Arg],
) -> cst.Call:
    """`original` with new positional arguments, re-attached to `base` if given."""
    func = original.func
    if base is not None:
        assert isinstance(func, cst.Attribute)
        func = func.with_changes(value=base)
    args = [cst.Arg(v) for v in positional] + [_bare(k) for k in keywords]
    return original.with_changes(func=func, args=args)


def _bare(arg: cst.Arg) -> cst.Arg:
    """`arg` without its own comma, for a new argument list."""
    return arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)
