"""The command line: parse flags, build `Settings`, run, report, return an exit code."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orm_modernize import __version__
from orm_modernize.cli.clean_command import clean
from orm_modernize.cli.outcomes import (
    EXIT_ERROR,
    add_noqa_comments,
    against_baseline,
    exit_code,
    show_file_list,
    show_settings_of,
    write_report,
)
from orm_modernize.cli.report_command import report
from orm_modernize.cli.reporters import FORMATS
from orm_modernize.cli.rule_commands import explain, rules
from orm_modernize.cli.running import (
    CONFIG_OPTION,
    ISOLATED_OPTION,
    JOBS_OPTION,
    NO_CACHE_OPTION,
    cache_for,
    check_paths,
    configuration,
)
from orm_modernize.cli.summary import print_diff, print_errors, print_findings
from orm_modernize.data.records import FileResult
from orm_modernize.workspace.config import (
    TARGET_VERSIONS,
    ConfigError,
    Configuration,
    Options,
)
from orm_modernize.workspace.patterns import Patterns

if TYPE_CHECKING:
    from orm_modernize.workspace.cache import Cache

EDIT_FORMATS = ("json", "json-lines", "sarif")  # formats that carry each fix's edits


def _codes(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    from orm_modernize.workspace.config import known, normalised

    codes = tuple(c.strip() for c in value.split(",") if c.strip())
    for code in codes:
        if not known(code):
            raise click.BadParameter(f"unknown rule code or prefix: {code}")
    return tuple(normalised(code) for code in codes)


def _globs(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(g.strip() for g in value.split(",") if g.strip())


class _Commands(click.Group):
    """Any crash of a command exits 2 with one line (its traceback with
    `--verbose`), so that CI never reads a bug as "findings" (1) or a pass (0)."""

    def invoke(self, ctx: click.Context) -> object:
        verbose = "--verbose" in ctx.args  # the command's own, before it parses them
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ConfigError as problem:  # a directory's own configuration, met late
            click.echo(f"orm-modernize: error: {problem}", err=True)
            ctx.exit(EXIT_ERROR)
        except BrokenPipeError:  # `orm-modernize rules | head`: the reader left
            # Quietly, as a process killed by SIGPIPE; the flush at exit would fail.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(128 + 13)
        except Exception as error:  # one line, exit 2: the CLI's own broad catch
            if verbose:
                import traceback

                traceback.print_exc()
            detail = " ".join(str(error).split())
            click.echo(
                f"orm-modernize: internal error: {type(error).__name__}"
                + (f": {detail}" if detail else "")
                + " (a bug: --verbose prints its traceback to report)",
                err=True,
            )
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="orm-modernize")
def main() -> None:
    """Find legacy SQLAlchemy 1.x code and rewrite it to SQLAlchemy 2.0 style."""


class _Check(click.Command):
    """`--add-noqa=REASON` as ruff spells it, beside the bare `--add-noqa` flag: an
    option that takes an optional value would swallow the path after it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        spelled = []
        for arg in args:
            if arg.startswith("--add-noqa="):
                spelled += ["--add-noqa", "--add-noqa-reason", arg.split("=", 1)[1]]
            else:
                spelled.append(arg)
        return super().parse_args(ctx, spelled)


