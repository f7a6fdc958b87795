"""Methods returning a query (`return self.session.query(...)` in a repository
class): their calls in their own module, where the calls of another module
run the statement (`tickets.session` for `tickets.open_ones()`), and which
mentions of the name there are such calls. Converted with every call or not
at all (`shared_query_helpers.py`)."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.query_chain import QueryChain
from orm_modernize.analysis.scopes import Assignment
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import QueryHelper, Refused
from orm_modernize.rewrite.helper_arguments import (
    argument_for,
    import_of,
    imported_from,
)
from orm_modernize.syntax.nodes import code_of
from orm_modernize.syntax.tree import own_nodes


def method_receiver(
    semantic: Semantic, function: cst.FunctionDef, origin: QueryChain
) -> tuple[str, int, str] | None:
    """`("self", 0, "session")` for a method whose query is made on
    `self.session`, an attribute (or a dotted path of them) of its object,
    which a caller reads as `obj.session`."""
    root = origin.receiver_root
    path: list[str] = []
    receiver = origin.receiver
    while isinstance(receiver, cst.Attribute):
        path.insert(0, receiver.attr.value)
        receiver = receiver.value
    if origin.origin is not None or root is None or receiver is not root or not path:
        return None
    bindings = semantic.assignments(root)
    first = [*function.params.posonly_params, *function.params.params]
    if len(bindings) != 1 or not isinstance(bindings[0], Assignment):
        return None
    if bindings[0].node is not first[0]:
        return None
    return root.value, 0, ".".join(path)


def kept_by_init(
    semantic: Semantic, owner: cst.ClassDef, receiver: str
) -> tuple[str, int | None] | None:
    """(`kept`, `kept_at`) of a method of `owner` whose session is
    `self.<receiver>`, when `owner.__init__` stores a parameter there as it is
    (`self.session = session`) and nothing else can set it: no base class or
    class decorator (`@dataclass` writes an `__init__`) to do so, no other
    assignment of the attribute in the module, no property or `__setattr__`."""
    methods = {
        f.name.value: f for f in owner.body.body if isinstance(f, cst.FunctionDef)
    }
    init = methods.get("__init__")
    if (
        owner.bases
        or owner.keywords
        or owner.decorators
        or init is None
        or init.decorators
        or "__setattr__" in methods
        or receiver in methods
        or any(
            isinstance(n, cst.Name) and n.value == receiver
            for n in own_nodes(owner.body)
        )
    ):
        return None
    stores = [
        n
        for n in semantic.nodes(cst.Attribute)
        if n.attr.value == receiver and _assigned_to(semantic, n)
    ]
    kept = next(
        (_stored(s, receiver) for s in init.body.body if _stored(s, receiver)), None
    )
    if len(stores) != 1 or kept is None or not semantic.within(stores[0], init):
        return None
    bindings = semantic.assignments(kept)
    binding = bindings[0] if len(bindings) == 1 else None
    params = init.params
    for index, param in enumerate([*params.posonly_params, *params.params][1:]):
        if isinstance(binding, Assignment) and binding.node is param:
            return param.name.value, index
    if isinstance(binding, Assignment) and any(
        binding.node is p for p in params.kwonly_params
    ):
        return kept.value, None
    return None


def _stored(statement: cst.CSTNode, receiver: str) -> cst.Name | None:
    """The name `statement` stores as `self.<receiver>`, if it is that alone."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
        return None
    target = assign.targets[0].target
    if (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == "self"
        and target.attr.value == receiver
        and isinstance(assign.value, cst.Name)
    ):
        return assign.value
    return None


def _assigned_to(semantic: Semantic, node: cst.CSTNode) -> bool:
    """`node` is a target that a statement assigns (`x.a = ...`, `x.a += ...`)."""
    parent = semantic.parent(node)
    if isinstance(parent, cst.AssignTarget):
        return True
    return isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is node


def method_session(
    semantic: Semantic, call: cst.Call, helper: QueryHelper
) -> cst.BaseExpression:
    """The session a call of the shared method `helper` runs its query on:
    `tickets.session` for `tickets.open_ones()`, where `tickets` is bound once,
    to `Tickets(...)`, a class the module imports from the one defining it
    (by `from`); `session` for `Tickets(session).open_ones()` when `__init__`
    keeps it (`QueryHelper.kept`). Refused for an object it cannot place."""
    assert isinstance(call.func, cst.Attribute)
    target = call.func.value
    shown = f"`{code_of(call.func)}()`"
    if isinstance(target, cst.Call) and isinstance(target.func, cst.Name):
        if imported_class(semantic, target.func) != (helper.module, helper.owner):
            raise Refused(f"{shown} is called on an object it cannot place")
        if not helper.kept:
            raise Refused(
                f"{shown} is called on an object made in the call, and"
                f" `{helper.owner}.__init__()` is not seen to keep its session"
            )
        return argument_for(target, helper.kept, helper.kept_at)
    if not isinstance(target, cst.Name):
        raise Refused(f"{shown} is called on an object made in the call")
    bindings = semantic.assignments(target)
    values = list(semantic.assigned_values(target)) if len(bindings) == 1 else []
    made = values[0] if len(values) == 1 else None
    if not (
        isinstance(bindings[0] if bindings else None, Assignment)
        and isinstance(made, cst.Call)
        and isinstance(made.func, cst.Name)
        and imported_class(semantic, made.func) == (helper.module, helper.owner)
    ):
        raise Refused(
            f"{shown} is called on `{target.value}`, which is not bound once to"
            f" `{helper.owner}(...)` from `{helper.module}`"
        )
    session: cst.BaseExpression = target
    for attribute in helper.receiver.split("."):
        session = cst.Attribute(session, cst.Name(attribute))
    return session


