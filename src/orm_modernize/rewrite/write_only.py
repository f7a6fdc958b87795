"""A `lazy="dynamic"` relationship made a write-only collection, with its uses.

A dynamic relationship `user.posts` is a `Query` bound to the object's session;
a write-only one gives `user.posts.select()` to run, and `add()`/`add_all()`/
`remove()`. Every use of the attribute in the project changes: `write_only()`
rewrites the relationship and the uses of its module, `uses_elsewhere()` those
of another module, and the runner (`two_ended.with_write_only_uses()`) does all
of them or none. Each use must have a form:

    user.posts.append(p)                  user.posts.add(p)
    user.posts.extend(ps)                 user.posts.add_all(ps)
    user.posts.filter(c).order_by(o).all()
        object_session(user).scalars(user.posts.select().where(c).order_by(o)).all()
    user.posts.count()
        object_session(user).scalar(
            select(func.count()).select_from(user.posts.select().subquery())
        )
    for post in user.posts:               for post in object_session(user).scalars(
                                              user.posts.select()
                                          ):

`object_session()` is the session the dynamic query ran on. A template of the
project (Jinja's `{{ user.posts.count() }}`) is a use no Python module shows:
one that names the attribute keeps it dynamic. Unsafe: an object in
no session (new, or detached) read its pending objects through the dynamic
query, and has no session to run the statement on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache

import libcst as cst

from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Edit, Fix, ImportSpec, Refused
from orm_modernize.rewrite.naming import namer
from orm_modernize.syntax.nodes import assignment_targets, method, root_name

# Query methods that have a `Select` form of the same name, or `where()`
STEPS = {
    "filter": "where",
    "filter_by": "filter_by",
    "order_by": "order_by",
    "limit": "limit",
    "offset": "offset",
}
# Query methods that end a read, and the `ScalarResult` method that does the same
ENDS = {"all": "all", "first": "first", "one": "one", "one_or_none": "one_or_none"}
# Files whose text may read attributes of mapped objects, and directories of
# none of the project's own
TEMPLATES = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".mako", ".tmpl", ".txt")
SKIPPED_DIRECTORIES = frozenset(
    {"node_modules", "__pycache__", "venv", "env", "site-packages", "build", "dist"}
)
# Collection methods of a dynamic relationship, and the write-only ones
WRITES = {"append": "add", "extend": "add_all", "remove": "remove"}
# What the fixes call on a write-only collection
WRITTEN = frozenset({"add", "add_all", "select"})


def write_only(semantic: Semantic, call: cst.Call, lazy: cst.Arg) -> Fix:
    """`lazy="dynamic"` of `call`, assigned to an attribute in a class body, made
    `lazy="write_only"`, and every use of the attribute in the module rewritten."""
    fix = write_only_here(semantic, call, lazy)
    _check_named_here_only(semantic, _attribute(semantic, call))
    return fix


def write_only_here(semantic: Semantic, call: cst.Call, lazy: cst.Arg) -> Fix:
    """`write_only()` as if no other module of the project named the attribute:
    this module's own part, which reads nothing of what the runs over several
    modules decide."""
    name = _attribute(semantic, call)
    owner = semantic.enclosing(call, cst.ClassDef)
    imports: list[ImportSpec] = []
    edits = [Edit(lazy.value, _renamed(lazy.value))]
    seen: list[cst.CSTNode] = []
    for node in semantic.nodes(cst.Attribute):
        if node.attr.value == name:
            _check_not_another_class(semantic, node, owner)
            edit = _use(semantic, node, name, imports)
            if any(
                semantic.within(edit.node, s) or semantic.within(s, edit.node)
                for s in seen
            ):
                raise Refused(f"a use of `.{name}` holds another")
            seen.append(edit.node)
            edits.append(edit)
    _check_no_string_names(semantic, name)
    _check_no_template_uses(semantic, name)
    return Fix(tuple(edits), safe=False, imports=tuple(imports))


def _check_no_string_names(semantic: Semantic, name: str) -> None:
    for string in semantic.nodes(cst.SimpleString):
        if _names_attribute(semantic, string, name):
            line = semantic.source_position(string)[0]
            raise Refused(f"the string on line {line} may name the attribute")


def _names_attribute(semantic: Semantic, string: cst.SimpleString, name: str) -> bool:
    """Whether `string` may name the attribute: `getattr(user, "posts")`,
    `joinedload("posts")`, `"User.posts"`; not a table's name, nor the other
    side's `back_populates=`."""
    text = string.evaluated_value
    if not isinstance(text, str):
        return False
    if re.search(rf"\.{name}\b", text):
        return True
    if text != name:
        return False
    parent = semantic.parent(string)
    if isinstance(parent, cst.DictElement) and parent.key is string:
        # `{"posts": user.posts.count()}`: the key of a value read from the
        # attribute names what it holds, a serializer's field
        return not any(
            isinstance(node, cst.Attribute) and node.attr.value == name
            for node in semantic.nodes(cst.Attribute)
            if semantic.within(node, parent.value)
        )
    if isinstance(parent, cst.Assign):  # `__tablename__ = "posts"`
        return not any(
            isinstance(t.target, cst.Name) and t.target.value == "__tablename__"
            for t in parent.targets
        )
    if isinstance(parent, cst.Arg) and parent.keyword is not None:
        # `back_populates="posts"`, `overlaps="posts"`: configuration that a
        # write-only relationship takes as it is
        return parent.keyword.value not in ("back_populates", "overlaps")
    call = semantic.parent(parent) if isinstance(parent, cst.Arg) else None
    return not (  # `Table("posts", metadata, ...)`
        isinstance(call, cst.Call)
        and call.args[0] is parent
        and semantic.is_one_of(
            call.func, ("sqlalchemy.Table", "sqlalchemy.schema.Table")
        )
    )


