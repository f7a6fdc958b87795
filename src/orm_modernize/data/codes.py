"""The code of every rule, so that a selection (`--select ORM2`, a config's
`ignore`) can be checked and resolved without importing the rules, and LibCST with
them: a fifth of a second that a run parsing nothing does not spend.
`test_rules_meta` fails when this differs from the codes of `ALL_RULES`.
"""

from __future__ import annotations

from functools import cache

CODES = (
    "ORM001",
    "ORM002",
    "ORM003",
    "ORM004",
    "ORM005",
    "ORM101",
    "ORM102",
    "ORM201",
    "ORM202",
    "ORM203",
    "ORM204",
    "ORM205",
    "ORM206",
    "ORM207",
    "ORM208",
    "ORM209",
    "ORM210",
    "ORM301",
    "ORM302",
    "ORM303",
    "ORM304",
    "ORM305",
    "ORM306",
    "ORM307",
    "ORM401",
    "ORM402",
    "ORM403",
    "ORM404",
    "ORM405",
    "ORM406",
    "ORM407",
    "ORM408",
    "ORM409",
    "ORM410",
    "ORM900",
)
# Rules that change what users see beyond the legacy idiom (annotations): on only
# when selected by their full code, never by a prefix or `ALL`.
OPT_IN = frozenset({"ORM407"})
DEFAULT_CODES = tuple(code for code in CODES if code not in OPT_IN)


@cache
def _documentation() -> str | None:
    """The `Documentation` URL of the installed distribution (pyproject's
    `[project.urls]`): the one place that says where docs/rules.md is published."""
    from importlib import metadata

    try:
        urls: list[str] | None = metadata.metadata("orm-modernize").get_all(
            "Project-URL"
        )
    except metadata.PackageNotFoundError:
        return None
    for entry in urls or ():
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation":
            return url.strip()
    return None


def docs_url(code: str) -> str | None:
    """Where the rule `code` is documented: its section of docs/rules.md."""
    base = _documentation()
    return None if base is None else f"{base}#{code.lower()}"
