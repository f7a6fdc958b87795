"""`[tool.orm-modernize]` and the command line -> what to check and fix.

Configuration comes in layers, as in ruff: the defaults; one file (`--config FILE`,
else the nearest `pyproject.toml` with a `[tool.orm-modernize]` table: for each
file, the nearest above it, see hierarchy.py; none with `--isolated`); inline
`--config 'KEY = VALUE'` overrides; then the flags. A layer replaces what it sets,
except the `extend-*` keys, which add to what the layers below set.

Rules are chosen layer by layer: `select`, when a layer gives it, starts afresh,
`extend-select` adds and `ignore` removes; within a layer the more specific prefix
wins, and `ignore` wins a tie. So `ignore = ["ORM004"]` in the file still gives way
to `--select ORM004` on the command line. Path patterns: see patterns.py.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Protocol

from orm_modernize.data.codes import CODES, DEFAULT_CODES
from orm_modernize.data.records import Settings
from orm_modernize.workspace.patterns import Patterns
from orm_modernize.workspace.selection import Fixes, selected

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

TABLE = "tool.orm-modernize"
TARGET_VERSIONS = ("1.4", "2.0")
# ruff's default exclusions: VCS data, caches, build output, dependencies.
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    "*.egg-info",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pycache__",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
    ".orm_modernize_cache",
)


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class FileIgnores:
    """One `per-file-ignores` entry: `codes` are off in the files that match the
    pattern, or, with a leading `!` (`negated`), in those that do not."""

    patterns: Patterns
    codes: tuple[str, ...]
    negated: bool = False

    def apply_to(self, path: str) -> bool:
        return self.patterns.match(path) != self.negated


@dataclass(frozen=True)
class Options:
    """What one layer says; None (or empty, for the `extend-*` keys): not said."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fixable: tuple[str, ...] | None = None
    extend_fixable: tuple[str, ...] = ()
    unfixable: tuple[str, ...] = ()
    extend_safe_fixes: tuple[str, ...] = ()
    extend_unsafe_fixes: tuple[str, ...] = ()
    per_file_ignores: tuple[FileIgnores, ...] | None = None
    extend_per_file_ignores: tuple[FileIgnores, ...] = ()
    exclude: tuple[Patterns, ...] | None = None
    extend_exclude: tuple[Patterns, ...] = ()
    force_exclude: bool | None = None
    unsafe_fixes: bool | None = None
    target_version: str | None = None
    line_length: int | None = None
    cache_dir: Path | None = None
    include_migrations: bool | None = None
    respect_gitignore: bool | None = None


class Hierarchy(Protocol):
    """The configuration file nearest to a directory, resolved (hierarchy.py)."""

    def ruling(self, run: Configuration, directory: str) -> Configuration: ...


@dataclass(frozen=True)
class Configuration:
    """Everything the layers resolve to."""

    settings: Settings  # `select` holds the enabled codes, in full
    source: Path | None = None  # the file read, if any
    exclude: tuple[Patterns, ...] = ()
    force_exclude: bool = False
    per_file_ignores: tuple[FileIgnores, ...] = ()
    cache_dir: Path | None = None
    include_migrations: bool = False
    respect_gitignore: bool = True  # as ruff: what git ignores is not checked
    # The configurations of the directories below with a file of their own
    nested: Hierarchy | None = field(default=None, compare=False, repr=False)

    def excluded(self, path: str) -> bool:
        """Whether to skip `path`, passed on the command line: only
        `force-exclude` skips it."""
        at = self.at(Path(path))
        return at.force_exclude and any(p.match(path) for p in at.exclude)

    def exclusions(self, directory: str) -> tuple[Patterns, ...]:
        """What a walk excludes of the entries of `directory` (absolute and
        normalized, with a trailing separator), each by `match_walked()`: only
        an entry's own name or path counts, the walk has pruned excluded
        directories."""
        at = self if self.nested is None else self.nested.ruling(self, directory)
        return at.exclude

    def settings_for(self, path: Path) -> Settings:
        """The settings for one file: those of the configuration nearest to it,
        the enabled rules less its per-file ignores; fixing and edits are the
        run's."""
        at = self.at(path)
        settings = self.settings
        if at is not self:
            settings = replace(at.settings, fix=settings.fix, edits=settings.edits)
        ignored = [
            code
            for ignores in at.per_file_ignores
            if ignores.apply_to(str(path))
            for code in ignores.codes
        ]
        if not ignored:
            return settings
        kept = tuple(
            code
            for code in settings.select
            if not any(code.startswith(prefix) for prefix in ignored)
        )
        return replace(settings, select=kept)

    def at(self, path: Path) -> Configuration:
        """The configuration that rules `path`: the nearest file above it (this
        one, or this one alone under `--config FILE` or `--isolated`)."""
        if self.nested is None:
            return self
        return self.nested.ruling(self, str(path.parent))


