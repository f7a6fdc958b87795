"""Documentation generated from the rules themselves, so it cannot go stale."""

from __future__ import annotations

from orm_modernize.rule import Rule
from orm_modernize.rules import ALL_RULES


def rules_table() -> str:
    """The Markdown table of rules that README.md carries."""
    rows = [
        "| code | name | what it finds | fix | fixed code runs on |",
        "|---|---|---|---|---|",
    ]
    for rule in ALL_RULES:
        runs_on = "—" if rule.fix_availability == "never" else runs_on_text(rule)
        rows.append(
            f"| {rule.code} | `{rule.name}` | {rule.message}"
            f" | {rule.fix_availability} | {runs_on} |"
        )
    return "\n".join(rows) + "\n"


def runs_on_text(rule: type[Rule]) -> str:
    return "SQLAlchemy 1.4 and 2.x" if rule.fix_runs_on == "1.4" else "SQLAlchemy 2.x"
