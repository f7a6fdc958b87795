"""A cheap, parse-free pre-pass over the project: which classes are mapped, which
attributes backrefs make, and which names its modules import from each other.

`session.query(User)` in `views.py` is only recognisably SQLAlchemy if we know that
`User`, imported from `models.py`, is a mapped class. Parsing every file twice would
double the cost of a run, so this pass reads class headers with regular expressions
and resolves bases by name across the project until nothing changes.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from orm_modernize.analysis.pins import Pin
from orm_modernize.data.records import ForeignBackref, QueryHelper

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
QUERY_CLASS = re.compile(rb"^[ \t]+query_class\s*=", re.M)
# Model = Base / Session: Any = scoped: a plain alias at the top level (after a
# newline: a pattern that begins with a literal is ten times faster)
ALIAS = re.compile(rb"\n(\w+)[ \t]*(?::[^=\n]+)?=[ \t]*(\w+)[ \t]*(?=\n|#)")
# The packages whose names a project module may re-export for its others
LIBRARIES = ("sqlalchemy.", "flask_sqlalchemy.")
# What each makes, and the package its module must import for the call to be its
OBJECT_KINDS = {
    b"SQLAlchemy": ("db", b"flask_sqlalchemy"),
    b"scoped_session": ("scoped_session", b"sqlalchemy"),
    b"sessionmaker": ("sessionmaker", b"sqlalchemy"),
}
WORD = re.compile(rb"\w+")
# relationship(..., backref="user") / backref=backref("user", ...)
BACKREF = re.compile(
    rb"""backref(?<!\wbackref)\s*=\s*(?:[\w.]*backref\(\s*)?["'](\w+)["']"""
)
# relationship(..., back_populates="user"): each side of a pair names the other,
# so these names are every attribute of the pairs (a backref that ORM406 wrote
# out is as two-way as it was, though no backref makes it)
BACK_POPULATES = re.compile(
    rb"""back_populates(?<!\wback_populates)\s*=\s*["'](\w+)["']"""
)


@dataclass(frozen=True)
class ProjectIndex:
    """What the modules of the project being checked tell about each other: mapped
    classes, query properties and helpers, backrefs, imported names, version pins."""

    packages: frozenset[str] = frozenset()  # top-level module names of the project
    mapped: frozenset[str] = frozenset()  # declarative bases and mapped classes
    # Versions of SQLAlchemy and friends each project admits: the pins of every
    # project root of the run (a pin with no root, built by hand, is everyone's)
    pins: tuple[Pin, ...] = ()
    roots: tuple[str, ...] = ()
    # (class, module, session): the class inherits `Base.query =
    # session.query_property()` made in `module`
    query_properties: frozenset[tuple[str, str, str]] = frozenset()
    # Every name some module imports with `from x import name`: a function of this
    # module that another may call
    imported_names: frozenset[str] = frozenset()
    # Attribute names that `backref=` makes on the other class of a relationship
    backrefs: frozenset[str] = frozenset()
    # And those `back_populates=` pairs declare on both classes: with the above,
    # every relationship SQLAlchemy keeps in step with another
    paired: frozenset[str] = frozenset()
    # "pkg.module.name" -> what it is ("db", "scoped_session", "sessionmaker"): the
    # objects modules make at their top level, and every re-export of them through
    # `from x import name` (a package's `__init__.py`, a models module importing db)
    objects: tuple[tuple[str, str, str], ...] = ()  # (name, kind, where it is made)
    # "pkg.module.Model" (and each re-export) -> (where its `db` is made, whether
    # it or its `db` has a `query_class`) of every Flask-SQLAlchemy model
    flask_models: tuple[tuple[str, str, bool], ...] = ()
    # "pkg.module.name" -> the SQLAlchemy name a project module re-exports as it
    # ("app.database.relationship" -> "sqlalchemy.orm.relationship")
    reexports: tuple[tuple[str, str], ...] = ()
    # Query helpers other modules import (found by a first run over the files), and
    # those whose every call in the project converts: both ends are rewritten.
    query_helpers: frozenset[QueryHelper] = frozenset()
    accepted_helpers: frozenset[QueryHelper] = frozenset()
    # Backrefs to a class of another module (found by a first run), and those the
    # module of that class can declare: both modules are rewritten.
    foreign_backrefs: frozenset[ForeignBackref] = frozenset()
    accepted_backrefs: frozenset[ForeignBackref] = frozenset()

    def may_use_sqlalchemy(self, source: bytes) -> bool:
        """Whether a module can hold anything a rule reports: it names SQLAlchemy
        (or Flask-SQLAlchemy), or a mapped class or a shared query helper of the
        project. Every rule needs one of them as evidence, so a module with none is
        not parsed: in a large project that is most of them."""
        if b"sqlalchemy" in source:
            return True
        names = self._project_names
        return bool(names) and not names.isdisjoint(WORD.findall(source))

    @cached_property
    def _project_names(self) -> frozenset[bytes]:
        # A set, not one regex of every name: compiling that took 0.1 s in a
        # project of 1,000 models, and each worker paid it.
        names = self.mapped | {helper.name for helper in self.query_helpers}
        return frozenset(name.encode() for name in names)

    def query_property(self, cls: str) -> tuple[str, str] | None:
        """The (module, session name) of the `query_property()` `cls` inherits, if
        one module made it."""
        found = {(m, s) for c, m, s in self.query_properties if c == cls}
        return found.pop() if len(found) == 1 else None

    def pins_for(self, path: Path | None) -> tuple[Pin, ...]:
        """The pins of the project that owns `path`: its root is the deepest root
        of the run above it."""
        where = os.path.abspath(path) if path is not None else ""
        root = max(
            (r for r in self.roots if where == r or where.startswith(r + os.sep)),
            key=len,
            default="",
        )
        return tuple(p for p in self.pins if p.root in ("", root))

    @cached_property
    def _objects(self) -> dict[str, tuple[str, str]]:
        return {name: (kind, origin) for name, kind, origin in self.objects}

    def object(self, qualified: str) -> str | None:
        """What the project's `qualified` name is ("db", "scoped_session",
        "sessionmaker"), if a module makes one by that name or re-exports it."""
        found = self._objects.get(qualified)
        return found[0].partition("+")[0] if found else None

    def origin(self, qualified: str) -> str | None:
        """Where the object `qualified` names is made: "app.extensions.db" for the
        "app.db" that `app/__init__.py` re-exports."""
        found = self._objects.get(qualified)
        return found[1] if found else None

    @cached_property
    def _reexports(self) -> dict[str, str]:
        return dict(self.reexports)

    def reexport(self, qualified: str) -> str | None:
        """The library name a project module's `qualified` re-exports, if any."""
        return self._reexports.get(qualified)

    @cached_property
    def _flask_models(self) -> dict[str, tuple[str, bool]]:
        return {name: (db, custom) for name, db, custom in self.flask_models}

    def flask_model(self, qualified: str) -> tuple[str, bool] | None:
        """(where its `db` is made, whether its `Model.query` has a custom
        `query_class`) of the Flask-SQLAlchemy model `qualified` names."""
        return self._flask_models.get(qualified)

    def knows(self, module: str, name: str, relative: bool) -> bool:
        local = relative or module.split(".", 1)[0] in self.packages
        return local and name in self.mapped


def module_name(path: Path, known: dict[str, str] | None = None) -> str:
    """Dotted module name of `path`, walking up through `__init__.py` packages;
    `known` remembers the packages of directories over many calls."""
    known = {} if known is None else known
    parent = str(path.parent)
    if parent not in known:  # resolved once per directory: symlinks lead elsewhere
        known[parent] = _package(os.path.realpath(parent), known)
    package = known[parent]
    if path.stem == "__init__":
        return package
    return f"{package}.{path.stem}" if package else path.stem


def _package(directory: str, known: dict[str, str]) -> str:
    """The dotted package a resolved directory is ("": none)."""
    if directory not in known:
        package = ""
        if os.path.isfile(os.path.join(directory, "__init__.py")):
            parent, name = os.path.split(directory)
            outer = _package(parent, known) if parent != directory else ""
            package = f"{outer}.{name}" if outer else name
        known[directory] = package
    return known[directory]


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
    backrefs: frozenset[bytes] = frozenset()
    paired: frozenset[bytes] = frozenset()  # back_populates= names
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
    # (name, name it is bound to) of each top-level `name = other`
    aliases: frozenset[tuple[bytes, bytes]] = frozenset()

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
            str(path), tuple(_text(c) for c, _ in facts.classes), bool(facts.backrefs)
        )
        for path, facts in modules
        if facts.classes or facts.backrefs
    )


