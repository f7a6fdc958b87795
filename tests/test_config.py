"""`[tool.orm-modernize]`, `--config`, `--isolated` and the flags that override them,
through the real command line in a temporary project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from orm_modernize.cli.commands import main
from orm_modernize.workspace.config import ConfigError, Options
from orm_modernize.workspace.hierarchy import configure
from orm_modernize.workspace.patterns import Patterns

# ORM301 (a safe fix) on line 2; ORM206 (no fix) on line 3.
LEGACY = """\
from sqlalchemy import MetaData, select
rows = select([1])
MetaData(bind="sqlite://")
"""
UNSAFE = """\
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"


def names(db):
    return db.query(User).all()
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("app/models.py", "app/views.py", "tests/test_app.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(LEGACY)
    return tmp_path


def configured(project: Path, toml: str) -> None:
    (project / "pyproject.toml").write_text(f"[tool.orm-modernize]\n{toml}\n")


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", "--jobs", "1", "--no-cache", *args])
    return result.exit_code, result.stdout, result.stderr


def found(*args: str) -> set[str]:
    """`path CODE` of each finding."""
    _, out, _ = check("--output-format", "concise", *args)
    return {
        f"{line.split(':')[0]} {line.split()[1]}"
        for line in out.splitlines()
        if ": ORM" in line
    }


EVERYTHING = {
    f"{path} {code}"
    for path in ("app/models.py", "app/views.py", "tests/test_app.py")
    for code in ("ORM206", "ORM301")
}


def test_without_configuration_every_rule_runs_on_every_file(project: Path) -> None:
    assert found() == EVERYTHING


def test_select_and_ignore_from_pyproject(project: Path) -> None:
    configured(project, 'select = ["ORM3"]')
    assert found() == {f for f in EVERYTHING if "ORM301" in f}
    configured(project, 'ignore = ["ORM301"]')
    assert found() == {f for f in EVERYTHING if "ORM206" in f}


def test_the_nearest_pyproject_with_a_table_is_found_from_a_subdirectory(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured(project, 'ignore = ["ORM301"]')
    (project / "app" / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    monkeypatch.chdir(project / "app")
    _, out, _ = check("models.py")
    assert "ORM206" in out and "ORM301" not in out


def test_command_line_select_overrides_the_files_ignore(project: Path) -> None:
    configured(project, 'ignore = ["ORM301"]')
    assert found("--select", "ORM301") == {f for f in EVERYTHING if "ORM301" in f}


def test_extend_select_adds_to_the_files_select(project: Path) -> None:
    configured(project, 'select = ["ORM2"]\nextend-select = ["ORM301"]')
    assert found() == EVERYTHING
    configured(project, 'select = ["ORM2"]')
    assert found("--extend-select", "ORM3") == EVERYTHING


def test_the_more_specific_prefix_wins_within_a_layer(project: Path) -> None:
    configured(project, 'select = ["ORM301"]\nignore = ["ORM"]')
    assert found() == {f for f in EVERYTHING if "ORM301" in f}
    configured(project, 'select = ["ALL"]\nignore = ["ORM3"]')
    assert found() == {f for f in EVERYTHING if "ORM206" in f}


def test_per_file_ignores(project: Path) -> None:
    configured(
        project,
        '[tool.orm-modernize.per-file-ignores]\n"tests/*" = ["ORM"]\n'
        '"views.py" = ["ORM2"]',
    )
    assert found() == {
        "app/models.py ORM206",
        "app/models.py ORM301",
        "app/views.py ORM301",
    }


def test_a_negated_per_file_pattern_ignores_in_the_files_it_does_not_match(
    project: Path,
) -> None:
    # As in ruff: `"!app/**" = ["ORM2"]` keeps ORM2 to app/.
    configured(project, '[tool.orm-modernize.per-file-ignores]\n"!app/**" = ["ORM2"]')
    assert found() == {
        "app/models.py ORM206",
        "app/models.py ORM301",
        "app/views.py ORM206",
        "app/views.py ORM301",
        "tests/test_app.py ORM301",
    }


def test_per_file_ignores_also_keep_the_fix_away(project: Path) -> None:
    configured(project, '[tool.orm-modernize.per-file-ignores]\n"app/**" = ["ORM301"]')
    check("--fix")
    assert "select([1])" in (project / "app" / "models.py").read_text()
    assert "select(1)" in (project / "tests" / "test_app.py").read_text()


def test_exclude_and_extend_exclude(project: Path) -> None:
    configured(project, 'extend-exclude = ["tests"]')
    assert {f.split()[0] for f in found()} == {"app/models.py", "app/views.py"}
    configured(project, 'extend-exclude = ["app/views.py", "test_*.py"]')
    assert {f.split()[0] for f in found()} == {"app/models.py"}
    # exclude replaces the defaults: build/ is linted again
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text(LEGACY)
    configured(project, 'exclude = ["tests"]')
    assert {f.split()[0] for f in found()} == {
        "app/models.py",
        "app/views.py",
        "build/gen.py",
    }


def test_flag_excludes_are_relative_to_the_working_directory(project: Path) -> None:
    assert {f.split()[0] for f in found("--extend-exclude", "app/*.py")} == {
        "tests/test_app.py"
    }


def test_a_file_named_on_the_command_line_is_checked_unless_forced_out(
    project: Path,
) -> None:
    configured(project, 'extend-exclude = ["tests"]')
    assert found("tests/test_app.py") == {
        "tests/test_app.py ORM206",
        "tests/test_app.py ORM301",
    }
    code, out, _ = check("--force-exclude", "tests/test_app.py")
    assert (code, out) == (0, "All checks passed!\n")
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text(LEGACY)
    assert found("--force-exclude", "build/gen.py") == set()  # a default exclude
    configured(project, 'extend-exclude = ["tests"]\nforce-exclude = true')
    assert found("tests/test_app.py", "app/views.py") == {
        "app/views.py ORM206",
        "app/views.py ORM301",
    }


def test_unsafe_fixes_from_the_file_and_no_unsafe_fixes_flag(project: Path) -> None:
    # `db` is only named like a session: an unsafe fix
    (project / "app" / "views.py").write_text(UNSAFE)
    configured(project, "unsafe-fixes = true")
    check("--no-unsafe-fixes", "--fix", "app/views.py")
    assert "db.query(" in (project / "app" / "views.py").read_text()
    check("--fix", "app/views.py")
    assert "db.scalars(select(User))" in (project / "app" / "views.py").read_text()


def test_target_version_from_the_file(project: Path) -> None:
    engine = "from sqlalchemy import create_engine\n"
    engine += "engine = create_engine('sqlite://', future=True)\n"
    (project / "app" / "views.py").write_text(engine)
    configured(project, 'target-version = "1.4"')
    # future=True is still needed on 1.4: reported, not fixed
    assert "the target is 1.4)" in check("app/views.py")[1]
    assert "[*]" in check("--target-version", "2.0", "app/views.py")[1]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            'selct = ["ORM"]',
            "pyproject.toml: [tool.orm-modernize] unknown key `selct`"
            " (did you mean `select`?)",
        ),
        (
            'ignore = ["ORM999"]',
            "pyproject.toml: [tool.orm-modernize] ignore: unknown rule code or"
            " prefix 'ORM999'",
        ),
        (
            'select = "ORM"',
            "pyproject.toml: [tool.orm-modernize] select: expected a list of"
            " strings, got 'ORM'",
        ),
        (
            'target-version = "3.0"',
            "pyproject.toml: [tool.orm-modernize] target-version: expected"
            ' "1.4" or "2.0", got \'3.0\'',
        ),
        (
            "unsafe-fixes = 1",
            "pyproject.toml: [tool.orm-modernize] unsafe-fixes: expected true or"
            " false, got 1",
        ),
        (
            '[tool.orm-modernize.per-file-ignores]\n"tests/*" = ["ORM5"]',
            "pyproject.toml: [tool.orm-modernize] per-file-ignores.tests/*:"
            " unknown rule code or prefix 'ORM5'",
        ),
        (
            "select = [",
            "pyproject.toml: invalid TOML: ",
        ),
        (  # accepted and doing nothing would be worse
            'extend-exclude = ["!app"]',
            "pyproject.toml: [tool.orm-modernize] extend-exclude: '!app': only"
            " per-file-ignores take a pattern negated by '!'",
        ),
    ],
)
def test_a_bad_configuration_exits_2_with_one_line_naming_file_and_key(
    project: Path, toml: str, message: str
) -> None:
    configured(project, toml)
    before = (project / "app" / "models.py").read_bytes()
    code, out, err = check("--fix")
    assert code == 2
    assert err.startswith(f"orm-modernize: error: {message}")
    assert len(err.splitlines()) == 1 and out == ""
    assert (project / "app" / "models.py").read_bytes() == before


