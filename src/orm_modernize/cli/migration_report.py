"""The migration report: what a team plans and tracks a migration with, from one
check run. Per rule and per top-level package: the legacy sites found, how many
`--fix` can rewrite safely, how many only with `--unsafe-fixes`, how many are
reported only; what SQLAlchemy 2.x does to them (raises, behaves differently,
runs as legacy); why fixes are missing, with what unlocks them; and progress
against a baseline. As Markdown (a pull request comment) or one self-contained
HTML page (no script, no server, nothing fetched)."""

from __future__ import annotations

import html
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orm_modernize.cli.reporters.text import PIN_REASON, REFUSAL
from orm_modernize.cli.rule_docs import IMPACT_TEXT
from orm_modernize.data.records import Diagnostic, FileResult
from orm_modernize.rules import RULES_BY_CODE
from orm_modernize.workspace.baseline import Entry, without_known


@dataclass
class Counts:
    """Sites of one rule, one package, or all."""

    sites: int = 0
    safe: int = 0  # `--fix` rewrites them
    unsafe: int = 0  # `--fix --unsafe-fixes` does
    reported: int = 0  # no fix: by hand
    breaking: int = 0  # SQLAlchemy 2.x raises there, or does something else

    def add(self, diagnostic: Diagnostic) -> None:
        self.sites += 1
        if diagnostic.applicability == "safe":
            self.safe += 1
        elif diagnostic.applicability == "unsafe":
            self.unsafe += 1
        else:
            self.reported += 1
        if RULES_BY_CODE[diagnostic.code].impact in ("removed", "changed"):
            self.breaking += 1


@dataclass(frozen=True)
class Progress:
    """Against a baseline: the sites it recorded in the files checked, those gone
    since, and the sites it does not know."""

    recorded: int
    fixed: int
    new: int

    @property
    def percent(self) -> int:
        return round(100 * self.fixed / self.recorded) if self.recorded else 100


@dataclass
class MigrationReport:
    files: int = 0  # checked
    unreadable: int = 0  # could not be checked
    total: Counts = field(default_factory=Counts)
    rules: dict[str, Counts] = field(default_factory=dict)
    packages: dict[str, Counts] = field(default_factory=dict)
    reasons: list[tuple[str, int]] = field(default_factory=list)
    progress: Progress | None = None


def is_site(code: str) -> bool:
    """A finding of legacy SQLAlchemy: any rule's but ORM900's (noqa comments)."""
    rule = RULES_BY_CODE.get(code)
    return rule is None or rule.impact != "none"


def progress_since(
    results: Sequence[FileResult], recorded: Sequence[Entry], baseline: Path
) -> Progress:
    """How far `results` are from the sites the baseline at `baseline` recorded."""
    sites = [entry for entry in recorded if is_site(entry.get("code", ""))]
    filtered = without_known(results, sites, baseline)
    new = sum(is_site(d.code) for r in filtered.results for d in r.diagnostics)
    return Progress(filtered.matched + filtered.stale, filtered.stale, new)


def build(
    results: Sequence[FileResult], progress: Progress | None = None
) -> MigrationReport:
    report = MigrationReport(progress=progress)
    reasons: Counter[str] = Counter()
    for result in results:
        report.files += result.skipped is None and not result.errors
        report.unreadable += bool(result.errors) and not result.diagnostics
        package = package_of(result.path)
        for diagnostic in result.diagnostics:
            if not is_site(diagnostic.code):
                continue
            report.total.add(diagnostic)
            report.rules.setdefault(diagnostic.code, Counts()).add(diagnostic)
            report.packages.setdefault(package, Counts()).add(diagnostic)
            found = REFUSAL.search(diagnostic.message)
            if diagnostic.applicability is None and found:
                reasons[found["why"]] += 1
    report.rules = dict(sorted(report.rules.items()))
    report.packages = dict(
        sorted(report.packages.items(), key=lambda item: (-item[1].sites, item[0]))
    )
    report.reasons = reasons.most_common()
    return report


def package_of(path: Path) -> str:
    """The top-level package (or module) of a file, from the working directory:
    `app` for `app/models/user.py`, and for `src/app/...` too."""
    relative = Path(os.path.relpath(path)).parts
    parts = [p for p in relative if p not in (".", "..")]
    if len(parts) > 2 and parts[0] == "src":
        parts = parts[1:]
    if len(parts) == 1:
        return parts[0].removesuffix(".py")
    return parts[0] if parts else str(path)


def _unlock(reason: str) -> str:
    return "raise that pin" if PIN_REASON.search(reason) else "by hand"