def module_facts(source: bytes) -> ModuleFacts:
    imports: set[tuple[bytes, bytes]] = set()
    if b"import" in source:
        for found in _line_start(FROM_IMPORT, source, indented=True):
            module, names = found.groups()
            joint = module if module.endswith(b".") else module + b"."
            names = b"\n".join(line.split(b"#", 1)[0] for line in names.split(b"\n"))
            for name, local in IMPORTED_NAME.findall(names):
                if name != b"as":
                    imports.add((local or name, joint + name))
    mapped: set[bytes] = set()
    if b"_base(" in source:  # a base made in a module without classes, too
        mapped.update(BASE_FUNCTION.findall(source))
    if b"sqlalchemy" in source:
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
    query_classes = set()
    if starts and b"query_class" in source:
        begins = [start for start, _ in starts]  # in source order
        for found in QUERY_CLASS.finditer(source):
            # In the last class begun above it (or a function after that class).
            above = bisect.bisect_left(begins, found.start())
            if above:
                query_classes.add(starts[above - 1][1])
    return ModuleFacts(
        imports=frozenset(imports),
        backrefs=frozenset(BACKREF.findall(source) if b"backref" in source else ()),
        paired=frozenset(
            BACK_POPULATES.findall(source) if b"back_populates" in source else ()
        ),
        properties=frozenset(
            QUERY_PROPERTY.findall(source) if b".query_property(" in source else ()
        ),
        mapped=frozenset(mapped),
        classes=tuple(classes),
        objects=_objects(source),
        flask_models=frozenset(flask_models),
        query_classes=frozenset(query_classes),
        aliases=frozenset(
            (name, value)
            for name, value in ALIAS.findall(source)
            if name != value and value not in (b"None", b"True", b"False")
        ),
    )


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


