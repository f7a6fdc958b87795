"""A crash inside one rule, or inside applying its fix, stays in its file: that file
is reported as an internal error naming the rule and left as it was, the other
files are checked and fixed, the exit is 2, and the traceback is printed only
with `--verbose`."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from orm_modernize import rules
from orm_modernize.cli.commands import main
from orm_modernize.data.records import Edit, Fix
from orm_modernize.rules.base import Rule
from orm_modernize.workspace import config

GOOD = b"from sqlalchemy.ext.declarative import declarative_base\n"
BAD = GOOD + b"explode()\n"


class Exploding(Rule):
    """Raises while visiting a file that calls `explode()`."""

    code = "ORM999"
    name = "exploding"
    message = "never reported"
    triggers = (b"explode",)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "explode":
            raise ValueError("boom")


class ExplodingFix(Rule):
    """Reports `explode()` with a fix whose replacement is not a node."""

    code = "ORM998"
    name = "exploding-fix"
    message = "a call to explode"
    fix_title = "Explode"
    triggers = (b"explode",)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "explode":
            broken = Edit(node, "not a node")  # type: ignore[arg-type]
            self.report(node, fix=Fix((broken,), safe=True))


def install(monkeypatch: pytest.MonkeyPatch, rule: type[Rule]) -> None:
    """Run `rule` with the others, selected by default."""
    monkeypatch.setattr(rules, "ALL_RULES", (*rules.ALL_RULES, rule))
    monkeypatch.setattr(config, "CODES", (*config.CODES, rule.code))
    monkeypatch.setattr(config, "DEFAULT_CODES", (*config.DEFAULT_CODES, rule.code))


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.py").write_bytes(BAD)
    (tmp_path / "good.py").write_bytes(GOOD)
    return tmp_path


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["check", "--isolated", "--no-cache", "--fix", *args, "."]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize(
    "rule,error",
    [
        (Exploding, "bad.py: internal error in ORM999: ValueError: boom"),
        (
            ExplodingFix,
            "bad.py: internal error in the fix of ORM998: CSTValidationError:",
        ),
    ],
    ids=["in-a-visit", "in-a-fix"],
)
def test_a_crash_stays_in_its_file(
    tree: Path,
    monkeypatch: pytest.MonkeyPatch,
    rule: type[Rule],
    error: str,
    jobs: str,
) -> None:
    install(monkeypatch, rule)

    code, _, err = check("--jobs", jobs)

    assert code == 2
    assert (
        [line for line in err.splitlines() if line.startswith("bad.py")]
        == [line for line in err.splitlines() if line.startswith(error)]
        != []
    )
    assert "Traceback" not in err and "--verbose prints its traceback" in err
    assert (tree / "bad.py").read_bytes() == BAD
    assert (tree / "good.py").read_bytes() == (
        b"from sqlalchemy.orm import declarative_base\n"
    )


def test_verbose_prints_the_traceback(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, Exploding)

    code, _, err = check("--verbose")

    assert code == 2
    assert "Traceback (most recent call last)" in err
    assert "in visit_Call" in err and "ValueError: boom" in err


class InterruptedCleanup(Rule):
    """Ctrl-C lands while it works, and its `finally` block then fails, as
    `record_syntactic_position` in LibCST (and once in `positions.py`) does."""

    code = "ORM997"
    name = "interrupted-cleanup"
    message = "never reported"
    triggers = (b"explode",)

    def visit_Module(self, node: cst.Module) -> None:
        spans: dict[str, int] = {}
        try:
            raise KeyboardInterrupt
        finally:
            spans["start"] = spans["missing"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_interruption_hidden_by_a_failing_cleanup_still_interrupts(
    tree: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    """Not an internal error of one file with the run going on: the run stops."""
    install(monkeypatch, InterruptedCleanup)

    code, _, err = check("--jobs", jobs)

    assert code == 130, err
    assert "internal error" not in err
    assert "Interrupted: each file is either as it was or wholly fixed." in err
    assert (tree / "bad.py").read_bytes() == BAD
