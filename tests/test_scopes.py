"""`scopes.Scopes` must answer what LibCST's `ScopeProvider` answers, on every
scoping construct and on real code: each node's scope, each scope's bindings, which
bindings each read sees (and the reverse), and qualified names. Names inside string
annotations are the one thing left out on purpose (no rule reads them)."""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import libcst.metadata as meta
import pytest
from syntax_sample import own_code_and_fixtures

from orm_modernize.analysis import scope_walk, scopes
from orm_modernize.syntax import tree

ROOT = Path(__file__).resolve().parents[1]

EVERY_SCOPE = """\
import os.path
import a.b.c as abc, d
from . import sibling
from .. import parent as p
from ...pkg.mod import (name, other as alias)
from x import *
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

counter = 0
shadow = 1
value = os.path.join("a", "b")
deep = a.b.c
engine = sa.create_engine("sqlite://").connect().execute
(sa.Column if counter else sa.Integer)().name
(counter + 1).real


@decorator(shadow)
class Model(Base, metaclass=Meta):
    shadow = shadow + 1
    items = [shadow for _ in range(3)]
    table = sa.Table("t", sa.MetaData())

    def method(self, arg=shadow, *args: T, key: K = counter, **kw) -> R:
        global counter
        counter += 1
        shadow = 2

        def inner():
            nonlocal shadow
            shadow = 3
            return shadow, self, Model

        class Nested:
            shadow = 4

            def deeper(self):
                return shadow

        return inner, Nested, len, print

    later = method


def f(session: Session, factory=sessionmaker()):
    print(before)
    before = 1
    total = sum(x * y for x in range(3) if x for y in range(x) if y)
    pairs = {k: v for k, v in zip(a, b)}
    sets = {z for z in [w for w in (1, 2)]}
    lam = lambda q, r=total: q + r + before
    if (walrus := len(pairs)) > 1:
        pass
    for i, (j, *k) in enumerate([]):
        del i
    else:
        j = 0
    with session.begin() as s, open(x) as (fa, fb):
        s.query(Model).filter(Model.shadow == walrus).all()
    try:
        pass
    except Exception as error:
        raise error
    match pairs:
        case {"k": captured, **rest} if captured:
            pass
        case Point(x=px) | [px, *_]:
            pass
    x = x + 1
    d.e.f = 2
    d["k"] = 3
    return f, name, alias, p, sibling, abc, d, sa.orm.Session(bind=engine)


async def g():
    async with make() as conn:
        async for row in conn:
            yield [item async for item in row]


class Empty: pass
Alias = Model
"""

# LibCST 3.12 syntax: type parameters and aliases.
TYPE_PARAMETERS = """\
type Pair[T] = tuple[T, T]

def first[T: int, *Ts, **P](pair: Pair[T]) -> T:
    return pair[0]

class Box[T]:
    item: T
"""


def sources() -> list[tuple[str, str]]:
    return [("every scope", EVERY_SCOPE), ("type parameters", TYPE_PARAMETERS)] + [
        (str(p.relative_to(ROOT)), p.read_text())
        for p in own_code_and_fixtures()
        # where we bind SQLAlchemy's star-imported names and LibCST binds none:
        # test_star_imports_bind_sqlalchemys_public_names
        if not STAR_IMPORT.search(p.read_text())
    ]


STAR_IMPORT = re.compile(r"^from sqlalchemy[\w.]* import \*", re.M)


