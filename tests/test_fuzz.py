"""Fuzzing: random valid programs (hypothesmith) and mutated fixtures.

Whatever a file holds, the tool must not crash on it, must report only input that
does not parse, and what it writes must compile and be left alone by a second run;
a file it has nothing to fix in must come out byte-identical.

The suite runs a short run on the same examples each time, so that CI fails on a
change of ours, not on luck; `pytest tests/test_fuzz.py --fuzz 2000` runs 2000 fresh
random examples per test and keeps what fails in `.hypothesis/` to replay.
"""

from __future__ import annotations

import ast
import re
import tempfile
import warnings
from pathlib import Path

import conftest
import pytest
from click.testing import CliRunner
from conftest import FIXTURES, discover_cases
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orm_modernize.analysis.project import ProjectIndex, build_index
from orm_modernize.cli.commands import main
from orm_modernize.data.codes import CODES
from orm_modernize.data.records import Settings
from orm_modernize.engine.lint import lint_source
from orm_modernize.rules import ALL_RULES

pytestmark = [
    # hypothesmith compiles what it generates: `x is 1` warns, and is valid.
    pytest.mark.filterwarnings("ignore::SyntaxWarning"),
    pytest.mark.slow,  # each a few seconds or more: run first (conftest.py)
]

CASES = discover_cases()
MODELS = FIXTURES / "_models.py"
# Every rule, the opt-in ones too (by their full codes), every fix.
EVERYTHING = Settings(select=CODES, fix=True, unsafe_fixes=True)
# A random program under this header is walked by every rule: the header names
# SQLAlchemy and holds every rule's byte trigger.
TRIGGERS = sorted({t.decode() for rule in ALL_RULES for t in rule.triggers})
HEADER = "import sqlalchemy\n# " + " ".join(TRIGGERS) + "\n"
# What may be reported about an input without it being our bug.
INPUT_ERRORS = ("cannot parse: ", "nested too deeply")


# Built when first drawn from, by the worker that runs these tests: building the
# grammars takes seconds, which every worker paid collecting the suite.
def _programs() -> st.SearchStrategy[str]:
    import hypothesmith

    return hypothesmith.from_grammar() | hypothesmith.from_node()


def _statements() -> st.SearchStrategy[str]:
    import hypothesmith

    return hypothesmith.from_grammar(start="file_input")


PROGRAMS = st.deferred(_programs)
STATEMENTS = st.deferred(_statements)


def fuzz(short: int) -> settings:
    """`short` examples in the suite, derandomized; `--fuzz N` examples, random."""
    wanted = conftest.fuzz_examples
    return settings(
        max_examples=wanted or short,
        derandomize=not wanted,
        database=None if not wanted else settings.default.database,
        deadline=None,  # a shared, noisy machine
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def assert_sound(source: bytes, project: ProjectIndex | None = None) -> None:
    """No crash (a `RuleError` fails the test with its traceback), errors only for
    input that does not parse, and fixed code that compiles and that a second run
    leaves alone."""
    path = Path("fuzzed.py")
    result = lint_source(source, path, EVERYTHING, project=project)
    ours = [e for e in result.errors if not e.message.startswith(INPUT_ERRORS)]
    assert not ours, ours
    # `pytest --hypothesis-show-statistics` shows how often each outcome came up.
    event("does not parse" if result.errors else "fixed" if result.fixed else "as is")
    if result.errors:
        assert result.fixed is None
    if result.fixed is None:
        return
    assert result.applied
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # `x is 1` is valid, and not ours
        compile(result.fixed, str(path), "exec", dont_inherit=True)
    again = lint_source(result.fixed, path, EVERYTHING, project=project)
    assert (again.fixed, again.applied, again.errors) == (None, (), ())


def index(case_source: bytes) -> ProjectIndex:
    """What the CLI knows checking a fixture: the shared models and the file."""
    return build_index([(MODELS, MODELS.read_bytes()), (Path("m.py"), case_source)])


# Random programs -------------------------------------------------------------------


@fuzz(short=120)
@given(PROGRAMS)
def test_random_program_under_every_rule(program: str) -> None:
    assert_sound((HEADER + program).encode("utf-8", "surrogatepass"))


@fuzz(short=100)
@given(st.data())
def test_random_code_inside_a_fixture(data: st.DataObject) -> None:
    # The random statements go before one of the fixture's statements, at its
    # indentation: inside functions, classes and `with` blocks, where they may
    # rebind the names the analyses follow.
    source = data.draw(st.sampled_from(CASES)).source().decode()
    lines = source.splitlines(keepends=True)
    line, column = data.draw(st.sampled_from(statement_starts(source)))
    program = data.draw(STATEMENTS)
    indented = "".join(" " * column + s for s in program.splitlines(keepends=True))
    if indented and not indented.endswith("\n"):
        indented += "\n"
    spliced = "".join(lines[: line - 1]) + indented + "".join(lines[line - 1 :])
    encoded = spliced.encode("utf-8", "surrogatepass")
    assert_sound(encoded, index(encoded))


def statement_starts(source: str) -> list[tuple[int, int]]:
    """(line, column) of each statement of `source`, at any depth."""
    starts = [(1, 0)]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt):
            starts.append((node.lineno, node.col_offset))
    return starts


