"""Documentation generated from the rules themselves, so it cannot go stale."""

from __future__ import annotations

from orm_modernize.rules import ALL_RULES


def rules_table() -> str:
    """The Markdown table of rules that README.md carries."""
    rows = ["| code | name | what it finds | fix |", "|---|---|---|---|"]
    for rule in ALL_RULES:
        rows.append(
            f"| {rule.code} | `{rule.name}` | {rule.message}"
            f" | {rule.fix_availability} |"
        )
    return "\n".join(rows) + "\n"