def assigned_attribute(semantic: Semantic, call: cst.Call) -> str | None:
    """`posts` for `posts = relationship(...)` in a class body."""
    assign = semantic.parent(call)
    if (
        isinstance(assign, cst.Assign)
        and len(assign.targets) == 1
        and isinstance(assign.targets[0].target, cst.Name)
        and _in_class_body(semantic, assign)
    ):
        return assign.targets[0].target.value
    return None


def _attribute(semantic: Semantic, call: cst.Call) -> str:
    """The attribute `call` is assigned to in a class body, the only attribute of
    that name the module assigns."""
    name = assigned_attribute(semantic, call)
    if name is None:
        raise Refused("the relationship is not assigned to an attribute in a class")
    assign = semantic.parent(call)
    others = [a for a in _assignments(semantic, name) if a is not assign]
    if others:
        line = semantic.source_position(others[0])[0]
        raise Refused(f"line {line} assigns another attribute `{name}`")
    return name


def _assignments(semantic: Semantic, name: str) -> list[cst.CSTNode]:
    """The statements that assign an attribute `name` (see `_assigns()`)."""
    return [
        statement
        for kind in (cst.Assign, cst.AnnAssign, cst.AugAssign)
        for statement in semantic.nodes(kind)
        if _assigns(semantic, statement, name)
    ]


def _assigns(semantic: Semantic, node: cst.CSTNode, name: str) -> bool:
    """Whether `node` assigns an attribute `name`: `x.name = ...`, or `name = ...`
    in a class body (a local variable of that name is not one)."""
    return any(
        (isinstance(t, cst.Attribute) and t.attr.value == name)
        or (
            isinstance(t, cst.Name)
            and t.value == name
            and _in_class_body(semantic, node)
        )
        for t in assignment_targets(node)
    )


def _in_class_body(semantic: Semantic, statement: cst.CSTNode) -> bool:
    line = semantic.parent(statement)
    block = semantic.parent(line) if line is not None else None
    return isinstance(block, cst.IndentedBlock) and isinstance(
        semantic.parent(block), cst.ClassDef
    )


