"""Files in: discovery (the paths to check), the project's modules and what
each says of itself (the index's input), reading one file safely."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Literal

from orm_modernize.analysis.line_length import read_line_length
from orm_modernize.analysis.module_facts import (
    ModuleClasses,
    ModuleFacts,
    module_classes,
    module_facts,
)
from orm_modernize.analysis.pins import project_pins
from orm_modernize.analysis.project import ProjectIndex, index_of, with_mentions
from orm_modernize.data.records import (
    FileError,
    FileResult,
)
from orm_modernize.workspace import gitignore
from orm_modernize.workspace.cache import Cache, Stamp, digest, stamp_of
from orm_modernize.workspace.config import DEFAULT, Configuration
from orm_modernize.workspace.patterns import Patterns
from orm_modernize.workspace.pool import in_parallel


def discover(
    paths: Sequence[Path],
    config: Configuration = DEFAULT,
    skipped: list[tuple[str, str]] | None = None,
    walked: Walked | None = None,
) -> tuple[list[Path], list[FileResult]]:
    """The `*.py` files under `paths` that `config` does not exclude, sorted; a
    missing path is an error result. `skipped` gets what is left out, and why;
    `walked`, the entries of each directory walked, for `project_modules()`."""
    found: set[Path] = set()
    missing: list[FileResult] = []
    for path in paths:
        if not path.exists():
            missing.append(
                FileResult(
                    path, errors=(FileError("missing", "no such file or directory"),)
                )
            )
        elif config.excluded(str(path)):
            if skipped is not None:
                skipped.append((os.path.abspath(path), "excluded (force-exclude)"))
        elif path.is_dir():
            # Walked from its absolute path, as a project's root is walked
            top = os.path.abspath(path)
            entries = list(walk(Path(top), config, skipped))
            if walked is not None:
                walked[top] = entries
            below = len(os.path.join(top, ""))
            found.update(Path(path, entry.path[below:]) for entry in entries)
        else:
            found.add(path)
    return sorted(found), missing


# The `*.py` entries found under each directory walked (absolute)
Walked = dict[str, list[os.DirEntry[str]]]


def walk(
    root: Path,
    config: Configuration,
    skipped: list[tuple[str, str]] | None = None,
) -> Iterator[os.DirEntry[str]]:
    """The `*.py` files under `root` that `config` does not exclude, nor git
    ignore (with `respect-gitignore`), as entries whose paths are below `root`:
    like os.walk(), it follows no link to a directory. Exclusion is judged on
    absolute paths; no Path is made per file, and each entry knows its stat (a
    warm run over 20,000 modules is mostly this walk). `skipped`, if given, gets
    (absolute path, why) of each directory and `*.py` file left out."""
    top = os.path.abspath(root)
    ignored = gitignore.at(top) if config.respect_gitignore else gitignore.NOTHING
    pending = [(os.fspath(root), top, ignored)]
    while pending:
        directory, where, ignored = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError:
            continue  # as os.walk(): an unreadable directory has no files
        where = os.path.join(where, "")
        # What decides for every entry, asked once for the directory
        excluding = config.exclusions(where)
        ignoring = ignored if ignored.rules else None
        for entry in entries:
            try:
                is_directory = entry.is_dir()
            except OSError:  # as os.walk(): a link loop is a file, unreadable
                is_directory = False
            if is_directory and entry.is_symlink():
                continue
            if not (is_directory or entry.name.endswith(".py")):
                continue
            why = _left_out(excluding, ignoring, where, entry, is_directory)
            if why is not None:
                if skipped is not None:
                    skipped.append((where + entry.name, why))
            elif is_directory:
                below = ignored.below(f"{where}{entry.name}/")
                pending.append((entry.path, where + entry.name, below))
            else:
                yield entry


def _left_out(
    excluding: tuple[Patterns, ...],
    ignored: gitignore.Ignored | None,
    where: str,
    entry: os.DirEntry[str],
    is_directory: bool,
) -> str | None:
    """Why a walk leaves the entry out: excluded, a virtualenv, or gitignored."""
    for patterns in excluding:
        if patterns.match_walked(where, entry.name):
            return "excluded"
    # A virtualenv can have any name; its pyvenv.cfg gives it away.
    if is_directory and os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
        return "a virtualenv"
    if ignored is not None and ignored.ignores(where + entry.name, is_directory):
        return "gitignored"
    return None


def project_modules(
    files: Sequence[Path],
    config: Configuration,
    cache: Cache | None = None,
    *,
    given: tuple[Path, bytes] | None = None,
    jobs: int = 1,
    walked: Walked | None = None,
) -> tuple[tuple[ModuleClasses, ...], ProjectIndex]:
    """The classes of the modules of the projects owning `files`, and the index
    those modules make: every module under each project's root is indexed,
    whichever of them are checked, so that a file checked alone gets the
    findings it gets in the whole project's run. `given` is a module whose
    current bytes are not on disk (stdin). With a cache, an index whose modules
    all have the stat they had is reused: nothing of them is read. A root
    `discover()` walked (`walked`) is not walked again."""
    pins, roots = project_pins(files)
    lengths = tuple((root, read_line_length(Path(root))) for root in roots)

    def per_run(index: ProjectIndex) -> ProjectIndex:
        # Read each run (a few small files): the cache holds the modules' facts.
        return replace(index, pins=pins, roots=roots, line_lengths=lengths)

    # Every path absolute, by walking from absolute roots (the walk follows no
    # link); a realpath() per module was most of a warm run over 20,000 of them.
    walked = {} if walked is None else walked
    modules: dict[str, Stamp] = {
        entry.path: stamp_of(entry)
        for root in roots
        for entry in walked.get(root) or walk(Path(root), config)
    }
    cwd = os.getcwd()  # abspath() asks for it for each path
    for path in files:  # a file outside any project, or one excluded there
        where = os.path.normpath(os.path.join(cwd, path))
        if where not in modules:
            modules[where] = stamp_of(where)
    paths = sorted(modules)
    stamps = [modules[path] for path in paths]
    key = scope = ""
    if cache is not None:
        versions: list[tuple[str, Stamp | str]] = list(zip(paths, stamps))
        if given is not None:  # its bytes, not its stat, say which version it is
            here = os.path.abspath(given[0])
            versions[paths.index(here)] = (here, digest(given[1]))
        key = digest(repr(versions).encode())  # repr(): no Python loop
        scope = "\0".join(roots or paths)
        hit = cache.project(scope, key)
        if hit is not None:
            index, classes = hit
            return classes, per_run(index)
    facts = list(_facts(paths, stamps, cache, given, jobs))
    index, classes = index_of(facts), module_classes(facts)
    index = with_mentions(index, facts, partial(_sources, facts, given))
    if cache is not None:
        cache.keep_project(scope, key, index, classes)
    return classes, per_run(index)


def _facts(
    paths: Sequence[str],
    stamps: Sequence[Stamp],
    cache: Cache | None,
    given: tuple[Path, bytes] | None,
    jobs: int,
) -> Iterator[tuple[Path, ModuleFacts]]:
    """What each readable file tells the project index; a file the cache knows
    unchanged (by its stat) is not read at all. The files to read are read in
    the workers when they are many: their regular expressions are most of a
    cold run over a large project that hardly uses SQLAlchemy."""
    here = os.path.abspath(given[0]) if given is not None else None
    known: list[ModuleFacts | None] = []
    unread: list[str] = []
    for where, stamp in zip(paths, stamps):  # absolute paths
        if given is not None and where == here:
            facts: ModuleFacts | None = module_facts(given[1])
        else:
            facts = cache.unchanged_facts(where, stamp) if cache is not None else None
            if facts is None:
                unread.append(where)
        known.append(facts)
    size = sum(stamp[1] for stamp in stamps if len(stamp) > 1)
    if size < PARALLEL_FACTS or len(unread) < 2 * FACTS_CHUNK:
        jobs = 1  # a process starts in about the time these take here
    seen = cache.content_digests(unread) if cache is not None else [None] * len(unread)
    chunks = [
        list(zip(unread[at : at + FACTS_CHUNK], seen[at : at + FACTS_CHUNK]))
        for at in range(0, len(unread), FACTS_CHUNK)
    ]
    with closing(in_parallel(_read_facts, chunks, jobs)) as read:
        fresh = (entry for chunk in read for entry in chunk)
        for where, facts in zip(paths, known):
            if facts is None:
                entry = next(fresh)
                if entry is None:
                    continue  # unreadable: the check reports it
                content, facts = entry
                if cache is not None:
                    facts = cache.keep_facts(where, content, facts)
            if facts is not None:
                yield Path(where), facts


def _sources(
    modules: Sequence[tuple[Path, ModuleFacts]], given: tuple[Path, bytes] | None
) -> Iterator[tuple[str, bytes]]:
    """(absolute path, bytes) of each readable module, read again: asked for
    only in a project with a method that may return a query (the cache keeps
    the index)."""
    here = os.path.abspath(given[0]) if given is not None else None
    for path, _ in modules:
        where = os.path.abspath(path)
        if given is not None and where == here:
            yield where, given[1]
        elif isinstance(source := read_file(path), bytes):
            yield where, source


# Below these (bytes of the project's modules, modules to read), the facts are
# read in this process; a chunk of modules is one task for a worker.
PARALLEL_FACTS = 4_000_000
FACTS_CHUNK = 32


def _read_facts(
    chunk: Sequence[tuple[str, str | None]],
) -> list[tuple[str, ModuleFacts | None] | None]:
    """(digest of its bytes, its facts) of each module of `chunk`, None for one
    that cannot be read; no facts when its digest is the one given (the cache
    has them)."""
    read: list[tuple[str, ModuleFacts | None] | None] = []
    for where, seen in chunk:
        source = read_file(Path(where))
        if not isinstance(source, bytes):
            read.append(None)
            continue
        content = digest(source)
        read.append((content, None if content == seen else module_facts(source)))
    return read


def read_file(path: Path) -> bytes | FileError:
    """The file's bytes, or why it cannot be read. Only a regular file is opened:
    reading a named pipe called `x.py` would wait forever."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return FileError("read", "cannot read: not a regular file")
        return path.read_bytes()
    except OSError as error:
        return os_error("read", error)


def os_error(action: Literal["read", "write"], error: OSError) -> FileError:
    return FileError(action, f"cannot {action}: {error.strerror or error}")
