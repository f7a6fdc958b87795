"""What the project's modules import from each other (`from x import y`, read
by `module_facts`): chains of re-exports followed to their end, and the
modules that import each query function, for `project.index_of()`."""

from __future__ import annotations

from collections.abc import Collection

from orm_modernize.analysis.module_facts import ModuleFacts, name_text
from orm_modernize.analysis.module_names import absolute

# The packages whose names a project module may re-export for its others
LIBRARIES = ("sqlalchemy.", "flask_sqlalchemy.")


def note_imports(
    name: str,
    package: str,
    path: str,
    facts: ModuleFacts,
    aliases: dict[str, str],
    importing: dict[str, set[str]],
) -> None:
    """Each `from x import y` of the module `name` (at `path`) in `aliases`
    ("name.y" -> "x.y", made absolute) and `importing` ("x.y" -> its importers;
    "x.*" for `from x import *`)."""
    for local, qualified in facts.imports:
        source = absolute(name_text(qualified), package)
        if source is not None:
            aliases[f"{name}.{name_text(local)}"] = source
            importing.setdefault(source, set()).add(path)
    for module in facts.star_imports:
        source = absolute(f"{name_text(module)}.*", package)
        if source is not None:
            importing.setdefault(source, set()).add(path)


def query_functions_imported(
    functions: list[tuple[str, str, str]],
    importing: dict[str, set[str]],
    aliases: dict[str, str],
) -> tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], bool], ...]:
    """`ProjectIndex.query_functions` of the `functions` (module, its path,
    function) that some module imports, by name or through their module."""
    wanted = {f"{module}.{function}" for module, _, function in functions}
    # A module re-exporting one (`from app.queries import active` in a package's
    # `__init__.py`) that another module imports in turn
    reexported = {v for k, v in aliases.items() if v in wanted and k in importing}
    found = []
    for module, where, function in sorted(functions):
        qualified = f"{module}.{function}"
        # `from x import *` binds it too: its importers answer for their calls
        by_name = tuple(
            sorted(
                importing.get(qualified, set()) | importing.get(f"{module}.*", set())
            )
        )
        by_module = tuple(sorted(importing.get(module, ())))
        if by_name or by_module:
            found.append(
                (qualified, where, by_name, by_module, qualified in reexported)
            )
    return tuple(found)


def library_reexports(aliases: dict[str, str], packages: set[str]) -> dict[str, str]:
    """The project names that re-export a SQLAlchemy (or Flask-SQLAlchemy) name:
    each name imported from a module that imports it in turn, followed to where
    the chain ends."""
    found: dict[str, str] = {}
    for middle in set(aliases.values()) & aliases.keys():
        end = followed(middle, aliases, ())
        if end.startswith(LIBRARIES) and end.split(".", 1)[0] not in packages:
            found[middle] = end
    return found


def followed(name: str, aliases: dict[str, str], ends: Collection[str]) -> str:
    """Where the imports `name` goes through end: at one of `ends`, or where the
    project no longer says (a cycle of imports ends where it closes)."""
    seen = {name}
    while name not in ends and name in aliases and aliases[name] not in seen:
        name = aliases[name]
        seen.add(name)
    return name
