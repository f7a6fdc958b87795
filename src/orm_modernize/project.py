"""A cheap, parse-free pre-pass over the project: which classes are mapped, which
attributes backrefs make, and which names its modules import from each other.

`session.query(User)` in `views.py` is only recognisably SQLAlchemy if we know that
`User`, imported from `models.py`, is a mapped class. Parsing every file twice would
double the cost of a run, so this pass reads class headers with regular expressions
and resolves bases by name across the project until nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from orm_modernize.pins import Pin
from orm_modernize.semantic import ProjectIndex

# Base = declarative_base(...) / sa_orm.declarative_base(...) / automap_base(...)
BASE_FUNCTION = re.compile(
    rb"^(\w+)\s*(?::[^=\n]+)?=\s*(?:[\w.]+\.)?(?:declarative_base|automap_base)\(", re.M
)
# class Name(Base1, mod.Base2): (bases may span lines)
CLASS = re.compile(rb"^class\s+(\w+)\s*\(([^)]*)\)\s*:", re.M)
AS_DECLARATIVE = re.compile(
    rb"^@(?:[\w.]+\.)?as_declarative\b[^\n]*\nclass\s+(\w+)", re.M
)
DECLARATIVE_CLASSES = {b"DeclarativeBase", b"DeclarativeBaseNoMeta"}
# mapper(User, users_table, ...) / registry.map_imperatively(User, ...): classical
CLASSICAL = re.compile(rb"\b(?:mapper|map_imperatively)\(\s*(\w+)\s*,")
# Base.query = db_session.query_property()
QUERY_PROPERTY = re.compile(rb"^(\w+)\.query\s*=\s*(\w+)\.query_property\(", re.M)
# from app.queries import (active_users, recent as latest): the names it imports
FROM_IMPORT = re.compile(
    rb"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M
)
IMPORTED_NAME = re.compile(rb"(\w+)(?:\s+as\s+\w+)?")
# relationship(..., backref="user") / backref=backref("user", ...)
BACKREF = re.compile(rb"""\bbackref\s*=\s*(?:[\w.]*backref\(\s*)?["'](\w+)["']""")


def module_name(path: Path) -> str:
    """Dotted module name of `path`, walking up through `__init__.py` packages."""
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    parent = path.parent
    while (parent / "__init__.py").is_file():
        parts.insert(0, parent.name)
        parent = parent.parent
    return ".".join(parts)


def build_index(
    files: Iterable[tuple[Path, bytes]], pins: tuple[Pin, ...] = ()
) -> ProjectIndex:
    """Names of declarative bases and mapped classes, and the project's packages;
    `pins` are the project's version pins, read by `pins.read_pins()`."""
    mapped: set[bytes] = set()
    classes: list[tuple[bytes, list[bytes]]] = []  # not yet known to be mapped
    inherited: list[tuple[bytes, list[bytes]]] = []  # every class and its bases
    packages: set[str] = set()
    properties: dict[bytes, set[tuple[str, bytes]]] = {}  # class -> (module, session)
    imported: set[bytes] = set()
    backrefs: set[bytes] = set()
    for path, source in files:
        name = module_name(path)
        if name:
            packages.add(name.split(".", 1)[0])
        for names in FROM_IMPORT.findall(source):
            imported.update(IMPORTED_NAME.findall(names))
        if b"backref" in source:
            backrefs.update(BACKREF.findall(source))
        if b".query_property(" in source:
            for cls, session in QUERY_PROPERTY.findall(source):
                properties.setdefault(cls, set()).add((name, session))
        if b"_base(" in source:  # a base made in a module without classes, too
            mapped.update(BASE_FUNCTION.findall(source))
        if b"sqlalchemy" in source:
            mapped.update(CLASSICAL.findall(source))
        if b"class " not in source:
            continue
        mapped.update(AS_DECLARATIVE.findall(source))
        for cls, bases in CLASS.findall(source):
            names = [
                b.strip().rsplit(b".", 1)[-1] for b in bases.split(b",") if b.strip()
            ]
            if DECLARATIVE_CLASSES.intersection(names):
                mapped.add(cls)
            elif b"Model" in names and b".Model" in bases:
                mapped.add(cls)  # Flask-SQLAlchemy's db.Model
            else:
                classes.append((cls, names))
            inherited.append((cls, names))
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
        for cls, names in inherited:
            for base in names:
                new = properties.get(base, set()) - properties.get(cls, set())
                if new:
                    properties.setdefault(cls, set()).update(new)
                    changed = True
    return ProjectIndex(
        packages=frozenset(packages),
        mapped=frozenset(_text(n) for n in mapped),
        pins=pins,
        query_properties=frozenset(
            (_text(cls), module, _text(session))
            for cls, found in properties.items()
            for module, session in found
        ),
        imported_names=frozenset(_text(n) for n in imported),
        backrefs=frozenset(_text(n) for n in backrefs),
    )


def _text(name: bytes) -> str:
    return name.decode("ascii", "replace")
