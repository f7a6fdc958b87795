"""`check --show-settings FILE`: the settings that apply to one file once every
layer is resolved, each with the layers that said something of it (lowest
first), so that a user sees why a rule is on or a fix graded as it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from orm_modernize.workspace.config import Configuration, Options

# Each shown value, and the option keys (Options fields) that decide it.
DECIDED_BY: dict[str, tuple[str, ...]] = {
    "select": (
        "select",
        "extend_select",
        "ignore",
        "per_file_ignores",
        "extend_per_file_ignores",
    ),
    "fixable": ("fixable", "extend_fixable"),
    "unfixable": ("unfixable",),
    "safe_fixes": ("extend_safe_fixes",),
    "unsafe_fixes_of": ("extend_unsafe_fixes",),
    "unsafe_fixes": ("unsafe_fixes",),
    "target_version": ("target_version",),
    "line_length": ("line_length",),
    "exclude": ("exclude", "extend_exclude"),
    "force_exclude": ("force_exclude",),
    "respect_gitignore": ("respect_gitignore",),
    "include_migrations": ("include_migrations",),
    "cache_dir": ("cache_dir",),
}
# What a value left unset means (the engine reads it from the project)
UNSET = {
    "target_version": "from the project's SQLAlchemy pin, else 2.0",
    "line_length": "from the project's ruff, black or flake8 configuration, else 88",
    "cache_dir": ".orm_modernize_cache in the project root",
}


def report(
    path: Path, configuration: Configuration, layers: Sequence[tuple[str, Options]]
) -> str:
    settings = configuration.settings_for(path)
    values: dict[str, object] = {
        f.name: getattr(settings, f.name)
        for f in fields(settings)
        if f.name in DECIDED_BY
    }
    values.update(
        exclude=tuple(g for patterns in configuration.exclude for g in patterns.globs),
        force_exclude=configuration.force_exclude,
        respect_gitignore=configuration.respect_gitignore,
        include_migrations=configuration.include_migrations,
        cache_dir=configuration.cache_dir,
    )
    default = Options()
    lines = [f"Settings for {path}:"]
    for name, value in values.items():
        said = [
            where
            for where, options in layers
            if any(getattr(options, k) != getattr(default, k) for k in DECIDED_BY[name])
        ]
        shown = UNSET.get(name, "None") if value is None else _shown(value)
        lines.append(f"  {name} = {shown}  # {', '.join(said) or 'default'}")
    return "\n".join(lines) + "\n"


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
