"""The engine: errors are data, untouched bytes stay, bad fixes never land."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.data.records import Fix, Settings
from orm_modernize.engine.lint import lint_source
from orm_modernize.rules.base import Rule

QUERY = (
    "from sqlalchemy.orm import Session, declarative_base\n"
    "Base = declarative_base()\n"
    "class User(Base):\n"
    "    pass\n"
    "session = Session()\n"
)
FIX = Settings(fix=True, unsafe_fixes=True)


def test_parse_error_is_reported_not_raised() -> None:
    source = b"import sqlalchemy\nsession.query(User).all(\n"
    result = lint_source(source, Path("broken.py"), FIX)
    assert len(result.errors) == 1 and result.errors[0].kind == "parse"
    assert result.errors[0].message.startswith("cannot parse: ")
    assert result.fixed is None


def test_file_that_cannot_hold_an_idiom_is_not_parsed() -> None:
    # The byte pre-filter: no rule's trigger, so no parse and no work.
    source = b"import sqlalchemy\ndef broken(:\n"
    result = lint_source(source, Path("other.py"), FIX)
    assert result.errors == () and result.diagnostics == ()


def test_file_without_sqlalchemy_evidence_is_not_parsed() -> None:
    # A rule's trigger (`.query`) is there, but nothing names SQLAlchemy or a
    # mapped class of the project: no rule could prove anything, so no parse.
    source = b"rows = session.query(Thing).all(\n"
    result = lint_source(source, Path("other.py"), FIX)
    assert result.errors == () and result.diagnostics == ()


def test_file_naming_a_mapped_class_of_the_project_is_checked() -> None:
    source = (
        b"from app.models import User\n\n"
        b"def f(session):\n    session.query(User).get(1)\n"
    )
    project = ProjectIndex(packages=frozenset({"app"}), mapped=frozenset({"User"}))
    result = lint_source(source, Path("views.py"), Settings(), project=project)
    assert [d.code for d in result.diagnostics] == ["ORM001"]


def test_noqa_silences_its_line_only() -> None:
    source = (
        QUERY
        + "a = session.query(User).all()  # noqa: ORM002\n"
        + "b = session.query(User).all()  # noqa\n"
        + "c = session.query(User).all()  # noqa: ORM001\n"
        + "d = session.query(User).all()  # NOQA:ORM401,ORM002\n"
    ).encode()
    result = lint_source(source, Path("m.py"), Settings(select=("ORM002",)))
    assert [d.line for d in result.diagnostics] == [8]


def test_bytes_outside_fixes_are_kept() -> None:
    source = (
        "# -*- coding: latin-1 -*-\r\n"
        + QUERY.replace("\n", "\r\n")
        + "name = 'caf\xe9'  # a comment\r\n"
        + "rows = session.query(User).all()\r\n"
        + "if rows:\r\n\tpass_ = 1 if True else 0  \r\n"
    ).encode("latin-1")
    result = lint_source(source, Path("m.py"), Settings(select=("ORM002",), fix=True))
    assert result.fixed is not None
    expected = source.replace(
        b"session.query(User).all()", b"session.scalars(select(User)).all()"
    ).replace(
        b"from sqlalchemy.orm",
        b"from sqlalchemy import select\r\nfrom sqlalchemy.orm",
        1,
    )
    assert result.fixed == expected


class BrokenFix(Rule):
    """A rule whose fix produces invalid Python (`return` outside a function)."""

    code = "ORM999"
    name = "broken-fix"
    message = "test rule"
    fix_title = "break it"
    fix_availability = "always"
    triggers = (b"marker",)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "marker":
            statement = cst.parse_statement("return 1")
            assert isinstance(statement, cst.SimpleStatementLine)
            parent = self.semantic.parent(self.semantic.parent(node))  # Expr -> line
            assert parent is not None
            self.report(node, fix=Fix.replace(parent, statement, safe=True))


def test_fix_that_would_produce_invalid_python_is_dropped() -> None:
    source = b"import sqlalchemy\nx = 1\nmarker\n"
    result = lint_source(
        source, Path("m.py"), Settings(select=("ORM",), fix=True), rules=[BrokenFix]
    )
    assert result.fixed is None
    assert len(result.errors) == 1 and result.errors[0].kind == "fix"
    assert "ORM999 fix dropped" in result.errors[0].message
    assert [d.code for d in result.diagnostics] == ["ORM999"]


class EndlessFix(Rule):
    """A rule that rewrites what it rewrote: must be caught, not looped on."""

    code = "ORM998"
    name = "endless-fix"
    message = "test rule"
    fix_title = "again"
    fix_availability = "always"
    triggers = (b"value",)

    def visit_Integer(self, node: cst.Integer) -> None:
        bigger = cst.Integer(str(int(node.value) + 1))
        self.report(node, fix=Fix.replace(node, bigger, safe=True))


def test_non_converging_fix_leaves_file_unchanged() -> None:
    source = b"import sqlalchemy\nvalue = 1\n"
    result = lint_source(
        source, Path("m.py"), Settings(select=("ORM",), fix=True), rules=[EndlessFix]
    )
    assert result.fixed is None
    assert result.errors and "did not converge (ORM998)" in result.errors[0].message


class UnparenthesizedFix(Rule):
    """A rule whose fix builds `zero + n` into `n * 2` without parentheses: the tree
    holds `(zero + n) * 2`, but its code `zero + n * 2` reads as `zero + (n * 2)`,
    where the rule fires again."""

    code = "ORM997"
    name = "unparenthesized-fix"
    message = "test rule"
    fix_title = "prefix it"
    fix_availability = "always"
    triggers = (b"*",)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Multiply) and isinstance(node.left, cst.Name):
            bigger = cst.BinaryOperation(cst.Name("zero"), cst.Add(), node.left)
            self.report(node.left, fix=Fix.replace(node.left, bigger, safe=True))


def test_a_second_run_would_fix_nothing_more() -> None:
    # Each pass reads the code the last one printed, as a second run would: were it
    # to read the tree, this file would be written as `zero + n * 2`, and each later
    # run would add a `zero + `.
    source = b"import sqlalchemy\nvalue = n * 2\n"
    result = lint_source(
        source,
        Path("m.py"),
        Settings(select=("ORM",), fix=True),
        rules=[UnparenthesizedFix],
    )
    assert result.fixed is None
    assert result.errors and "did not converge (ORM997)" in result.errors[0].message


def test_nested_query_is_fixed_on_a_later_pass() -> None:
    source = (
        QUERY + "n = session.query(User).filter(User.id.in_("
        "[u.id for u in session.query(User).all()])).count()\n"
    ).encode()
    result = lint_source(source, Path("m.py"), Settings(select=("ORM002",), fix=True))
    assert result.fixed is not None
    assert b".query(" not in result.fixed
    assert len(result.applied) == 2 and result.diagnostics == ()


def test_loader_removed_in_14_is_not_carried_into_select() -> None:
    # joinedload_all() is gone from 1.4 itself, so no fixture program can run it:
    # a select() carrying it would fail as the Query did, only later and unflagged.
    source = (
        QUERY + "from sqlalchemy.orm import joinedload_all\n"
        "users = session.query(User).options(joinedload_all('a', 'b')).all()\n"
    ).encode()
    result = lint_source(source, Path("m.py"), Settings(select=("ORM002",), fix=True))
    assert result.fixed is None
    (finding,) = result.diagnostics
    assert finding.applicability is None
    assert "`joinedload_all()` was removed in 1.4" in finding.message


def test_a_refused_flow_gives_the_same_reason_on_every_run() -> None:
    # Scopes hand out a variable's bindings as a set; the first refusal met must
    # still be the one earliest in the source, or the message changes between runs.
    source = (
        QUERY
        + "def f():\n"
        + "    q = session.query(User)\n"
        + "    q = q.from_self()\n"
        + "    q = q.join(User.addresses, aliased=True)\n"
        + "    return q.all()\n"
    ).encode()
    only = Settings(select=("ORM002",))
    messages = {
        lint_source(source, Path("flow.py"), only).diagnostics[0].message
        for _ in range(20)
    }
    assert len(messages) == 1
    assert "from_self" in messages.pop()


def test_execute_of_string_sql_is_one_finding_whatever_its_parameters() -> None:
    """ORM201 owns SQL strings with their parameters; ORM203 must not report the
    same call, or `--fix` would see two fixes for one node."""
    source = (
        b"from sqlalchemy import create_engine\n"
        b"engine = create_engine('sqlite://')\n"
        b"with engine.connect() as conn:\n"
        b"    query = 'SELECT :x'\n"
        b"    conn.execute(query, x=1)\n"
        b"    conn.execute('SELECT %d' % 1, 'a', 'b')\n"
    )
    result = lint_source(source, Path("m.py"), Settings())
    assert [(d.code, d.line) for d in result.diagnostics] == [
        ("ORM201", 5),
        ("ORM201", 6),
    ]


def test_findings_sharing_one_fix_are_all_applied_in_one_pass() -> None:
    """ORM406 rewrites every backref of a module in one fix: three backrefs into
    one class are three findings fixed, and the class gains three attributes
    (the foreign keys named in Post's body become `lambda: [Post.user_id]`)."""
    source = b"""\
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import declarative_base, relationship
Base = declarative_base()
class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
class Post(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("users.id"))
    editor_id = Column(ForeignKey("users.id"))
    author = relationship(User, foreign_keys=[user_id], backref="posts")
    editor = relationship(User, foreign_keys=[editor_id], backref="edits")
class Comment(Base):
    __tablename__ = "comments"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("users.id"))
    user = relationship(User, backref="comments")
"""
    result = lint_source(source, Path("m.py"), Settings(select=("ORM406",), fix=True))
    assert result.errors == ()
    assert [d.line for d in result.applied] == [12, 13, 18]
    assert result.diagnostics == ()
    assert result.fixed is not None
    fixed = result.fixed.decode()
    assert fixed.count("back_populates") == 6 and "backref" not in fixed
    assert "foreign_keys=lambda: [Post.editor_id]" in fixed


def test_an_import_freed_in_a_function_goes_with_the_blank_line_after_it() -> None:
    source = (
        b"import sqlalchemy\n\n\ndef f():\n"
        b"    from sqlalchemy.orm import relation\n\n"
        b"    # a comment stays\n"
        b'    return relation("A")\n'
    )
    result = lint_source(source, Path("m.py"), Settings(select=("ORM404",), fix=True))
    assert result.fixed == (
        b"import sqlalchemy\nfrom sqlalchemy.orm import relationship\n\n\ndef f():\n"
        b"    # a comment stays\n"
        b'    return relationship("A")\n'
    )


def test_a_parse_leaves_libcsts_node_checks_as_they_were() -> None:
    # The parse of a file CPython compiled skips LibCST's check of each node it
    # builds; the checks are on again after it, even when the parse failed.
    from orm_modernize.syntax.parsing import Unparseable, parse

    module, compiles = parse(b"x = f(a, *b, **c)\n", Path("ok.py"))
    assert compiles and module.code == "x = f(a, *b, **c)\n"
    with pytest.raises(Unparseable):
        parse(b"x = (\n", Path("bad.py"))
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")
