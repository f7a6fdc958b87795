"""Files in, results out: discovery, project pre-pass, parallel map, atomic writes,
and the extra runs that rewrite two modules together: a query helper with its
callers, a `backref=` with the other class's module."""

from __future__ import annotations

import gc
import os
import stat
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Literal

from orm_modernize.analysis.pins import project_pins, target_of
from orm_modernize.analysis.project import (
    ModuleClasses,
    ModuleFacts,
    ProjectIndex,
    index_of,
    module_classes,
    module_facts,
)
from orm_modernize.data.records import (
    FileError,
    FileResult,
    QueryHelper,
    Settings,
    Skipped,
)
from orm_modernize.workspace.atomic import write_atomically
from orm_modernize.workspace.cache import Cache, Stamp, digest, result_key, stamp_of
from orm_modernize.workspace.config import DEFAULT, Configuration


def discover(
    paths: Sequence[Path], config: Configuration = DEFAULT
) -> tuple[list[Path], list[FileResult]]:
    """The `*.py` files under `paths` that `config` does not exclude, sorted; a
    missing path is an error result."""
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
            continue
        elif path.is_dir():
            found.update(Path(entry.path) for entry in _walk(path, config))
        else:
            found.add(path)
    return sorted(found), missing


def _walk(root: Path, config: Configuration) -> Iterator[os.DirEntry[str]]:
    """The `*.py` files under `root` that `config` does not exclude, as entries
    whose paths are below `root`: like os.walk(), it follows no link to a
    directory. Exclusion is judged on absolute paths; no Path is made per file,
    and each entry knows its stat (a warm run over 20,000 modules is mostly
    this walk)."""
    pending = [(os.fspath(root), os.path.abspath(root))]
    while pending:
        directory, where = pending.pop()
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
            if not is_directory:
                if entry.name.endswith(".py") and not config.walked_past(
                    where + entry.name
                ):
                    yield entry
            elif (
                not entry.is_symlink()
                and not config.walked_past(where + entry.name)
                # A virtualenv can have any name; its pyvenv.cfg gives it away.
                and not os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))
            ):
                pending.append((entry.path, where + entry.name))


def run(
    paths: Sequence[Path],
    config: Configuration,
    *,
    jobs: int | None = None,
    write: bool = True,
    cache: Cache | None = None,
    progress: Progress | None = None,
) -> list[FileResult]:
    """Check (and with `settings.fix`, rewrite) every file under `paths`; with a
    `cache`, reuse the results of unchanged files, and save the new ones.
    `progress(done, total)` is told of each file parsed."""
    files, results = discover(paths, config)
    modules, project = project_modules(files, config, cache)
    checker = _Checker(config, write, jobs or os.cpu_count() or 1, cache)
    # Each file is read again here rather than held since the pre-pass: the bytes
    # kept are those of the modules that use SQLAlchemy, not the whole tree's.
    items = ((path, _read(path)) for path in files)
    checked = checker.check_all(items, project, progress)
    helpers = frozenset(h for r in checked for h in r.exports.helpers)
    if helpers:
        checked = _with_shared_helpers(checked, helpers, checker, project)
    checked = _with_foreign_backrefs(checked, checker, project, modules)
    if cache is not None:
        cache.save()
    results.extend(_targeted(r, config, project) for r in checked)
    return sorted(results, key=lambda r: str(r.path))