def test_a_pyproject_without_our_table_is_not_ours_to_judge(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.black\nbroken = ")
    assert found() == EVERYTHING


def test_config_file_replaces_discovery(project: Path) -> None:
    configured(project, 'ignore = ["ORM301"]')
    (project / "strict.toml").write_text('select = ["ORM301"]\n')
    assert found("--config", "strict.toml") == {f for f in EVERYTHING if "ORM301" in f}
    (project / "other.toml").write_text("[tool.orm-modernize]\nselect = ['ORM2']\n")
    (project / "other").mkdir()
    (project / "other" / "pyproject.toml").write_text(
        "[tool.orm-modernize]\nselect = ['ORM2']\n"
    )
    assert found("--config", "other/pyproject.toml") == {
        f for f in EVERYTHING if "ORM206" in f
    }


def test_a_missing_config_file_is_an_error(project: Path) -> None:
    code, _, err = check("--config", "nowhere.toml")
    assert code == 2
    assert err == "orm-modernize: error: --config: no such file: nowhere.toml\n"


def test_isolated_ignores_every_file(project: Path) -> None:
    configured(project, 'selct = ["broken, but ignored"]')
    assert found("--isolated") == EVERYTHING


def test_inline_config_overrides_the_file(project: Path) -> None:
    configured(project, 'ignore = ["ORM301"]')
    assert found("--config", "select = ['ALL']") == EVERYTHING
    assert found("--isolated", "--config", "select = ['ORM2']") == {
        f for f in EVERYTHING if "ORM206" in f
    }
    code, _, err = check("--config", "ignore = ['ORM8']")
    assert code == 2
    assert err.startswith("orm-modernize: error: --config: ignore: unknown rule")


def test_cache_dir_from_the_file_is_relative_to_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured(project, 'cache-dir = ".cache/orm"')
    monkeypatch.chdir(project / "app")
    CliRunner().invoke(main, ["check", "--jobs", "1", "models.py"])
    assert (project / ".cache" / "orm" / "cache.json").is_file()


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("tests", "/p/tests/unit/test_x.py", True),  # a name at any depth
        ("tests", "/p/src/tests/x.py", True),
        ("tests", "/p/tests.py", False),
        ("test_*.py", "/p/a/test_x.py", True),
        ("test_*.py", "/p/a/x_test.py", False),
        ("app/*.py", "/p/app/x.py", True),
        ("app/*.py", "/p/app/sub/x.py", False),  # `*` stays within a name
        ("app/**/*.py", "/p/app/sub/deep/x.py", True),
        ("app/**/*.py", "/p/app/x.py", True),
        ("app/", "/p/app/x.py", True),  # a directory: all of it
        ("app", "/p/other/app/x.py", True),
        ("app/x.py", "/p/other/app/x.py", False),  # a path: from the root
        ("./app/x.py", "/p/app/x.py", True),
        ("*.{py,pyi}", "/p/a.pyi", True),
        ("[!a]*.py", "/p/a.py", False),
        ("[!a]*.py", "/p/b.py", True),
        ("migrations", "/elsewhere/migrations/x.py", False),  # outside the root
        # wcmatch, as ruff's globset: nested braces, a class in braces, `**`
        # inside a path, a leading dot for `*`
        ("{src,lib}/{gen,auto_*}/*.py", "/p/lib/auto_x/m.py", True),
        ("{src,lib}/{gen,auto_*}/*.py", "/p/lib/manual/m.py", False),
        ("app/{a,{b,c}}.py", "/p/app/c.py", True),
        ("**/legacy/**/*.py", "/p/x/legacy/y/z.py", True),
        ("*.egg-info", "/p/orm_modernize.egg-info/PKG-INFO", True),
        ("*_pb2.py", "/p/x/.hidden_pb2.py", True),
        ("[ab]?.py", "/p/bz.py", True),
    ],
)
def test_glob_patterns(glob: str, path: str, matches: bool) -> None:
    assert Patterns.compile([glob], Path("/p")).match(path) is matches


