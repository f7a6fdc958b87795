"""The search for the modules that name a method returning a query or a dynamic
relationship (`analysis/mentions.py`): what counts as naming it, and what does
not."""

from __future__ import annotations

from pathlib import Path

import pytest

from orm_modernize.analysis.mentions import named_in
from orm_modernize.analysis.module_facts import ModuleFacts

FACTS = [
    (
        Path("models.py"),
        ModuleFacts(
            query_methods=frozenset({b"open", b"open_ones", b"_o"}),
            dynamic=frozenset({b"posts", b"posts_v2"}),
        ),
    )
]


def mentioned(source: str) -> set[str]:
    found = named_in(FACTS, lambda: [("/m.py", source.encode())])
    assert found is not None
    return {name for name, paths in found if paths}


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("repo.open_ones().all()", {"open_ones"}),
        ("repo.open().all()", {"open"}),
        ("repo.opened()", set()),  # a longer name that begins like one
        ("repo.open_one()", set()),
        ("getattr(repo, 'open_ones')", {"open_ones"}),
        ('getattr(repo, "_o")', {"_o"}),
        ('"open ones"', set()),
        ("open_ones = 1\nopen_ones()", set()),  # a local name is no use
        ("user.posts_v2.count()", {"posts_v2"}),
        ("user.posts.count(); user.posts_v2", {"posts", "posts_v2"}),
        # another class's attribute of that name, indented in its body
        ("class Blog:\n    posts = []\n", {"posts"}),
        ("class Blog:\n\tposts: list = []\n", {"posts"}),
        ("posts = []\n", set()),  # module level: a variable
        ("if x:\n    posts == 1\n", set()),  # a comparison
        ("def f():\n    my_posts = []\n", set()),
        ("x = 1;  posts = []\n", set()),  # not the line's first name
    ],
)
def test_what_names_a_method_or_a_dynamic_relationship(
    source: str, names: set[str]
) -> None:
    assert mentioned(source) == names


def test_nothing_to_look_for_reads_nothing() -> None:
    def sources() -> list[tuple[str, bytes]]:
        raise AssertionError("read")

    assert named_in([(Path("m.py"), ModuleFacts())], sources) is None
