"""A fix as text edits (ruff's JSON `fix.edits`), for editors and bots that apply
fixes without running the tool.

Most fixes replace an expression: the edit is that expression's range and the
replacement's code (indented as the blocks around it), and the imports the fix
needs become a `from m import n` line after the module's last top-level import
(valid Python, though `--fix` merges it into an existing import instead). A fix
that replaces statements edits their whole lines; when a statement's lines
cannot be told apart from its neighbours' (a block's trailing comments), the edit
is the whole lines of the module-level statement that holds the fix, printed
with it; failing that (a fix across several), the module with the fix's edits,
diffed. Imports the fix frees are left in place: `--fix` removes them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import cast

import libcst as cst

from orm_modernize.data.records import Edit, ImportSpec, TextEdit, Violation
from orm_modernize.syntax.nodes import is_docstring
from orm_modernize.syntax.noqa import LINE
from orm_modernize.syntax.positions import Positions
from orm_modernize.syntax.replace import Replacer, replaced
from orm_modernize.syntax.statements import module_imports


class TextEdits:
    """The text edits of each fix of one module. What every fix's edits need of
    the module (its lines, its imports, where a new import goes) is read once,
    not once per fix: a module with hundreds of findings has hundreds of fixes."""

    def __init__(
        self,
        module: cst.Module,
        positions: Positions,
        top_of: Callable[[cst.CSTNode], cst.CSTNode | None],
    ) -> None:
        self.module = module
        self.positions = positions
        self.top_of = top_of  # the module-level statement holding a node

    @cached_property
    def lines(self) -> list[str]:
        return LINE.findall(self.module.code)

    @cached_property
    def present(self) -> frozenset[ImportSpec]:
        """`from m import n` already at the top level, not renamed."""
        return frozenset(
            (source, name)
            for source, name, alias in module_imports(self.module)
            if name is not None and alias is None
        )

    @cached_property
    def import_line(self) -> int:
        return _after_imports(self.module, self.positions)

    def of(self, violation: Violation) -> tuple[TextEdit, ...]:
        """The edits that turn the module's code into the code with `violation`'s
        fix."""
        assert violation.fix is not None
        positions = self.positions
        edits: list[TextEdit] = []
        for edit in violation.fix.edits:
            replacement = edit.replacement
            if not isinstance(replacement, cst.BaseExpression):
                whole = _statement_edit(edit, positions, self.lines)
                if whole is None:
                    return self._rewritten_statement(violation)
                edits.append(whole)
                continue
            content = positions.code_in_place(edit.node, replacement)
            where = positions[edit.node]
            edits.append(
                TextEdit(
                    content,
                    where.start.line,
                    where.start.column + 1,
                    where.end.line,
                    where.end.column + 1,
                )
            )
        imports = self._import_edit(violation.fix.imports)
        return tuple(edits + ([imports] if imports else []))

    def _rewritten_statement(self, violation: Violation) -> tuple[TextEdit, ...]:
        """The fix as one edit of the whole lines of the module-level statement
        that holds all its edits, printed with them; else the module with the
        fix's edits alone, diffed. Either way with the imports it needs (not
        LibCST's import codemods: a whole-module pass of seconds each)."""
        assert violation.fix is not None
        tops = {
            id(self.top_of(e.node)): self.top_of(e.node) for e in violation.fix.edits
        }
        top = next(iter(tops.values())) if len(tops) == 1 else None
        replacements = {id(e.node): e.replacement for e in violation.fix.edits}
        imports = self._import_edit(violation.fix.imports)
        also = [imports] if imports else []
        if isinstance(top, cst.BaseStatement):
            new = top.visit(Replacer(replacements))
            old_lines = LINE.findall(self.module.code_for_node(top))
            leading: Sequence[cst.EmptyLine] = getattr(top, "leading_lines", ())
            first = self.positions[top].start.line - len(leading)
            stands = self.lines[first - 1 : first - 1 + len(old_lines)] == old_lines
            if stands and isinstance(new, cst.BaseStatement):
                content = self.module.code_for_node(new)
                edit = TextEdit(content, first, 1, first + len(old_lines), 1)
                return (edit, *also)
        fixed = cast(cst.Module, replaced(self.module, replacements)).code
        return (*diffed(self.module.code, fixed), *also)

    def _import_edit(self, imports: tuple[ImportSpec, ...]) -> TextEdit | None:
        needed = [spec for spec in dict.fromkeys(imports) if spec not in self.present]
        if not needed:
            return None
        newline = self.module.default_newline
        lines = "".join(f"from {m} import {n}{newline}" for m, n in needed)
        return TextEdit(lines, self.import_line, 1, self.import_line, 1)


def _statement_edit(
    edit: Edit, positions: Positions, lines: list[str]
) -> TextEdit | None:
    """A statement replaced (or removed) as whole lines, when printing it in place
    gives back exactly the lines it stands on (else None)."""
    node, replacement = edit.node, edit.replacement
    if not isinstance(node, cst.BaseStatement):
        return None
    if isinstance(replacement, cst.RemovalSentinel):
        content = ""
    elif isinstance(replacement, cst.FlattenSentinel):
        content = "".join(positions.code_in_place(node, n) for n in replacement.nodes)
    elif isinstance(replacement, cst.BaseStatement):
        content = positions.code_in_place(node, replacement)
    else:
        return None
    original = LINE.findall(positions.code_in_place(node, node))
    leading: Sequence[cst.EmptyLine] = getattr(node, "leading_lines", ())
    first = positions[node].start.line - len(leading)
    if lines[first - 1 : first - 1 + len(original)] != original:
        return None
    return TextEdit(content, first, 1, first + len(original), 1)


def diffed(before: str, after: str) -> tuple[TextEdit, ...]:
    """Whole-line edits from `before` to `after`."""
    old, new = LINE.findall(before), LINE.findall(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return tuple(
        TextEdit("".join(new[j1:j2]), i1 + 1, 1, i2 + 1, 1)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    )


def _after_imports(module: cst.Module, positions: Positions) -> int:
    """The line after the last top-level import, else after the docstring, else
    the first line."""
    last: cst.BaseSmallStatement | None = None
    for index, statement in enumerate(module.body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        imports = any(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body
        )
        if imports or (index == 0 and is_docstring(statement)):
            last = statement.body[-1]
    if last is None:
        return 1
    return positions[last].end.line + 1
