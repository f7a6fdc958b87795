"""The project's version pins of the libraries whose API a fix may use.

    flask-sqlalchemy>=2.5,<3     ->  Pin("flask-sqlalchemy", ">=2.5,<3", ...)

A fix may only emit code that runs on every version the project admits: a pin
that still allows Flask-SQLAlchemy 2.x rules out `db.paginate()`, which 3.0 added.
The pins are read without installing anything, from the project that owns a file:
the nearest directory above it with `pyproject.toml` (PEP 621, PEP 735 groups or
Poetry), `setup.cfg` or `setup.py`, else the nearest with requirement files,
never past the repository's top. There, `requirements*.txt`, `constraints*.txt`
and every `.txt`/`.in` under `requirements/` are read, with the files they include
(`-r`, `-c`). Specifiers and markers are PEP 440/508, read by `packaging`. Where
sources disagree, the most permissive one counts: a fix must run on every version
some source admits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from orm_modernize.analysis.toml_files import toml_data
from orm_modernize.data.records import Target

if TYPE_CHECKING:  # `packaging` is imported when a pin is read: 35 ms a run
    from packaging.markers import Marker
    from packaging.version import Version


# The distributions whose pins the rules read, normalised (PEP 503), and Python
# itself (`requires-python`, Poetry's `python`, `python_requires`).
WATCHED = frozenset({"sqlalchemy", "flask-sqlalchemy", "python"})
CANONICAL = re.compile(r"[-_.]+")  # PEP 503: how a project name is normalized
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
REPOSITORY_MARKERS = (".git", ".hg", ".svn")
# A quoted requirement in setup.py: "Flask-SQLAlchemy>=2.5"
QUOTED = re.compile(
    r"""["']([A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*[=<>!~][^"']*)["']"""
)
# name[extras] specifiers
SPELLED = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?(.*)")
# Poetry's caret and tilde (`^2.5`, `~2.5`), which PEP 440 lacks: their floor
POETRY = re.compile(r"[\^~](?!=)\s*")
# The Pythons SQLAlchemy 1.4 and 2.x run on: a requirement whose marker holds on
# none of them (`sqlalchemy<1.4; python_version < "3"`) binds no code we write.
PYTHONS = tuple(f"3.{minor}" for minor in range(7, 15))


@dataclass(frozen=True)
class Pin:
    """What one file of the project at `root` requires of `name`."""

    name: str
    specifier: str  # a PEP 440 specifier set: ">=1.2.9,<1.4"
    source: str  # the file it was read from, relative to the project root
    root: str = ""  # the project root (an absolute path)

    @cached_property
    def _bounds(self) -> tuple[Version | None, Version | None]:
        """The lowest version admitted, and the version below which the newest
        admitted one lies; None where the specifiers set no such bound."""
        from packaging.specifiers import SpecifierSet
        from packaging.version import InvalidVersion, Version

        floors, caps = [], []
        for spec in SpecifierSet(self.specifier):
            try:
                version = Version(spec.version.removesuffix(".*"))
            except InvalidVersion:  # `===` of a non-PEP 440 version
                continue
            if spec.operator in ("==", "===", "~=", ">=", ">"):
                floors.append(version)
            if spec.operator in ("==", "===", "<", "<="):
                caps.append(version)
        return max(floors, default=None), min(caps, default=None)

    def admits_below(self, version: str) -> bool:
        """Some version older than `version` satisfies the pin. Without a lower
        bound, what an install gets counts: the newest version below its upper
        bound (`<2.0` means 1.4), and nothing older for a pin with neither."""
        from packaging.version import Version

        floor, cap = self._bounds
        if floor is not None:
            return floor < Version(version)
        return cap is not None and cap <= Version(version)

    def describe(self) -> str:
        """`setup.py: SQLAlchemy>=1.2.9,<1.4`."""
        return f"{self.source}: {self.name}{self.specifier}"


def parse_requirement(text: str, source: str, root: str = "") -> Pin | None:
    """A watched library's requirement (`Flask_SQLAlchemy >= 2.5, < 3`) as a Pin;
    None for other libraries, a requirement without a version, one whose marker
    excludes every Python 3.7+, or one that does not parse."""
    text = POETRY.sub(">=", re.sub(r"(^|\s)#.*", "", text).strip())  # a comment
    if not any(name in CANONICAL.sub("-", text.lower()) for name in WATCHED):
        return None  # without importing `packaging`
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    name = canonicalize_name(requirement.name)
    if name not in WATCHED or not str(requirement.specifier):
        return None
    if requirement.marker is not None and not _holds_somewhere(requirement.marker):
        return None
    spelled = SPELLED.match(text.split(";", 1)[0])  # as written, for messages
    specifier = re.sub(r"[\s()]", "", spelled.group(1)) if spelled else ""
    return Pin(name, specifier or str(requirement.specifier), source, root)


def _holds_somewhere(marker: Marker) -> bool:
    from packaging.markers import InvalidMarker

    for python in PYTHONS:
        environment = {"python_version": python, "python_full_version": python + ".0"}
        for extra in ("", *_extras(marker)):
            try:
                if marker.evaluate({**environment, "extra": extra}):
                    return True
            except (InvalidMarker, ValueError, TypeError):
                return True  # a marker we cannot judge: the pin counts
    return False


def _extras(marker: Marker) -> list[str]:
    return re.findall(r"""extra\s*==\s*["']([^"']+)["']""", str(marker))


def admitting_below(pins: Iterable[Pin], name: str, version: str) -> Pin | None:
    """The pin of `name` that admits a version older than `version`, if one does
    (the most permissive source counts): the one admitting the oldest."""
    found = [p for p in pins if p.name == name and p.admits_below(version)]
    return min(found, key=_oldest, default=None)


def _oldest(pin: Pin) -> tuple[Version, str]:
    from packaging.version import Version

    floor, cap = pin._bounds
    return (floor or cap or Version("0"), pin.source)


def target_of(chosen: str | None, pins: Iterable[Pin]) -> Target:
    """The SQLAlchemy version fixes must run on: the one `chosen`
    (`--target-version`), else the oldest one the `sqlalchemy` pins admit ("1.3"
    for any version before 1.4, which no fix runs on), else the newest."""
    if chosen is not None:
        return Target(chosen, "--target-version")
    pins = tuple(pins)
    for version, below in (("1.3", "1.4"), ("1.4", "2.0")):
        pin = admitting_below(pins, "sqlalchemy", below)
        if pin is not None:
            return Target(version, pin.describe())
    pinned = next((p for p in pins if p.name == "sqlalchemy"), None)
    return Target("2.0", pinned.describe() if pinned is not None else "")


def project_root(
    path: Path, known: dict[str, Path | None] | None = None
) -> Path | None:
    """The root of the project that owns `path`: the nearest directory above it
    with project metadata, else the nearest with requirement files, else the
    repository's top (a `.git`, `.hg` or `.svn`), never past it. None when there
    is none of them. `known` remembers the answer for directories over many
    calls: a directory with none of those has its parent's."""
    start = os.path.abspath(path)
    directory = start if os.path.isdir(start) else os.path.dirname(start)
    with_requirements: str | None = None
    passed: list[str] = []  # directories that had none of them, below any other
    while True:
        if known is not None and with_requirements is None and directory in known:
            root = known[directory]
            break
        names = _names(directory)
        if any(
            _has(directory, names, n) and os.path.isfile(os.path.join(directory, n))
            for n in PROJECT_FILES
        ):
            root = Path(directory)
            break
        if (
            with_requirements is None
            and (
                names is None
                or any(n.lower().startswith(REQUIREMENT_PREFIXES) for n in names)
            )
            and _requirement_files(Path(directory))
        ):
            with_requirements = directory
        if any(_has(directory, names, m) for m in REPOSITORY_MARKERS):
            root = Path(with_requirements or directory)
            break
        if with_requirements is None:
            passed.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            root = Path(with_requirements) if with_requirements is not None else None
            break
        directory = parent
    if known is not None:
        known.update(dict.fromkeys(passed, root))
    return root


