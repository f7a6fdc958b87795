"""What one module's bytes say of it, read by regular expressions, not parsed:
its classes and their bases, the mapped classes and bases it makes, the names
it imports, the session factories and `db` it makes, its backrefs. A function of
those bytes alone, so the cache keeps it (`ModuleFacts`); `project.index_of`
merges the facts of every module of the project.

Each pattern begins with a literal where it can, which lets the regular
expression engine skip ahead to it (ten times faster over the stdlib); where a
match must begin a line, `_line_start()` keeps those that do.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from orm_modernize.analysis.relationship_facts import (
    BACKREF,
    dynamic_relationships,
    joined,
    paired,
)

# Base = declarative_base(...) / sa_orm.declarative_base(...) / automap_base(...)
BASE_FUNCTION = re.compile(
    rb"^(\w+)\s*(?::[^=\n]+)?=\s*(?:[\w.]+\.)?(?:declarative_base|automap_base)\(", re.M
)


# The patterns matched at the start of a line begin with a literal instead of `^`,
# which lets the regex engine skip ahead to it (ten times faster over the stdlib);
# `_line_start()` then keeps the matches that begin a line.
# class Name(Base1, mod.Base2): (bases may span lines, or be none)
CLASS = re.compile(rb"class\s+(\w+)\s*(?:\(([^)]*)\))?\s*:")


AS_DECLARATIVE = re.compile(
    rb"^@(?:[\w.]+\.)?as_declarative\b[^\n]*\nclass\s+(\w+)", re.M
)


DECLARATIVE_CLASSES = {b"DeclarativeBase", b"DeclarativeBaseNoMeta"}


# mapper(User, users_table, ...) / registry.map_imperatively(User, ...): classical
# (A pattern that begins with a literal and checks the word boundary behind it,
# `ma(?<!\wma)`, is what `\bma` says, and fourteen times faster: the engine skips
# ahead to the literal.)
CLASSICAL = re.compile(rb"ma(?<!\wma)(?:pper|p_imperatively)\(\s*(\w+)\s*,")


# Base.query = db_session.query_property()
QUERY_PROPERTY = re.compile(rb"^(\w+)\.query\s*=\s*(\w+)\.query_property\(", re.M)


# from app.queries import (active_users, recent as latest): the module, the names
FROM_IMPORT = re.compile(rb"from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)")


IMPORTED_NAME = re.compile(rb"(\w+)(?:\s+as\s+(\w+))?")


# db = SQLAlchemy() / Session = orm.scoped_session(...) / Local: T = sessionmaker(
# at module level: objects other modules import and use as they are. The call is
# found first (a literal: fast), then what its line assigns it to.
SHARED_CALL = re.compile(rb"(SQLAlchemy|scoped_session|sessionmaker)\(")


SHARED_TARGET = re.compile(rb"(\w+)[ \t]*(?::[^=\n]+)?=[ \t]*(?:[\w.]+\.)?")


# class User(db.Model): a Flask-SQLAlchemy model, and the name of its `db`
FLASK_MODEL = re.compile(rb"(\w+)\.Model\b")


# `query_class = ...` in a class body: the model's `Model.query` is not a Query
QUERY_CLASS = re.compile(rb"query_class\s*=")
# A method that can make an object false though it exists (`async def` too)
FALSE_MAKER = re.compile(rb"def[ \t]+__(?:bool|len)__\b")
# A method (`def name(self`), of which `query_methods()` keeps those that may
# return a query: the project is searched for their names.
METHOD = re.compile(rb"def[ \t]+(\w+)[ \t]*\([ \t]*self\b")
# A module-level function (`def name(` at a line's start), of which
# `query_functions()` keeps those that may return a query
FUNCTION = re.compile(rb"^def[ \t]+(\w+)[ \t]*\(", re.M)
# A query: `session.query(Model...` (not of a string), `Model.query`
CLASS_QUERY = re.compile(rb"\.query\(\s*[A-Za-z_]|[A-Z]\w*\.query\b")
TOP_LEVEL = re.compile(rb"\n(?=[^\s#])")


# `X.query` read, not called (`session.query(...)`) nor assigned: what a model's
# `query_property()` is used by
QUERY_READ = re.compile(rb"\.query\b(?![ \t]*(?:\(|=(?!=)))")
# `autocommit=`, `autocommit = `, `"autocommit":`: a setting, not a comment's word
AUTOCOMMIT = re.compile(rb"""\bautocommit\s*=(?!=)|["']autocommit["']""")


# Model = Base / Session: Any = scoped: a plain alias at the top level (after a
# newline: a pattern that begins with a literal is ten times faster)
ALIAS = re.compile(rb"\n(\w+)[ \t]*(?::[^=\n]+)?=[ \t]*(\w+)[ \t]*(?=\n|#)")


# What each makes, and the package its module must import for the call to be its
OBJECT_KINDS = {
    b"SQLAlchemy": ("db", b"flask_sqlalchemy"),
    b"scoped_session": ("scoped_session", b"sqlalchemy"),
    b"sessionmaker": ("sessionmaker", b"sqlalchemy"),
}


def _line_start(
    pattern: re.Pattern[bytes], source: bytes, *, indented: bool
) -> Iterator[re.Match[bytes]]:
    """The matches of `pattern` that begin a line (after its indentation, when
    `indented`): not one in a string or after other code."""
    for match in pattern.finditer(source):
        start = match.start()
        before = source[source.rfind(b"\n", 0, start) + 1 : start]
        if not before or (indented and not before.strip(b" \t")):
            yield match


@dataclass(frozen=True)
class ModuleFacts:
    """What the pre-pass reads off one module's bytes: a function of those bytes
    alone, so the cache can keep it."""

    # (local name, "module.name" as written, dots of a relative one included) of
    # every `from module import name [as local]`
    imports: frozenset[tuple[bytes, bytes]] = frozenset()
    # The modules of `from x import *`, as written
    star_imports: frozenset[bytes] = frozenset()
    backrefs: frozenset[bytes] = frozenset()
    paired: frozenset[bytes] = (
        frozenset()
    )  # attributes of declared pairs: `relationship_facts.paired()`
    properties: frozenset[tuple[bytes, bytes]] = frozenset()  # (class, session)
    mapped: frozenset[bytes] = frozenset()  # bases, and classes mapped by one here
    # (class, names of its bases) of every top-level class
    classes: tuple[tuple[bytes, tuple[bytes, ...]], ...] = ()
    # (name, kind) of the objects made at the top level (see SHARED_OBJECT); a
    # `db` made with a `query_class=` is of kind "db+query_class"
    objects: frozenset[tuple[bytes, str]] = frozenset()
    # (class, name of its db) of each class with a `db.Model` base
    flask_models: frozenset[tuple[bytes, bytes]] = frozenset()
    # The top-level classes whose body sets `query_class`
    query_classes: frozenset[bytes] = frozenset()
    # The top-level classes whose body defines `__bool__` or `__len__`
    false_classes: frozenset[bytes] = frozenset()
    # (name, name it is bound to) of each top-level `name = other`
    aliases: frozenset[tuple[bytes, bytes]] = frozenset()
    # (class, the class it leads to, whether a collection) of each relationship
    # of a top-level class loaded by a join
    joined: tuple[tuple[bytes, bytes, bool], ...] = ()
    # One this module loads by a join that cannot be told apart (a `backref()`,
    # outside a class): the project then assumes every class may repeat rows
    joined_eager: bool = False
    # The module may read a `query` attribute (`reads_query()`)
    query_read: bool = False
    # The methods that may return a legacy query (`query_methods()`)
    query_methods: frozenset[bytes] = frozenset()
    # The module-level functions that may (`query_functions()`)
    query_functions: frozenset[bytes] = frozenset()
    # The module names `autocommit` (`sessionmaker(autocommit=True)`,
    # `session_options={"autocommit": True}`): its sessions may be in that mode
    autocommit: bool = False
    # The attributes assigned a relationship with `lazy="dynamic"`
    # (`dynamic_relationships()`)
    dynamic: frozenset[bytes] = frozenset()

    @property
    def imported(self) -> frozenset[bytes]:
        """The names of `from x import name`: what other modules can call."""
        return frozenset(qualified.rsplit(b".", 1)[-1] for _, qualified in self.imports)


@dataclass(frozen=True)
class ModuleClasses:
    """The top-level classes a module defines and whether it declares a backref:
    what the runs that write a backref out at both ends look for in the modules
    they do not check. Kept with the cached index, so that a warm run needs no
    module's facts."""

    path: str  # absolute
    classes: tuple[str, ...]
    backrefs: bool


def module_classes(
    modules: Iterable[tuple[Path, ModuleFacts]],
) -> tuple[ModuleClasses, ...]:
    """Those of the modules that define a class or declare a backref."""
    return tuple(
        ModuleClasses(
            str(path),
            tuple(name_text(c) for c, _ in facts.classes),
            bool(facts.backrefs),
        )
        for path, facts in modules
        if facts.classes or facts.backrefs
    )


def _in_classes(
    pattern: re.Pattern[bytes],
    source: bytes,
    starts: list[tuple[int, bytes]],
    *,
    after_async: bool = False,
) -> set[bytes]:
    """The top-level classes (begun at `starts`) with an indented line that
    `pattern` matches (`after_async`: or matches after `async `): in the last
    class begun above it (or a function after it)."""
    found: set[bytes] = set()
    begins = [start for start, _ in starts]  # in source order
    if begins:
        for match in pattern.finditer(source):
            start = match.start()
            above = bisect.bisect_left(begins, start)
            if above and _indented(source, start, after_async):
                found.add(starts[above - 1][1])
    return found


def _indented(source: bytes, start: int, after_async: bool) -> bool:
    """Whether only an indentation stands before `start` on its line (the
    `^[ \\t]+` of a pattern, checked behind a literal), or with `after_async`,
    an indentation and `async` and blanks."""
    before = source[source.rfind(b"\n", 0, start) + 1 : start]
    words = before.lstrip(b" \t")
    if len(words) == len(before):  # not indented
        return False
    return words == b"" or (
        after_async and words != b"async" and words.rstrip(b" \t") == b"async"
    )


def module_facts(source: bytes) -> ModuleFacts:
    imports: set[tuple[bytes, bytes]] = set()
    stars: set[bytes] = set()
    if b"import" in source:
        for found in _line_start(FROM_IMPORT, source, indented=True):
            module, names = found.groups()
            joint = module if module.endswith(b".") else module + b"."
            names = b"\n".join(line.split(b"#", 1)[0] for line in names.split(b"\n"))
            for name, local in IMPORTED_NAME.findall(names):
                if name != b"as":
                    imports.add((local or name, joint + name))
            if names.strip() == b"*":
                stars.add(module)
    # Whole-module scans for words most modules lack: each is done once.
    library, backref = b"sqlalchemy" in source, b"backref" in source
    mapped: set[bytes] = set()
    if b"_base(" in source:  # a base made in a module without classes, too
        mapped.update(BASE_FUNCTION.findall(source))
    if library:
        mapped.update(CLASSICAL.findall(source))
    if b"as_declarative" in source:
        mapped.update(AS_DECLARATIVE.findall(source))
    classes = []
    flask_models: set[tuple[bytes, bytes]] = set()
    starts: list[tuple[int, bytes]] = []  # where each top-level class begins
    if b"class " in source:
        for found in _line_start(CLASS, source, indented=False):
            cls, bases = found.group(1), found.group(2) or b""
            names = tuple(
                b.strip().rsplit(b".", 1)[-1] for b in bases.split(b",") if b.strip()
            )
            if DECLARATIVE_CLASSES.intersection(names):
                mapped.add(cls)
            elif b"Model" in names and b".Model" in bases:
                mapped.add(cls)  # Flask-SQLAlchemy's db.Model
                flask_models.update((cls, db) for db in FLASK_MODEL.findall(bases))
            classes.append((cls, names))
            starts.append((found.start(), cls))
    query_classes = (
        _in_classes(QUERY_CLASS, source, starts) if b"query_class" in source else set()
    )
    false_classes = (
        _in_classes(FALSE_MAKER, source, starts, after_async=True)
        if b"__bool__" in source or b"__len__" in source
        else set()
    )
    by_join, unknown = joined(source, starts) if b"lazy" in source else ((), False)
    return ModuleFacts(
        imports=frozenset(imports),
        star_imports=frozenset(stars),
        backrefs=frozenset(BACKREF.findall(source) if backref else ()),
        paired=paired(source, backref),
        properties=frozenset(
            QUERY_PROPERTY.findall(source) if b".query_property(" in source else ()
        ),
        mapped=frozenset(mapped),
        classes=tuple(classes),
        # Made by a call the module imports from a package named *sqlalchemy
        objects=_objects(source) if library else frozenset(),
        flask_models=frozenset(flask_models),
        query_classes=frozenset(query_classes),
        false_classes=frozenset(false_classes),
        aliases=frozenset(
            (name, value)
            for name, value in ALIAS.findall(source)
            if name != value and value not in (b"None", b"True", b"False")
        ),
        joined=by_join,
        joined_eager=unknown,
        query_read=reads_query(source),
        query_methods=query_methods(source),
        query_functions=query_functions(source),
        autocommit=names_autocommit(source),
        dynamic=dynamic_relationships(source),
    )


def query_methods(source: bytes) -> frozenset[bytes]:
    """The methods whose text, up to the next `def`, holds a `return` and a
    query (`session.query(Model)`, `Model.query`): the methods a rule may
    convert with their callers are among them."""
    if b".query" not in source or b"self" not in source:
        return frozenset()
    found: set[bytes] = set()
    matches = [m for m in METHOD.finditer(source) if _indented(source, m.start(), True)]
    for n, match in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(source)
        top = TOP_LEVEL.search(source, match.end(), end)  # the class ends
        body = source[match.end() : top.start() if top else end]
        if b"return" in body and CLASS_QUERY.search(body):
            found.add(match.group(1))
    return frozenset(found)


def query_functions(source: bytes) -> frozenset[bytes]:
    """The module-level functions whose text, up to the next line at the top
    level, holds a `return` and a query: the query helpers that other modules
    may import and finish are among them."""
    if b".query" not in source or b"def" not in source:
        return frozenset()
    found: set[bytes] = set()
    for match in FUNCTION.finditer(source):
        top = TOP_LEVEL.search(source, match.end())  # the function ends
        body = source[match.end() : top.start() if top else len(source)]
        if b"return" in body and CLASS_QUERY.search(body):
            found.add(match.group(1))
    return frozenset(found)


def names_autocommit(source: bytes) -> bool:
    """Whether the module sets `autocommit` (`sessionmaker(autocommit=True)`,
    `session_options={"autocommit": True}`, `session.autocommit = True`), not
    only says it in a comment."""
    return b"autocommit" in source and AUTOCOMMIT.search(source) is not None


def reads_query(source: bytes) -> bool:
    """Whether the module may read a `query` attribute: `X.query` other than a
    call or an assignment, or the string "query" (`getattr(model, "query")`)."""
    if b"query" not in source:  # most modules: one scan
        return False
    if b"'query'" in source or b'"query"' in source:
        return True
    return QUERY_READ.search(source) is not None


def _objects(source: bytes) -> frozenset[tuple[bytes, str]]:
    """The shared objects made at the module's top level, by a call of the name
    the module imports from the library (a name made twice, as two kinds, is
    neither)."""
    if not any(kind + b"(" in source for kind in OBJECT_KINDS):
        return frozenset()
    found: dict[bytes, set[str]] = {}
    for match in SHARED_CALL.finditer(source):
        line = source.rfind(b"\n", 0, match.start()) + 1
        target = SHARED_TARGET.fullmatch(source, line, match.start())
        if target is None:  # not `name = [module.]call(` from column 0
            continue
        name, call = target.group(1), match.group(1)
        kind, package = OBJECT_KINDS[call]
        if package not in source:
            continue
        if kind == "db" and b"query_class" in _statement(source, match.end()):
            kind = "db+query_class"
        found.setdefault(name, set()).add(kind)
    return frozenset(
        (name, kinds.pop()) for name, kinds in found.items() if len(kinds) == 1
    )


# A newline before a line that begins at column 0 (not a closing bracket)
TOP_LEVEL_LINE = re.compile(rb"\n(?=[^\s)#])")


def _statement(source: bytes, start: int) -> bytes:
    """The rest of the top-level statement going on at `start`: up to the next
    line that begins at column 0."""
    end = TOP_LEVEL_LINE.search(source, start)
    return source[start : end.start() if end else len(source)]


def name_text(name: bytes) -> str:
    return name.decode("ascii", "replace")