def _targeted(
    result: FileResult, config: Configuration, project: ProjectIndex
) -> FileResult:
    """The result with the SQLAlchemy version its fixes had to run on, which the
    CLI explains when it was assumed or ruled every fix out."""
    if result.skipped is not None:
        return result
    chosen = config.settings_for(result.path).target_version
    return replace(result, target=target_of(chosen, project.pins_for(result.path)))


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
    # Every path absolute, by walking from absolute roots (the walk follows no
    # link); a realpath() per module was most of a warm run over 20,000 of them.
    modules: dict[str, Stamp] = {
        entry.path: stamp_of(entry)
        for root in roots
        for entry in _walk(Path(root), config)
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
            return classes, replace(index, pins=pins, roots=roots)
    facts = list(_facts(paths, stamps, cache, given))
    index, classes = index_of(facts), module_classes(facts)
    if cache is not None:
        cache.keep_project(scope, key, index, classes)
    return classes, replace(index, pins=pins, roots=roots)


def skipped_as(path: Path, source: bytes, config: Configuration) -> Skipped | None:
    """Files checked only on request: generated code (regenerating it would undo
    any fix) and Alembic revisions (rewriting one changes what an old migration
    did to a database)."""
    if b"@generated" in source[:GENERATED_WITHIN]:
        return "generated"
    if (
        not config.include_migrations
        and path.parent.name == "versions"
        and b"down_revision" in source
    ):
        return "migration"
    return None


def check_source(
    path: Path, source: bytes, config: Configuration, cache: Cache | None = None
) -> FileResult:
    """Bytes from elsewhere (an editor's buffer, on stdin) checked as the file at
    `path` would be, with what that file alone tells of the project; nothing is
    written."""
    skipped = skipped_as(path, source, config)
    if skipped is not None or config.excluded(str(path)):
        return FileResult(path, source=source, skipped=skipped)
    modules, project = project_modules([path], config, cache, given=(path, source))
    result = _check_file((path, source, config.settings_for(path)), project)
    checker = _Checker(config, write=False, jobs=1, cache=cache)
    (result,) = _with_foreign_backrefs([result], checker, project, modules)
    if cache is not None:
        cache.save()
    return _targeted(result, config, project)


def add_noqa(results: Sequence[FileResult]) -> tuple[int, list[FileResult]]:
    """Write a `# noqa: CODES` comment for every finding of `results`, for a team
    that gates new code before migrating the old. Returns how many lines got one,
    and an error result for each file left unchanged because it could not be."""
    import ast
    import io
    import tokenize

    from orm_modernize.syntax import noqa

    added, failed = 0, []
    for result in results:
        if not result.diagnostics or result.source is None:
            continue
        lines: dict[int, set[str]] = {}
        for diagnostic in result.diagnostics:
            lines.setdefault(diagnostic.line, set()).add(diagnostic.code)
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(result.source).readline)
            new, count = noqa.with_directives(result.source, encoding, lines)
            # The same syntax tree: the comments landed in code, not in a string.
            same = ast.dump(ast.parse(new)) == ast.dump(ast.parse(result.source))
        except (SyntaxError, ValueError, tokenize.TokenError) as error:
            same, detail = False, " ".join(str(error).split())
        else:
            detail = "the comments would change the code"
        if not same:
            failed.append(
                FileResult(
                    result.path,
                    errors=(FileError("noqa", f"cannot add noqa: {detail}"),),
                )
            )
            continue
        if not count:
            continue
        try:
            write_atomically(result.path, new)
        except OSError as error:
            failed.append(FileResult(result.path, errors=(_os_error("write", error),)))
            continue
        added += count
    return added, failed


# The `@generated` marker counts in a file's header, as in Phabricator and Buck.
GENERATED_WITHIN = 4096
# progress(files parsed so far, files to parse)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Checker:
    config: Configuration
    write: bool
    jobs: int
    cache: Cache | None

    def check_all(
        self,
        items: Iterable[tuple[Path, bytes | FileError]],
        project: ProjectIndex,
        progress: Progress | None = None,
    ) -> list[FileResult]:
        """The results of the files, from the cache or from the engine. Only the
        modules that may use SQLAlchemy and are not cached are worth a worker: the
        rest take microseconds here, and a run with none starts no pool at all."""
        done: list[FileResult] = []
        todo: list[tuple[Path, bytes, Settings]] = []
        keys: dict[Path, str] = {}
        settings_keys: dict[Settings, str] = {}  # repr() of each file's settings
        for path, source in items:
            if isinstance(source, FileError):
                done.append(FileResult(path, errors=(source,)))
                continue
            skipped = skipped_as(path, source, self.config)
            if skipped is not None or not project.may_use_sqlalchemy(source):
                done.append(FileResult(path, skipped=skipped))
                continue
            settings = self.config.settings_for(path)
            if self.cache is not None:
                if settings not in settings_keys:
                    settings_keys[settings] = repr(settings)
                keys[path] = result_key(
                    digest(source), settings_keys[settings], project
                )
                hit = self.cache.result(path, keys[path])
                if hit is not None:
                    done.append(replace(hit, source=source))
                    continue
            todo.append((path, source, settings))
        work = partial(_check_file, project=project)
        fresh: list[FileResult] = []
        for result in self._parsed(work, todo):
            fresh.append(_written(result) if self.write else result)
            if progress is not None:
                progress(len(fresh), len(todo))
        if self.cache is not None:
            for result in fresh:
                self.cache.store(result, keys[result.path])
        return done + fresh

    def _parsed(
        self,
        work: Callable[[tuple[Path, bytes, Settings]], FileResult],
        todo: list[tuple[Path, bytes, Settings]],
    ) -> Iterator[FileResult]:
        if self.jobs == 1 or len(todo) < 2:
            yield from map(work, todo)
            return
        # 10 ms of imports that a one-file run (pre-commit's) does not need.
        from concurrent.futures import ProcessPoolExecutor

        # Largest first, one at a time: the workers finish together instead of
        # one of them ending on a run of big test modules.
        todo.sort(key=lambda item: len(item[1]), reverse=True)
        workers = min(self.jobs, len(todo))
        with ProcessPoolExecutor(workers, initializer=_deaf_to_interrupts) as pool:
            # Not `pool.map`: interrupted, it cancels its futures from this thread
            # while the pool's own thread may be failing them for a worker the
            # signal killed, and Python < 3.12 prints that race's traceback
            # (InvalidStateError). `shutdown` cancels them in the pool's thread.
            futures = [pool.submit(work, item) for item in todo]
            try:
                for future in futures:
                    yield future.result()
            except BaseException:  # interrupted: the files queued stay as they are
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    def probing(self) -> _Checker:
        """The same checks, fixing and writing nothing."""
        settings = replace(self.config.settings, fix=False)
        return replace(
            self, config=replace(self.config, settings=settings), write=False
        )


