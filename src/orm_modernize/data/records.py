"""Plain data passed between the layers: settings, findings and fixes, a file's
result, how sure the analysis is of a receiver, a fix refused."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Union

if TYPE_CHECKING:  # LibCST costs a fifth of a second to import: only when parsing
    import libcst as cst

# (module, name): `("sqlalchemy", "select")` is `from sqlalchemy import select`.
ImportSpec = tuple[str, str]
Replacement = Union[
    "cst.CSTNode", "cst.RemovalSentinel", "cst.FlattenSentinel[cst.CSTNode]"
]

# Whether a finding's fix may be applied without review ("--unsafe-fixes")
Applicability = Literal["safe", "unsafe"]
# Whether a rule's findings carry a fix
FixAvailability = Literal["always", "sometimes", "never"]
# What upgrading to SQLAlchemy 2.x does to the code a rule finds: it raises
# ("removed"), runs and does something else ("changed"), runs as before but is
# superseded or deprecated ("legacy"); "none" for the tool's own comments
Impact = Literal["removed", "changed", "legacy", "none"]
# Why a file was not checked (see FileResult.skipped)
Skipped = Literal["generated", "migration"]


# What kind of error a file met: a path that does not exist, bytes that cannot be
# read or parsed, a fix dropped, an analysis over its budget or nested too deeply,
# an internal error (a bug), a file that cannot be written or given noqa comments,
# a configuration that cannot be read (the language server says it on the file)
ErrorKind = Literal[
    "missing",
    "read",
    "parse",
    "fix",
    "budget",
    "nesting",
    "internal",
    "write",
    "noqa",
    "config",
]


@dataclass(frozen=True)
class FileError:
    """Why a file could not be checked or written, or a fix of it was dropped:
    one line, without the path. Output formats report it by its kind."""

    kind: ErrorKind
    message: str

    def __str__(self) -> str:
        return self.message

    @property
    def place(self) -> tuple[int, int]:
        """(line, column), 1-based, where the message says the parser stopped
        ("... (line 2, column 1)"); the file's start when it names no place."""
        found = re.search(r"\(line (\d+), column (\d+)\)", self.message)
        return (int(found[1]), int(found[2])) if found else (1, 1)


class Evidence(enum.IntEnum):
    """How sure the analysis is that a receiver is SQLAlchemy's."""

    NONE = 0  # not SQLAlchemy as far as we can tell: don't report
    LIKELY = 1  # only named like one (`db.session`, `self.session`): unsafe fix
    PROVEN = 2  # bound from Session(...), a sessionmaker()() call, ...: safe fix

    @property
    def proven(self) -> bool:
        """Proof enough for a safe fix."""
        return self is Evidence.PROVEN


class Refused(Exception):
    """The legacy code has no faithful 2.0 form here; the message says why."""


@dataclass(frozen=True)
class Settings:
    """What to check and what to fix; built by the CLI, read by the engine."""

    select: tuple[str, ...] = ("ORM",)
    ignore: tuple[str, ...] = ()
    fix: bool = False
    unsafe_fixes: bool = False
    # The oldest SQLAlchemy the fixed code must run on: "1.4" applies only the fixes
    # whose output runs on 1.4 too. None: read from the project's pin, else "2.0".
    target_version: str | None = None
    # Render each fix as text edits (for the JSON formats), which costs time.
    edits: bool = False
    # Where a fixed statement that no longer fits is split. None: the line length
    # of the project's formatter configuration (88 if it has none).
    line_length: int | None = None
    # Which rules' fixes may be offered at all, and which are graded otherwise
    # than their rule grades them (ruff's `fixable`, `unfixable`,
    # `extend-safe-fixes`, `extend-unsafe-fixes`): prefixes, the longest wins.
    fixable: tuple[str, ...] = ("ORM",)
    unfixable: tuple[str, ...] = ()
    safe_fixes: tuple[str, ...] = ()
    unsafe_fixes_of: tuple[str, ...] = ()

    def fix_allowed(self, code: str) -> bool:
        """Whether `code`'s fixes may be offered (an unfixable rule still reports)."""
        return _longest(self.fixable, code) > _longest(self.unfixable, code)

    def graded_safe(self, code: str, safe: bool) -> bool:
        """A fix's grade after `extend-safe-fixes` and `extend-unsafe-fixes`; the
        longer prefix wins, unsafe a tie."""
        made_safe = _longest(self.safe_fixes, code)
        made_unsafe = _longest(self.unsafe_fixes_of, code)
        if made_safe or made_unsafe:
            return made_safe > made_unsafe
        return safe

    def enabled(self, code: str) -> bool:
        # The longest matching prefix wins, as in ruff: `--select ORM --ignore ORM0`
        # disables ORM0xx, `--ignore ORM --select ORM002` keeps ORM002 alone. An
        # opt-in rule is selected only by its full code.
        from orm_modernize.data.codes import OPT_IN

        chosen = _longest(
            tuple(p for p in self.select if code not in OPT_IN or p == code), code
        )
        return chosen > _longest(self.ignore, code)


