"""`orm-modernize rules` and `orm-modernize explain CODE`: the rules and their
documentation."""

from __future__ import annotations

import click


@click.command()
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--markdown", is_flag=True, help="Print the table that README.md carries."
)
@click.option("--docs", is_flag=True, help="Print docs/rules.md.")
def rules(output_format: str, markdown: bool, docs: bool) -> None:
    """List every rule: code, name, and whether it can fix what it finds."""
    from orm_modernize.cli import rule_docs as generated
    from orm_modernize.rules import ALL_RULES

    if markdown or docs:
        text = generated.rules_table() if markdown else generated.rules_reference()
        click.echo(text, nl=False)
        return
    if output_format == "json":
        import json

        click.echo(json.dumps(generated.rules_json(), indent=2))
        return
    for rule in ALL_RULES:
        fix = rule.fix_availability
        runs_on = "" if fix == "never" else generated.runs_on_text(rule)
        line = f"{rule.code}  {rule.name:<32} fix: {fix:<9} {runs_on}"
        click.echo(line.rstrip())


@click.command()
@click.argument("code")
def explain(code: str) -> None:
    """Print the documentation of the rule CODE (or its name: `legacy-query`)."""
    from orm_modernize.rules import ALL_RULES, RULES_BY_CODE

    by_name = {rule.name: rule for rule in ALL_RULES}
    name = code.lower().replace("_", "-")
    rule = RULES_BY_CODE.get(code.upper()) or by_name.get(name)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(name, by_name, n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        raise click.BadParameter(f"unknown rule: {code}{hint}", param_hint="CODE")
    from orm_modernize.data.codes import docs_url

    url = docs_url(rule.code)
    link = f"\n\n{url}" if url else ""
    click.echo(f"# {rule.code} {rule.name}\n\n{rule.docs()}{link}")
