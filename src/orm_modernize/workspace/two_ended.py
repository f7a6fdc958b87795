"""The runs that rewrite two modules together, or neither: a query helper with
its callers, a `backref=` with the module of the class at its other end, a
`query_property()` with the `Model.query` reads the same run converted, a
dynamic relationship with its uses in other modules."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from orm_modernize.analysis.module_facts import ModuleClasses, reads_query
from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.data.records import (
    FileError,
    FileResult,
    QueryHelper,
    WriteOnly,
)
from orm_modernize.workspace.checker import Checker, skipped_as
from orm_modernize.workspace.files import read_file


def with_shared_helpers(
    results: list[FileResult], checker: Checker, project: ProjectIndex
) -> list[FileResult]:
    """Query helpers that other modules call, converted at both ends or not at
    all: a run over the modules that may call them says which calls can be
    finished, and a last run over the checked ones converts the helpers whose
    every call can.

    A function is followed into every module of the project that imports it; a
    method (`Tickets.open_ones()`) into every module that names it. Those the
    run does not check are read, and so is the module defining a helper that a
    checked module calls: a file checked alone gets the findings of the whole
    project's run. A run that fixes converts one only when it has every module
    involved (pre-commit passes the changed files), and says which is missing
    otherwise."""
    checked = {os.path.abspath(r.path): r for r in results}
    origin = {h: os.path.abspath(r.path) for r in results for h in r.exports.helpers}
    defining = sorted(_defining_elsewhere(project, checked))
    sources = {p: s for p in defining if (s := _source(p, checked))}
    for result in checker.probing().check_all(_items(sources, checked), project):
        origin.update((h, os.path.abspath(result.path)) for h in result.exports.helpers)
    if not origin:
        return results
    callers = {h: _callers(h, where, project) for h, where in origin.items()}
    sources = {}
    for helper, (required, others) in callers.items():
        for path in (origin[helper], *required, *(others or ())):
            if path not in sources and (source := _source(path, checked)):
                sources[path] = source
    shared = replace(project, query_helpers=frozenset(origin))
    calls: dict[tuple[str, str], dict[str, bool]] = {}  # -> {module: convertible}
    for result in checker.probing().check_all(_items(sources, checked), shared):
        for call in result.exports.helper_calls:
            answers = calls.setdefault((call.module, call.name), {})
            where = os.path.abspath(result.path)
            answers[where] = answers.get(where, True) and call.convertible
    fixing = checker.write or checker.config.settings.fix
    accepted: set[QueryHelper] = set()
    refused: list[tuple[QueryHelper, str]] = []
    for helper, (required, others) in callers.items():
        answers = calls.get((helper.module, helper.name), {})
        if not all(answers.values()) or not all(answers.get(p) for p in required):
            continue  # the findings of the module that cannot say why
        if others is None or _reached(helper, [sources.get(p, b"") for p in others]):
            continue  # called through its module, or through a re-export
        involved = [origin[helper], *required]
        missing = [p for p in involved if p not in checked] if fixing else []
        if missing:
            refused.append((helper, _not_checked(helper, missing[0], origin)))
        else:
            accepted.add(helper)
    # Every module read is a helper's own or may call one: the checked ones run
    final = {p: source for p, source in sources.items() if p in checked}
    done = replace(
        shared, accepted_helpers=frozenset(accepted), refused_helpers=tuple(refused)
    )
    return _with_final(results, checker.check_all(_items(final, checked), done))


def _defining_elsewhere(
    project: ProjectIndex, checked: Mapping[str, FileResult]
) -> set[str]:
    """The modules the run does not check that define a query helper a checked
    module may call: a method it names, a function it imports."""
    methods = {
        path
        for name, paths in project.query_methods
        if any(p in checked for p in project.mentioning(name) or ())
        for path in paths
    }
    functions = {
        where
        for _, where, by_name, by_module, _ in project.query_functions
        if any(p in checked for p in (*by_name, *by_module))
    }
    return (methods | functions) - set(checked)


def _callers(
    helper: QueryHelper, where: str, project: ProjectIndex
) -> tuple[list[str], list[str] | None]:
    """The modules besides `where` (its own) that must answer for their calls
    of `helper`, and those that may reach a function another way (`.name`, as
    in `queries.active()`); None for those when a module surely does, in a way
    not followed: it imports the function's module and names `.name`, or imports
    the function through a module that re-exports it."""
    named = project.naming_besides(helper.name, where)
    if helper.owner:
        return named, []
    found = project.query_function(f"{helper.module}.{helper.name}")
    if found is None:
        return [], named
    _, by_name, by_module, reexported = found
    required = [p for p in by_name if p != where]
    if reexported or set(by_module) & set(named):
        return required, None
    return required, named


def _not_checked(
    helper: QueryHelper, missing: str, origin: Mapping[QueryHelper, str]
) -> str:
    """Why a run that fixes leaves `helper` and its calls: a module is missing."""
    how = "defines" if missing == origin[helper] else "calls"
    shown = f"{helper.owner or helper.module}.{helper.name}()"
    return f"{os.path.relpath(missing)}, which {how} `{shown}`, is not checked"


def _items(
    sources: Mapping[str, bytes], checked: Mapping[str, FileResult]
) -> list[tuple[Path, bytes | FileError]]:
    """(path, bytes) to check of modules at absolute paths: a checked module's
    as the run names it."""
    return [
        (checked[p].path if p in checked else Path(p), source)
        for p, source in sources.items()
    ]


def with_foreign_backrefs(
    results: list[FileResult],
    checker: Checker,
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
            found = _source(where, checked)
            if found is None:
                return None
            current[where] = found
        return current[where]

    # Owners: the checked modules' backrefs, and those of other modules naming a
    # class that a checked module defines, and no other module (a pair needs its
    # target defined once: SQLAlchemy's own tests define a `User` in hundreds).
    pending = {b.key: (r.path, b) for r in results for b in r.exports.foreign_backrefs}
    definitions = Counter(name for module in modules for name in module.classes)
    defined = {
        name
        for module in modules
        if module.path in checked
        for name in module.classes
        if name in project.mapped and definitions[name] == 1
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
    return _with_final(results, checker.check_all(items, both))


def with_write_only_uses(
    results: list[FileResult], checker: Checker, project: ProjectIndex
) -> list[FileResult]:
    """Dynamic relationships that other modules use, made write-only in every
    module or none. A probing run over the module declaring each and the modules
    naming it (read, not written, when the run does not check them) says
    whether each module can take its part; a last run over the checked ones
    rewrites them all, or, fixing without some of them (pre-commit passes the
    changed files), reports the uses and says which module is missing."""
    checked = {os.path.abspath(r.path): r for r in results}
    involved: dict[str, list[str]] = {}  # name -> its module, then those naming it
    for name, declaring in project.dynamic:
        others = project.naming_besides(name, declaring)
        if (
            others
            and any(p in checked for p in (declaring, *others))
            and not _refused_at_home(name, checked.get(declaring))
        ):
            involved[name] = [declaring, *others]
    if not involved:
        return results
    sources = {
        path: source
        for path in sorted({p for paths in involved.values() for p in paths})
        if (source := _source(path, checked)) is not None
    }
    # An Alembic revision or generated code is never rewritten: one that has the
    # name in strings only (`op.drop_table("blocked_users")`) does not use it.
    for name, (declaring, *others) in involved.items():
        involved[name] = [declaring] + [
            p
            for p in others
            if p not in sources
            or skipped_as(Path(p), sources[p], checker.config) is None
            or re.search(rb"\.%s\b" % re.escape(name.encode()), sources[p])
        ]
    asked = replace(project, dynamic_probed=frozenset(involved))
    refused: dict[tuple[str, str], str] = {}  # (name, module) -> why not its part
    for result in checker.probing().check_all(_items(sources, checked), asked):
        for use in result.exports.dynamic_uses:
            key = (use.name, os.path.abspath(result.path))
            refused[key] = refused.get(key) or use.refused
    fixing = checker.write or checker.config.settings.fix
    unchecked = {p for paths in involved.values() for p in paths if p not in checked}
    decided = [
        w
        for name, paths in involved.items()
        if (w := _decision(name, paths, refused, unchecked if fixing else set()))
    ]
    final_paths = {
        p
        for w in decided
        for p in (involved[w.name] if w.uses else involved[w.name][:1])
        if p in checked and p in sources
    }
    if not final_paths:
        return results
    both = replace(asked, write_only=tuple(decided))
    last = {p: sources[p] for p in sorted(final_paths)}
    return _with_final(results, checker.check_all(_items(last, checked), both))


def _refused_at_home(name: str, declaring: FileResult | None) -> bool:
    """Whether the module declaring the dynamic relationship `name` said in the
    first run that it cannot take its own part, whatever the others say, of the
    bytes a probe would read (no fix of that run changed them): the probe's
    answer, and `_decision()` then leaves every module as it is."""
    return (
        declaring is not None
        and (declaring.fixed is None or declaring.fixed == declaring.source)
        and any(u.name == name and u.refused for u in declaring.exports.dynamic_uses)
    )


def _decision(
    name: str,
    paths: list[str],
    refused: dict[tuple[str, str], str],
    unchecked: set[str],
) -> WriteOnly | None:
    """What the last run does with the dynamic relationship `name`, declared in
    `paths[0]` and named in the others, from each module's answer in `refused`
    ("" when it can take its part); None when the declaring module's own finding
    says why not. `unchecked`: the modules a run that fixes does not have."""
    answers = [refused.get((name, p)) for p in paths]
    for path, answer in zip(paths, answers):
        if answer == "":
            continue
        if answers[0] != "":
            return None
        why = answer or f"{os.path.relpath(path)} may use `.{name}` and was not checked"
        return WriteOnly(name, uses=False, refused=why)
    missing = [p for p in paths if p in unchecked]
    if not missing:
        return WriteOnly(name, uses=True)
    how = "declares" if missing[0] == paths[0] else "also uses"
    why = f"{os.path.relpath(missing[0])} {how} `.{name}` and is not checked"
    return WriteOnly(name, uses=True, refused=why)


def without_unread_query_properties(
    results: list[FileResult], checker: Checker, project: ProjectIndex
) -> list[FileResult]:
    """A `query_property()` left because some module read a `query` attribute
    (ORM005), when this run's fixes leave no module reading one: the modules
    that make it are fixed again, knowing so. A reader the run did not check
    (pre-commit passes the changed files) still reads."""
    if not checker.config.settings.fix or not project.query_readers:
        return results
    stale = [
        r
        for r in results
        if any(d.code == "ORM005" and d.applicability is None for d in r.diagnostics)
    ]
    fixed = {os.path.abspath(r.path): r.fixed for r in results if r.fixed is not None}
    if not stale or any(
        path not in fixed or reads_query(fixed[path]) for path in project.query_readers
    ):
        return results
    items: list[tuple[Path, bytes | FileError]] = [
        (r.path, source) for r in stale if (source := _current(r)) is not None
    ]
    unread = replace(project, query_readers=frozenset())
    return _with_final(results, checker.check_all(items, unread))


def _current(result: FileResult) -> bytes | None:
    """What the file holds after the first run. Results of modules that did not
    name SQLAlchemy do not keep their bytes: those are read again."""
    if result.fixed is not None or result.source is not None:
        return result.fixed if result.fixed is not None else result.source
    if result.errors:
        return None
    source = read_file(result.path)
    return source if isinstance(source, bytes) else None


def _reached(helper: QueryHelper, sources: Sequence[bytes]) -> bool:
    """Some module may call the helper as `queries.active(...)`, or, for a
    method, so reach a function of its name: a use the bookkeeping above does
    not follow."""
    if helper.owner:
        return False
    spelled = f"{helper.module.rsplit('.', 1)[-1]}.{helper.name}".encode()
    return any(spelled in source for source in sources)


def _source(path: str, checked: Mapping[str, FileResult]) -> bytes | None:
    """What the module at `path` (absolute) holds now: a checked module's bytes
    after the first run, another's as read."""
    result = checked.get(path)
    found = _current(result) if result is not None else read_file(Path(path))
    return found if isinstance(found, bytes) else None


def _with_final(results: list[FileResult], final: list[FileResult]) -> list[FileResult]:
    """`results` with those a last run checked again merged with theirs."""
    again = {os.path.abspath(r.path): r for r in final}
    return [
        _merged(r, again[where]) if (where := os.path.abspath(r.path)) in again else r
        for r in results
    ]


def _merged(first: FileResult, last: FileResult) -> FileResult:
    """One file's result over two runs: the fixes of both, the last findings."""
    return replace(
        last,
        applied=first.applied + last.applied,
        source=first.source if first.source is not None else last.source,
        fixed=last.fixed if last.fixed is not None else first.fixed,
        errors=tuple(dict.fromkeys(first.errors + last.errors)),
    )
