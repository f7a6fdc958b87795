"""Flask-SQLAlchemy's `Model.query`, read as the `db.session.query(Model)` it is.

    User.query.filter_by(name="x").first()
    == db.session.query(User).filter_by(name="x").first()

Flask-SQLAlchemy's `Model.query` is a `Query` on `db.session` for the model, so the
Query rules rewrite it like any `session.query(...)` chain, spelling the session
through the `db` object in scope. The model must be a subclass of `<db>.Model` whose
`db` is a module-level `SQLAlchemy(...)` here (proven), or imported from the project
(likely). A model or `db` with its own `query_class` is not a plain Query: its
chains are reported without a fix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import libcst as cst

from orm_modernize.analysis.pins import Pin, admitting_below
from orm_modernize.analysis.query_chain import QueryChain, Step, steps_from
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.analysis.vocabulary import FLASK_SQLALCHEMY
from orm_modernize.data.records import Evidence, ImportSpec, Refused
from orm_modernize.syntax.nodes import keyword, keyword_argument

# The `db.*_or_404()` and `db.paginate()` helpers that replace Query's own.
HELPERS_SINCE = "3.0"
# Query.paginate()'s positional parameters in Flask-SQLAlchemy 2.x (3.0 made them
# keyword-only); `db.paginate()` takes them as keywords.
PAGINATE_POSITIONS = ("page", "per_page", "error_out", "max_per_page")
PAGINATE_KEYWORDS = frozenset({*PAGINATE_POSITIONS, "count"})


def flask_chain_at(
    model: cst.Name, node: cst.Attribute, semantic: Semantic
) -> QueryChain | None:
    """The chain starting at `node` (`model.query`) if `model` is a Flask-SQLAlchemy
    model."""
    found = _model_db(model, semantic)
    if found is None:
        return None
    session_query = cst.Attribute(
        cst.Attribute(found.db, cst.Name("session")), cst.Name("query")
    )
    query = cst.Call(session_query, [cst.Arg(model)])
    chain = QueryChain(query, steps_from(node, semantic.parent))
    return dataclasses.replace(
        chain,
        origin=node,
        evidence=found.evidence,
        refusal=found.refusal,
        imports=found.imports,
    )


@dataclasses.dataclass(frozen=True)
class _ModelDb:
    """How to spell a model's `db` here, how sure that is, why its chains must not
    be rewritten (a custom `query_class`) if so, and what the spelling imports."""

    db: cst.BaseExpression
    evidence: Evidence
    refusal: str | None = None
    imports: tuple[ImportSpec, ...] = ()


def _model_db(model: cst.Name, semantic: Semantic) -> _ModelDb | None:
    if not semantic.is_mapped_class(model):
        return None
    classdef = next(
        (v for v in semantic.assigned_values(model) if isinstance(v, cst.ClassDef)),
        None,
    )
    if classdef is not None:
        db = _db_of_bases(classdef)
        if db is None or not _global_name(db, model, semantic):
            return None
        evidence = Evidence.PROVEN if _is_flask_db(db, semantic) else Evidence.LIKELY
        refusal = _custom_query_class(classdef, db, semantic)
        return _ModelDb(cst.Name(db), evidence, refusal)
    imported = semantic.project_name(model)
    known = semantic.project.flask_model(imported) if imported else None
    if known is not None:
        return _project_db(model, *known, semantic)
    # A model the project index does not know: `db` must be in scope here.
    if not _global_name("db", model, semantic):
        return None
    evidence = Evidence.PROVEN if _is_flask_db("db", semantic) else Evidence.LIKELY
    refusal = _custom_query_class(None, "db", semantic)
    return _ModelDb(cst.Name("db"), min(evidence, Evidence.LIKELY), refusal)


def _project_db(
    model: cst.Name, origin: str, custom: bool, semantic: Semantic
) -> _ModelDb | None:
    """The `db` of a model imported from the project, known to be the
    `SQLAlchemy()` that `origin` names: this module's name for that object, or
    an import of it (a form or schema module importing the model alone)."""
    refusal = _QUERY_CLASS if custom else None
    module, _, name = origin.rpartition(".")
    scope = semantic.scope(model)
    if scope is None:
        return None
    if name in scope.globals:
        bound = semantic.project_name(cst.Name(name), model)
        if bound is not None and semantic.project.origin(bound) == origin:
            return _ModelDb(cst.Name(name), Evidence.PROVEN, refusal)
    spelled = semantic.reference(model, module, name)
    if spelled is None:
        return None  # the name is this module's for something else
    db, spec = spelled
    return _ModelDb(db, Evidence.PROVEN, refusal, (spec,) if spec else ())


def _db_of_bases(classdef: cst.ClassDef) -> str | None:
    for base in classdef.bases:
        value = base.value
        if (
            isinstance(value, cst.Attribute)
            and value.attr.value == "Model"
            and isinstance(value.value, cst.Name)
        ):
            return value.value.value
    return None


def _global_name(name: str, at: cst.CSTNode, semantic: Semantic) -> bool:
    scope = semantic.scope(at)
    return scope is not None and name in scope.globals


def _db_values(name: str, semantic: Semantic) -> list[cst.BaseExpression]:
    """What module-level `name = ...` statements assign (empty if imported)."""
    return semantic.top_level.assigned.get(name, [])


def _is_flask_db(name: str, semantic: Semantic) -> bool:
    """`name = SQLAlchemy(...)` at module level, or imported from the module of
    the project that makes it."""
    values = _db_values(name, semantic)
    if values:
        return all(semantic.calls(v, FLASK_SQLALCHEMY) for v in values)
    return semantic.project_object(cst.Name(name), semantic.module) == "db"


_QUERY_CLASS = (
    "the model has its own `query_class`: its methods may not be Query's;"
    " rewrite by hand"
)


def _custom_query_class(
    classdef: cst.ClassDef | None, db: str, semantic: Semantic
) -> str | None:
    reason = _QUERY_CLASS
    if classdef is not None:
        for statement in classdef.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for node in statement.body:
                if isinstance(node, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value == "query_class"
                    for t in node.targets
                ):
                    return reason
    for value in _db_values(db, semantic):
        if (
            isinstance(value, cst.Call)
            and keyword_argument(value, "query_class") is not None
        ):
            return reason
    return None


def legacy_flask_sqlalchemy(semantic: Semantic) -> Pin | None:
    """The pin by which the project admits a Flask-SQLAlchemy before 3.0, whose
    Query has the `*_or_404()` helpers and whose `db` has none."""
    return admitting_below(semantic.pins, "flask-sqlalchemy", HELPERS_SINCE)


def helper_db(
    terminal: Step, query_func: cst.Attribute, semantic: Semantic
) -> cst.BaseExpression:
    """The `db` whose `db.<helper>()` replaces `Query.<helper>()`: the object the
    session is `db.session` of, when the project's Flask-SQLAlchemy has the helper."""
    pin = admitting_below(semantic.pins, "flask-sqlalchemy", HELPERS_SINCE)
    if pin is not None:
        raise Refused(
            f"`db.{terminal.name}()` needs Flask-SQLAlchemy 3.0 and {pin.source}"
            " admits older versions"
        )
    session = query_func.value
    if not (isinstance(session, cst.Attribute) and session.attr.value == "session"):
        raise Refused(
            f"the session is not `db.session`, so `db.{terminal.name}()` has no"
            " `db` to call"
        )
    return session.value


def helper_keywords(name: str, args: Sequence[cst.Arg]) -> list[cst.Arg]:
    """The arguments of `Query.<name>()` as the keywords `db.<name>()` takes."""
    positions = PAGINATE_POSITIONS if name == "paginate" else ("description",)
    allowed = PAGINATE_KEYWORDS if name == "paginate" else {"description"}
    keywords: list[cst.Arg] = []
    for index, arg in enumerate(args):
        if arg.star or (arg.keyword is None and index >= len(positions)):
            raise Refused(f"unexpected arguments to `{name}()`")
        parameter = arg.keyword.value if arg.keyword is not None else positions[index]
        if parameter not in allowed:
            raise Refused(f"`{name}()` has no `{parameter}` parameter")
        keywords.append(keyword(parameter, arg.value))
    return keywords
