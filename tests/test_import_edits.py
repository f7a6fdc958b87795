"""The imports fixes add and free, edited on the statements that hold them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst

from orm_modernize.data.records import ImportSpec
from orm_modernize.engine.import_edits import add_and_remove


def edited(
    source: str,
    needed: Sequence[ImportSpec] = (),
    freed: Iterable[str] = (),
    first_party: frozenset[str] = frozenset(),
) -> str:
    module = cst.parse_module(source)
    return add_and_remove(module, list(needed), set(freed), first_party).code


def test_names_join_the_first_import_of_their_module_in_isort_order() -> None:
    source = '"""Doc."""\nfrom sqlalchemy import Column\nimport os\n\nx = 1\n'
    assert edited(source, [("sqlalchemy", "select"), ("sqlalchemy", "func")]) == (
        '"""Doc."""\nfrom sqlalchemy import Column, func, select\nimport os\n\nx = 1\n'
    )
    # Constants, classes, then functions; one name a line stays one a line.
    source = "from sqlalchemy import (\n    Column,\n    select,\n)\n"
    needed = [("sqlalchemy", "func"), ("sqlalchemy", "LABEL_STYLE_NONE")]
    assert edited(source, needed) == (
        "from sqlalchemy import (\n    LABEL_STYLE_NONE,\n    Column,\n    func,\n"
        "    select,\n)\n"
    )
    # Names the module does not keep in order: the new one goes last.
    source = "from sqlalchemy import select, Column\n"
    assert edited(source, [("sqlalchemy", "func")]) == (
        "from sqlalchemy import select, Column, func\n"
    )


def test_a_new_statement_goes_where_isort_puts_it() -> None:
    # Among the third-party imports, in order of module.
    source = (
        "import os\n\nimport click\nfrom flask import Flask\n"
        "from sqlalchemy.orm import Session\n\nfrom app import db\n\nx = 1\n"
    )
    assert edited(
        source, [("sqlalchemy", "select")], first_party=frozenset({"app"})
    ) == (
        "import os\n\nimport click\nfrom flask import Flask\n"
        "from sqlalchemy import select\nfrom sqlalchemy.orm import Session\n\n"
        "from app import db\n\nx = 1\n"
    )
    # A section of its own between the standard library and the project's.
    source = "import os\n\nfrom app.models import User\nfrom . import views\n\nx = 1\n"
    assert edited(
        source, [("sqlalchemy", "select")], first_party=frozenset({"app"})
    ) == (
        "import os\n\nfrom sqlalchemy import select\n\n"
        "from app.models import User\nfrom . import views\n\nx = 1\n"
    )
    # First: the module's opening comment stays above the imports.
    source = "# header\nfrom app.models import User\n"
    assert edited(
        source, [("sqlalchemy", "select")], first_party=frozenset({"app"})
    ) == ("# header\nfrom sqlalchemy import select\n\nfrom app.models import User\n")


def test_a_new_statement_after_the_imports_is_followed_by_a_blank_line() -> None:
    source = "import os\n# a comment\nx = 1\n"
    assert edited(source, [("sqlalchemy", "select")]) == (
        "import os\n\nfrom sqlalchemy import select\n\n# a comment\nx = 1\n"
    )
    assert edited("x = 1\n", [("__future__", "annotations"), ("a", "b")]) == (
        "from __future__ import annotations\n\nfrom a import b\n\nx = 1\n"
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


def test_a_first_party_import_goes_before_the_relative_ones() -> None:
    source = "from pytz import UTC\n\nfrom .models import User\n\nx = 1\n"
    assert edited(
        source, [("app.extensions", "db")], first_party=frozenset({"app"})
    ) == (
        "from pytz import UTC\n\nfrom app.extensions import db\n\n"
        "from .models import User\n\nx = 1\n"
    )