def build_index(
    files: Iterable[tuple[Path, bytes]], pins: tuple[Pin, ...] = ()
) -> ProjectIndex:
    """The index of the project made of `files`; `pins` are its version pins, read
    by `pins.read_pins()`."""
    return index_of(((path, module_facts(source)) for path, source in files), pins)


def index_of(
    modules: Iterable[tuple[Path, ModuleFacts]],
    pins: tuple[Pin, ...] = (),
    roots: tuple[str, ...] = (),
) -> ProjectIndex:
    """Merge the modules' facts: a class is mapped when one of its bases is, in
    any module, and inherits its bases' `query` properties."""
    mapped: set[bytes] = set()
    classes: list[tuple[bytes, tuple[bytes, ...]]] = []
    packages: set[str] = set()
    properties: dict[bytes, set[tuple[str, bytes]]] = {}  # class -> (module, session)
    imported: set[bytes] = set()
    backrefs: set[bytes] = set()
    paired: set[bytes] = set()
    directories: dict[str, str] = {}
    objects: dict[str, str] = {}
    models: dict[str, tuple[str, bool]] = {}  # Flask model -> (its db, query_class)
    # class name -> (module, its bases' names, sets query_class) of each so named
    named: dict[bytes, list[tuple[str, tuple[bytes, ...], bool]]] = {}
    renamed: list[tuple[bytes, bytes]] = []  # `Model = Base`, by bare names
    # "module.local" -> "module.name" it imports, relative imports made absolute
    aliases: dict[str, str] = {}
    for path, facts in modules:
        name = module_name(path, directories)
        if name:
            packages.add(name.split(".", 1)[0])
        imported |= facts.imported
        for local, kind in facts.objects:
            objects[f"{name}.{_text(local)}"] = kind
        for cls, db in facts.flask_models:
            models[f"{name}.{_text(cls)}"] = (
                f"{name}.{_text(db)}",
                cls in facts.query_classes,
            )
        for cls, bases in facts.classes:
            named.setdefault(cls, []).append((name, bases, cls in facts.query_classes))
        package = name if path.stem == "__init__" else name.rpartition(".")[0]
        for local, qualified in facts.imports:
            source = absolute(_text(qualified), package)
            if source is not None:
                aliases[f"{name}.{_text(local)}"] = source
        for local, value in facts.aliases:
            aliases[f"{name}.{_text(local)}"] = f"{name}.{_text(value)}"
            renamed.append((local, value))
        backrefs |= facts.backrefs
        paired |= facts.paired
        mapped |= facts.mapped
        classes.extend(facts.classes)
        for cls, session in facts.properties:
            properties.setdefault(cls, set()).add((name, session))
    _close_mapped(mapped, classes, renamed)
    _inherit_properties(properties, classes)
    origins = {name: (kind, name) for name, kind in objects.items()}
    for alias in aliases:  # each chain of re-exports followed to its end
        source = _followed(alias, aliases, objects)
        if source in objects:
            origins[alias] = (objects[source], source)
    flask_models = _flask_models(models, named, aliases, origins)
    reexports = _library_reexports(aliases, packages)
    return ProjectIndex(
        packages=frozenset(packages),
        mapped=frozenset(_text(n) for n in mapped),
        pins=pins,
        roots=roots,
        query_properties=frozenset(
            (_text(cls), module, _text(session))
            for cls, found in properties.items()
            for module, session in found
        ),
        imported_names=frozenset(_text(n) for n in imported),
        backrefs=frozenset(_text(n) for n in backrefs),
        paired=frozenset(_text(n) for n in paired),
        objects=tuple(sorted((n, kind, at) for n, (kind, at) in origins.items())),
        flask_models=tuple(sorted((n, db, q) for n, (db, q) in flask_models.items())),
        reexports=tuple(sorted(reexports.items())),
    )