def _longest(prefixes: tuple[str, ...], code: str) -> int:
    """The length of the longest of `prefixes` that `code` starts with; 0: none."""
    return max((len(p) for p in prefixes if code.startswith(p)), default=0)


@dataclass(frozen=True)
class Edit:
    """Replace (or remove) one node of the module being fixed."""

    node: cst.CSTNode
    replacement: Replacement


@dataclass(frozen=True)
class Fix:
    """A rewrite: one or more edits, and the imports it needs or frees."""

    edits: tuple[Edit, ...]
    safe: bool
    imports: tuple[ImportSpec, ...] = ()
    # Names bound by imports that the fix may leave unused; such an import is
    # removed after the fix only if nothing else uses the name.
    unused: tuple[str, ...] = ()

    @classmethod
    def replace(
        cls,
        node: cst.CSTNode,
        replacement: Replacement,
        *,
        safe: bool,
        imports: tuple[ImportSpec, ...] = (),
        unused: tuple[str, ...] = (),
    ) -> Fix:
        return cls((Edit(node, replacement),), safe, imports, unused)

    def with_imports(self, imports: tuple[ImportSpec, ...]) -> Fix:
        return replace(self, imports=(*self.imports, *imports))


@dataclass(frozen=True)
class Violation:
    """A rule's finding on the current tree; holds CST nodes, stays in the engine."""

    code: str
    message: str
    node: cst.CSTNode
    fix_title: str | None
    fix: Fix | None


@dataclass(frozen=True)
class TextEdit:
    """Replace the text from (line, column) up to (end_line, end_column), 1-based
    and end-exclusive, by `content` (ruff's JSON edit)."""

    content: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Diagnostic:
    """A finding as reported to the user: plain, picklable data."""

    code: str
    message: str
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    end_column: int
    fix_title: str | None = None
    # "safe", "unsafe", or None when there is no fix for this finding.
    applicability: Applicability | None = None
    # The fix as text edits; computed only when `Settings.edits` asks for them.
    edits: tuple[TextEdit, ...] = ()


@dataclass(frozen=True)
class QueryHelper:
    """A module-level function of one module, or a method of one of its classes,
    returning a legacy `Query` that other modules finish: what their calls need
    to run the `select()` it would return instead (see
    `rewrite/shared_query_helpers.py`)."""

    module: str  # dotted name of the module defining it
    name: str
    parameter: str  # the session parameter; `self` for a method
    position: int | None  # its index among the positional parameters
    shapes: tuple[str, ...]  # `Shape` values of what the query selects
    streamed: bool  # yield_per(): not de-duplicated
    guessed: bool  # an entity was taken for a class by its name alone
    joins: int
    # What may make its rows repeat: another FROM; a join loading a collection
    other_froms: bool = True
    joined_loads: bool = True
    # The class it selects, when it selects one ("app.models.User"): a caller's
    # criteria on it name no other FROM
    entity: str = ""
    owner: str = ""  # a method's class
    receiver: str = ""  # a method's session, as attributes of `self`: "session"
    # The parameter of its class's `__init__` stored as that session unchanged,
    # and its index after `self` (None: keyword-only): `Tickets(s).m()` runs on s
    kept: str = ""
    kept_at: int | None = None