def test_configuration_is_layered_in_order(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.orm-modernize]\nselect = ["ORM0"]\nunsafe-fixes = true\n'
    )
    config = configure([tmp_path], Options(ignore=("ORM002",)), config=["ignore=[]"])
    assert config.source == tmp_path / "pyproject.toml"
    assert config.settings.select == ("ORM001", "ORM003", "ORM004", "ORM005")
    assert config.settings.unsafe_fixes
    with pytest.raises(ConfigError):
        configure([tmp_path], Options(), config=["a.toml", "b.toml"])


MIGRATION = '''\
"""add users

Revision ID: 1a2b
"""
import sqlalchemy as sa
from alembic import op

revision = "1a2b"
down_revision = None


def upgrade():
    op.get_bind().execute(sa.select([sa.literal(1)]))
'''


def test_alembic_migrations_are_skipped_and_said_so(project: Path) -> None:
    versions = project / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "1a2b_add_users.py").write_text(MIGRATION)
    code, out, err = check("--fix", "migrations")
    assert (code, out) == (0, "All checks passed!\n")
    assert err == (
        "1 Alembic migration not checked: rewriting one changes what it did"
        " (--include-migrations checks them).\n"
    )
    assert (versions / "1a2b_add_users.py").read_text() == MIGRATION
    assert "ORM301" in check("--include-migrations", "migrations")[1]
    configured(project, "include-migrations = true")
    assert "ORM301" in check("migrations/versions/1a2b_add_users.py")[1]