# What the names of requirement files begin with (`_requirement_files()`)
REQUIREMENT_PREFIXES = ("requirements", "constraints")


def _names(directory: str) -> set[str] | None:
    """The names in `directory`: one listing instead of a dozen stat() and glob
    calls for each directory between a file and its project's root. None when it
    cannot be listed (what is looked for may still be found in it)."""
    try:
        return set(os.listdir(directory))
    except OSError:
        return None


def _has(directory: str, names: set[str] | None, name: str) -> bool:
    if names is None:
        return os.path.exists(os.path.join(directory, name))
    return name in names


def project_pins(files: Iterable[Path]) -> tuple[tuple[Pin, ...], tuple[str, ...]]:
    """The pins of every project that owns one of `files`, and those projects'
    roots: each directory's root is found once, each root's pins read once."""
    roots: dict[str, Path | None] = {}
    known: dict[str, Path | None] = {}
    # Each directory made absolute once: abspath() asks for the working
    # directory each time, and a project has thousands of files in hundreds.
    for directory in {os.path.dirname(path) for path in map(os.fspath, files)}:
        directory = os.path.abspath(directory)
        if directory not in roots:
            roots[directory] = project_root(Path(directory), known)
    found = sorted({str(root) for root in roots.values() if root is not None})
    pins = tuple(pin for root in found for pin in read_pins(Path(root)))
    return pins, tuple(found)


