"""The project's version pins of the libraries whose API a fix may use.

    flask-sqlalchemy>=2.5,<3     ->  Pin("flask-sqlalchemy", floor=(2, 5), ...)

A fix may only emit code that runs on every version the project admits: a pin
that still allows Flask-SQLAlchemy 2.x rules out `db.paginate()`, which 3.0 added.
The pins are read without installing anything, from the nearest directory (walking
up from the checked paths) that holds `pyproject.toml` (PEP 621 or Poetry),
`setup.cfg`, `setup.py` or `requirements*.txt`. Only the lowest version a pin admits
matters, so specifiers are reduced to that floor.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

Version = tuple[int, ...]

# The distributions whose pins the rules read, normalised (PEP 503), and Python
# itself (`requires-python`, Poetry's `python`, `python_requires`).
WATCHED = frozenset({"sqlalchemy", "flask-sqlalchemy", "python"})
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
# name[extras] specifiers ; markers
REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(\(?[^;#@]*)", re.A
)
SPECIFIER = re.compile(r"(===|==|~=|>=|<=|!=|>|<|\^|~)\s*([0-9][0-9.*]*)")
LOWER_BOUNDS = frozenset({"===", "==", "~=", ">=", ">", "^", "~"})
# A quoted requirement in setup.py: "Flask-SQLAlchemy>=2.5"
QUOTED = re.compile(
    r"""["']([A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*[=<>!~][^"']*)["']"""
)


@dataclass(frozen=True)
class Pin:
    """The lowest version of `name` that the file at `source` admits."""

    name: str
    floor: Version  # (0,): no lower bound at all
    source: str  # the file it was read from, relative to the project root

    def admits_below(self, version: Version) -> bool:
        return self.floor < version


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(paths: Sequence[Path]) -> tuple[Pin, ...]:
    """The pins of the watched libraries in the project that holds `paths`."""
    root = project_root(paths)
    if root is None:
        return ()
    pins: list[Pin] = []
    for path, requirements in _requirements(root):
        source = path.relative_to(root).as_posix()
        for requirement in requirements:
            pin = parse_requirement(requirement, source)
            if pin is not None:
                pins.append(pin)
    return tuple(sorted(set(pins), key=lambda p: (p.name, p.floor, p.source)))


def lowest_floor(pins: Iterable[Pin], name: str) -> Pin | None:
    """The pin of `name` that admits the oldest version (None: not pinned)."""
    found = [pin for pin in pins if pin.name == name]
    return min(found, key=lambda p: p.floor) if found else None


def project_root(paths: Sequence[Path]) -> Path | None:
    """The nearest directory above the first path that declares dependencies."""
    start = (paths[0] if paths else Path.cwd()).resolve()
    for directory in [start, *start.parents]:
        if not directory.is_dir():
            continue
        if any((directory / name).is_file() for name in PROJECT_FILES) or any(
            directory.glob("requirements*.txt")
        ):
            return directory
        if (directory / ".git").exists():
            return None  # the repository's top: nothing declares dependencies
    return None


def parse_requirement(text: str, source: str) -> Pin | None:
    """A watched library's requirement (`Flask_SQLAlchemy >= 2.5, < 3`) as a Pin."""
    match = REQUIREMENT.match(text)
    if match is None or normalise(match.group(1)) not in WATCHED:
        return None
    return _pin(normalise(match.group(1)), match.group(2), source)


def _pin(name: str, specifiers: str, source: str) -> Pin | None:
    found = SPECIFIER.findall(specifiers)
    if not found:
        return None  # unconstrained: whatever is current, which is what we target
    floors = [
        tuple(int(part) for part in version.split(".") if part.isdigit())
        for operator, version in found
        if operator in LOWER_BOUNDS
    ]
    return Pin(name, max(floors, default=(0,)) or (0,), source)


def _requirements(root: Path) -> Iterator[tuple[Path, list[str]]]:
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        yield pyproject, list(_pyproject(pyproject))
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        yield setup_cfg, _setup_cfg(setup_cfg)
    setup_py = root / "setup.py"
    if setup_py.is_file():
        yield setup_py, QUOTED.findall(_text(setup_py))
    listed = [*root.glob("requirements*.txt"), *root.glob("requirements/*.txt")]
    for path in sorted(listed):
        yield path, _text(path).splitlines()


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _pyproject(path: Path) -> Iterator[str]:
    try:
        data = tomllib.loads(_text(path))
    except tomllib.TOMLDecodeError:
        return  # a broken pyproject is the config reader's error to report
    project = data.get("project", {})
    if isinstance(project.get("requires-python"), str):
        yield f"python {project['requires-python']}"
    yield from _strings(project.get("dependencies", ()))
    for group in project.get("optional-dependencies", {}).values():
        yield from _strings(group)
    poetry = data.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in poetry.get("group", {}).values()]
    for table in tables:
        for name, spec in table.items():
            if isinstance(spec, dict):
                spec = spec.get("version", "")
            if isinstance(spec, str):
                yield f"{name} {'' if spec.strip() == '*' else spec}"


def _strings(values: object) -> list[str]:
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def _setup_cfg(path: Path) -> list[str]:
    import configparser  # only for projects that have a setup.cfg

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(_text(path))
    except configparser.Error:
        return []
    lines: list[str] = []
    if parser.has_option("options", "python_requires"):
        lines.append(f"python {parser.get('options', 'python_requires')}")
    if parser.has_option("options", "install_requires"):
        lines += parser.get("options", "install_requires").splitlines()
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            lines += value.splitlines()
    return lines
