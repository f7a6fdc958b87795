"""Dotted names of the project's modules: from a file's path, walking up through
its `__init__.py` packages, and of what a relative import names."""

from __future__ import annotations

import os
from pathlib import Path


def module_name(path: Path, known: dict[str, str] | None = None) -> str:
    """Dotted module name of `path`, walking up through `__init__.py` packages;
    `known` remembers the packages of directories over many calls."""
    known = {} if known is None else known
    parent = str(path.parent)
    if parent not in known:  # resolved once per directory: symlinks lead elsewhere
        known[parent] = _package(os.path.realpath(parent), known)
    package = known[parent]
    if path.stem == "__init__":
        return package
    return f"{package}.{path.stem}" if package else path.stem


def _package(directory: str, known: dict[str, str]) -> str:
    """The dotted package a resolved directory is ("": none)."""
    if directory not in known:
        package = ""
        if os.path.isfile(os.path.join(directory, "__init__.py")):
            parent, name = os.path.split(directory)
            outer = _package(parent, known) if parent != directory else ""
            package = f"{outer}.{name}" if outer else name
        known[directory] = package
    return known[directory]


def absolute(qualified: str, package: str) -> str | None:
    """`..models.User` imported in package `app.views` is `app.models.User`; None
    when the dots climb above the top package."""
    dots = len(qualified) - len(qualified.lstrip("."))
    if not dots:
        return qualified
    parts = package.split(".") if package else []
    if dots - 1 >= len(parts):
        return None
    return ".".join([*parts[: len(parts) - (dots - 1)], qualified[dots:]])