def _deaf_to_interrupts() -> None:
    """Ctrl-C reaches the workers too; the main process alone decides what an
    interruption means (and the workers write nothing). A SIGTERM sent to the
    whole group ends a worker at once, as it would any process: the handler
    inherited from the main process would raise in an idle worker's wait for
    work, and multiprocessing would print its traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _with_shared_helpers(
    results: list[FileResult],
    helpers: frozenset[QueryHelper],
    checker: _Checker,
    project: ProjectIndex,
) -> list[FileResult]:
    """Query helpers that other modules import, converted at both ends or not at
    all: a run over the modules that may call them says which calls can be
    finished, and a last run over those modules and the helpers' own converts the
    helpers whose every call can."""
    names = [h.name.encode() for h in helpers]
    current = {
        r.path: source
        for r in results
        if (source := _current(r)) is not None and any(n in source for n in names)
    }
    items: list[tuple[Path, bytes | FileError]] = [
        (path, source) for path, source in current.items() if source is not None
    ]
    shared = replace(project, query_helpers=helpers)
    calls: dict[tuple[str, str], list[bool]] = {}
    for result in checker.probing().check_all(items, shared):
        for call in result.exports.helper_calls:
            calls.setdefault((call.module, call.name), []).append(call.convertible)
    accepted = frozenset(
        h
        for h in helpers
        if all(calls.get((h.module, h.name), [False]))
        and not _reached_through_module(h, current)
    )
    final = {
        r.path: r
        for r in checker.check_all(items, replace(shared, accepted_helpers=accepted))
    }
    return [_merged(r, final[r.path]) if r.path in final else r for r in results]


def _with_foreign_backrefs(
    results: list[FileResult],
    checker: _Checker,
    project: ProjectIndex,
    modules: Sequence[ModuleClasses],
) -> list[FileResult]:
    """Backrefs to a class of another module, written out at both ends or not at
    all. Either end may be a module of the project that is not checked (a
    pre-commit run passes the changed files): it is read and probed, never
    written. The class must be defined by one module of the project, which a
    probe says can declare the new relationship; a last run over the ends that
    are checked rewrites them. Fixing, a pair whose other end is not checked is
    left as it is: one end alone would break the mapping."""
    checked = {os.path.abspath(r.path): r for r in results}
    current: dict[str, bytes] = {}

    def source_of(path: Path) -> bytes | None:
        where = os.path.abspath(path)
        if where not in current:
            result = checked.get(where)
            found = _current(result) if result is not None else _read(path)
            if not isinstance(found, bytes):
                return None
            current[where] = found
        return current[where]

    # Owners: the checked modules' backrefs, and those of other modules naming a
    # class that a checked module defines.
    pending = {b.key: (r.path, b) for r in results for b in r.exports.foreign_backrefs}
    defined = {
        name
        for module in modules
        if module.path in checked
        for name in module.classes
        if name in project.mapped
    }
    owners: list[tuple[Path, bytes | FileError]] = [
        (path, source)
        for module in modules
        if module.backrefs
        and module.path not in checked
        and (source := source_of(path := Path(module.path))) is not None
        and any(name.encode() in source for name in defined)
    ]
    for result in checker.probing().check_all(owners, project):
        pending.update(
            (b.key, (result.path, b))
            for b in result.exports.foreign_backrefs
            if b.target in defined
        )
    if not pending:
        return results
    defining: dict[str, list[Path]] = {}  # class name -> the modules defining one
    wanted = {b.target for _, b in pending.values()}
    for module in modules:
        for name in module.classes:
            if name in wanted:
                defining.setdefault(name, []).append(Path(module.path))
    target = {
        key: found[0]
        for key, (_, backref) in pending.items()
        if len(found := defining.get(backref.target, [])) == 1
    }
    shared = replace(
        project, foreign_backrefs=frozenset(b for _, b in pending.values())
    )
    probed = [
        (path, source)
        for path in sorted(set(target.values()))
        if (source := source_of(path)) is not None
    ]
    accepted = {  # the safety is that of both ends
        backref.key: backref
        for result in checker.probing().check_all(probed, shared)
        for backref in result.exports.declarable_backrefs
        if backref.key in target
        and os.path.abspath(target[backref.key]) == os.path.abspath(result.path)
    }
    ends = {key: {target[key], pending[key][0]} for key in accepted}
    if checker.write or checker.config.settings.fix:
        accepted = {
            key: backref
            for key, backref in accepted.items()
            if all(os.path.abspath(end) in checked for end in ends[key])
        }
    paths = {
        end for key in accepted for end in ends[key] if os.path.abspath(end) in checked
    }
    if not paths:
        return results
    items: list[tuple[Path, bytes | FileError]] = [
        (checked[os.path.abspath(p)].path, source)
        for p in sorted(paths)
        if (source := source_of(p)) is not None
    ]
    both = replace(shared, accepted_backrefs=frozenset(accepted.values()))
    final = {os.path.abspath(r.path): r for r in checker.check_all(items, both)}
    return [
        _merged(r, final[where]) if (where := os.path.abspath(r.path)) in final else r
        for r in results
    ]


def _current(result: FileResult) -> bytes | None:
    """What the file holds after the first run. Results of modules that did not
    name SQLAlchemy do not keep their bytes: those are read again."""
    if result.fixed is not None or result.source is not None:
        return result.fixed if result.fixed is not None else result.source
    if result.errors:
        return None
    source = _read(result.path)
    return source if isinstance(source, bytes) else None


def _reached_through_module(
    helper: QueryHelper, sources: Mapping[Path, bytes | None]
) -> bool:
    """Some module may call the helper as `queries.active(...)`, a use the
    import-based bookkeeping above does not see."""
    spelled = f"{helper.module.rsplit('.', 1)[-1]}.{helper.name}".encode()
    return any(source is not None and spelled in source for source in sources.values())


def _merged(first: FileResult, last: FileResult) -> FileResult:
    """One file's result over two runs: the fixes of both, the last findings."""
    return replace(
        last,
        applied=first.applied + last.applied,
        source=first.source,
        fixed=last.fixed if last.fixed is not None else first.fixed,
        errors=tuple(dict.fromkeys(first.errors + last.errors)),
    )


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
        source = _read(path)
        if isinstance(source, bytes):
            facts = cache.module_facts(path, source) if cache else module_facts(source)
            yield path, facts


