"""The line length a project formats its code to, read from its formatter's and
linter's configuration at the project's root, so that a fixed statement that no
longer fits is split as the project's formatter would split it.

In order: ruff (`.ruff.toml`, `ruff.toml`, then `[tool.ruff]` of
`pyproject.toml`, as ruff reads them), black (`[tool.black]`, or 88 where
`tox.ini` or `.pre-commit-config.yaml` runs black with its default: the formatter
lays the code out, whatever a linter allows), flake8 or pycodestyle
(`max-line-length` in `.flake8`, `setup.cfg` or `tox.ini`); else black's and
ruff's default, 88.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from orm_modernize.analysis.toml_files import toml_data

DEFAULT = 88
BLACK = re.compile(r"\bblack\b")  # `black --check`, `repo: .../psf/black`


def read_line_length(root: Path) -> int:
    """The line length of the project at `root`."""
    for name in (".ruff.toml", "ruff.toml"):
        found = _toml(root / name, ())
        if found is not None:
            return found
    for table in (("tool", "ruff"), ("tool", "black")):
        found = _toml(root / "pyproject.toml", table)
        if found is not None:
            return found
    if any(_runs_black(root / name) for name in ("tox.ini", ".pre-commit-config.yaml")):
        return DEFAULT
    for name in (".flake8", "setup.cfg", "tox.ini"):
        found = _ini(root / name)
        if found is not None:
            return found
    return DEFAULT


def _toml(path: Path, table: tuple[str, ...]) -> int | None:
    data: object = toml_data(path)
    if data is None:
        return None
    for key in table:
        data = data.get(key) if isinstance(data, dict) else None
    value = data.get("line-length") if isinstance(data, dict) else None
    return value if isinstance(value, int) and value > 0 else None


def _runs_black(path: Path) -> bool:
    try:
        return path.is_file() and BLACK.search(path.read_text("utf-8")) is not None
    except (OSError, UnicodeDecodeError):
        return False


def _ini(path: Path) -> int | None:
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    for section in ("flake8", "pycodestyle"):
        for key in ("max-line-length", "max_line_length"):
            value = parser.get(section, key, fallback=None)
            if value is not None and value.strip().isdigit() and int(value) > 0:
                return int(value)
    return None