def imported_class(semantic: Semantic, name: cst.Name) -> tuple[str, str] | None:
    """(module, name) of what `name` is imported as (`from app.x import Tickets`)."""
    found = import_of(semantic, name)
    if found is None:
        return None
    statement, alias = found
    return imported_from(semantic.module_name, statement), alias.evaluated_name


def method_mentions(
    semantic: Semantic, helper: QueryHelper
) -> tuple[list[cst.Call], bool]:
    """The calls of the shared method `helper` in a module other than its own
    (`obj.name(...)`), and whether that is every mention of its name there: an
    attribute read otherwise or a string may reach it in ways not followed."""
    calls: list[cst.Call] = []
    every = True
    for node in semantic.nodes(cst.Attribute):
        if node.attr.value != helper.name:
            continue
        call = semantic.parent(node)
        if isinstance(call, cst.Call) and call.func is node:
            calls.append(call)
        else:
            every = False
    if any(
        isinstance(s, cst.SimpleString) and s.evaluated_value == helper.name
        for s in semantic.nodes(cst.SimpleString)
    ):
        every = False
    return sorted(calls, key=semantic.source_position), every


def class_of(semantic: Semantic, function: cst.FunctionDef) -> cst.ClassDef | None:
    """The class whose body defines `function`, if one does."""
    block = semantic.parent(function)
    owner = semantic.parent(block) if block is not None else None
    return owner if isinstance(owner, cst.ClassDef) else None


def method_calls(
    semantic: Semantic, function: cst.FunctionDef, owner: cst.ClassDef
) -> tuple[tuple[cst.Call, ...], bool]:
    """Every use of the method's name in the module, each a call of it on
    `self` in a method of its class or on a name bound once to an object of its
    class (Refused if any use is another), and whether another module of the
    project names it: the runner then converts the calls there too, or none."""
    name = function.name.value
    why = f"the query is returned by the method `{name}()`"
    if not isinstance(semantic.parent(owner), cst.Module):
        raise Refused(f"{why}, of a class defined in a block")
    if owner.name.value in semantic.project.subclassed:
        # `self.m()` may run a subclass's `m()`, which returns something else
        raise Refused(f"{why}, of `{owner.name.value}`, which has subclasses")
    params = [*function.params.posonly_params, *function.params.params]
    if not params or params[0].name.value != "self":
        raise Refused(f"{why}, whose first parameter is not `self`")
    others = semantic.project.naming_besides(name, semantic.path)
    if semantic.project.mentioning(name) is None:
        raise Refused(f"{why}, whose callers are not followed; convert them by hand")
    if any(
        f.name.value == name and f is not function
        for f in semantic.nodes(cst.FunctionDef)
    ):
        raise Refused(f"{why}, and another function has its name")
    calls: list[cst.Call] = []
    for node in semantic.nodes(cst.Attribute):
        if node.attr.value != name:
            continue
        call = semantic.parent(node)
        if not (
            isinstance(call, cst.Call)
            and call.func is node
            and isinstance(node.value, cst.Name)
            and _instance_of(semantic, node.value, owner)
        ):
            raise Refused(
                f"{why}, which is used other than as `self.{name}()` in its class or"
                f" `obj.{name}()` on an object made here; convert them together by"
                " hand"
            )
        calls.append(call)
    if not calls and not others:
        raise Refused(f"{why}, which nothing in this module calls")
    return tuple(sorted(calls, key=semantic.source_position)), bool(others)


def _instance_of(semantic: Semantic, name: cst.Name, owner: cst.ClassDef) -> bool:
    """`name` is `self` in a method of `owner`, or bound once, to `owner(...)`."""
    bindings = semantic.assignments(name)
    if len(bindings) != 1 or not isinstance(bindings[0], Assignment):
        return False
    (value,) = semantic.assigned_values(name)
    if isinstance(value, cst.Param):
        method = semantic.enclosing(value, cst.FunctionDef)
        if method is None or method.decorators:
            return False
        first = [*method.params.posonly_params, *method.params.params][:1]
        return first == [value] and class_of(semantic, method) is owner
    if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)):
        return False
    classes = semantic.assignments(value.func)
    return len(classes) == 1 and getattr(classes[0], "node", None) is owner
