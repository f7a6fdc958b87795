"""`Model.query`: a class attribute that is a `Query` of the model on some session.

    Base.query = db_session.query_property()      # plain SQLAlchemy
    User.query.filter_by(name="x").first()
    == db_session.query(User).filter_by(name="x").first()

Two libraries hand models a `query` attribute: `scoped_session.query_property()`
(on a base class or a model, catalogue B53) and Flask-SQLAlchemy's `db.Model`
(`flask_query.py`). Either way the chain is read as the `session.query(Model)` it
stands for, so the Query rules rewrite it with an explicit session.

`query_property()` is found on the base in this module, or, for a model imported
from the project, by the project pre-pass (`ProjectIndex.query_property`); then the
session is imported from the module that made the property, unless this module
already binds its name to something else.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

from orm_modernize.analysis.flask_query import flask_chain_at
from orm_modernize.analysis.query_chain import QueryChain, steps_from
from orm_modernize.analysis.scopes import Assignment, Scope
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Evidence
from orm_modernize.syntax.nodes import code_of


def model_query_at(node: cst.Attribute, semantic: Semantic) -> QueryChain | None:
    """The Query chain that starts at `Model.query`, if `node` is one."""
    if node.attr.value != "query" or not isinstance(node.value, cst.Name):
        return None
    parent = semantic.parent(node)
    if isinstance(parent, cst.Call) and parent.func is node:
        return None  # `x.query(...)`: a session's method, not the property
    if isinstance(parent, (cst.AssignTarget, cst.AugAssign)):
        return None
    model = node.value
    if not semantic.is_mapped_class(model):
        return None
    return _property_chain(model, node, semantic) or flask_chain_at(
        model, node, semantic
    )


def _property_chain(
    model: cst.Name, node: cst.Attribute, semantic: Semantic
) -> QueryChain | None:
    local = _local_session(model, semantic)
    imports: tuple[tuple[str, str], ...] = ()
    if local is not None:
        session = local.value
        evidence = semantic.session_evidence(local)  # how the session was made
    else:
        found = semantic.project.query_property(model.value)
        if found is None or not _imported_model(model, semantic):
            return None
        module, session = found
        scope = semantic.scope(node)
        if scope is None:
            return None
        if session in scope.globals:
            if not _imports_from(scope, session, module):
                return None  # this module's `session` is something else
        else:
            imports = ((module, session),)
        evidence = Evidence.LIKELY  # matched by name across modules
    query = cst.Call(
        cst.Attribute(cst.Name(session), cst.Name("query")), [cst.Arg(model)]
    )
    chain = QueryChain(query, steps_from(node, semantic.parent))
    return dataclasses.replace(chain, origin=node, evidence=evidence, imports=imports)


def _local_session(model: cst.Name, semantic: Semantic) -> cst.Name | None:
    """The session of a `Base.query = session.query_property()` in this module that
    `model` inherits (or is `Base`)."""
    top = semantic.top_level
    properties: dict[str, cst.Name] = {}
    for assign in top.attribute_assigns:
        found = _query_property(assign)
        if found is not None:
            properties[found[0]] = found[1]
    if not properties:
        return None
    classes = {
        name: [b.value.value for b in c.bases if isinstance(b.value, cst.Name)]
        for name, c in top.classes.items()
    }
    seen: set[str] = set()
    pending = [model.value]
    while pending:  # the model and its bases, up through this module's classes
        name = pending.pop()
        if name in properties:
            return properties[name]
        if name not in seen:
            seen.add(name)
            pending.extend(classes.get(name, ()))
    return None


def _query_property(statement: cst.Assign) -> tuple[str, cst.Name] | None:
    """`Base.query = session.query_property(...)` as (`Base`, `session`)."""
    if len(statement.targets) != 1:
        return None
    target, value = statement.targets[0].target, statement.value
    if (
        isinstance(target, cst.Attribute)
        and target.attr.value == "query"
        and isinstance(target.value, cst.Name)
        and isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value == "query_property"
        and isinstance(value.func.value, cst.Name)
    ):
        return target.value.value, value.func.value
    return None


def _imports_from(scope: Scope, name: str, module: str) -> bool:
    """Every binding of `name` imports it from `module` (or `.module`, relatively)."""
    tail = module.rsplit(".", 1)[-1]
    assignments = list(scope[name])
    return bool(assignments) and all(
        isinstance(a, Assignment)
        and isinstance(a.node, cst.ImportFrom)
        and a.node.module is not None
        and code_of(a.node.module).rsplit(".", 1)[-1] == tail
        for a in assignments
    )


def _imported_model(model: cst.Name, semantic: Semantic) -> bool:
    """`model` is bound by an import here (not a class of this module)."""
    return not any(
        isinstance(value, cst.ClassDef) for value in semantic.assigned_values(model)
    )