# -- Markdown -----------------------------------------------------------------------
def markdown(report: MigrationReport) -> str:
    total = report.total
    lines = ["# SQLAlchemy 2.0 migration report", ""]
    lines += [_headline(report), ""]
    if report.progress is not None:
        lines += [_progress_line(report.progress), ""]
    lines += [
        "## By rule",
        "",
        "| rule | on SQLAlchemy 2.x | sites | `--fix` | `--unsafe-fixes` | by hand |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for code, counts in report.rules.items():
        rule = RULES_BY_CODE[code]
        lines.append(
            f"| {code} `{rule.name}` | {IMPACT_TEXT[rule.impact]} | {counts.sites}"
            f" | {counts.safe} | {counts.unsafe} | {counts.reported} |"
        )
    lines += [
        "",
        "## By package",
        "",
        "| package | sites | break on 2.x | `--fix` | `--unsafe-fixes` | by hand |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, counts in report.packages.items():
        lines.append(
            f"| `{name}` | {counts.sites} | {counts.breaking} | {counts.safe}"
            f" | {counts.unsafe} | {counts.reported} |"
        )
    if report.reasons:
        lines += ["", "## Why some have no fix", "", "| sites | reason | unlock |"]
        lines.append("|---:|---|---|")
        for reason, count in report.reasons:
            lines.append(f"| {count} | {reason} | {_unlock(reason)} |")
    if not total.sites:
        lines += ["", "No legacy SQLAlchemy left."]
    return "\n".join(lines) + "\n"


def _headline(report: MigrationReport) -> str:
    total = report.total
    unreadable = (
        f" ({report.unreadable} could not be checked)" if report.unreadable else ""
    )
    return (
        f"{total.sites} legacy site{_s(total.sites)} in {report.files}"
        f" file{_s(report.files)}{unreadable}: {total.breaking} break on"
        f" SQLAlchemy 2.x, {total.sites - total.breaking} still run as legacy."
        f" `--fix` rewrites {total.safe}, `--fix --unsafe-fixes` {total.unsafe} more"
        f" (to review), {total.reported} are left to do by hand."
    )


def _progress_line(progress: Progress) -> str:
    return (
        f"**{progress.percent}% migrated** since the baseline: {progress.fixed} of"
        f" its {progress.recorded} site{_s(progress.recorded)} gone,"
        f" {progress.recorded - progress.fixed} left, {progress.new} new."
    )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


# -- HTML -------------------------------------------------------------------------
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:62em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:flex;height:1.1em;min-width:1px;border-radius:2px;overflow:hidden}
.bar span{display:block;height:100%}
.safe{background:#2e7d32}.unsafe{background:#f9a825}.hand{background:#c62828}
.key span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em}
.progress{font-size:1.1em}
"""


def html_page(report: MigrationReport) -> str:
    """One page, readable from the file system: inline style, no script."""
    widest = max((c.sites for c in report.packages.values()), default=0) or 1
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>SQLAlchemy 2.0 migration report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>SQLAlchemy 2.0 migration report</h1>",
        f'<p id="headline">{_inline(_headline(report))}</p>',
    ]
    if report.progress is not None:
        line = _progress_line(report.progress).replace("**", "")
        parts.append(f'<p class="progress" id="progress">{_inline(line)}</p>')
    parts += [
        "<h2>By package</h2>",
        '<p class="key"><span class="safe"></span>--fix'
        '<span class="unsafe"></span>--unsafe-fixes'
        '<span class="hand"></span>by hand</p>',
        '<table id="packages"><tr><th>package</th><th class="n">sites</th>'
        '<th class="n">break on 2.x</th><th>fixes</th></tr>',
    ]
    for name, counts in report.packages.items():
        parts.append(
            f"<tr><td><code>{html.escape(name)}</code></td>"
            f'<td class="n">{counts.sites}</td><td class="n">{counts.breaking}</td>'
            f"<td>{_bar(counts, widest)}</td></tr>"
        )
    parts.append("</table>")
    parts += [
        "<h2>By rule</h2>",
        '<table id="rules"><tr><th>rule</th><th>on SQLAlchemy 2.x</th>'
        '<th class="n">sites</th><th class="n">--fix</th>'
        '<th class="n">--unsafe-fixes</th><th class="n">by hand</th></tr>',
    ]
    for code, counts in report.rules.items():
        rule = RULES_BY_CODE[code]
        parts.append(
            f"<tr><td>{code} <code>{rule.name}</code></td>"
            f"<td>{IMPACT_TEXT[rule.impact]}</td>"
            + "".join(
                f'<td class="n">{n}</td>'
                for n in (counts.sites, counts.safe, counts.unsafe, counts.reported)
            )
            + "</tr>"
        )
    parts.append("</table>")
    if report.reasons:
        parts += [
            "<h2>Why some have no fix</h2>",
            '<table id="reasons"><tr><th class="n">sites</th><th>reason</th>'
            "<th>unlock</th></tr>",
        ]
        parts += [
            f'<tr><td class="n">{count}</td><td>{_inline(reason)}</td>'
            f"<td>{_unlock(reason)}</td></tr>"
            for reason, count in report.reasons
        ]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _bar(counts: Counts, widest: int) -> str:
    """A bar as long as the package's share of the largest, split by fix."""
    width = max(1, round(100 * counts.sites / widest))
    pieces = "".join(
        f'<span class="{kind}" style="flex:{n}" title="{n} {label}"></span>'
        for kind, n, label in (
            ("safe", counts.safe, "--fix"),
            ("unsafe", counts.unsafe, "--unsafe-fixes"),
            ("hand", counts.reported, "by hand"),
        )
        if n
    )
    return f'<div class="bar" style="width:{width}%">{pieces}</div>'


def _inline(text: str) -> str:
    """Markdown's `code` spans as <code>, the rest escaped."""
    pieces: Iterable[str] = html.escape(text, quote=False).split("`")
    return "".join(
        f"<code>{piece}</code>" if odd else piece
        for odd, piece in ((i % 2 == 1, p) for i, p in enumerate(pieces))
    )