# Mutated fixtures ------------------------------------------------------------------

NAME = re.compile(r"\b[A-Za-z_]\w*\b")


def mutate(source: str, data: st.DataObject) -> str:
    """One random edit of the kind a half-written file has: lines gone, doubled,
    swapped or cut short, a name swapped for another of the file's, the file
    moved into a block, a string or number changed."""
    lines = source.splitlines(keepends=True)
    if not lines:
        return source
    where = data.draw(st.integers(0, len(lines) - 1))
    kind = data.draw(
        st.sampled_from(
            ["delete", "double", "swap", "truncate", "rename", "nest", "literal"]
        )
    )
    if kind == "delete":
        del lines[where]
    elif kind == "double":
        lines.insert(where, lines[where])
    elif kind == "swap" and where + 1 < len(lines):
        lines[where], lines[where + 1] = lines[where + 1], lines[where]
    elif kind == "truncate":
        return source[: data.draw(st.integers(0, len(source)))]
    elif kind == "rename":
        names = sorted(set(NAME.findall(source)))
        old, new = data.draw(st.sampled_from(names)), data.draw(st.sampled_from(names))
        lines[where] = re.sub(rf"\b{old}\b", new, lines[where])
    elif kind == "nest":
        block = data.draw(
            st.sampled_from(["def wrapper():", "class Wrapper:", "if x:"])
        )
        return block + "\n" + "".join("    " + line for line in lines) + "    pass\n"
    elif kind == "literal":
        lines[where] = re.sub(
            r"'[^'\n]*'|\"[^\"\n]*\"|\b\d+\b",
            lambda m: data.draw(st.sampled_from(["''", '"x"', "0", "None", "1.5"])),
            lines[where],
            count=1,
        )
    return "".join(lines)


@fuzz(short=250)
@given(st.data())
def test_mutated_fixture(data: st.DataObject) -> None:
    source = data.draw(st.sampled_from(CASES)).source().decode()
    for _ in range(data.draw(st.integers(1, 3))):
        source = mutate(source, data)
    encoded = source.encode()
    assert_sound(encoded, index(encoded))


# The CLI: files it has nothing to fix in -------------------------------------------


@fuzz(short=60)
@given(
    PROGRAMS,
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from([b"", b"\xef\xbb\xbf"]),
)
def test_fix_without_findings_leaves_the_file_byte_identical(
    program: str, newline: str, bom: bytes
) -> None:
    text = (HEADER + program).replace("\n", newline)
    source = bom + text.encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "m.py"
        path.write_bytes(source)
        result = CliRunner().invoke(
            main,
            ["check", "--fix", "--unsafe-fixes", "--isolated", "--no-cache", "-j", "1"]
            + ["--select", ",".join(CODES), str(path)],
        )
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.exit_code in (0, 1, 2), result.output
        if result.exit_code == 2:  # only for input that does not parse, never a bug
            errors = [  # `<path shown relative to the cwd>m.py: <error>`
                line.split("m.py: ", 1)[1]
                for line in result.stderr.splitlines()
                if "m.py: " in line
            ]
            assert errors and all(e.startswith(INPUT_ERRORS) for e in errors), (
                result.stderr
            )
        if " fixed" not in result.output:
            assert path.read_bytes() == source
