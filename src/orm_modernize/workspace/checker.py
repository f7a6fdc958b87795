"""Checking files: from the cache or the engine, in a process pool when there is
work for one, each file within its time budget; writing a fixed file atomically."""

from __future__ import annotations

import gc
import os
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.data.records import (
    FileError,
    FileResult,
    Settings,
    Skipped,
)
from orm_modernize.workspace.atomic import write_atomically
from orm_modernize.workspace.cache import Cache, digest, result_key
from orm_modernize.workspace.config import Configuration
from orm_modernize.workspace.files import os_error
from orm_modernize.workspace.pool import in_parallel


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


# The `@generated` marker counts in a file's header, as in Phabricator and Buck.
GENERATED_WITHIN = 4096


# progress(files parsed so far, files to parse)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Checker:
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
        work = partial(check_file, project=project)
        fresh: list[FileResult] = []
        # Closed at once when this loop is interrupted (Ctrl-C, or SIGTERM while a
        # file is written): see in_parallel().
        with closing(self._parsed(work, todo)) as results:
            for result in results:
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
    ) -> Generator[FileResult, None, None]:
        # Largest first, one at a time: the workers finish together instead of
        # one of them ending on a run of big test modules.
        if self.jobs > 1:
            todo.sort(key=lambda item: len(item[1]), reverse=True)
        return in_parallel(work, todo, self.jobs)

    def probing(self) -> Checker:
        """The same checks, fixing and writing nothing."""
        settings = replace(self.config.settings, fix=False)
        return replace(
            self, config=replace(self.config, settings=settings), write=False
        )


def check_file(item: tuple[Path, bytes, Settings], project: ProjectIndex) -> FileResult:
    """One file's result; workers compute, only the main process writes."""
    path, source, settings = item
    from orm_modernize.engine.lint import lint_source  # LibCST: only when parsing

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
            errors=(os_error("write", error),),
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


def _internal_error(error: Exception) -> FileError:
    """`internal error in ORM406: KeyError: 'x'`: the rule, if one raised, and the
    error that started it, on one line."""
    from orm_modernize.engine.applying import RuleError

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


_frozen = False  # gc.freeze() done, once per process


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
