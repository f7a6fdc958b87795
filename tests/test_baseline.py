"""`--baseline` and `--update-baseline`, through the command line on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from orm_modernize.cli.commands import main

LEGACY = """\
from sqlalchemy import MetaData, select
rows = select([1])
cols = select([2])
"""


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(LEGACY)
    return tmp_path


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", "--jobs", "1", "--no-cache", *args])
    return result.exit_code, result.stdout, result.stderr


def reported(*args: str) -> list[str]:
    """The flagged code of each finding reported, e.g. `select([1])@2`."""
    _, out, _ = check("--output-format", "json", *args)
    return [f"{row['code']}@{row['location']['row']}" for row in json.loads(out)]


def test_update_baseline_records_and_later_runs_pass(here: Path) -> None:
    code, out, err = check("--baseline", "b.json", "--update-baseline", "app")
    assert (code, out, err) == (0, "", "Recorded 2 findings in b.json.\n")
    recorded = json.loads((here / "b.json").read_text())
    rows = sorted((f["file"], f["code"], f["code_text"]) for f in recorded["findings"])
    assert rows == [
        ("app/models.py", "ORM301", "select([1])"),
        ("app/models.py", "ORM301", "select([2])"),
    ]
    code, out, err = check("--baseline", "b.json", "app")
    assert (code, out) == (0, "All checks passed!\n")
    assert "2 finding(s) recorded in b.json not shown." in err


def test_only_new_findings_fail_after_moves_and_unrelated_edits(here: Path) -> None:
    check("--baseline", "b.json", "--update-baseline", "app")
    moved = "import os\n\n\n" + LEGACY.replace("rows", "# moved\nrows")
    (here / "app" / "models.py").write_text(moved + "new = select([3])\n")
    assert reported("--baseline", "b.json", "app") == ["ORM301@8"]
    code, _, _ = check("--baseline", "b.json", "app")
    assert code == 1


def test_an_edited_finding_is_new(here: Path) -> None:
    check("--baseline", "b.json", "--update-baseline", "app")
    (here / "app" / "models.py").write_text(LEGACY.replace("[2]", "[2, 3]"))
    assert reported("--baseline", "b.json", "app") == ["ORM301@3"]


def test_a_copy_of_a_recorded_finding_is_new(here: Path) -> None:
    check("--baseline", "b.json", "--update-baseline", "app")
    (here / "app" / "models.py").write_text(LEGACY + "again = select([1])\n")
    assert len(reported("--baseline", "b.json", "app")) == 1


def test_baseline_holds_from_another_directory(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check("--baseline", "b.json", "--update-baseline", "app")
    monkeypatch.chdir(here / "app")
    code, out, _ = check("--baseline", "../b.json", "models.py")
    assert (code, out) == (0, "All checks passed!\n")


def test_fixed_findings_are_stale_and_update_drops_them(here: Path) -> None:
    check("--baseline", "b.json", "--update-baseline", "app")
    (here / "app" / "models.py").write_text(LEGACY.replace("[2]", "2"))
    _, _, err = check("--baseline", "b.json", "app")
    assert "1 recorded finding(s) no longer occur" in err
    _, _, err = check("--baseline", "b.json", "--update-baseline", "app")
    assert err == "Recorded 1 finding in b.json.\n"


def test_updating_from_some_files_keeps_the_others(here: Path) -> None:
    (here / "app" / "views.py").write_text(LEGACY)
    check("--baseline", "b.json", "--update-baseline", "app")
    (here / "app" / "views.py").write_text(LEGACY.replace("[2]", "2"))
    _, _, err = check("--baseline", "b.json", "--update-baseline", "app/views.py")
    assert err == "Recorded 3 findings in b.json.\n"
    assert reported("--baseline", "b.json", "app") == []


def test_missing_or_broken_baseline_exits_2(here: Path) -> None:
    code, _, err = check("--baseline", "none.json", "app")
    assert code == 2
    assert err == (
        "orm-modernize: error: none.json: no such baseline"
        " (write it with --update-baseline)\n"
    )
    (here / "b.json").write_text("{")
    code, _, err = check("--baseline", "b.json", "app")
    assert code == 2 and err.startswith("orm-modernize: error: b.json: not a baseline")
    assert len(err.splitlines()) == 1


def test_update_baseline_needs_a_file(here: Path) -> None:
    code, _, err = check("--update-baseline", "app")
    assert code == 2 and "--update-baseline needs --baseline FILE" in err