def uses_elsewhere(
    semantic: Semantic, name: str, *, converted: bool
) -> list[tuple[cst.Attribute, Fix]]:
    """Each use of the dynamic relationship `name` in a module other than the one
    declaring it, with its fix (a `remove()` needs none). Refused when a use has
    no form, or when the module may mean another attribute of that name. Once the
    run `converted` the relationship, the write-only forms its fixes wrote are
    not uses: before, `.add()` or `.select()` on `.name` shows another attribute."""
    assigning = _assignments(semantic, name)
    if assigning:
        line = semantic.source_position(assigning[0])[0]
        raise Refused(f"line {line} assigns `{name}`")
    _check_no_string_names(semantic, name)
    found: list[tuple[cst.Attribute, Fix]] = []
    for node in semantic.nodes(cst.Attribute):
        if node.attr.value != name:
            continue
        _check_not_another_class(semantic, node, None)
        verb = _verb(semantic, node)
        if verb == "remove" or (converted and verb in WRITTEN):
            continue
        imports: list[ImportSpec] = []
        edit = _use(semantic, node, name, imports)
        found.append((node, Fix((edit,), safe=False, imports=tuple(imports))))
    return found


def _verb(semantic: Semantic, node: cst.Attribute) -> str | None:
    """The method called on `node`: "append" for `user.posts.append(p)`."""
    attribute = semantic.parent(node)
    call = semantic.parent(attribute) if attribute is not None else None
    if (
        isinstance(attribute, cst.Attribute)
        and isinstance(call, cst.Call)
        and call.func is attribute
    ):
        return attribute.attr.value
    return None


def _check_named_here_only(semantic: Semantic, name: str) -> None:
    project = semantic.project
    decided = project.write_only_of(name)
    if decided is not None and decided.refused:
        raise Refused(decided.refused)
    if decided is not None or name in project.dynamic_probed:
        return  # the run that rewrites the other modules' uses (or asks them)
    if project.mentioning(name) is None:
        raise Refused(f"the project's uses of `.{name}` were not looked for")
    others = [os.path.relpath(p) for p in project.naming_besides(name, semantic.path)]
    if others:
        raise Refused(
            f"other modules of the project may use `.{name}` ({', '.join(others[:3])})"
        )


def _check_no_template_uses(semantic: Semantic, name: str) -> None:
    """Refused when a template of the project may read the attribute: Jinja's
    `{{ user.posts.count() }}` is a use no Python module shows."""
    root = semantic.project.root_of(semantic.path)
    naming = _templates_naming(root, name) if root else ()
    if naming:
        raise Refused(f"a template may use `.{name}` ({os.path.relpath(naming[0])})")


@lru_cache(maxsize=64)
def _templates_naming(root: str, name: str) -> tuple[str, ...]:
    """The template files under `root` (Jinja, Mako, Django, ...) with `.name`."""
    word = re.compile(rb"\." + re.escape(name.encode()) + rb"\b")
    found: list[str] = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [
            d
            for d in subdirectories
            if not d.startswith(".") and d not in SKIPPED_DIRECTORIES
        ]
        for file in files:
            if file.endswith(TEMPLATES):
                path = os.path.join(directory, file)
                try:
                    with open(path, "rb") as text:
                        if word.search(text.read()):
                            found.append(path)
                except OSError:
                    found.append(path)  # unread: it may use it
    return tuple(sorted(found))


def _check_not_another_class(
    semantic: Semantic, node: cst.Attribute, owner: cst.ClassDef | None
) -> None:
    """Refused when the use is `self.name` in a method of a class other than the
    relationship's (`owner`, None in another module): evidence that it is
    another attribute."""
    if not (isinstance(node.value, cst.Name) and node.value.value == "self"):
        return
    classdef = semantic.enclosing(node, cst.ClassDef)
    if classdef is not None and classdef is not owner:
        line = semantic.source_position(node)[0]
        raise Refused(
            f"line {line} reads `self.{node.attr.value}` of class"
            f" `{classdef.name.value}`"
        )


