"""What earlier runs learned, so that a run over unchanged files parses nothing.

Three files, each read only when a run needs it:
- `index.json`: the project index of each set of project roots last checked, valid
  while every module under them has the stat it had (a warm one-file run over a
  project of 20,000 modules reads this, not 20,000 modules' facts);
- `facts.json`: the pre-pass facts of each module (they depend on its bytes alone),
  read when the index must be merged again;
- `cache.json`: each file's result, valid for one set of settings and one project
  index (a class mapped in another module changes what this one reports).
Everything is under one key made of the tool's version and the digest of its own
code, so an upgrade, or an edit to an editable install, starts afresh.

The files live in `.orm_modernize_cache/` (with its own `.gitignore`); each is
replaced atomically, merged with what another run wrote meanwhile: concurrent
runs never read a torn file, and at worst one run's new entries are lost and
recomputed next time. JSON, not pickle: the directory lives in the user's
checkout, and loading it must not run code.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from orm_modernize import __version__
from orm_modernize.analysis.module_facts import ModuleClasses, ModuleFacts
from orm_modernize.analysis.pins import project_root
from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.data.records import (
    Diagnostic,
    DynamicUses,
    Exports,
    FileResult,
    ForeignBackref,
    HelperCall,
    QueryHelper,
    TextEdit,
)
from orm_modernize.workspace.atomic import write_atomically

DIRECTORY = ".orm_modernize_cache"
# The `.gitignore` the cache directory holds: git leaves it out, and `clean`
# deletes only a directory that has it
MARK = "# Made by orm-modernize.\n*\n"
FILE = "cache.json"  # results
FACTS = "facts.json"
INDEX = "index.json"
# 2: facts carry the stat they were read with; 3: paired; 4: objects; 5: three
# files; 6: a result's exports in one field; 7: joined_eager; 8: joined; 9: paired
# holds the attribute a `backref=` is declared on; 10: false_classes, always_true;
# 11: query_read, query_readers; 12: query_methods, method_mentions; 13: autocommit
# 14: dynamic relationships, their definers and dynamic_uses; 15: the definers
# kept with the index; 16: methods shared as query helpers, and their definers;
# query functions and the modules importing them; subclassed
FORMAT = 16
# The indexes of this many sets of roots are kept (a run over one project, another
# over two, ...): those used last.
INDEXES = 8


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class Cache:
    directory: Path
    # absolute path -> (digest of its bytes, its facts, its stat when read); read
    # from the directory on first use
    _facts: dict[str, tuple[str, ModuleFacts, Stamp]] | None = None
    # absolute path -> result key -> result, as JSON until asked for. A file keeps
    # the entries its last run used: a run that converts query helpers checks some
    # files under three keys.
    _results: dict[str, dict[str, Any]] | None = None
    used: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the scope (roots) of the run -> [key, index, classes], as JSON
    _indexes: dict[str, Any] | None = None
    dirty: set[str] = field(default_factory=set)  # the files to write

    @classmethod
    def load(cls, directory: Path) -> Cache:
        """The cache in `directory`. Each file is read when first needed; one that
        is missing, unreadable or written by another version of the tool counts
        as empty."""
        return cls(directory)

    @property
    def facts(self) -> dict[str, tuple[str, ModuleFacts, Stamp]]:
        if self._facts is None:
            data = _read(self.directory / FACTS) or {}
            self._facts = {
                path: (key, _facts(value), tuple(stamp))
                for path, (key, value, stamp) in data.get("facts", {}).items()
            }
        return self._facts

    def unchanged_facts(self, path: str | Path, stamp: Stamp) -> ModuleFacts | None:
        """The facts of a file whose stat (`stamp`) is as when they were read: a
        warm run over a project reads no bytes of the files it does not check."""
        known = self.facts.get(_key(path))
        if known is None or known[2] != stamp:
            return None
        return known[1]

    def content_digests(self, paths: Sequence[str]) -> list[str | None]:
        """The digest of the bytes each file had when its facts were stored."""
        facts = self.facts
        return [
            known[0] if (known := facts.get(_key(path))) is not None else None
            for path in paths
        ]

    def keep_facts(
        self, path: str, content: str, facts: ModuleFacts | None
    ) -> ModuleFacts | None:
        """Stores the facts of a file read anew, whose bytes have the digest
        `content`; `facts` None are those stored, when its bytes are the same (a
        `touch`, a checkout). Returns the facts."""
        known = self.facts.get(_key(path))
        if facts is None:
            if known is None or known[0] != content:
                return None
            facts = known[1]
        self.facts[_key(path)] = (content, facts, stamp_of(path))
        self.dirty.add(FACTS)
        return facts

    def project(
        self, scope: str, key: str
    ) -> tuple[ProjectIndex, tuple[ModuleClasses, ...]] | None:
        """The index (without pins and roots) and the classes of the modules of
        `scope`, when `key` (their paths and stats) is as when they were made."""
        if self._indexes is None:
            self._indexes = (_read(self.directory / INDEX) or {}).get("indexes", {})
        found = self._indexes.get(scope)
        if found is None or found[0] != key:
            return None
        modules = tuple(ModuleClasses(p, tuple(c), b) for p, c, b in found[2])
        return _index(found[1]), modules

    def keep_project(
        self,
        scope: str,
        key: str,
        index: ProjectIndex,
        classes: tuple[ModuleClasses, ...],
    ) -> None:
        if self._indexes is None:
            self._indexes = {}
        self._indexes.pop(scope, None)  # the last used last
        modules = [[m.path, m.classes, m.backrefs] for m in classes]
        self._indexes[scope] = [key, _index_json(index), modules]
        self.dirty.add(INDEX)

    def result(self, path: Path, key: str) -> FileResult | None:
        if self._results is None:
            self._results = (_read(self.directory / FILE) or {}).get("results", {})
        found = self._results.get(_key(path), {}).get(key)
        if found is None:
            return None
        self.used.setdefault(_key(path), {})[key] = found
        return _result(found, path)

    def store(self, result: FileResult, key: str) -> None:
        """Keep a result that later runs can reuse as is: one that wrote nothing
        and met no error (an unreadable file may be readable next time)."""
        if result.fixed is not None or result.errors:
            return
        self.used.setdefault(_key(result.path), {})[key] = _result_json(result)
        self.dirty.add(FILE)

    def save(self) -> None:
        """Write what changed, merged with entries another run saved meanwhile; a
        cache that cannot be written is silently left as it was."""
        if not self.dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text(MARK)
            if FACTS in self.dirty:
                saved = (_read(self.directory / FACTS) or {}).get("facts", {})
                facts = _existing({**saved, **_dump_facts(self.facts)})
                self._write(FACTS, {"facts": facts})
            if FILE in self.dirty:
                saved = (_read(self.directory / FILE) or {}).get("results", {})
                self._write(FILE, {"results": _existing({**saved, **self.used})})
            if INDEX in self.dirty and self._indexes is not None:
                saved = (_read(self.directory / INDEX) or {}).get("indexes", {})
                mine = self._indexes
                kept = {**{s: i for s, i in saved.items() if s not in mine}, **mine}
                newest = list(kept.items())[-INDEXES:]
                self._write(INDEX, {"indexes": dict(newest)})
        except OSError:
            return  # a read-only checkout: the run itself succeeded

    def _write(self, name: str, data: dict[str, Any]) -> None:
        data = {"format": FORMAT, "tool": tool_key(), **data}
        write_atomically(self.directory / name, json.dumps(data).encode())


def remove(directory: Path) -> bool:
    """Delete the cache in `directory`: whether there was one. A directory this
    tool did not make (no `.gitignore` of its own in it) is refused with
    ValueError, whatever `--cache-dir` says: `clean` never deletes another's
    files."""
    import shutil

    if not directory.exists():
        return False
    ignore = directory / ".gitignore"
    if not (ignore.is_file() and ignore.read_text(errors="replace") == MARK):
        raise ValueError(f"{directory} is not a cache this tool made; left alone")
    shutil.rmtree(directory)
    return True


def tracked_by_git(directory: Path) -> bool:
    """Whether git tracks a file in `directory`: a cache committed to the
    repository could hide findings from a CI gate that reads it, so such a cache
    is never read. No repository or no directory: not tracked. Read from the
    index, not asked of git, which a checkout's configuration can make run
    programs."""
    from orm_modernize.workspace.git_index import tracks_under

    return directory.is_dir() and tracks_under(os.path.abspath(directory))


def trusted(directory: Path) -> Cache | None:
    """The cache in `directory`, or None when git tracks files in it (see
    `tracked_by_git`): what the command line and the language server read."""
    return None if tracked_by_git(directory) else Cache.load(directory)


def _key(path: str | Path) -> str:
    return os.path.abspath(path)


def default_directory(paths: Sequence[Path]) -> Path:
    """`.orm_modernize_cache` in the project root (where its `pyproject.toml` is),
    else in the current directory."""
    return (project_root(paths[0] if paths else Path.cwd()) or Path.cwd()) / DIRECTORY


def result_key(content: str, settings_key: str, project: ProjectIndex) -> str:
    """What a file's result depends on: its bytes, the settings, the project."""
    return digest(f"{content}\0{settings_key}\0{project_key(project)}".encode())