def _read(path: Path) -> bytes | FileError:
    """The file's bytes, or why it cannot be read. Only a regular file is opened:
    reading a named pipe called `x.py` would wait forever."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return FileError("read", "cannot read: not a regular file")
        return path.read_bytes()
    except OSError as error:
        return _os_error("read", error)


def _check_file(
    item: tuple[Path, bytes, Settings], project: ProjectIndex
) -> FileResult:
    """One file's result; workers compute, only the main process writes."""
    path, source, settings = item
    from orm_modernize.engine.lint import lint_source  # LibCST: only when parsing

    if settings.fix:  # imported once, outside the file's budget
        import orm_modernize.engine.import_edits  # noqa: F401

    try:
        with _collected_after(), _budget(len(source)) as (seconds, rearm):
            result = lint_source(
                source, path, settings, project=project, each_pass=rearm
            )
    except OverBudget:
        return FileResult(
            path,
            source=source,
            errors=(
                FileError(
                    "budget",
                    f"analysis took too long (a pass over {round(seconds, 1):g} s of"
                    " processor time); file left as is",
                ),
            ),
        )
    except Exception as error:  # the one broad catch: a rule's crash stays in its file
        _raise_interruption(error)
        if isinstance(error.__cause__ or error, RecursionError):
            # Not a bug: Python's recursion limit, on code CPython itself compiles.
            return FileResult(
                path,
                source=source,
                errors=(FileError("nesting", "nested too deeply for the analysis"),),
            )
        return FileResult(
            path,
            source=source,
            errors=(_internal_error(error),),
            crash="".join(traceback.format_exception(error)),
        )
    return result