def layers_for(
    paths: Sequence[Path],
    flags: Options,
    *,
    config: Sequence[str] = (),
    isolated: bool = False,
) -> tuple[list[tuple[str, Options]], Path | None]:
    """The layers, lowest first, each with where it comes from, and the file
    read (if any); raises ConfigError."""
    files = [c for c in config if not is_inline(c)]
    if len(files) > 1:
        raise ConfigError("--config: only one configuration file can be given")
    if files and isolated:
        raise ConfigError("--config FILE and --isolated cannot be combined")
    layers: list[tuple[str, Options]] = []
    source: Path | None = None
    if files:
        source = Path(files[0])
        if not source.is_file():
            raise ConfigError(f"--config: no such file: {files[0]}")
        layers.extend(read_layers(source, table_required=False))
    elif not isolated:
        source = find_config(paths)
        if source is not None:
            layers.extend(read_layers(source, table_required=True))
    for inline in (c for c in config if is_inline(c)):
        layers.append((f"--config {inline!r}", _inline(inline)))
    layers.append(("the command line", flags))
    return layers, source


def find_config(
    paths: Sequence[Path], known: dict[str, Path | None] | None = None
) -> Path | None:
    """The nearest `pyproject.toml` with a `[tool.orm-modernize]` table, walking up
    from the first path (or the working directory); `known` remembers the answer
    for each directory over many calls."""
    start = os.path.abspath(paths[0] if paths else ".")
    passed: list[str] = []  # directories without one, below the answer
    found: Path | None = None
    directory = start
    while True:
        if known is not None and directory in known:
            found = known[directory]
            break
        candidate = Path(directory, "pyproject.toml")
        if candidate.is_file() and has_table(candidate):
            found = candidate
            break
        passed.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    if known is not None:
        known.update(dict.fromkeys(passed, found))
        known[directory] = found
    return found


def has_table(path: Path) -> bool:
    # A pyproject.toml without our table is no concern of ours, even when broken.
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"^\s*\[\s*tool\s*\.\s*\"?orm-modernize\b", text, re.M) is not None


def read_layers(
    path: Path, *, table_required: bool, within: tuple[Path, ...] = ()
) -> list[tuple[str, Options]]:
    """The layers of the file at `path`: those of the file its `extend` names
    (recursively, lowest first), then its own."""
    where = _display(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{where}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: invalid TOML: {error}") from None
    if path.name == "pyproject.toml" or table_required:
        tool = data.get("tool", {})
        table = tool.get("orm-modernize", {}) if isinstance(tool, dict) else {}
        prefix = f"[{TABLE}] "
    else:  # a file of our own: the keys at the top level
        table, prefix = data, ""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {TABLE}: expected a table")
    table = dict(table)
    extended = table.pop("extend", None)
    own = (where, _options(table, where, prefix, path.parent))
    if extended is None:
        return [own]
    if not isinstance(extended, str) or not extended:
        raise ConfigError(f"{where}: {prefix}extend: expected a path, got {extended!r}")
    base = path.parent / os.path.expanduser(extended)
    chain = (*within, path.resolve())
    if base.resolve() in chain:
        cycle = " -> ".join(_display(p) for p in (*chain, base.resolve()))
        raise ConfigError(f"{where}: {prefix}extend: a cycle: {cycle}")
    if not base.is_file():
        raise ConfigError(f"{where}: {prefix}extend: no such file: {extended}")
    # As ruff: the extended file's own relative paths stay relative to it.
    return [*read_layers(base, table_required=False, within=chain), own]


def _inline(text: str) -> Options:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"--config {text!r}: invalid TOML: {error}") from None
    return _options(data, "--config", "", Path.cwd())


def is_inline(value: str) -> bool:
    # As in ruff: a value that names no file but reads as `key = value` is a setting.
    return "=" in value and not Path(value).is_file()


# TOML key -> (what it must be, how to read it). Codes and versions are checked
# here, so a typo fails the run with the file and key instead of doing nothing.
Reader = Callable[[object, str, Path], object]


def _codes(value: object, key: str, root: Path) -> tuple[str, ...]:
    codes = tuple(_strings(value, key))
    for code in codes:
        if not known(code):
            raise ConfigError(f"{key}: unknown rule code or prefix {code!r}")
    return tuple(normalised(code) for code in codes)


def _globs(value: object, key: str, root: Path) -> tuple[Patterns, ...]:
    globs = _strings(value, key)
    for glob in globs:
        if glob.startswith("!"):  # as in ruff, only per-file-ignores negate
            why = "only per-file-ignores take a pattern negated by '!'"
            raise ConfigError(f"{key}: {glob!r}: {why}")
    return (Patterns.compile(globs, root),)