def test_a_versions_folder_that_is_not_alembic_is_checked(project: Path) -> None:
    (project / "app" / "versions").mkdir()
    (project / "app" / "versions" / "v2.py").write_text(LEGACY)
    assert "ORM301" in check("app/versions")[1]


def test_generated_files_are_skipped_even_when_named(project: Path) -> None:
    generated = "# This file is @generated by a tool. Do not edit.\n" + LEGACY
    (project / "app" / "models.py").write_text(generated)
    assert check("--fix", "app/models.py")[:2] == (0, "All checks passed!\n")
    assert (project / "app" / "models.py").read_text() == generated
    result = CliRunner().invoke(
        main, ["check", "-", "--stdin-filename", "app/models.py"], input=generated
    )
    assert result.stdout == "All checks passed!\n"


TYPED_MODEL = """\
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))
"""


def test_opt_in_rule_runs_only_when_selected_by_its_code(project: Path) -> None:
    (project / "app" / "typed.py").write_text(TYPED_MODEL)
    assert not any("ORM407" in f for f in found("app/typed.py"))
    assert not any("ORM407" in f for f in found("--select", "ALL", "app/typed.py"))
    assert not any("ORM407" in f for f in found("--select", "ORM4", "app/typed.py"))
    assert found("--select", "ORM407", "app/typed.py") == {"app/typed.py ORM407"}
    configured(project, 'extend-select = ["ORM407"]')
    assert "app/typed.py ORM407" in found("app/typed.py")


def test_typed_models_follow_the_projects_python(project: Path) -> None:
    """`X | None` and `list[...]` when the project requires Python 3.10."""
    (project / "app" / "typed.py").write_text(TYPED_MODEL)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nrequires-python = ">=3.10"\n'
    )
    code, out, _ = check("--select", "ORM407", "--diff", "app/typed.py")
    assert code == 1
    assert "+    name: Mapped[str | None] = mapped_column(String(50))" in out
    (project / "pyproject.toml").write_text('[project]\nname = "app"\n')
    _, out, _ = check("--select", "ORM407", "--diff", "app/typed.py")
    assert "+    name: Mapped[Optional[str]] = mapped_column(String(50))" in out