def test_star_imports_bind_sqlalchemys_public_names() -> None:
    code = (
        "from sqlalchemy import *\n"
        "from sqlalchemy.orm import *\n"
        "from elsewhere import *\n"
        "def select(x):\n"
        "    return x\n"
        "a = create_engine\n"
        "b = relationship\n"
        "c = select\n"
        "d = unknown_name\n"
    )
    module = cst.parse_module(code)
    found = scope_walk.Scopes(module)
    values = {
        s.body[0].targets[0].target.value: s.body[0].value  # type: ignore[attr-defined]
        for s in module.body[4:]
    }
    names = {
        target: {q.name for q in found.get(value).qualified_names(value)}  # type: ignore[union-attr]
        for target, value in values.items()
    }
    assert names == {
        "a": {"sqlalchemy.create_engine"},
        "b": {"sqlalchemy.orm.relationship"},
        "c": {"select"},  # the function defined after the imports
        "d": set(),
    }


def _scope_key(scope: object) -> tuple[str, int]:
    node = getattr(scope, "node", None)
    return type(scope).__name__, id(node)


def _assignment_key(assignment: object) -> tuple[str, str, int]:
    return (
        type(assignment).__name__,
        assignment.name,  # type: ignore[attr-defined]
        id(getattr(assignment, "node", None)),
    )


def _names(found: object) -> set[tuple[str, str]]:
    return {(q.name, q.source.name) for q in found}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "code"), sources(), ids=lambda v: v[:40])
def test_scopes_agree_with_libcst(name: str, code: str) -> None:
    module = cst.parse_module(code)
    in_tree = set(tree.walk(module)[1])
    expected = meta.MetadataWrapper(module, unsafe_skip_copy=True).resolve(
        meta.ScopeProvider
    )
    ours = scope_walk.Scopes(module)
    pairs: dict[tuple[str, int], tuple[meta.Scope, scopes.Scope]] = {}
    checked = 0
    for node, theirs in expected.items():
        if node not in in_tree or type(node) in tree.SYNTAX or theirs is None:
            continue  # a node of a parsed string annotation, or punctuation
        mine = ours.get(node)
        assert mine is not None, node
        assert _scope_key(mine) == _scope_key(theirs), code_of(module, node)
        pairs[_scope_key(mine)] = (theirs, mine)
        checked += 1
    assert checked

    for theirs, mine in pairs.values():
        # The bindings each scope holds.
        assert {_assignment_key(a) for a in mine.assignments} == {
            _assignment_key(a) for a in theirs.assignments
        }
        # What each read sees, and what sees each binding.
        for access in theirs.accesses:
            if isinstance(access.node, cst.BaseString):
                continue  # a name in a string annotation
            found = [a for a in mine.accesses_at(access.node) if a.scope is mine]
            assert len(found) == 1, code_of(module, access.node)
            assert {_assignment_key(a) for a in found[0].referents} == {
                _assignment_key(a) for a in access.referents
            }, code_of(module, access.node)
        for assignment in theirs.assignments:
            match = next(
                a
                for a in mine.assignments
                if _assignment_key(a) == _assignment_key(assignment)
            )
            assert {id(a.node) for a in match.references} == {
                id(a.node)
                for a in assignment.references
                if not isinstance(a.node, cst.BaseString)
            }
        for used in {n.value for n in in_tree if isinstance(n, cst.Name)}:
            assert (used in mine) == (used in theirs), used
            assert {_assignment_key(a) for a in mine[used]} == {
                _assignment_key(a) for a in theirs[used]
            }, used

    for node in in_tree:
        theirs = expected.get(node)
        if theirs is None or not isinstance(
            node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Decorator)
        ):
            continue
        mine = ours.get(node)
        assert mine is not None
        assert _names(mine.qualified_names(node)) == _names(
            theirs.get_qualified_names_for(node)
        ), code_of(module, node)


def code_of(module: cst.Module, node: cst.CSTNode) -> str:
    return module.code_for_node(node)


def test_a_long_implicit_concatenation_does_not_recurse_per_string() -> None:
    code = "x = (\n" + '    "a"\n' * 3000 + ")\n"
    module = cst.parse_module(code)
    found = scope_walk.Scopes(module)
    assign = module.body[0].body[0]  # type: ignore[attr-defined]
    assert found.get(assign.value) is found.get(module)