@dataclass(frozen=True)
class HelperCall:
    """Whether one module's calls of a `QueryHelper` can all be converted."""

    module: str
    name: str
    convertible: bool


@dataclass(frozen=True)
class ForeignBackref:
    """A `backref=` whose other class is mapped in another module of the project:
    the relationship that class must declare for the backref to become a
    `back_populates` pair. The runner edits both modules or neither."""

    module: str  # dotted name of the module declaring the `backref=`
    owner: str  # the class declaring it
    attribute: str  # the relationship with the `backref=`
    target: str  # the other class
    name: str  # the attribute the backref makes on it
    function: str  # how the owner spells `relationship` (`db.relationship`)
    flask: bool  # `function` is an attribute of Flask-SQLAlchemy's `db`
    arguments: tuple[str, ...]  # the new relationship's arguments, as code
    safe: bool  # both ends are provably SQLAlchemy

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.module, self.owner, self.attribute)


@dataclass(frozen=True)
class DynamicUses:
    """Whether one module's part of making a dynamic relationship write-only can
    be done: the relationship itself in the module that declares it, its uses
    elsewhere. The runner rewrites every module's part or none."""

    name: str  # the relationship's attribute
    refused: str  # why this module's part cannot be done; "" when it can


@dataclass(frozen=True)
class WriteOnly:
    """A dynamic relationship used in other modules than its own, once every
    module was asked whether it can take its part: with `uses`, each could, and
    they are rewritten unless `refused` says why not (a module is not in a run
    that fixes); without, one could not, and `refused` says why."""

    name: str
    uses: bool
    refused: str = ""


@dataclass(frozen=True)
class Target:
    """The oldest SQLAlchemy a file's fixes must run on, and where that comes from:
    "1.3" stands for any version before 1.4, on which no fix runs."""

    version: str  # "1.3", "1.4" or "2.0"
    # "--target-version", the pin (`setup.py: sqlalchemy>=1.2.9,<1.4`), or "" when
    # nothing pins SQLAlchemy and the newest version is assumed
    source: str = ""

    @property
    def pinned(self) -> bool:
        return self.source not in ("", "--target-version")


@dataclass(frozen=True)
class Exports:
    """What a file's analysis tells the runs that rewrite two modules together.
    Query helpers it defines that other modules import, and what its calls of such
    helpers allow: the runner converts both ends or neither. Backrefs to classes
    of other modules that it declares, and those of the project's it can write out
    on one of its own classes (their safety here). Its part of making a dynamic
    relationship of the project write-only."""

    helpers: tuple[QueryHelper, ...] = ()
    helper_calls: tuple[HelperCall, ...] = ()
    foreign_backrefs: tuple[ForeignBackref, ...] = ()
    declarable_backrefs: tuple[ForeignBackref, ...] = ()
    dynamic_uses: tuple[DynamicUses, ...] = ()

    def __add__(self, other: Exports) -> Exports:
        return Exports(
            self.helpers + other.helpers,
            self.helper_calls + other.helper_calls,
            self.foreign_backrefs + other.foreign_backrefs,
            self.declarable_backrefs + other.declarable_backrefs,
            self.dynamic_uses + other.dynamic_uses,
        )


@dataclass(frozen=True)
class FileResult:
    """Everything the engine learned about one file."""

    path: Path
    diagnostics: tuple[Diagnostic, ...] = ()  # what remains after fixing
    applied: tuple[Diagnostic, ...] = ()  # findings whose fix was applied
    source: bytes | None = None
    fixed: bytes | None = None  # new content, only when it differs from source
    errors: tuple[FileError, ...] = field(default=())
    exports: Exports = Exports()  # of the first pass, before any fix
    # The traceback of an internal error, printed with `--verbose`.
    crash: str | None = None
    # Why the file was not checked: "generated" (marked `@generated`) or
    # "migration" (an Alembic revision, unless migrations are included).
    skipped: Skipped | None = None
    # The target its fixes had to run on (set by the runner for files checked).
    target: Target | None = None

    @property
    def changed(self) -> bool:
        return self.fixed is not None and self.fixed != self.source
