"""Queries that a helper function returns and its callers finish.

    def _active(session):
        return session.query(User).filter(User.active)

    names = [u.name for u in _active(session).order_by(User.name)]

Converting the helper alone would hand its callers a `select()` they cannot run,
so the helper and every call of it are converted together or not at all: the
helper returns the statement, and each caller runs it on the session it passed in
(`session.scalars(_active(session).order_by(User.name)).unique()`).

Calls are followed within the module. A helper that other modules may import is
converted only as an unsafe fix, and never when a module of the run imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst
from libcst.metadata import Assignment

from orm_modernize.conversion import Refused
from orm_modernize.semantic import Semantic
from orm_modernize.transforms import (
    QueryChain,
    code_of,
    keyword_argument,
    root_name,
    walk,
)


@dataclass(frozen=True)
class Helper:
    function: cst.FunctionDef
    returns: tuple[cst.Return, ...]
    calls: tuple[cst.Call, ...]  # every use of the function: a call of it
    public: bool  # a module-level name other modules may import


def returning_helper(semantic: Semantic, returned: cst.CSTNode) -> Helper:
    """The function that returns `returned` (the value of a `return`), if it is a
    helper whose every use in the module is a call; Refused otherwise."""
    function = _enclosing_function(semantic, returned)
    if function is None:
        raise Refused("the query is returned as a Query from outside a function")
    name = function.name.value
    if function.asynchronous is not None or function.decorators:
        raise Refused(f"the query is returned by `{name}()`, which is decorated")
    if _is_method(semantic, function):
        raise Refused(
            f"the query is returned by the method `{name}()`, whose callers are not"
            " followed; convert them together by hand"
        )
    body = list(_own_nodes(function))
    if any(isinstance(n, (cst.Yield, cst.Global, cst.Nonlocal)) for n in body):
        raise Refused(f"the query is returned by `{name}()`, a generator")
    returns = tuple(n for n in body if isinstance(n, cst.Return))
    calls = _calls_of(semantic, function)
    public = _is_public(semantic, function)
    if public and name in semantic.project.imported_names:
        raise Refused(
            f"the query is returned by `{name}()`, which another module imports;"
            " convert it and its callers together by hand"
        )
    return Helper(function, returns, calls, public)


def session_at(
    semantic: Semantic, helper: Helper, origin: QueryChain, call: cst.Call
) -> QueryChain:
    """`origin` as if its query were made at `call`: on the session the caller
    passes for the helper's parameter, or on the same module-level session."""
    name = helper.function.name.value
    if _inside(semantic, call, helper.function):
        raise Refused(f"`{name}()` calls itself")
    if origin.origin is not None:
        return origin  # Flask-SQLAlchemy's `db.session`: one global, scoped session
    root = origin.receiver_root
    bindings = semantic.assignments(root) if root is not None else []
    if root is None or not bindings:
        raise Refused(f"the session of the query `{name}()` returns is not a name")
    params = helper.function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    receiver: cst.BaseExpression
    only = bindings[0] if len(bindings) == 1 else None
    if isinstance(only, Assignment) and any(only.node is p for p in every):
        argument = argument_for(helper.function, call, root.value)
        receiver = (
            argument
            if origin.receiver is root
            else origin.receiver.deep_replace(root, argument)
        )
    elif all(
        type(b.scope).__name__ == "GlobalScope" for b in bindings
    ) and semantic.binds_same(root, call):
        receiver = origin.receiver
    else:
        raise Refused(
            f"`{name}()` runs the query on a session of its own; return the session"
            " too, or finish the query in it"
        )
    query = origin.query
    assert isinstance(query.func, cst.Attribute)
    func = query.func.with_changes(value=receiver, dot=cst.Dot())
    return replace(origin, query=query.with_changes(func=func))


def _inside(semantic: Semantic, node: cst.CSTNode, container: cst.CSTNode) -> bool:
    current: cst.CSTNode | None = node
    while current is not None:
        if current is container:
            return True
        current = semantic.parent(current)
    return False


def argument_for(
    function: cst.FunctionDef, call: cst.Call, parameter: str
) -> cst.BaseExpression:
    """What `call` passes for `function`'s `parameter` (a name or a dotted name,
    so that reading it twice reads the same object)."""
    params = function.params
    if any(a.star for a in call.args):
        raise Refused(f"`{code_of(call)}` passes `*args`")
    found: cst.BaseExpression | None = None
    positional = [*params.posonly_params, *params.params]
    for index, arg in enumerate(a for a in call.args if a.keyword is None):
        if index < len(positional) and positional[index].name.value == parameter:
            found = arg.value
    named = keyword_argument(call, parameter)
    if named is not None:
        found = named.value
    if found is None:
        raise Refused(f"`{code_of(call)}` does not pass `{parameter}`")
    if root_name(found) is None:
        raise Refused(
            f"`{code_of(call)}` passes its session as an expression; pass a variable"
        )
    return found


def _enclosing_function(
    semantic: Semantic, node: cst.CSTNode
) -> cst.FunctionDef | None:
    current = semantic.parent(node)
    while current is not None:
        if isinstance(current, cst.FunctionDef):
            return current
        if isinstance(current, (cst.Lambda, cst.ClassDef, cst.Module)):
            return None
        current = semantic.parent(current)
    return None


def _is_method(semantic: Semantic, function: cst.FunctionDef) -> bool:
    block = semantic.parent(function)
    return block is not None and isinstance(semantic.parent(block), cst.ClassDef)


def _is_public(semantic: Semantic, function: cst.FunctionDef) -> bool:
    block = semantic.parent(function)
    return isinstance(block, cst.Module) and not function.name.value.startswith("_")


def _own_nodes(function: cst.FunctionDef) -> list[cst.CSTNode]:
    """The nodes of `function`'s body, not those of functions or classes in it."""
    found: list[cst.CSTNode] = []
    pending: list[cst.CSTNode] = [function.body]
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        pending.extend(node.children)
    return found


def _calls_of(semantic: Semantic, function: cst.FunctionDef) -> tuple[cst.Call, ...]:
    """Every use of `function`'s name, each a call of it; Refused if the name is
    bound another way too, or used as a value (passed on, stored, exported)."""
    name = function.name.value
    scope = semantic.scope(function)
    bindings = list(scope[name]) if scope is not None else []
    if len(bindings) != 1 or not (
        isinstance(bindings[0], Assignment) and bindings[0].node is function
    ):
        raise Refused(f"the query is returned by `{name}()`, which is bound twice")
    if _in_dunder_all(semantic, name):
        raise Refused(f"the query is returned by `{name}()`, which `__all__` exports")
    calls: list[cst.Call] = []
    for access in sorted(
        bindings[0].references, key=lambda a: semantic.source_position(a.node)
    ):
        call = semantic.parent(access.node)
        if not (isinstance(call, cst.Call) and call.func is access.node):
            raise Refused(
                f"the query is returned by `{name}()`, which is used as a value;"
                " convert it and its callers together by hand"
            )
        calls.append(call)
    if not calls:
        raise Refused(
            f"the query is returned by `{name}()`, which nothing in this module"
            " calls; convert it and its callers together by hand"
        )
    return tuple(calls)


def _in_dunder_all(semantic: Semantic, name: str) -> bool:
    return any(
        isinstance(n, cst.SimpleString) and n.evaluated_value == name
        for value in semantic.top_level.assigned.get("__all__", [])
        for n in walk(value)
    )