def _written(result: FileResult) -> FileResult:
    """The result once its fixed bytes are written: in the main process, so that
    an interrupted run stops writing when it stops, and workers can be left to
    die at any moment."""
    if not result.changed or result.fixed is None:
        return result
    try:
        write_atomically(result.path, result.fixed)
    except OSError as error:
        return FileResult(
            result.path,
            diagnostics=result.diagnostics,
            source=result.source,
            errors=(_os_error("write", error),),
        )
    return result


def _raise_interruption(error: BaseException) -> None:
    """An error raised while handling Ctrl-C (a `finally` block that fails, ours or
    a library's) must not turn the interruption into one file's internal error
    and let the run go on."""
    seen: BaseException | None = error
    while seen is not None:
        if not isinstance(seen, Exception):
            raise seen
        seen = seen.__context__


def _os_error(action: Literal["read", "write"], error: OSError) -> FileError:
    return FileError(action, f"cannot {action}: {error.strerror or error}")


def _internal_error(error: Exception) -> FileError:
    """`internal error in ORM406: KeyError: 'x'`: the rule, if one raised, and the
    error that started it, on one line."""
    from orm_modernize.engine.lint import RuleError

    where = ""
    cause: BaseException = error
    if isinstance(error, RuleError):
        where = f" in {error}"
        cause = error.__cause__ or error
    text = " ".join(str(cause).split())
    detail = f"{type(cause).__name__}: {text}" if text else type(cause).__name__
    return FileError("internal", f"internal error{where}: {detail}")


class OverBudget(BaseException):
    """A file's analysis ran past its budget. Not an `Exception`: no `except
    Exception` on the way up may take it for a rule's error and go on."""


# The processor time one pass of a file's analysis may take: a base, and more for
# a larger file (the first pass fixing SQLAlchemy's 330 KB test_deprecations.py
# takes 50 s, most in LibCST's import codemods; each pass has its own budget).
# Processor time, not wall time, so that a loaded machine does not fail a file
# that is merely slow. Every analysis is meant to be linear; this is the second
# line of defence, so that a case we missed is one file's error, never a hang.
BUDGET_SECONDS = 30.0
BUDGET_SECONDS_PER_MB = 120.0


@contextmanager
def _budget(size: int) -> Iterator[tuple[float, Callable[[], None]]]:
    """Raise `OverBudget` in the block when a pass uses more processor time than
    the budget of a file of `size` bytes; the block calls the function it is
    given as each pass starts. `ORM_MODERNIZE_FILE_BUDGET` sets one budget for
    every file, in seconds. Needs SIGVTALRM and the main thread (as in the CLI
    and its workers); elsewhere the block runs without a budget."""
    import signal
    import threading

    chosen = os.environ.get("ORM_MODERNIZE_FILE_BUDGET")
    seconds = (
        float(chosen)
        if chosen
        else BUDGET_SECONDS + BUDGET_SECONDS_PER_MB * size / 1_000_000
    )
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield seconds, lambda: None
        return

    def over(signum: int, frame: object) -> None:
        raise OverBudget

    def rearm() -> None:
        signal.setitimer(signal.ITIMER_VIRTUAL, seconds)

    previous = signal.signal(signal.SIGVTALRM, over)
    rearm()
    try:
        yield seconds, rearm
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


@contextmanager
def _collected_after() -> Iterator[None]:
    """No garbage collection while a file is checked, one after.

    A file's tree and its analysis (scopes point to their bindings and back) are
    freed by the cycle collector, not by reference counting; left to itself it
    runs full collections over the growing heap many times per large file, a fifth
    of the run. The objects alive before the first file (modules, the project's
    index) are frozen, so the collection after each file visits only that file's.
    """
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


_frozen = False