@main.command(cls=_Check)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--fix", is_flag=True, help="Apply safe fixes in place.")
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="Also apply (and count) unsafe fixes [config: unsafe-fixes].",
)
@click.option(
    "--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing."
)
@click.option(
    "--select",
    callback=_codes,
    help="Comma-separated codes or prefixes to enable, replacing the config's.",
)
@click.option(
    "--extend-select",
    callback=_codes,
    help="Comma-separated codes or prefixes to enable on top of the config's.",
)
@click.option(
    "--ignore", callback=_codes, help="Comma-separated codes or prefixes to disable."
)
@click.option(
    "--fixable",
    callback=_codes,
    help="Codes or prefixes whose fixes may be offered, replacing the config's"
    " [default: ALL].",
)
@click.option(
    "--extend-fixable", callback=_codes, help="Codes or prefixes to add to fixable."
)
@click.option(
    "--unfixable",
    callback=_codes,
    help="Codes or prefixes still reported, never fixed.",
)
@click.option(
    "--exclude",
    callback=_globs,
    help="Comma-separated globs of files and directories to skip, replacing the"
    " defaults and the config's.",
)
@click.option(
    "--extend-exclude",
    callback=_globs,
    help="Comma-separated globs of files and directories to skip as well.",
)
@click.option(
    "--force-exclude/--no-force-exclude",
    default=None,
    help="Skip excluded files even when they are named on the command line (as"
    " pre-commit does).",
)
@CONFIG_OPTION
@ISOLATED_OPTION
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    # As ruff: the findings with their code on a terminal, a line each otherwise.
    default=lambda: "full" if sys.stdout.isatty() else "text",
    show_default="full on a terminal, else text",
)
@click.option(
    "-o",
    "--output-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the findings to this file instead of standard output.",
)
@click.option(
    "--target-version",
    type=click.Choice(TARGET_VERSIONS),
    help="The oldest SQLAlchemy the fixed code must run on; 1.4 applies only the"
    " fixes whose output runs on 1.4 too [default: from the project's sqlalchemy"
    " pin, else 2.0].",
)
@JOBS_OPTION
@NO_CACHE_OPTION
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ORM_MODERNIZE_CACHE_DIR",
    help="Where to keep the cache [default: .orm_modernize_cache in the project root].",
)
@click.option(
    "--statistics",
    is_flag=True,
    help="Count the findings of each rule instead of listing them.",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="Print the findings only, no summary."
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Print the traceback of an internal error, for a bug report.",
)
@click.option(
    "--exit-zero",
    is_flag=True,
    help="Exit 0 even when something is found (2 still means an error).",
)
@click.option(
    "--exit-non-zero-on-fix",
    is_flag=True,
    help="Exit 1 when a fix was applied, even if nothing is left to report.",
)
@click.option(
    "--add-noqa",
    is_flag=True,
    help="Add a `# noqa: CODE` comment on the line of every finding, fixing nothing;"
    " `--add-noqa=REASON` writes the reason after the codes.",
)
@click.option("--add-noqa-reason", hidden=True)
@click.option(
    "--show-settings",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Print the settings that apply to FILE, and where each comes from; check"
    " nothing.",
)
@click.option(
    "--show-files",
    is_flag=True,
    help="List each file a run would check, and why each other is left out; check"
    " nothing.",
)
@click.option(
    "--respect-gitignore/--no-respect-gitignore",
    default=None,
    help="Skip what git ignores (.gitignore, .git/info/exclude, global excludes)"
    " [default: respect].",
)
@click.option(
    "--include-migrations/--no-include-migrations",
    default=None,
    help="Also check Alembic revisions (`versions/`), skipped by default: rewriting"
    " an old migration changes what it did.",
)
@click.option(
    "--stdin-filename",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With the path `-`: the name of the file read from stdin (for its"
    " configuration and in the findings).",
)
@click.option(
    "--show-fixes", is_flag=True, help="List the fixes applied, per file and rule."
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report only the findings this baseline file does not record.",
)
@click.option(
    "--update-baseline",
    is_flag=True,
    help="Record every current finding in the --baseline file, and report none.",
)
def check(
    paths: tuple[Path, ...],
    fix: bool,
    unsafe_fixes: bool | None,
    diff: bool,
    select: tuple[str, ...] | None,
    extend_select: tuple[str, ...] | None,
    ignore: tuple[str, ...] | None,
    fixable: tuple[str, ...] | None,
    extend_fixable: tuple[str, ...] | None,
    unfixable: tuple[str, ...] | None,
    exclude: tuple[str, ...] | None,
    extend_exclude: tuple[str, ...] | None,
    force_exclude: bool | None,
    config_options: tuple[str, ...],
    isolated: bool,
    output_format: str,
    target_version: str | None,
    jobs: int | None,
    no_cache: bool,
    cache_dir: Path | None,
    statistics: bool,
    verbose: bool,
    quiet: bool,
    exit_zero: bool,
    exit_non_zero_on_fix: bool,
    add_noqa: bool,
    add_noqa_reason: str | None,
    output_file: Path | None,
    include_migrations: bool | None,
    respect_gitignore: bool | None,
    show_files: bool,
    show_settings: Path | None,
    stdin_filename: Path | None,
    show_fixes: bool,
    baseline: Path | None,
    update_baseline: bool,
) -> None:
    """Report legacy SQLAlchemy idioms under PATHS (default: the current directory)."""
    if add_noqa and (fix or diff):
        raise click.UsageError("--add-noqa cannot be combined with --fix or --diff")
    if update_baseline and baseline is None:
        raise click.UsageError("--update-baseline needs --baseline FILE")
    stdin = Path("-") in paths
    if stdin and (len(paths) > 1 or add_noqa):
        raise click.UsageError("`-` (stdin) must be the only path, without --add-noqa")
    roots = paths or (Path("."),)
    # Where the configuration and the cache are looked for
    where = (stdin_filename or Path("."),) if stdin else roots
    here = Path.cwd()
    flags = Options(
        select=select,
        extend_select=extend_select or (),
        ignore=ignore or (),
        fixable=fixable,
        extend_fixable=extend_fixable or (),
        unfixable=unfixable or (),
        exclude=None if exclude is None else (Patterns.compile(exclude, here),),
        extend_exclude=(Patterns.compile(extend_exclude, here),)
        if extend_exclude
        else (),
        force_exclude=force_exclude,
        unsafe_fixes=unsafe_fixes,
        target_version=target_version,
        cache_dir=cache_dir,
        include_migrations=include_migrations,
        respect_gitignore=respect_gitignore,
    )
    config, layers = configuration(where, flags, config_options, isolated, fix or diff)
    if show_settings is not None:  # the settings of the file's nearest configuration
        show_settings_of(
            show_settings,
            *configuration((show_settings,), flags, config_options, isolated, False),
        )
    if show_files:
        show_file_list(roots, config)
    if output_format in EDIT_FORMATS and not statistics:
        config = replace(config, settings=replace(config.settings, edits=True))
    cache = None if no_cache else cache_for(config.cache_dir, where)
    out = sys.stdout
    if stdin:
        name = stdin_filename or Path("-")
        results = [_check_stdin(name, config, cache, print_fixed=fix and not diff)]
        if fix and not diff:  # the fixed source was the output; findings go aside
            out = sys.stderr
    else:
        results = check_paths(roots, config, cache, jobs, fix and not diff, quiet)
        if not results and not quiet:  # as ruff says it, on stderr, exit status 0
            warning = "warning: No Python files found under the given path(s)"
            click.echo(warning, err=True)
    if add_noqa:
        add_noqa_comments(results, add_noqa_reason, verbose=verbose, quiet=quiet)
    print_errors(results, verbose=verbose, quiet=quiet)
    if baseline is not None:
        results = against_baseline(results, baseline, update_baseline, quiet)
    fixed = any(r.applied for r in results)
    if diff:
        found = print_diff(results, quiet=quiet)
    else:
        report = io.StringIO()
        print_findings(
            results,
            out if output_file is None else report,
            config.settings,
            output_format,
            statistics,
            show_fixes,
            quiet,
        )
        if output_file is not None:
            write_report(output_file, report.getvalue())
        found = any(r.diagnostics for r in results)
    found = found and not exit_zero
    sys.exit(exit_code(results, found or (fixed and exit_non_zero_on_fix)))


def _check_stdin(
    name: Path, config: Configuration, cache: Cache | None, *, print_fixed: bool
) -> FileResult:
    """The buffer on stdin checked as the file `name`; with `print_fixed`, the
    fixed source (or the buffer as it was) is printed, as a formatter does."""
    from orm_modernize.workspace.runner import check_source

    result = check_source(name, sys.stdin.buffer.read(), config, cache)
    if print_fixed:
        sys.stdout.buffer.write(result.fixed or result.source or b"")
        sys.stdout.flush()
    return result


main.add_command(rules)
main.add_command(explain)
main.add_command(clean)
main.add_command(report)


@main.command()
def server() -> None:
    """Run the language server over stdio (`pip install orm-modernize[server]`)."""
    try:
        from orm_modernize.server.language_server import serve
    except ImportError as missing:
        click.echo(
            f"orm-modernize: error: the language server needs {missing.name}:"
            " pip install 'orm-modernize[server]'",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    serve()
