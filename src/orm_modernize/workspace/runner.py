"""Files in, results out: a run over the files passed (or one buffer from stdin),
with the project they belong to, and `--add-noqa`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from orm_modernize.analysis.pins import target_of
from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.data.records import (
    FileError,
    FileResult,
)
from orm_modernize.workspace.atomic import write_atomically
from orm_modernize.workspace.cache import Cache
from orm_modernize.workspace.checker import Checker, Progress, check_file, skipped_as
from orm_modernize.workspace.config import Configuration
from orm_modernize.workspace.files import (
    Walked,
    discover,
    os_error,
    project_modules,
    read_file,
)
from orm_modernize.workspace.two_ended import (
    with_foreign_backrefs,
    with_shared_helpers,
    with_write_only_uses,
    without_unread_query_properties,
)


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
    walked: Walked = {}
    files, results = discover(paths, config, walked=walked)
    jobs = jobs or os.cpu_count() or 1
    modules, project = project_modules(files, config, cache, jobs=jobs, walked=walked)
    checker = Checker(config, write, jobs, cache)
    # Each file is read again here rather than held since the pre-pass: the bytes
    # kept are those of the modules that use SQLAlchemy, not the whole tree's.
    items = ((path, read_file(path)) for path in files)
    checked = checker.check_all(items, project, progress)
    checked = with_shared_helpers(checked, checker, project)
    checked = with_foreign_backrefs(checked, checker, project, modules)
    checked = with_write_only_uses(checked, checker, project)
    checked = without_unread_query_properties(checked, checker, project)
    if cache is not None:
        cache.save()
    results.extend(_targeted(r, config, project) for r in checked)
    return sorted(results, key=lambda r: str(r.path))


def show_files(
    paths: Sequence[Path], config: Configuration
) -> list[tuple[Path, str | None]]:
    """What a run over `paths` would do with each file, sorted: None for a file it
    parses and checks, else why not (excluded, gitignored, a virtualenv's,
    generated, an Alembic migration, or nothing in it names SQLAlchemy or the
    project's models). Directories left out are listed once, not file by file."""
    skipped: list[tuple[str, str]] = []
    files, _ = discover(paths, config, skipped)
    _, project = project_modules(files, config)
    shown: list[tuple[Path, str | None]] = [(Path(p), why) for p, why in skipped]
    for path in files:
        source = read_file(path)
        if isinstance(source, bytes):
            why: str | None = skipped_as(path, source, config)
            if why is None and not project.may_use_sqlalchemy(source):
                why = "names no SQLAlchemy: not parsed"
            shown.append((path, why))
        else:
            shown.append((path, f"cannot read: {source}"))
    return sorted(shown, key=lambda item: os.path.abspath(item[0]))


def _targeted(
    result: FileResult, config: Configuration, project: ProjectIndex
) -> FileResult:
    """The result with the SQLAlchemy version its fixes had to run on, which the
    CLI explains when it was assumed or ruled every fix out: for a file with a
    finding or a fix (most of a large project's modules have neither)."""
    if result.skipped is not None or not (result.diagnostics or result.applied):
        return result
    chosen = config.settings_for(result.path).target_version
    return replace(result, target=target_of(chosen, project.pins_for(result.path)))


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
    result = check_file((path, source, config.settings_for(path)), project)
    checker = Checker(config, write=False, jobs=1, cache=cache)
    (result,) = with_shared_helpers([result], checker, project)
    (result,) = with_foreign_backrefs([result], checker, project, modules)
    (result,) = with_write_only_uses([result], checker, project)
    if cache is not None:
        cache.save()
    return _targeted(result, config, project)


def add_noqa(
    results: Sequence[FileResult], reason: str | None = None
) -> tuple[int, list[FileResult]]:
    """Write a `# noqa: CODES` comment (`# noqa: CODES reason`) for every finding
    of `results`, for a team that gates new code before migrating the old.
    Returns how many lines got one, and an error result for each file left
    unchanged because it could not be."""
    import ast
    import io
    import tokenize

    from orm_modernize.syntax import noqa
    from orm_modernize.syntax.parsing import python_tree

    added, failed = 0, []
    for result in results:
        if not result.diagnostics or result.source is None:
            continue
        lines: dict[int, set[str]] = {}
        for diagnostic in result.diagnostics:
            # A stale noqa comment is not silenced by another (ruff's RUF100 alike)
            if diagnostic.code != "ORM900":
                lines.setdefault(diagnostic.line, set()).add(diagnostic.code)
        if not lines:
            continue
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(result.source).readline)
            new, count = noqa.with_directives(result.source, encoding, lines, reason)
            # The same syntax tree: the comments landed in code, not in a string.
            same = ast.dump(python_tree(new)) == ast.dump(python_tree(result.source))
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
            failed.append(FileResult(result.path, errors=(os_error("write", error),)))
            continue
        added += count
    return added, failed