def _use(
    semantic: Semantic, node: cst.Attribute, name: str, imports: list[ImportSpec]
) -> Edit:
    """The edit of one use `receiver.name...` of the attribute."""
    receiver = node.value
    where = f"`.{name}` on line {semantic.source_position(node)[0]}"
    if root_name(receiver) is None:
        raise Refused(f"{where} is read off a computed object")
    steps: list[tuple[str, cst.Call]] = []
    outer: cst.BaseExpression = node
    while True:
        attribute = semantic.parent(outer)
        call = semantic.parent(attribute) if attribute is not None else None
        if not (
            isinstance(attribute, cst.Attribute)
            and attribute.value is outer
            and isinstance(call, cst.Call)
            and call.func is attribute
        ):
            break
        verb = attribute.attr.value
        if verb in WRITES and not steps:
            return Edit(attribute.attr, cst.Name(WRITES[verb]))
        if verb in STEPS:
            steps.append((STEPS[verb], call))
            outer = call
            continue
        if verb in ENDS and not call.args:
            return Edit(
                call, _read(semantic, receiver, node, steps, ENDS[verb], imports)
            )
        if verb == "count" and not call.args:
            return Edit(call, _count(semantic, receiver, node, steps, imports))
        raise Refused(f"{where} is used with `.{verb}()`, which has no form here")
    parent = semantic.parent(outer)
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is outer:
        return Edit(outer, _read(semantic, receiver, node, steps, None, imports))
    raise Refused(f"{where} is used otherwise than read, added to or removed from")


def _statement(
    node: cst.Attribute, steps: list[tuple[str, cst.Call]]
) -> cst.BaseExpression:
    """`receiver.name.select()` with the steps' `Select` methods."""
    statement: cst.BaseExpression = method(node, "select")
    for verb, call in steps:
        statement = cst.Call(cst.Attribute(statement, cst.Name(verb)), call.args)
    return statement


def _session(
    semantic: Semantic,
    receiver: cst.BaseExpression,
    at: cst.CSTNode,
    imports: list[ImportSpec],
) -> cst.BaseExpression:
    return cst.Call(
        _named(semantic, at, imports)("sqlalchemy.orm", "object_session"),
        [cst.Arg(receiver)],
    )


def _read(
    semantic: Semantic,
    receiver: cst.BaseExpression,
    node: cst.Attribute,
    steps: list[tuple[str, cst.Call]],
    end: str | None,
    imports: list[ImportSpec],
) -> cst.BaseExpression:
    rows = method(
        _session(semantic, receiver, node, imports), "scalars", _statement(node, steps)
    )
    return method(rows, end) if end else rows


def _count(
    semantic: Semantic,
    receiver: cst.BaseExpression,
    node: cst.Attribute,
    steps: list[tuple[str, cst.Call]],
    imports: list[ImportSpec],
) -> cst.BaseExpression:
    name = _named(semantic, node, imports)
    counted = cst.Call(
        name("sqlalchemy", "select"),
        [cst.Arg(method(name("sqlalchemy", "func"), "count"))],
    )
    subquery = method(_statement(node, steps), "subquery")
    return method(
        _session(semantic, receiver, node, imports),
        "scalar",
        method(counted, "select_from", subquery),
    )


def _named(
    semantic: Semantic, at: cst.CSTNode, imports: list[ImportSpec]
) -> Callable[[str, str], cst.BaseExpression]:
    spell = namer(semantic, at, imports)

    def name(module: str, name: str) -> cst.BaseExpression:
        found = spell(module, name)
        if found is None:
            raise Refused(f"the name `{name}` is taken")
        return found

    return name


def _renamed(value: cst.BaseExpression) -> cst.BaseExpression:
    """The literal "dynamic" made "write_only", its prefix and quotes kept."""
    assert isinstance(value, cst.SimpleString)
    return value.with_changes(value=value.value.replace("dynamic", "write_only"))
