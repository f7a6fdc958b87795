"""`# noqa` on a line, `# orm-modernize: noqa` for a file, and `--add-noqa`, through
the command line on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from orm_modernize.cli.commands import main
from orm_modernize.syntax.noqa import (
    Suppressions,
    directives,
    file_exemption,
    with_directives,
)

# ORM301 (safe fix) on lines 2 and 3, ORM206 on line 3.
LEGACY = """\
from sqlalchemy import MetaData, select
rows = select([1])
q = select([2]); MetaData(bind="sqlite://")
"""


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", "--jobs", "1", "--no-cache", *args])
    return result.exit_code, result.stdout, result.stderr


def findings(path: str) -> list[str]:
    _, out, _ = check("--output-format", "concise", path)
    return [
        line.split(": ")[1].split()[0] + "@" + line.split(":")[1]
        for line in out.splitlines()
        if ": ORM" in line
    ]


def test_line_noqa_with_codes_and_bare(here: Path) -> None:
    (here / "m.py").write_text(
        LEGACY.replace('"sqlite://")', '"sqlite://")  # noqa: ORM206').replace(
            "[1])", "[1])  # NOQA"
        )
    )
    assert findings("m.py") == ["ORM301@3"]


def test_noqa_inside_a_string_is_not_a_directive(here: Path) -> None:
    (here / "m.py").write_text(LEGACY.replace("[1])", '[1]); s = "# noqa"'))
    assert "ORM301@2" in findings("m.py")


def test_file_level_noqa_silences_the_file_and_keeps_fixes_away(here: Path) -> None:
    (here / "m.py").write_text("# orm-modernize: noqa\n" + LEGACY)
    code, out, _ = check("--fix", "m.py")
    assert (code, out) == (0, "All checks passed!\n")
    assert (here / "m.py").read_text() == "# orm-modernize: noqa\n" + LEGACY


def test_file_level_noqa_with_codes(here: Path) -> None:
    (here / "m.py").write_text(LEGACY + "# orm-modernize: noqa: ORM301\n")
    assert findings("m.py") == ["ORM206@3"]


def test_file_level_noqa_must_stand_on_its_own_line(here: Path) -> None:
    (here / "m.py").write_text(LEGACY.replace("[1])", "[1])  # orm-modernize: noqa"))
    assert "ORM301@2" in findings("m.py")


def test_add_noqa_silences_every_finding_and_changes_no_code(here: Path) -> None:
    (here / "m.py").write_text(LEGACY)
    code, out, err = check("--add-noqa", "m.py")
    assert (code, out, err) == (0, "", "Added 2 noqa directives.\n")
    assert (here / "m.py").read_text() == (
        "from sqlalchemy import MetaData, select\n"
        "rows = select([1])  # noqa: ORM301\n"
        'q = select([2]); MetaData(bind="sqlite://")  # noqa: ORM206, ORM301\n'
    )
    assert check("m.py")[:2] == (0, "All checks passed!\n")
    assert check("--add-noqa", "m.py")[2] == "Added 0 noqa directives.\n"


def test_add_noqa_with_a_reason_writes_it_after_the_codes(here: Path) -> None:
    # As ruff 0.9+ spells it; the bare flag still takes the path after it.
    (here / "m.py").write_text(LEGACY)
    code, _, err = check("--add-noqa=migrate in\nQ3", "m.py")
    assert (code, err) == (0, "Added 2 noqa directives.\n")
    assert (here / "m.py").read_text() == (
        "from sqlalchemy import MetaData, select\n"
        "rows = select([1])  # noqa: ORM301 migrate in Q3\n"
        'q = select([2]); MetaData(bind="sqlite://")  # noqa: ORM206, ORM301'
        " migrate in Q3\n"
    )
    assert check("m.py")[:2] == (0, "All checks passed!\n")


def test_add_noqa_merges_with_an_existing_directive_and_comment(here: Path) -> None:
    (here / "m.py").write_text(
        LEGACY.replace("[1])", "[1])  # why: legacy  # noqa:ORM206")
    )
    check("--add-noqa", "m.py")
    assert (
        "rows = select([1])  # why: legacy  # noqa: ORM206, ORM301\n"
        in (here / "m.py").read_text()
    )


def test_add_noqa_puts_the_comment_after_a_multi_line_string(here: Path) -> None:
    source = (
        "from sqlalchemy import select, text\n"
        'rows = select([text("""\n'
        '  1""")])\n'
        "cols = select([1]) \\\n"
        "    .where(True)\n"
    )
    (here / "m.py").write_text(source)
    check("--add-noqa", "m.py")
    assert (here / "m.py").read_text() == (
        "from sqlalchemy import select, text\n"
        'rows = select([text("""\n'
        '  1""")])  # noqa: ORM301\n'
        "cols = select([1]) \\\n"
        "    .where(True)  # noqa: ORM301\n"
    )
    assert check("m.py")[0] == 0


def test_add_noqa_keeps_encoding_bom_and_line_endings(here: Path) -> None:
    source = "# -*- coding: latin-1 -*-\r\nfrom sqlalchemy import select\r\n"
    source += "x = select(['é'])\r\n"
    (here / "latin.py").write_bytes(source.encode("latin-1"))
    (here / "bom.py").write_bytes(b"\xef\xbb\xbf" + LEGACY.encode())
    check("--add-noqa", ".")
    assert (here / "latin.py").read_bytes() == source.replace(
        "])\r\n", "])  # noqa: ORM301\r\n"
    ).encode("latin-1")
    assert (here / "bom.py").read_bytes().startswith(b"\xef\xbb\xbffrom sqlalchemy")
    assert check(".")[0] == 0


