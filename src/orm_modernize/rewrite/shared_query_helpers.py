"""Queries that a helper function returns and its callers finish.

    def _active(session):
        return session.query(User).filter(User.active)

    names = [u.name for u in _active(session).order_by(User.name)]

Converting the helper alone would hand its callers a `select()` they cannot run,
so the helper and every call of it are converted together or not at all: the
helper returns the statement, and each caller runs it on the session it passed in
(`session.scalars(_active(session).order_by(User.name))`).

Calls are followed within the module. A helper that other modules may import is
converted only as an unsafe fix. So is a method (`return self.session.query(...)`
in a repository class): each call, `self.method()` in its class or
`obj.method()` on an object made from it, runs the statement on the session the
method would have used (`obj.session`).

When modules of the run import a helper, or any module of the project names a
method, a first run shares what its query selects (`QueryHelper`), each calling
module says whether it can finish every call (`HelperCall`), and a last run
converts the helper and all those calls, or none of them
(`workspace/two_ended.py`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import libcst as cst

from orm_modernize.analysis.models import Shape
from orm_modernize.analysis.query_chain import QueryChain
from orm_modernize.analysis.scopes import Assignment, GlobalScope
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Exports, QueryHelper, Refused
from orm_modernize.rewrite.converted import Converted
from orm_modernize.rewrite.helper_arguments import (
    argument_for,
    import_of,
    imported_from,
)
from orm_modernize.rewrite.query_methods import (
    class_of,
    kept_by_init,
    method_calls,
    method_receiver,
)
from orm_modernize.syntax.nodes import walk
from orm_modernize.syntax.tree import own_nodes


@dataclass(frozen=True)
class Helper:
    function: cst.FunctionDef
    returns: tuple[cst.Return, ...]
    calls: tuple[cst.Call, ...]  # every use of the function: a call of it
    public: bool  # a module-level name other modules may import, or a method
    imported: bool  # a module of the run imports its name
    method: bool = False  # its first parameter is the object it is called on


def returning_helper(semantic: Semantic, returned: cst.CSTNode) -> Helper:
    """The function that returns `returned` (the value of a `return`), if it is a
    helper whose every use in the module is a call; Refused otherwise."""
    function = _enclosing_function(semantic, returned)
    if function is None:
        raise Refused("the query is returned as a Query from outside a function")
    name = function.name.value
    if function.asynchronous is not None or function.decorators:
        raise Refused(f"the query is returned by `{name}()`, which is decorated")
    body = own_nodes(function.body)
    if any(isinstance(n, (cst.Yield, cst.Global, cst.Nonlocal)) for n in body):
        raise Refused(f"the query is returned by `{name}()`, a generator")
    returns = tuple(n for n in body if isinstance(n, cst.Return))
    owner = class_of(semantic, function)
    if owner is not None:
        calls, elsewhere = method_calls(semantic, function, owner)
        return Helper(function, returns, calls, True, elsewhere, method=True)
    public = _is_public(semantic, function)
    imported = public and name in semantic.project.imported_names
    calls = _calls_of(semantic, function, imported)
    return Helper(function, returns, calls, public, imported)


def shared_helper(
    semantic: Semantic,
    helper: Helper,
    origin: QueryChain,
    selected: Converted,
    joins: int,
) -> None:
    """Pass for a helper other modules import when the runner found that they
    finish every call of it; otherwise share what it selects (its `joins` counted
    over every query it returns, and whether a join loads a collection of what
    it selects in `selected.joined_loads`) and refuse."""
    name = helper.function.name.value
    owner = class_of(semantic, helper.function) if helper.method else None
    parameter = (
        method_receiver(semantic, helper.function, origin)
        if helper.method
        else _session_parameter(semantic, helper, origin)
    )
    why = "and does not always finish it (see the findings there)"
    if parameter is None:
        why = (
            "and it runs it on a session other than an attribute of `self`"
            if helper.method
            else "and the session it runs on is not a parameter callers pass"
        )
    elif Shape.UNKNOWN in selected.shapes:
        why = "and what the query selects cannot be told"
    else:
        session, position, receiver = parameter
        shared = QueryHelper(
            semantic.module_name,
            name,
            session,
            position,
            tuple(shape.value for shape in selected.shapes),
            selected.streamed,
            selected.guessed,
            joins,
            selected.other_froms,
            selected.joined_loads,
            _entity(semantic, selected),
            owner.name.value if owner is not None else "",
            receiver,
        )
        kept = kept_by_init(semantic, owner, receiver) if owner is not None else None
        if kept is not None:
            shared = replace(shared, kept=kept[0], kept_at=kept[1])
        if shared in semantic.project.accepted_helpers:
            return
        semantic.exports += Exports(helpers=(shared,))
        refused = semantic.project.helper_refused(shared)
        why = f"and {refused}" if refused else why
    whom = "another module imports"
    if helper.method:
        others = semantic.project.naming_besides(name, semantic.path)
        whom = f"other modules of the project may call ({_listed(others)})"
    raise Refused(
        f"the query is returned by `{name}()`, which {whom} {why};"
        " convert them together by hand"
    )


def _entity(semantic: Semantic, selected: Converted) -> str:
    """The absolute name of the one class `selected` selects, if it is a bare
    name the module imports or defines."""
    entity = selected.entities[0] if selected.single_entity else None
    if not isinstance(entity, cst.Name):
        return ""
    imported = semantic.project_name(entity)
    if imported is not None:
        return imported
    bindings = semantic.assignments(entity)
    defined = semantic.top_level.classes.get(entity.value)
    if len(bindings) == 1 and getattr(bindings[0], "node", None) is defined:
        return f"{semantic.module_name}.{entity.value}"
    return ""


def _session_parameter(
    semantic: Semantic, helper: Helper, origin: QueryChain
) -> tuple[str, int | None, str] | None:
    """The helper's parameter the query's session is (its name and positional
    index), if it is one."""
    root = origin.receiver_root
    if origin.origin is not None or root is None or origin.receiver is not root:
        return None
    bindings = semantic.assignments(root)
    params = helper.function.params
    positional = [*params.posonly_params, *params.params]
    if len(bindings) != 1 or not isinstance(bindings[0], Assignment):
        return None
    for index, param in enumerate(positional):
        if bindings[0].node is param:
            return param.name.value, index, ""
    if any(bindings[0].node is p for p in params.kwonly_params):
        return root.value, None, ""
    return None


def imported_helper(semantic: Semantic, name: cst.Name) -> QueryHelper | None:
    """The query helper of another module that `name` is imported as, if the
    runner shared one (`from app.queries import active_users`)."""
    found = import_of(semantic, name) if semantic.project.query_helpers else None
    return None if found is None else helper_imported_as(semantic, *found)


def helper_imported_as(
    semantic: Semantic, statement: cst.ImportFrom, alias: cst.ImportAlias
) -> QueryHelper | None:
    """The query helper the runner shared that `alias` of `statement` imports."""
    module = imported_from(semantic.module_name, statement)
    return next(
        (
            h
            for h in sorted(semantic.project.query_helpers, key=str)
            if (h.module, h.name) == (module, alias.evaluated_name)
        ),
        None,
    )


def session_at(
    semantic: Semantic, helper: Helper, origin: QueryChain, call: cst.Call
) -> QueryChain:
    """`origin` as if its query were made at `call`: on the session the caller
    passes for the helper's parameter, or on the same module-level session."""
    name = helper.function.name.value
    if semantic.within(call, helper.function):
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
        positional = [*params.posonly_params, *params.params]
        position = next(
            (i for i, p in enumerate(positional) if p.name.value == root.value), None
        )
        if helper.method and position == 0:
            assert isinstance(call.func, cst.Attribute)  # `obj.method(...)`
            argument = call.func.value  # a name: `method_calls()` says
        else:
            if helper.method and position is not None:
                position -= 1  # the call passes the others
            argument = argument_for(call, root.value, position)
        receiver = (
            argument
            if origin.receiver is root
            else origin.receiver.deep_replace(root, argument)
        )
    elif all(
        isinstance(b.scope, GlobalScope) for b in bindings
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


def _is_public(semantic: Semantic, function: cst.FunctionDef) -> bool:
    block = semantic.parent(function)
    return isinstance(block, cst.Module) and not function.name.value.startswith("_")


def _listed(paths: list[str]) -> str:
    """Up to three modules' paths, and how many more."""
    shown = ", ".join(map(_shown, paths[:3]))
    return shown + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _shown(path: str) -> str:
    """A module's path as the user would write it: relative when it can be."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _calls_of(
    semantic: Semantic, function: cst.FunctionDef, imported: bool
) -> tuple[cst.Call, ...]:
    """Every use of `function`'s name, each a call of it; Refused if the name is
    bound another way too, or used as a value (passed on, stored, exported), or
    never called unless other modules import it."""
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
    if not calls and not imported:
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
