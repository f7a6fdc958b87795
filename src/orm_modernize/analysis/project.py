"""The project index: what the modules of a project tell about each other, merged
from their facts (`module_facts.py`): which classes are mapped, which attributes
backrefs make, which objects (a `db`, a session factory) each name is, and which
names the modules import from each other.

`session.query(User)` in `views.py` is only recognisably SQLAlchemy if we know that
`User`, imported from `models.py`, is a mapped class. Parsing every file twice would
double the cost of a run, so the facts are read with regular expressions and the
index resolves bases by name across the project until nothing changes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from orm_modernize.analysis.line_length import DEFAULT as DEFAULT_LENGTH
from orm_modernize.analysis.mentions import (
    declared_once,
    methods_named_elsewhere,
    named_in,
)
from orm_modernize.analysis.module_facts import ModuleFacts, module_facts, name_text
from orm_modernize.analysis.module_names import module_name
from orm_modernize.analysis.pins import Pin
from orm_modernize.analysis.project_imports import (
    followed,
    library_reexports,
    note_imports,
    query_functions_imported,
)
from orm_modernize.data.records import ForeignBackref, QueryHelper, WriteOnly

WORD = re.compile(rb"\w+")


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
    # (root, the line length its formatter's configuration sets) of each project
    line_lengths: tuple[tuple[str, int], ...] = ()
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
    # Mapped classes whose objects are never false (no `__bool__` or `__len__` in
    # them or any base): `x or abort(404)` aborts on None only (by bare names)
    always_true: frozenset[str] = frozenset()
    # The classes some class of the project names as a base (bare names): a
    # subclass may override their methods
    subclassed: frozenset[str] = frozenset()
    # Query helpers other modules import (found by a first run over the files), and
    # those whose every call in the project converts: both ends are rewritten.
    query_helpers: frozenset[QueryHelper] = frozenset()
    accepted_helpers: frozenset[QueryHelper] = frozenset()
    # Those refused for a reason their findings give (a module that calls one is
    # not in a run that fixes): (helper, why)
    refused_helpers: tuple[tuple[QueryHelper, str], ...] = ()
    # Backrefs to a class of another module (found by a first run), and those the
    # module of that class can declare: both modules are rewritten.
    foreign_backrefs: frozenset[ForeignBackref] = frozenset()
    accepted_backrefs: frozenset[ForeignBackref] = frozenset()
    # The classes whose rows a join may repeat when they are loaded: each with a
    # collection loaded by a join (`lazy="joined"`), what loads one of those by a
    # join, and their subclasses and bases
    joined_collections: frozenset[str] = frozenset()
    # Some such relationship cannot be told apart: any class may repeat rows
    joined_eager: bool = False
    # The modules (absolute paths) that may read a `query` attribute
    # (`Model.query`): while there is one, a `query_property()` may be used
    query_readers: frozenset[str] = frozenset()
    # (name, the modules (absolute paths) that name it) of each method that may
    # return a query and each dynamic relationship (`mentions.named_in()`): one
    # that no other module names is used in its own module only
    mentions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # (name, the module (absolute path) declaring it) of each dynamic relationship
    # that one module of the project declares: made write-only with its uses in
    # the modules that name it, all or none (`two_ended.with_write_only_uses()`)
    dynamic: tuple[tuple[str, str], ...] = ()
    # ("module.function", its module's path, the modules importing it by name,
    # those importing its module, whether a module importing it re-exports it)
    # of each module-level function that may return a query and that another
    # module imports: where a query helper's calls may be
    # (`two_ended.with_shared_helpers()`)
    query_functions: tuple[
        tuple[str, str, tuple[str, ...], tuple[str, ...], bool], ...
    ] = ()
    # (name, the modules (absolute paths) defining one) of each method that may
    # return a query and that some other module names: the runner reads such a
    # module when the run does not check it (`two_ended.with_shared_helpers()`)
    query_methods: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Those of them whose modules are asked (a probing run) whether they can take
    # their part, and what the last run does with each (see `WriteOnly`)
    dynamic_probed: frozenset[str] = frozenset()
    write_only: tuple[WriteOnly, ...] = ()
    # The modules (absolute paths) that name `autocommit`: while there is one, a
    # session of the project may be in 1.x's autocommit mode
    autocommit_modules: frozenset[str] = frozenset()

    def mentioning(self, name: str) -> tuple[str, ...] | None:
        """The modules that name the method or attribute `name`; None if it was
        not looked for (the facts took it for neither)."""
        return next((paths for n, paths in self.mentions if n == name), None)

    def naming_besides(self, name: str, here: str | Path | None) -> list[str]:
        """`mentioning(name)` but `here`; none when it was not looked for."""
        where = os.path.abspath(here) if here is not None else None
        return [p for p in self.mentioning(name) or () if p != where]

    def query_function(
        self, qualified: str
    ) -> tuple[str, tuple[str, ...], tuple[str, ...], bool] | None:
        """(its module's path, the modules importing it, those importing its
        module, whether it is re-exported) of the query function `qualified`
        ("app.queries.active") that some module imports."""
        return next((f[1:] for f in self.query_functions if f[0] == qualified), None)

    def helper_refused(self, helper: QueryHelper) -> str | None:
        """Why the runner did not accept `helper`, when its findings say."""
        return next((why for h, why in self.refused_helpers if h == helper), None)

    def dynamic_declared_in(self, name: str) -> str | None:
        """The module declaring the dynamic relationship `name`, if only one does."""
        return next((path for n, path in self.dynamic if n == name), None)

    def write_only_of(self, name: str) -> WriteOnly | None:
        """What the last run does with the dynamic relationship `name` and its
        uses in other modules; None when nothing was decided (yet)."""
        return next((w for w in self.write_only if w.name == name), None)

    def may_use_sqlalchemy(self, source: bytes) -> bool:
        """Whether a module can hold anything a rule reports: it names SQLAlchemy
        (or Flask-SQLAlchemy), or a mapped class, a shared query helper or a
        SQLAlchemy object (a session, its factory, a `db`) of the project. Every
        rule needs one of them as evidence, so a module with none is not parsed:
        in a large project that is most of them."""
        if b"sqlalchemy" in source:
            return True
        names = self._project_names
        return bool(names) and not names.isdisjoint(WORD.findall(source))

    @cached_property
    def _project_names(self) -> frozenset[bytes]:
        # A set, not one regex of every name: compiling that took 0.1 s in a
        # project of 1,000 models, and each worker paid it.
        names = self.mapped | {helper.name for helper in self.query_helpers}
        # A session, factory or `db` another module makes: `Factory()` is a session
        objects = {name.rpartition(".")[2] for name, _, _ in self.objects}
        # The uses of a dynamic relationship, in the runs that rewrite them
        names |= self.dynamic_probed
        return frozenset(name.encode() for name in names | objects)

    def query_property(self, cls: str) -> tuple[str, str] | None:
        """The (module, session name) of the `query_property()` `cls` inherits, if
        one module made it."""
        found = {(m, s) for c, m, s in self.query_properties if c == cls}
        return found.pop() if len(found) == 1 else None

    def pins_for(self, path: Path | None) -> tuple[Pin, ...]:
        """The pins of the project that owns `path`."""
        root = self.root_of(path)
        return tuple(p for p in self.pins if p.root in ("", root))

    def line_length_for(self, path: Path | None) -> int:
        """The line length of the project that owns `path` (88 outside any)."""
        root = self.root_of(path)
        return next((n for r, n in self.line_lengths if r == root), DEFAULT_LENGTH)

    def root_of(self, path: Path | None) -> str:
        """The root of the project that owns `path`: the deepest root of the run
        above it ("" when none is)."""
        where = os.path.abspath(path) if path is not None else ""
        return max(
            (r for r in self.roots if where == r or where.startswith(r + os.sep)),
            key=len,
            default="",
        )

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


def build_index(
    files: Iterable[tuple[Path, bytes]], pins: tuple[Pin, ...] = ()
) -> ProjectIndex:
    """The index of the project made of `files`; `pins` are its version pins, read
    by `pins.read_pins()`."""
    files = list(files)
    facts = [(path, module_facts(source)) for path, source in files]
    return with_mentions(
        index_of(facts, pins),
        facts,
        lambda: ((os.path.abspath(path), source) for path, source in files),
    )


def with_mentions(
    index: ProjectIndex,
    facts: Sequence[tuple[Path, ModuleFacts]],
    sources: Callable[[], Iterable[tuple[str, bytes]]],
) -> ProjectIndex:
    """`index` with the modules that name the methods and attributes rules follow
    by name (`mentions.named_in()`), searched in `sources()`, (absolute path,
    bytes) of every module of the project: read only when the facts name one."""
    found = named_in(facts, sources)
    if found is None:
        return index
    return replace(
        index,
        mentions=found,
        dynamic=declared_once(facts),
        query_methods=methods_named_elsewhere(facts, found),
    )


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
    importing: dict[str, set[str]] = {}  # "module.name" -> the modules importing it
    functions: list[tuple[str, str, str]] = []  # (module, its path, query function)
    joined_eager = False
    modules = list(modules)
    joined: list[tuple[bytes, bytes, bool]] = []
    false_classes: set[bytes] = set()
    for path, facts in modules:
        name = module_name(path, directories)
        if name:
            packages.add(name.split(".", 1)[0])
        imported |= facts.imported
        for local, kind in facts.objects:
            objects[f"{name}.{name_text(local)}"] = kind
        for cls, db in facts.flask_models:
            models[f"{name}.{name_text(cls)}"] = (
                f"{name}.{name_text(db)}",
                cls in facts.query_classes,
            )
        for cls, bases in facts.classes:
            named.setdefault(cls, []).append((name, bases, cls in facts.query_classes))
        package = name if path.stem == "__init__" else name.rpartition(".")[0]
        note_imports(name, package, str(path), facts, aliases, importing)
        functions.extend((name, str(path), name_text(f)) for f in facts.query_functions)
        for local, value in facts.aliases:
            aliases[f"{name}.{name_text(local)}"] = f"{name}.{name_text(value)}"
            renamed.append((local, value))
        backrefs |= facts.backrefs
        paired |= facts.paired
        joined_eager |= facts.joined_eager
        joined.extend(facts.joined)
        mapped |= facts.mapped
        classes.extend(facts.classes)
        false_classes |= facts.false_classes
        for cls, session in facts.properties:
            properties.setdefault(cls, set()).add((name, session))
    _close_mapped(mapped, classes, renamed)
    _inherit_properties(properties, classes)
    origins = {name: (kind, name) for name, kind in objects.items()}
    for alias in aliases:  # each chain of re-exports followed to its end
        source = followed(alias, aliases, objects)
        if source in objects:
            origins[alias] = (objects[source], source)
    flask_models = _flask_models(models, named, aliases, origins)
    reexports = library_reexports(aliases, packages)
    return ProjectIndex(
        packages=frozenset(packages),
        mapped=frozenset(name_text(n) for n in mapped),
        pins=pins,
        roots=roots,
        query_properties=frozenset(
            (name_text(cls), module, name_text(session))
            for cls, found in properties.items()
            for module, session in found
        ),
        imported_names=frozenset(name_text(n) for n in imported),
        query_functions=query_functions_imported(functions, importing, aliases),
        backrefs=frozenset(name_text(n) for n in backrefs),
        paired=frozenset(name_text(n) for n in paired),
        objects=tuple(sorted((n, kind, at) for n, (kind, at) in origins.items())),
        flask_models=tuple(sorted((n, db, q) for n, (db, q) in flask_models.items())),
        reexports=tuple(sorted(reexports.items())),
        joined_collections=frozenset(name_text(n) for n in _repeating(joined, classes)),
        joined_eager=joined_eager,
        query_readers=frozenset(
            os.path.abspath(path) for path, facts in modules if facts.query_read
        ),
        autocommit_modules=frozenset(
            os.path.abspath(path) for path, facts in modules if facts.autocommit
        ),
        always_true=frozenset(
            name_text(n) for n in _always_true(mapped, classes, false_classes)
        ),
        subclassed=frozenset(name_text(b) for _, bases in classes for b in bases),
    )


def _always_true(
    mapped: set[bytes],
    classes: list[tuple[bytes, tuple[bytes, ...]]],
    false_classes: set[bytes],
) -> set[bytes]:
    """The mapped classes (by bare names) whose objects no method of theirs or
    of a base can make false: every base is such a class, `db.Model`, `object`,
    or a base made by `declarative_base()` (mapped, with no class statement). A
    name given to two classes counts as both."""
    every: dict[bytes, list[tuple[bytes, ...]]] = {}
    for cls, bases in classes:
        every.setdefault(cls, []).append(bases)
    plain = {b"object", b"Model"} | (mapped - every.keys())
    # Only the mapped classes and their bases, up: a project's other classes
    # (all of them, in one that hardly uses SQLAlchemy) cannot change the answer.
    defined: dict[bytes, list[tuple[bytes, ...]]] = {}
    pending = [cls for cls in mapped if cls in every]
    while pending:
        cls = pending.pop()
        if cls not in defined:
            defined[cls] = every[cls]
            pending.extend(b for bases in every[cls] for b in bases if b in every)
    found: set[bytes] = set()
    changed = True
    while changed:
        changed = False
        for cls, all_bases in defined.items():
            if cls in found or cls in false_classes:
                continue
            if all(b in found or b in plain for bases in all_bases for b in bases):
                found.add(cls)
                changed = True
    return found & mapped


def _repeating(
    joined: list[tuple[bytes, bytes, bool]],
    classes: list[tuple[bytes, tuple[bytes, ...]]],
) -> set[bytes]:
    """The classes whose rows a joined eager load may repeat (by bare names): a
    subclass inherits its bases' relationships, and a query of a base may load
    its subclasses' rows, up to the class that is not a subclass of another
    class of the project (the declarative base, `db.Model`)."""
    found = {cls for cls, _, collection in joined if collection}
    defined = {cls for cls, _ in classes}
    inner = {cls for cls, bases in classes if defined.intersection(bases)}
    changed = bool(found)
    while changed:
        changed = False
        for cls, target, collection in joined:
            if not collection and target in found and cls not in found:
                found.add(cls)
                changed = True
        for cls, bases in classes:
            if cls not in found and found.intersection(bases):
                found.add(cls)
                changed = True
            elif cls in found:
                new = inner.intersection(bases) - found
                if new:
                    found |= new
                    changed = True
    return found


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
        kind, origin = objects.get(followed(db, aliases, objects), ("", ""))
        if kind.startswith("db"):
            found[model] = (origin, custom or kind == "db+query_class")
    by_name = {name.rpartition(".")[2].encode(): name for name in found}
    changed = True
    while changed:  # `class Admin(User)` in any module
        changed = False
        for cls, places in named.items():
            for module, bases, custom in places:
                name = f"{module}.{name_text(cls)}"
                inherited = {found[by_name[b]] for b in bases if b in by_name}
                if name in found or len(inherited) != 1:
                    continue
                db, base_custom = inherited.pop()
                found[name] = (db, base_custom or custom)
                by_name.setdefault(cls, name)
                changed = True
    for alias in aliases:
        source = followed(alias, aliases, found)
        if source in found and alias not in found:
            found[alias] = found[source]
    return found
