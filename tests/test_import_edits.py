"""The imports fixes add and free, edited on the statements that hold them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst

from orm_modernize.data.records import ImportSpec
from orm_modernize.engine.import_edits import add_and_remove


def edited(
    source: str, needed: Sequence[ImportSpec] = (), freed: Iterable[str] = ()
) -> str:
    return add_and_remove(cst.parse_module(source), list(needed), set(freed)).code


def test_names_join_the_first_import_of_their_module_at_the_top() -> None:
    source = '"""Doc."""\nfrom sqlalchemy import Column\nimport os\n\nx = 1\n'
    assert edited(source, [("sqlalchemy", "select"), ("sqlalchemy", "func")]) == (
        '"""Doc."""\nfrom sqlalchemy import func, select, Column\nimport os\n\nx = 1\n'
    )


def test_a_new_module_gets_its_statement_after_the_opening_imports() -> None:
    source = "import os\n# a comment\nx = 1\n"
    assert edited(source, [("sqlalchemy", "select")]) == (
        "import os\nfrom sqlalchemy import select\n\n# a comment\nx = 1\n"
    )
    assert edited("x = 1\n", [("__future__", "annotations"), ("a", "b")]) == (
        "from __future__ import annotations\nfrom a import b\n\nx = 1\n"
    )


def test_present_or_star_imported_names_are_not_added_again() -> None:
    source = "from sqlalchemy import select\nfrom sqlalchemy.orm import *\n"
    needed = [("sqlalchemy", "select"), ("sqlalchemy.orm", "Session")]
    assert edited(source, needed) == source


def test_a_freed_name_goes_only_when_nothing_uses_it() -> None:
    source = (
        "from sqlalchemy.orm import backref, relationship  # models\n"
        "import sqlalchemy.ext.declarative\n"
        "x = relationship()\n"
    )
    assert edited(source, freed={"backref", "sqlalchemy.ext.declarative"}) == (
        "from sqlalchemy.orm import relationship  # models\nx = relationship()\n"
    )
    # A use anywhere keeps it: a name, `__all__`, a string annotation.
    for use in ("y = backref\n", '__all__ = ["backref"]\n', 'z: "list[backref]"\n'):
        kept = "from sqlalchemy.orm import backref\n" + use
        assert edited(kept, freed={"backref"}) == kept


def test_an_import_inside_a_function_is_freed_there() -> None:
    source = "def f():\n    from sqlalchemy.orm import backref\n\n    return 1\n"
    assert edited(source, freed={"backref"}) == "def f():\n    return 1\n"


def test_a_string_that_merely_spells_the_name_does_not_keep_it() -> None:
    source = (
        "from sqlalchemy.orm import declarative_base\n"
        'expect_warning("declarative_base")\n'
    )
    assert edited(source, freed={"declarative_base"}) == (
        'expect_warning("declarative_base")\n'
    )


def test_a_class_bodys_import_is_not_read_by_the_classes_nested_in_it() -> None:
    source = (
        "class Wrapper:\n"
        "    from sqlalchemy.orm import relation as rel\n"
        "\n"
        "    class User:\n"
        "        addresses = rel()\n"
    )
    assert edited(source, freed={"rel"}) == (
        "class Wrapper:\n    class User:\n        addresses = rel()\n"
    )
