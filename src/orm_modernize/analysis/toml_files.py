"""A project's TOML files, each parsed once however many readers ask (the pins,
the line length: a run read `pyproject.toml` three times). Keyed on the file's
stat, so a long-lived process sees an edited file anew."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def toml_data(path: Path) -> dict[str, Any] | None:
    """The parsed file; None when it is missing, unreadable or not valid TOML
    (the configuration reader reports a broken file of its own)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _parsed(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _parsed(path: str, mtime: int, size: int) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as file:
            return tomllib.loads(file.read())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
