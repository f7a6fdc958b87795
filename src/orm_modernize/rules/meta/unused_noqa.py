"""ORM900: a `# noqa: ORMxxx` that silences nothing -> its codes removed."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from orm_modernize.data.codes import CODES
from orm_modernize.data.records import Diagnostic, TextEdit
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.noqa import LINE, NOQA, comment_tokens, split_codes

OURS = re.compile(r"ORM\d+")  # other tools' codes are never judged
# A line whose noqa comment may name one of our codes: the tokenizer, slow before
# Python 3.12, then reads the module only up to the last such line.
MAY_NAME_OURS = re.compile(r"noqa\s*:.*?orm\d", re.I)


class UnusedNoqa(Rule):
    """
    ## What it does
    Checks for `# noqa` comments that name an orm-modernize code which silences
    nothing on their line, or a code orm-modernize does not have (ruff's
    RUF100, for this tool's codes only).

    ## Why is this bad?
    Once the code under it is migrated, a `# noqa: ORM002` stays behind and
    would hide the idiom if it came back. A code that does not exist (a typo,
    a rule of another version) silences nothing and misleads the reader.

    ## Example
        stmt = select(User)  # noqa: ORM002

    ## Use instead
        stmt = select(User)

    ## Fix safety
    Safe: only the codes judged are removed, and the whole comment when no
    other code or words are left. A code is judged only when its rule runs on
    the file (selected, not ignored for it): with `--select ORM3`, a
    `# noqa: ORM002` is left alone. Codes of other tools (`E501`, `F401`), a
    `# noqa` without codes and one that names ORM900 are never judged. A file
    that does not use SQLAlchemy is not checked at all. The fix is applied
    once nothing else in the file is left to fix.
    """

    code = "ORM900"
    name = "unused-noqa"
    message = "unused `noqa` directive"
    fix_title = "Remove the unused `noqa` codes"
    fix_availability = "always"
    impact = "none"
    fix_runs_on = "1.4"  # a comment: any version
    triggers = (b"noqa", b"NOQA")


def unused_noqa(
    text: str, used: Mapping[int, set[str]], judged: Callable[[str], bool]
) -> list[Diagnostic]:
    """The findings of ORM900 in `text`: `used` holds, by the line of each
    `# noqa`, the codes it silenced; `judged(code)`, whether the code's rule ran."""
    if "noqa" not in text and "NOQA" not in text:
        return []
    lines = LINE.findall(text)
    candidates = [n for n, line in enumerate(lines, 1) if MAY_NAME_OURS.search(line)]
    if not candidates:
        return []
    found = []
    for line, column, comment in comment_tokens(text, until=candidates[-1]):
        match = NOQA.search(comment)
        if match is None or match.group("codes") is None:
            continue
        listed = split_codes(match.group("codes"))
        if UnusedNoqa.code in listed:
            continue  # it silences this rule's finding, wherever it is stale
        ours = [c for c in listed if OURS.fullmatch(c)]
        unknown = tuple(c for c in ours if c not in CODES)
        unused = tuple(
            c for c in ours if c in CODES and judged(c) and c not in used.get(line, ())
        )
        if not (unknown or unused):
            continue
        keep = [c for c in listed if c not in unknown and c not in unused]
        said = [
            f"{kind}: " + ", ".join(f"`{c}`" for c in codes)
            for kind, codes in (("unused", unused), ("unknown", unknown))
            if codes
        ]
        found.append(
            Diagnostic(
                code=UnusedNoqa.code,
                message=f"{UnusedNoqa.message} ({'; '.join(said)})",
                line=line,
                column=column + match.start() + 1,
                end_line=line,
                end_column=column + match.end() + 1,
                fix_title=UnusedNoqa.fix_title,
                applicability="safe",
                edits=(_edit(lines[line - 1], line, column, comment, match, keep),),
            )
        )
    return found


def _edit(
    text: str,
    line: int,
    column: int,
    comment: str,
    match: re.Match[str],
    keep: list[str],
) -> TextEdit:
    """The edit of `line` (its `text`) that drops the codes not in `keep` from its
    comment, or the comment itself when nothing else is left in it."""
    if keep:
        start, end = match.span("codes")
        new = comment[:start] + ", ".join(keep) + comment[end:]
        return TextEdit(new, line, column + 1, line, column + len(comment) + 1)
    before, after = comment[: match.start()].rstrip(), comment[match.end() :].strip()
    if after and not after.startswith("#"):
        after = f"# {after}"  # the words that followed the codes, a comment still
    if before or after:
        new = f"{before}  {after}" if before and after else before or after
    else:  # nothing left: the comment goes, with the blanks before it
        code = text[:column].rstrip()
        if not code:  # a line of its own
            return TextEdit("", line, 1, line + 1, 1)
        return TextEdit("", line, len(code) + 1, line, column + len(comment) + 1)
    return TextEdit(new, line, column + 1, line, column + len(comment) + 1)


def applied(text: str, edits: list[TextEdit]) -> str:
    """`text` with `edits` (one per line, none overlapping) made."""
    lines = LINE.findall(text)
    for edit in sorted(edits, key=lambda e: e.line, reverse=True):
        row = lines[edit.line - 1]
        if edit.end_line > edit.line:  # the whole line
            lines[edit.line - 1] = ""
            continue
        lines[edit.line - 1] = (
            row[: edit.column - 1] + edit.content + row[edit.end_column - 1 :]
        )
    return "".join(lines)