def read_pins(root: Path) -> tuple[Pin, ...]:
    """The pins of the watched libraries declared by the project at `root`."""
    pins: set[Pin] = set()
    for path, requirements in _requirements(root):
        source = Path(os.path.relpath(path, root)).as_posix()
        for requirement in requirements:
            pin = parse_requirement(requirement, source, str(root))
            if pin is not None:
                pins.add(pin)
    return tuple(sorted(pins, key=lambda p: (p.name, p.source, p.specifier)))


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
    read: set[Path] = set()
    todo = sorted(_requirement_files(root))
    while todo:  # each file once, with the files it includes
        path = todo.pop(0).resolve()
        if path in read or not path.is_file():
            continue
        read.add(path)
        lines, included = _requirement_lines(path)
        todo.extend(included)
        yield path, lines


def _requirement_files(directory: Path) -> list[Path]:
    found = [
        *directory.glob("requirements*.txt"),
        *directory.glob("requirements*.in"),
        *directory.glob("constraints*.txt"),
    ]
    nested = directory / "requirements"
    if nested.is_dir():
        found += [*nested.rglob("*.txt"), *nested.rglob("*.in")]
    return [path for path in found if path.is_file()]


INCLUDE = re.compile(
    r"^(?:-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+|(?=\S))(\S+)"
)


def _requirement_lines(path: Path) -> tuple[list[str], list[Path]]:
    """The requirements of a pip requirements file, and the files it includes
    (`-r other.txt`, `-c constraints.txt`, relative to it)."""
    text = re.sub(r"\\\r?\n", " ", _text(path))  # line continuations
    lines, included = [], []
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        include = INCLUDE.match(line)
        if include:
            included.append(path.parent / include.group(1))
        elif line and not line.startswith("-"):  # options: -e, --index-url, ...
            lines.append(line)
    return lines, included


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _pyproject(path: Path) -> Iterator[str]:
    data = toml_data(path)
    if data is None:
        return  # a broken pyproject is the config reader's error to report
    project = data.get("project", {})
    if isinstance(project.get("requires-python"), str):
        yield f"python {project['requires-python']}"
    yield from _strings(project.get("dependencies", ()))
    for group in project.get("optional-dependencies", {}).values():
        yield from _strings(group)
    for group in data.get("dependency-groups", {}).values():  # PEP 735
        yield from _strings(group)
    poetry = data.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in poetry.get("group", {}).values()]
    for table in tables:
        for name, spec in table.items():
            if isinstance(spec, dict):
                spec = spec.get("version", "")
            if isinstance(spec, str) and spec.strip() not in ("", "*"):
                yield (
                    f"{name} {spec}"
                    if spec.strip()[0] in "<>=!~^"
                    else f"{name}=={spec}"
                )


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