def test_what_git_ignores_is_not_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))  # global excludes
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("scratch.py\n")
    (tmp_path / "home" / "git").mkdir(parents=True)
    (tmp_path / "home" / "git" / "ignore").write_text("mine_*.py\n")
    (tmp_path / ".gitignore").write_text("generated/\n*_gen.py\n!keep_gen.py\n")
    (tmp_path / "app" / "sub").mkdir(parents=True)
    (tmp_path / "app" / "sub" / ".gitignore").write_text("local.py\n!/mine_too.py\n")
    for name in (
        "app/models.py",
        "app/models_gen.py",  # *_gen.py
        "app/keep_gen.py",  # negated
        "generated/schema.py",  # the folder
        "scratch.py",  # .git/info/exclude
        "mine_notes.py",  # the user's global excludes
        "app/sub/local.py",  # a nested .gitignore
        "app/sub/mine_too.py",  # the nested file negates the global pattern
        "app/sub/views.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(LEGACY)
    checked = {line.split()[0] for line in found()}
    assert checked == {
        "app/models.py",
        "app/keep_gen.py",
        "app/sub/mine_too.py",
        "app/sub/views.py",
    }
    assert len({line.split()[0] for line in found("--no-respect-gitignore")}) == 9
    configured(tmp_path, "respect-gitignore = false")
    assert len({line.split()[0] for line in found()}) == 9
    # As in ruff, a file named on the command line is checked all the same.
    assert {line.split()[0] for line in found("--respect-gitignore", "scratch.py")} == {
        "scratch.py"
    }


def _fixes(*args: str) -> dict[str, str]:
    """`path CODE` -> applicability ("safe", "unsafe" or "none") of each finding."""
    _, out, _ = check("--output-format", "json", *args)
    return {
        f"{row['filename']} {row['code']}": (row["fix"] or {}).get(
            "applicability", "none"
        )
        for row in json.loads(out)
    }


def test_fixable_and_unfixable_choose_the_fixes_offered(project: Path) -> None:
    (project / "app" / "models.py").write_text(UNSAFE)
    everything = _fixes("app")
    assert everything == {
        "app/models.py ORM002": "unsafe",
        "app/models.py ORM402": "unsafe",
        "app/views.py ORM206": "none",
        "app/views.py ORM301": "safe",
    }
    # Still reported, never fixed; the longer prefix wins, as for select.
    assert _fixes("--unfixable", "ORM3", "app")["app/views.py ORM301"] == "none"
    configured(project, 'unfixable = ["ORM"]\nextend-fixable = ["ORM301"]')
    assert _fixes("app")["app/views.py ORM301"] == "safe"
    assert _fixes("app")["app/models.py ORM002"] == "none"
    configured(project, 'fixable = ["ORM0"]')
    fixes = _fixes("app")
    assert fixes["app/views.py ORM301"] == "none"
    assert fixes["app/models.py ORM002"] == "unsafe"
    # --fix applies none of an unfixable rule's fixes.
    configured(project, 'unfixable = ["ORM301"]')
    before = (project / "app" / "views.py").read_text()
    check("--fix", "app")
    assert (project / "app" / "views.py").read_text() == before


def graded(project: Path, safe: str, unsafe: str) -> None:
    configured(
        project, f'extend-safe-fixes = ["{safe}"]\nextend-unsafe-fixes = ["{unsafe}"]'
    )


def test_extend_safe_and_unsafe_fixes_grade_a_rules_fixes(project: Path) -> None:
    (project / "app" / "models.py").write_text(UNSAFE)
    graded(project, "ORM002", "ORM3")
    fixes = _fixes("app")
    assert fixes["app/models.py ORM002"] == "safe"
    assert fixes["app/views.py ORM301"] == "unsafe"
    # The longer prefix wins; unsafe wins a tie.
    graded(project, "ORM301", "ORM3")
    assert _fixes("app")["app/views.py ORM301"] == "safe"
    graded(project, "ORM3", "ORM3")
    assert _fixes("app")["app/views.py ORM301"] == "unsafe"


def test_show_files_lists_each_file_and_why_others_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("gen/\n")
    configured(tmp_path, 'extend-exclude = ["vendor"]')
    files = {
        "app/models.py": LEGACY,
        "app/util.py": "x = 1\n",
        "app/schema.py": "# @generated by a tool\n" + LEGACY,
        "app/versions/r1.py": LEGACY + 'down_revision = "a"\n',
        "gen/g.py": LEGACY,
        "vendor/v.py": LEGACY,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    code, out, _ = check("--show-files")
    assert code == 0
    assert out.splitlines() == [
        ".git  (skipped: excluded)",
        "app/models.py",
        "app/schema.py  (skipped: generated)",
        "app/util.py  (skipped: names no SQLAlchemy: not parsed)",
        "app/versions/r1.py  (skipped: migration)",
        "gen  (skipped: gitignored)",
        "vendor  (skipped: excluded)",
    ]


def test_extend_inherits_another_configuration(project: Path) -> None:
    (project / "shared").mkdir()
    # The extended file's own layer comes first; this file's keys go on top.
    # Its globs stay relative to it: "app/*" is shared/app/*, not app/*.
    (project / "shared" / "orm.toml").write_text(
        'select = ["ORM2"]\n[per-file-ignores]\n"app/*" = ["ORM"]\n'
    )
    configured(project, 'extend = "shared/orm.toml"\nextend-select = ["ORM3"]')
    assert found() == EVERYTHING
    configured(project, 'extend = "shared/orm.toml"')
    assert found() == {f for f in EVERYTHING if "ORM206" in f}


def test_an_extend_cycle_or_a_missing_file_is_one_line(project: Path) -> None:
    (project / "shared").mkdir()
    (project / "shared" / "orm.toml").write_text('extend = "../pyproject.toml"\n')
    configured(project, 'extend = "shared/orm.toml"')
    code, _, err = check("app")
    assert code == 2 and err.count("\n") == 1
    assert "extend: a cycle: pyproject.toml -> shared/orm.toml -> pyproject.toml" in err
    configured(project, 'extend = "nowhere.toml"')
    code, _, err = check("app")
    assert code == 2 and "extend: no such file: nowhere.toml" in err


def test_show_settings_says_what_applies_to_a_file_and_where_it_comes_from(
    project: Path,
) -> None:
    (project / "shared.toml").write_text('select = ["ORM2"]\n')
    configured(
        project,
        'extend = "shared.toml"\n'
        '[tool.orm-modernize.per-file-ignores]\n"app/*" = ["ORM206"]',
    )
    code, out, _ = check("--unsafe-fixes", "--show-settings", "app/models.py")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Settings for app/models.py:"
    (select,) = [line for line in lines if line.startswith("  select = ")]
    assert "ORM201" in select and "ORM206" not in select and "ORM301" not in select
    assert select.endswith("# shared.toml, pyproject.toml")
    assert "  unsafe_fixes = True  # the command line" in lines
    assert "  fixable = [ORM]  # default" in lines
    # Another file: the per-file ignore does not apply there.
    _, out, _ = check("--show-settings", "tests/test_app.py")
    assert "ORM206" in out.splitlines()[1]
    # The globs as written: the defaults, then the file's.
    configured(project, 'extend-exclude = ["vendor/"]')
    _, out, _ = check("--show-settings", "app/models.py")
    (exclude,) = [line for line in out.splitlines() if "  exclude = " in line]
    assert exclude.startswith("  exclude = [.bzr, ")
    assert exclude.endswith(", vendor/]  # pyproject.toml")


def test_each_file_has_the_settings_of_the_nearest_configuration_above_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ruff's hierarchy: a directory with a configuration of its own (here one
    # that extends the root's) rules the files below it, whichever files the
    # run is given and in whatever order (pre-commit passes them in batches).
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    legacy = "from sqlalchemy import select\nstmt = select([1])\n"
    (tmp_path / "pyproject.toml").write_text(
        '[tool.orm-modernize]\nextend-exclude = ["build"]\n'
    )
    (tmp_path / "a.py").write_text(legacy)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text(legacy)
    (tmp_path / "sub" / "pyproject.toml").write_text(
        '[tool.orm-modernize]\nextend = "../pyproject.toml"\nignore = ["ORM301"]\n'
    )

    def found(*args: str) -> list[str]:
        result = CliRunner().invoke(
            main, ["check", "--no-cache", "--output-format", "concise", *args]
        )
        return [
            line.split(":")[0] for line in result.stdout.splitlines() if "ORM" in line
        ]

    assert found(".") == ["a.py"]
    assert found("a.py", "sub/b.py") == found("sub/b.py", "a.py") == ["a.py"]
    assert found("sub/b.py") == []
    assert found("--isolated", ".") == ["a.py", "sub/b.py"]
    shown = CliRunner().invoke(main, ["check", "--show-settings", "sub/b.py", "."])
    assert "ORM301" not in shown.stdout.split("select = ")[1].split("\n")[0]
    assert "# sub/pyproject.toml" in shown.stdout


def test_a_bad_configuration_below_the_first_path_is_an_error_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Met only when the run reaches its directory: one line, exit status 2.
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m.py").write_text("from sqlalchemy import select\n")
    (tmp_path / "sub" / "pyproject.toml").write_text(
        '[tool.orm-modernize]\nselct = ["ORM301"]\n'
    )
    result = CliRunner().invoke(main, ["check", "--no-cache", "."])
    assert result.exit_code == 2
    assert result.stderr == (
        "orm-modernize: error: sub/pyproject.toml: [tool.orm-modernize] unknown key"
        " `selct` (did you mean `select`?)\n"
    )