def test_add_noqa_cannot_be_combined_with_fix(here: Path) -> None:
    (here / "m.py").write_text(LEGACY)
    code, _, err = check("--add-noqa", "--fix", "m.py")
    assert code == 2 and "--add-noqa cannot be combined" in err
    assert (here / "m.py").read_text() == LEGACY


def test_directives_map_continued_lines_to_their_end() -> None:
    found = directives('x = """\n\n"""  # noqa: ORM001\ny = 1 + \\\n  2  # noqa\n')
    assert found.suppresses("ORM001", 1) and found.suppresses("ORM001", 2)
    assert not found.suppresses("ORM002", 1)
    assert found.suppresses("ORM002", 4)


def test_file_exemption_reads_codes() -> None:
    assert file_exemption(b"# orm-modernize: noqa: ORM001, orm002\n") == {
        "ORM001",
        "ORM002",
    }
    assert file_exemption(b"#ORM-Modernize:noqa\r\n") is None
    assert file_exemption(b"x = 1\n") == frozenset()


def test_with_directives_counts_the_lines_it_changed() -> None:
    new, count = with_directives(
        b"a = 1\nb = 2  # noqa\n", "utf-8", {1: {"X1"}, 2: {"X2"}}
    )
    assert (new, count) == (b"a = 1  # noqa: X1\nb = 2  # noqa\n", 1)


@pytest.mark.parametrize(
    ("text", "code", "line", "silenced"),
    [
        ("x = 1  # noqa: ORM001\n", "ORM001", 1, True),  # by the regex alone
        ("x = 1  # noqa: ORM001\n", "ORM002", 1, False),
        ("x = 1  # NOQA\n", "ORM002", 1, True),
        ('x = "# noqa"\n', "ORM001", 1, False),  # a quote first: tokenized
        ('x = "a"  # noqa\n', "ORM001", 1, True),
        ('x = f("""\n""")  # noqa\n', "ORM001", 1, True),  # continued
        ("x = 1 + \\\n  2  # noqa: ORM001\n", "ORM001", 1, True),
        ("x = 1\ny = 2  # noqa\n", "ORM001", 1, False),
    ],
)
def test_suppressions_read_comments_only(
    text: str, code: str, line: int, silenced: bool
) -> None:
    assert Suppressions(text).suppresses(code, line) is silenced


STALE = """\
from sqlalchemy import MetaData, select
rows = select([1])  # noqa: ORM301, E501
kept = select(2)  # noqa: ORM301, E501, ORM999 keep until Q3
gone = select(3)  # noqa: ORM002
MetaData(bind="sqlite://")  # noqa
"""


def test_a_stale_noqa_is_reported_and_fixed_and_other_tools_codes_kept(
    here: Path,
) -> None:
    (here / "m.py").write_text(STALE)
    _, out, _ = check("--output-format", "concise", "m.py")
    assert out.splitlines()[:2] == [
        "m.py:3:19: ORM900 [*] unused `noqa` directive (unused: `ORM301`;"
        " unknown: `ORM999`)",
        "m.py:4:19: ORM900 [*] unused `noqa` directive (unused: `ORM002`)",
    ]
    assert findings("m.py") == ["ORM900@3", "ORM900@4"]
    code, out, _ = check("--fix", "m.py")
    assert code == 0, out  # the blanket noqa silences ORM206: nothing left
    assert (here / "m.py").read_text() == STALE.replace(
        "# noqa: ORM301, E501, ORM999 keep until Q3", "# noqa: E501 keep until Q3"
    ).replace("  # noqa: ORM002", "")


def test_a_noqa_made_stale_by_a_fix_goes_in_the_same_run(here: Path) -> None:
    # ORM301's fix removes what the ORM206 code silenced nothing of: once the
    # legacy code is gone, so is the directive that named a code it never had.
    (here / "m.py").write_text(
        "from sqlalchemy import select\nrows = select([1])  # noqa: ORM206\n"
    )
    check("--fix", "m.py")
    assert (here / "m.py").read_text() == (
        "from sqlalchemy import select\nrows = select(1)\n"
    )


def test_codes_of_rules_that_do_not_run_on_the_file_are_not_judged(
    here: Path,
) -> None:
    (here / "m.py").write_text(STALE)
    # ORM002 and ORM301 not selected, then ORM301 ignored for the file: not judged
    _, out, _ = check("--select", "ORM2,ORM900", "--output-format", "concise", "m.py")
    assert "unused: `ORM002`" not in out and "unused: `ORM301`" not in out
    assert "unknown: `ORM999`" in out
    (here / "pyproject.toml").write_text(
        '[tool.orm-modernize.per-file-ignores]\n"m.py" = ["ORM301"]\n'
    )
    _, out, _ = check("--output-format", "concise", "m.py")
    assert "unused: `ORM301`" not in out and "unused: `ORM002`" in out


def test_add_noqa_does_not_silence_a_stale_noqa(here: Path) -> None:
    (here / "m.py").write_text(STALE)
    check("--add-noqa", "m.py")
    assert "ORM900" not in (here / "m.py").read_text()


def test_a_stale_noqa_fix_is_graded_as_the_configuration_says(here: Path) -> None:
    # extend-unsafe-fixes grades ORM900's fix as it grades any rule's: shown
    # unsafe, applied only with --unsafe-fixes.
    (here / "m.py").write_text(STALE)
    graded = ("--config", 'extend-unsafe-fixes = ["ORM900"]')
    _, out, _ = check(*graded, "--output-format", "concise", "m.py")
    assert "ORM900 [*]" not in out and "ORM900 unused" in out
    check(*graded, "--fix", "m.py")
    assert "# noqa: ORM002" in (here / "m.py").read_text()
    check(*graded, "--fix", "--unsafe-fixes", "m.py")
    assert "# noqa: ORM002" not in (here / "m.py").read_text()