@cache
def project_key(project: ProjectIndex) -> str:
    return digest(repr(_sorted(asdict(project))).encode())


@cache
def tool_key() -> str:
    """The version, and the sizes and times of the package's files: an edited
    editable install is another tool."""
    package = Path(__file__).parents[1]  # orm_modernize/, not this layer
    stamps = sorted(
        (str(p.relative_to(package)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in package.rglob("*.py")
    )
    return digest(f"{__version__}\0{stamps}".encode())


def _sorted(value: Any) -> Any:
    """`value` with sets in a fixed order, for a stable digest."""
    if isinstance(value, dict):
        return {k: _sorted(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_sorted(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_sorted(v) for v in value]
    return value


def _read(file: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(file.read_bytes())
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("tool") != tool_key()
    ):
        return None
    return data


def _existing(entries: dict[str, Any]) -> dict[str, Any]:
    """Entries of files that still exist: deleted files do not pile up."""
    return {path: entry for path, entry in entries.items() if os.path.exists(path)}


def _dump_facts(
    entries: dict[str, tuple[str, ModuleFacts, Stamp]],
) -> dict[str, Any]:
    return {
        path: [key, _facts_json(facts), list(stamp)]
        for path, (key, facts, stamp) in entries.items()
    }


# (st_mtime_ns, st_size, st_ino): a file whose stamp is unchanged is unchanged
Stamp = tuple[int, ...]


def stamp_of(path: str | Path | os.DirEntry[str]) -> Stamp:
    """The stamp of a file; a walk's entry gives it without a second stat()."""
    try:
        status = path.stat() if isinstance(path, os.DirEntry) else os.stat(path)
    except OSError:
        return ()
    return (status.st_mtime_ns, status.st_size, status.st_ino)


# -- JSON shapes -----------------------------------------------------------------------
def _bytes(values: Any) -> list[str]:
    return sorted(v.decode("latin-1") for v in values)


def _pair(values: tuple[bytes, bytes]) -> list[str]:
    return [v.decode("latin-1") for v in values]  # in order, unlike `_bytes()`


def _facts_json(facts: ModuleFacts) -> dict[str, Any]:
    return {
        "imports": [_pair(pair) for pair in sorted(facts.imports)],
        "backrefs": _bytes(facts.backrefs),
        "paired": _bytes(facts.paired),
        "properties": [_pair(pair) for pair in sorted(facts.properties)],
        "mapped": _bytes(facts.mapped),
        "classes": [[c.decode("latin-1"), _bytes(b)] for c, b in facts.classes],
        "objects": [[n.decode("latin-1"), kind] for n, kind in sorted(facts.objects)],
        "flask_models": [_pair(pair) for pair in sorted(facts.flask_models)],
        "query_classes": _bytes(facts.query_classes),
        "false_classes": _bytes(facts.false_classes),
        "aliases": [_pair(pair) for pair in sorted(facts.aliases)],
        "joined": [[*_pair((c, t)), many] for c, t, many in facts.joined],
        "joined_eager": facts.joined_eager,
        "query_read": facts.query_read,
        "star_imports": _bytes(facts.star_imports),
        "query_methods": _bytes(facts.query_methods),
        "query_functions": _bytes(facts.query_functions),
        "autocommit": facts.autocommit,
        "dynamic": _bytes(facts.dynamic),
    }


def _facts(data: dict[str, Any]) -> ModuleFacts:
    def raw(values: list[str]) -> frozenset[bytes]:
        return frozenset(v.encode("latin-1") for v in values)

    return ModuleFacts(
        imports=frozenset(
            (n.encode("latin-1"), q.encode("latin-1")) for n, q in data["imports"]
        ),
        backrefs=raw(data["backrefs"]),
        paired=raw(data["paired"]),
        properties=frozenset(
            (c.encode("latin-1"), s.encode("latin-1")) for c, s in data["properties"]
        ),
        mapped=raw(data["mapped"]),
        classes=tuple(
            (c.encode("latin-1"), tuple(b.encode("latin-1") for b in bases))
            for c, bases in data["classes"]
        ),
        objects=frozenset((n.encode("latin-1"), kind) for n, kind in data["objects"]),
        flask_models=frozenset(
            (c.encode("latin-1"), d.encode("latin-1")) for c, d in data["flask_models"]
        ),
        query_classes=raw(data["query_classes"]),
        false_classes=raw(data["false_classes"]),
        aliases=frozenset(
            (n.encode("latin-1"), v.encode("latin-1")) for n, v in data["aliases"]
        ),
        joined=tuple(
            (c.encode("latin-1"), t.encode("latin-1"), many)
            for c, t, many in data["joined"]
        ),
        joined_eager=data["joined_eager"],
        query_read=data["query_read"],
        star_imports=raw(data["star_imports"]),
        query_methods=raw(data["query_methods"]),
        query_functions=raw(data["query_functions"]),
        autocommit=data["autocommit"],
        dynamic=raw(data["dynamic"]),
    )


# The fields of the index that the modules' facts make (`index_of()`); the rest
# (pins, roots, what the runs over several modules learn) belong to one run.
INDEXED = (
    "packages",
    "mapped",
    "query_properties",
    "imported_names",
    "backrefs",
    "paired",
    "objects",
    "flask_models",
    "reexports",
    "joined_collections",
    "joined_eager",
    "query_readers",
    "autocommit_modules",
    "always_true",
    "mentions",
    "dynamic",
    "query_methods",
    "query_functions",
    "subclassed",
)


def _index_json(index: ProjectIndex) -> dict[str, Any]:
    return {name: _sorted(getattr(index, name)) for name in INDEXED}


def _index(data: dict[str, Any]) -> ProjectIndex:
    return ProjectIndex(
        packages=frozenset(data["packages"]),
        mapped=frozenset(data["mapped"]),
        query_properties=frozenset((c, m, s) for c, m, s in data["query_properties"]),
        imported_names=frozenset(data["imported_names"]),
        backrefs=frozenset(data["backrefs"]),
        paired=frozenset(data["paired"]),
        objects=tuple((n, kind, at) for n, kind, at in data["objects"]),
        flask_models=tuple((n, db, q) for n, db, q in data["flask_models"]),
        reexports=tuple((n, end) for n, end in data["reexports"]),
        joined_collections=frozenset(data["joined_collections"]),
        joined_eager=data["joined_eager"],
        query_readers=frozenset(data["query_readers"]),
        autocommit_modules=frozenset(data["autocommit_modules"]),
        always_true=frozenset(data["always_true"]),
        subclassed=frozenset(data["subclassed"]),
        mentions=tuple((name, tuple(paths)) for name, paths in data["mentions"]),
        dynamic=tuple((name, path) for name, path in data["dynamic"]),
        query_methods=tuple(
            (name, tuple(paths)) for name, paths in data["query_methods"]
        ),
        query_functions=tuple(
            (name, where, tuple(by_name), tuple(by_module), again)
            for name, where, by_name, by_module, again in data["query_functions"]
        ),
    )


def _result_json(result: FileResult) -> dict[str, Any]:
    return {
        "diagnostics": [asdict(d) for d in result.diagnostics],
        "applied": [asdict(d) for d in result.applied],
        "exports": asdict(result.exports),
    }


def _diagnostic(data: dict[str, Any]) -> Diagnostic:
    edits = tuple(TextEdit(**e) for e in data.get("edits", ()))
    return Diagnostic(**{**data, "edits": edits})


def _result(data: dict[str, Any], path: Path) -> FileResult:
    exports = data["exports"]
    return FileResult(
        path,
        diagnostics=tuple(_diagnostic(d) for d in data["diagnostics"]),
        applied=tuple(_diagnostic(d) for d in data["applied"]),
        exports=Exports(
            helpers=tuple(
                QueryHelper(**{**h, "shapes": tuple(h["shapes"])})
                for h in exports["helpers"]
            ),
            helper_calls=tuple(HelperCall(**c) for c in exports["helper_calls"]),
            foreign_backrefs=_backrefs(exports["foreign_backrefs"]),
            declarable_backrefs=_backrefs(exports["declarable_backrefs"]),
            dynamic_uses=tuple(DynamicUses(**u) for u in exports["dynamic_uses"]),
        ),
    )


def _backrefs(data: list[dict[str, Any]]) -> tuple[ForeignBackref, ...]:
    return tuple(
        ForeignBackref(**{**b, "arguments": tuple(b["arguments"])}) for b in data
    )
