"""A cheap, parse-free pre-pass over the project: which classes are mapped, which
attributes backrefs make, and which names its modules import from each other.

`session.query(User)` in `views.py` is only recognisably SQLAlchemy if we know that
`User`, imported from `models.py`, is a mapped class. Parsing every file twice would
double the cost of a run, so this pass reads class headers with regular expressions
and resolves bases by name across the project until nothing changes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from orm_modernize.datatypes import ForeignBackref, QueryHelper
from orm_modernize.pins import Pin

# Base = declarative_base(...) / sa_orm.declarative_base(...) / automap_base(...)
BASE_FUNCTION = re.compile(
    rb"^(\w+)\s*(?::[^=\n]+)?=\s*(?:[\w.]+\.)?(?:declarative_base|automap_base)\(", re.M
)
# The patterns matched at the start of a line begin with a literal instead of `^`,
# which lets the regex engine skip ahead to it (ten times faster over the stdlib);
# `_line_start()` then keeps the matches that begin a line.
# class Name(Base1, mod.Base2): (bases may span lines)
CLASS = re.compile(rb"class\s+(\w+)\s*\(([^)]*)\)\s*:")
AS_DECLARATIVE = re.compile(
    rb"^@(?:[\w.]+\.)?as_declarative\b[^\n]*\nclass\s+(\w+)", re.M
)
DECLARATIVE_CLASSES = {b"DeclarativeBase", b"DeclarativeBaseNoMeta"}
# mapper(User, users_table, ...) / registry.map_imperatively(User, ...): classical
CLASSICAL = re.compile(rb"\b(?:mapper|map_imperatively)\(\s*(\w+)\s*,")
# Base.query = db_session.query_property()
QUERY_PROPERTY = re.compile(rb"^(\w+)\.query\s*=\s*(\w+)\.query_property\(", re.M)
# from app.queries import (active_users, recent as latest): the names it imports
FROM_IMPORT = re.compile(rb"from[ \t]+[\w.]+[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)")
IMPORTED_NAME = re.compile(rb"(\w+)(?:\s+as\s+\w+)?")
# relationship(..., backref="user") / backref=backref("user", ...)
BACKREF = re.compile(rb"""\bbackref\s*=\s*(?:[\w.]*backref\(\s*)?["'](\w+)["']""")
# relationship(..., back_populates="user"): each side of a pair names the other,
# so these names are every attribute of the pairs (a backref that ORM406 wrote
# out is as two-way as it was, though no backref makes it)
BACK_POPULATES = re.compile(rb"""\bback_populates\s*=\s*["'](\w+)["']""")


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
        return names is not None and names.search(source) is not None

    @cached_property
    def _project_names(self) -> re.Pattern[bytes] | None:
        names = self.mapped | {helper.name for helper in self.query_helpers}
        if not names:
            return None
        spelled = b"|".join(re.escape(name.encode()) for name in sorted(names))
        return re.compile(rb"\b(?:" + spelled + rb")\b")

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

    imported: frozenset[bytes] = frozenset()  # names of `from x import name`
    backrefs: frozenset[bytes] = frozenset()
    paired: frozenset[bytes] = frozenset()  # back_populates= names
    properties: frozenset[tuple[bytes, bytes]] = frozenset()  # (class, session)
    mapped: frozenset[bytes] = frozenset()  # bases, and classes mapped by one here
    # (class, names of its bases) of every top-level class
    classes: tuple[tuple[bytes, tuple[bytes, ...]], ...] = ()


def module_facts(source: bytes) -> ModuleFacts:
    imported: set[bytes] = set()
    if b"import" in source:
        for found in _line_start(FROM_IMPORT, source, indented=True):
            imported.update(IMPORTED_NAME.findall(found.group(1)))
    mapped: set[bytes] = set()
    if b"_base(" in source:  # a base made in a module without classes, too
        mapped.update(BASE_FUNCTION.findall(source))
    if b"sqlalchemy" in source:
        mapped.update(CLASSICAL.findall(source))
    if b"as_declarative" in source:
        mapped.update(AS_DECLARATIVE.findall(source))
    classes = []
    if b"class " in source:
        for found in _line_start(CLASS, source, indented=False):
            cls, bases = found.groups()
            names = tuple(
                b.strip().rsplit(b".", 1)[-1] for b in bases.split(b",") if b.strip()
            )
            if DECLARATIVE_CLASSES.intersection(names):
                mapped.add(cls)
            elif b"Model" in names and b".Model" in bases:
                mapped.add(cls)  # Flask-SQLAlchemy's db.Model
            classes.append((cls, names))
    return ModuleFacts(
        imported=frozenset(imported),
        backrefs=frozenset(BACKREF.findall(source) if b"backref" in source else ()),
        paired=frozenset(
            BACK_POPULATES.findall(source) if b"back_populates" in source else ()
        ),
        properties=frozenset(
            QUERY_PROPERTY.findall(source) if b".query_property(" in source else ()
        ),
        mapped=frozenset(mapped),
        classes=tuple(classes),
    )


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
    for path, facts in modules:
        name = module_name(path, directories)
        if name:
            packages.add(name.split(".", 1)[0])
        imported |= facts.imported
        backrefs |= facts.backrefs
        paired |= facts.paired
        mapped |= facts.mapped
        classes.extend(facts.classes)
        for cls, session in facts.properties:
            properties.setdefault(cls, set()).add((name, session))
    changed = True
    while changed:  # a mapped class's subclasses are mapped too, across files
        changed = False
        for cls, names in classes:
            if cls not in mapped and mapped.intersection(names):
                mapped.add(cls)
                changed = True
    changed = bool(properties)
    while changed:  # and they inherit their bases' `query` property
        changed = False
        for cls, names in classes:
            for base in names:
                new = properties.get(base, set()) - properties.get(cls, set())
                if new:
                    properties.setdefault(cls, set()).update(new)
                    changed = True
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
    )


def _text(name: bytes) -> str:
    return name.decode("ascii", "replace")
