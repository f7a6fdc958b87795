"""A statement laid out by black, for what `wrapping.wrapped()` does not cover
(operators and comparisons, conditional expressions, a comment or a magic
trailing comma inside brackets): what the project's formatter, black or `ruff
format` (which lays code out as black does), would make of it, so that formatting
the fixed file changes nothing.

Black formats modules, so the statement is formatted alone, moved to the left
margin with the line length less its indentation: black measures a line with
its indentation, four spaces a level, and makes the same choices either way. A
compound statement's header gets a `pass` body to be one. Strings keep their
quotes: the fix did not write them.
"""

from __future__ import annotations

# The headers laid out, spelled as a statement starts (no simple statement
# starts so): `else:` or `try:` have nothing to split, and black formats `elif`
# as the `if` it is
HEADERS = ("if ", "elif ", "while ", "for ", "async for ", "with ", "async with ")
# Narrower than this, black's layout is not worth having
NARROWEST = 20


def black_layout(lines: list[str], limit: int) -> str | None:
    """The statement over `lines` (a simple statement, or a compound statement's
    header) laid out by black within `limit`, at its indentation, without its
    last line ending; None when black cannot lay it out."""
    first = lines[0]
    indent = first[: len(first) - len(first.lstrip())]
    if "\t" in indent or limit - len(indent) < NARROWEST:
        return None
    body = []
    for line in lines:
        if line.startswith(indent):
            body.append(line[len(indent) :])
        elif line.strip():
            return None  # a line left of the statement's: a string's
        else:
            body.append(line.lstrip(" \t"))
    code = "".join(body).rstrip() + "\n"
    header = code.startswith(HEADERS)
    elif_ = code.startswith("elif ")
    if elif_:
        code = code[2:]
    if header:
        code += "    pass\n"
    try:
        import black

        mode = black.Mode(line_length=limit - len(indent), string_normalization=False)
        out = black.format_str(code, mode=mode)
    except Exception:  # black's error for what it cannot parse, or no black
        return None
    rows = out.rstrip("\n").split("\n")
    if header:
        rows = rows[:-1]  # the `pass`
    if elif_:
        rows[0] = "el" + rows[0]
    return "\n".join(indent + row if row else row for row in rows)