def _per_file(value: object, key: str, root: Path) -> tuple[FileIgnores, ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table of pattern = [codes]")
    return tuple(
        FileIgnores(
            Patterns.compile([glob.removeprefix("!")], root),
            _codes(codes, f"{key}.{glob}", root),
            negated=glob.startswith("!"),
        )
        for glob, codes in value.items()
    )


def _bool(value: object, key: str, root: Path) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


def _version(value: object, key: str, root: Path) -> str:
    if value not in TARGET_VERSIONS:
        choices = " or ".join(f'"{v}"' for v in TARGET_VERSIONS)
        # `target-version = 2.0` is a TOML float, which would read as 2 or 2.00
        quote = f': a string, `{key} = "{value}"`' if isinstance(value, float) else ""
        raise ConfigError(f"{key}: expected {choices}, got {value!r}{quote}")
    return str(value)


def _line_length(value: object, key: str, root: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 320:
        raise ConfigError(f"{key}: expected an integer from 1 to 320, got {value!r}")
    return value


def _directory(value: object, key: str, root: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: expected a path, got {value!r}")
    return root / os.path.expanduser(value)


# The keys whose value a later layer replaces outright.
SCALARS = (
    "force_exclude",
    "unsafe_fixes",
    "target_version",
    "line_length",
    "cache_dir",
    "include_migrations",
    "respect_gitignore",
)
KEYS: Mapping[str, Reader] = {
    "select": _codes,
    "extend-select": _codes,
    "ignore": _codes,
    "fixable": _codes,
    "extend-fixable": _codes,
    "unfixable": _codes,
    "extend-safe-fixes": _codes,
    "extend-unsafe-fixes": _codes,
    "per-file-ignores": _per_file,
    "extend-per-file-ignores": _per_file,
    "exclude": _globs,
    "extend-exclude": _globs,
    "force-exclude": _bool,
    "unsafe-fixes": _bool,
    "target-version": _version,
    "line-length": _line_length,
    "cache-dir": _directory,
    "include-migrations": _bool,
    "respect-gitignore": _bool,
}


def _options(
    table: Mapping[str, object], where: str, prefix: str, root: Path
) -> Options:
    values: dict[str, object] = {}
    for key, value in table.items():
        reader = KEYS.get(key)
        if reader is None:
            import difflib  # only to suggest a key

            close = difflib.get_close_matches(key.replace("_", "-"), KEYS, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise ConfigError(f"{where}: {prefix}unknown key `{key}`{hint}")
        try:
            values[key.replace("-", "_")] = reader(value, key, root)
        except ConfigError as error:
            raise ConfigError(f"{where}: {prefix}{error}") from None
    return Options(**values)  # type: ignore[arg-type]


def _strings(value: object, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
    return value


def known(code: str) -> bool:
    """Whether `code` is `ALL` or a prefix of some rule's code."""
    normal = normalised(code)
    return bool(normal) and any(c.startswith(normal) for c in CODES)


def normalised(code: str) -> str:
    code = code.strip().upper()
    return "ORM" if code == "ALL" else code


def resolve(
    layers: Sequence[Options], source: Path | None, *, fix: bool
) -> Configuration:
    enabled = set(DEFAULT_CODES)
    # The default names are anchored like the file's patterns (force-exclude looks
    # at the directories above a named file, up to there).
    anchor = source.parent if source is not None else Path.cwd()
    exclude: tuple[Patterns, ...] = (Patterns.compile(DEFAULT_EXCLUDE, anchor),)
    per_file: tuple[FileIgnores, ...] = ()
    fixes = Fixes()
    found = Options()
    for layer in layers:
        enabled = selected(enabled, layer)
        fixes = fixes.with_layer(layer)
        if layer.exclude is not None:
            exclude = layer.exclude
        exclude += layer.extend_exclude
        if layer.per_file_ignores is not None:
            per_file = layer.per_file_ignores
        per_file += layer.extend_per_file_ignores
        said = {n: getattr(layer, n) for n in SCALARS if getattr(layer, n) is not None}
        found = replace(found, **said)
    settings = Settings(
        select=tuple(code for code in CODES if code in enabled),
        fix=fix,
        unsafe_fixes=bool(found.unsafe_fixes),
        target_version=found.target_version,
        line_length=found.line_length,
        fixable=fixes.fixable,
        unfixable=fixes.unfixable,
        safe_fixes=fixes.safe,
        unsafe_fixes_of=fixes.unsafe,
    )
    return Configuration(
        settings,
        source=source,
        exclude=exclude,
        force_exclude=bool(found.force_exclude),
        per_file_ignores=per_file,
        cache_dir=found.cache_dir,
        include_migrations=bool(found.include_migrations),
        respect_gitignore=found.respect_gitignore is not False,
    )


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive, on Windows
        return str(path)


# No configuration file and no flags.
DEFAULT = Configuration(
    Settings(select=DEFAULT_CODES),
    exclude=(Patterns.compile(DEFAULT_EXCLUDE, Path("/")),),
)