def _close_mapped(
    mapped: set[bytes],
    classes: list[tuple[bytes, tuple[bytes, ...]]],
    renamed: list[tuple[bytes, bytes]],
) -> None:
    """Add to `mapped` the subclasses and aliases of mapped classes, in any
    module (by bare names)."""
    changed = True
    while changed:
        changed = False
        for cls, names in classes:
            if cls not in mapped and mapped.intersection(names):
                mapped.add(cls)
                changed = True
        for renamed_as, value in renamed:
            if renamed_as not in mapped and value in mapped:
                mapped.add(renamed_as)
                changed = True


def _inherit_properties(
    properties: dict[bytes, set[tuple[str, bytes]]],
    classes: list[tuple[bytes, tuple[bytes, ...]]],
) -> None:
    """Give each class the `query` properties of its bases."""
    changed = bool(properties)
    while changed:
        changed = False
        for cls, names in classes:
            for base in names:
                new = properties.get(base, set()) - properties.get(cls, set())
                if new:
                    properties.setdefault(cls, set()).update(new)
                    changed = True


def _library_reexports(aliases: dict[str, str], packages: set[str]) -> dict[str, str]:
    """The project names that re-export a SQLAlchemy (or Flask-SQLAlchemy) name:
    each name imported from a module that imports it in turn, followed to where
    the chain ends."""
    found: dict[str, str] = {}
    for middle in set(aliases.values()) & aliases.keys():
        end = _followed(middle, aliases, ())
        if end.startswith(LIBRARIES) and end.split(".", 1)[0] not in packages:
            found[middle] = end
    return found


def _followed(name: str, aliases: dict[str, str], ends: Collection[str]) -> str:
    """Where the imports `name` goes through end: at one of `ends`, or where the
    project no longer says (a cycle of imports ends where it closes)."""
    seen = {name}
    while name not in ends and name in aliases and aliases[name] not in seen:
        name = aliases[name]
        seen.add(name)
    return name


def _flask_models(
    models: dict[str, tuple[str, bool]],
    named: dict[bytes, list[tuple[str, tuple[bytes, ...], bool]]],
    aliases: dict[str, str],
    objects: dict[str, tuple[str, str]],
) -> dict[str, tuple[str, bool]]:
    """Each Flask-SQLAlchemy model by every name it is imported as: where its
    `db` is made, and whether its `query` has a custom class. Subclasses of
    models (by name, as `mapped`) are models of the same `db`."""
    found: dict[str, tuple[str, bool]] = {}
    for model, (db, custom) in models.items():
        kind, origin = objects.get(_followed(db, aliases, objects), ("", ""))
        if kind.startswith("db"):
            found[model] = (origin, custom or kind == "db+query_class")
    by_name = {name.rpartition(".")[2].encode(): name for name in found}
    changed = True
    while changed:  # `class Admin(User)` in any module
        changed = False
        for cls, places in named.items():
            for module, bases, custom in places:
                name = f"{module}.{_text(cls)}"
                inherited = {found[by_name[b]] for b in bases if b in by_name}
                if name in found or len(inherited) != 1:
                    continue
                db, base_custom = inherited.pop()
                found[name] = (db, base_custom or custom)
                by_name.setdefault(cls, name)
                changed = True
    for alias in aliases:
        source = _followed(alias, aliases, found)
        if source in found and alias not in found:
            found[alias] = found[source]
    return found


def absolute(qualified: str, package: str) -> str | None:
    """`..models.User` imported in package `app.views` is `app.models.User`; None
    when the dots climb above the top package."""
    dots = len(qualified) - len(qualified.lstrip("."))
    if not dots:
        return qualified
    parts = package.split(".") if package else []
    if dots - 1 >= len(parts):
        return None
    return ".".join([*parts[: len(parts) - (dots - 1)], qualified[dots:]])


def _text(name: bytes) -> str:
    return name.decode("ascii", "replace")
