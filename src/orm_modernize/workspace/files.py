"""Files in: discovery (the paths to check), the project's modules and what
each says of itself (the index's input), reading one file safely."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import replace
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
from orm_modernize.analysis.project import ProjectIndex, index_of
from orm_modernize.data.records import (
    FileError,
    FileResult,
)
from orm_modernize.workspace import gitignore
from orm_modernize.workspace.cache import Cache, Stamp, digest, stamp_of
from orm_modernize.workspace.config import DEFAULT, Configuration


def discover(
    paths: Sequence[Path],
    config: Configuration = DEFAULT,
    skipped: list[tuple[str, str]] | None = None,
) -> tuple[list[Path], list[FileResult]]:
    """The `*.py` files under `paths` that `config` does not exclude, sorted; a
    missing path is an error result. `skipped` gets what is left out, and why."""
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
            found.update(Path(entry.path) for entry in walk(path, config, skipped))
        else:
            found.add(path)
    return sorted(found), missing


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
        for entry in entries:
            try:
                is_directory = entry.is_dir()
            except OSError:  # as os.walk(): a link loop is a file, unreadable
                is_directory = False
            if is_directory and entry.is_symlink():
                continue
            if not (is_directory or entry.name.endswith(".py")):
                continue
            why = _left_out(config, ignored, where, entry, is_directory)
            if why is not None:
                if skipped is not None:
                    skipped.append((where + entry.name, why))
            elif is_directory:
                below = ignored.below(f"{where}{entry.name}/")
                pending.append((entry.path, where + entry.name, below))
            else:
                yield entry


def _left_out(
    config: Configuration,
    ignored: gitignore.Ignored,
    where: str,
    entry: os.DirEntry[str],
    is_directory: bool,
) -> str | None:
    """Why a walk leaves the entry out: excluded, a virtualenv, or gitignored."""
    if config.walked_past(where, entry.name):
        return "excluded"
    # A virtualenv can have any name; its pyvenv.cfg gives it away.
    if is_directory and os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
        return "a virtualenv"
    if ignored.ignores(where + entry.name, is_directory):
        return "gitignored"
    return None


def project_modules(
    files: Sequence[Path],
    config: Configuration,
    cache: Cache | None = None,
    *,
    given: tuple[Path, bytes] | None = None,
) -> tuple[tuple[ModuleClasses, ...], ProjectIndex]:
    """The classes of the modules of the projects owning `files`, and the index
    those modules make: every module under each project's root is indexed,
    whichever of them are checked, so that a file checked alone gets the
    findings it gets in the whole project's run. `given` is a module whose
    current bytes are not on disk (stdin). With a cache, an index whose modules
    all have the stat they had is reused: nothing of them is read."""
    pins, roots = project_pins(files)
    lengths = tuple((root, read_line_length(Path(root))) for root in roots)

    def per_run(index: ProjectIndex) -> ProjectIndex:
        # Read each run (a few small files): the cache holds the modules' facts.
        return replace(index, pins=pins, roots=roots, line_lengths=lengths)

    # Every path absolute, by walking from absolute roots (the walk follows no
    # link); a realpath() per module was most of a warm run over 20,000 of them.
    modules: dict[str, Stamp] = {
        entry.path: stamp_of(entry)
        for root in roots
        for entry in walk(Path(root), config)
    }
    for path in files:  # a file outside any project, or one excluded there
        where = os.path.abspath(path)
        if where not in modules:
            modules[where] = stamp_of(where)
    paths = sorted(modules)
    stamps = [modules[path] for path in paths]
    key = scope = ""
    if cache is not None:
        versions = [str(stamp) for stamp in stamps]
        if given is not None:  # its bytes, not its stat, say which version it is
            versions[paths.index(os.path.abspath(given[0]))] = digest(given[1])
        key = digest("\n".join(map("\0".join, zip(paths, versions))).encode())
        scope = "\0".join(roots or paths)
        hit = cache.project(scope, key)
        if hit is not None:
            index, classes = hit
            return classes, per_run(index)
    facts = list(_facts(paths, stamps, cache, given))
    index, classes = index_of(facts), module_classes(facts)
    if cache is not None:
        cache.keep_project(scope, key, index, classes)
    return classes, per_run(index)


def _facts(
    paths: Sequence[str],
    stamps: Sequence[Stamp],
    cache: Cache | None,
    given: tuple[Path, bytes] | None,
) -> Iterator[tuple[Path, ModuleFacts]]:
    """What each readable file tells the project index, one file in memory at a
    time; a file the cache knows unchanged (by its stat) is not read at all."""
    here = os.path.abspath(given[0]) if given is not None else None
    for where, stamp in zip(paths, stamps):  # absolute paths
        path = Path(where)
        if given is not None and where == here:
            yield path, module_facts(given[1])
            continue
        known = cache.unchanged_facts(path, stamp) if cache is not None else None
        if known is not None:
            yield path, known
            continue
        source = read_file(path)
        if isinstance(source, bytes):
            facts = cache.module_facts(path, source) if cache else module_facts(source)
            yield path, facts


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
