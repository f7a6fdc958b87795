"""ORM406: `relationship(..., backref=...)` -> a `back_populates` pair."""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.analysis.relationships import is_abstract
from orm_modernize.data.records import (
    Edit,
    Evidence,
    Exports,
    Fix,
    ForeignBackref,
    ImportSpec,
)
from orm_modernize.rewrite.backrefs import (
    Backref,
    carried_options,
    module_backrefs,
    statement,
)
from orm_modernize.rewrite.classical_backrefs import classical_backrefs
from orm_modernize.rewrite.classical_backrefs import edits as classical_edits
from orm_modernize.rewrite.naming import namer
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import (
    called_name,
    class_body_names,
    code_of,
    imported_root,
    is_docstring,
)
from orm_modernize.syntax.replace import Replacer


class RelationshipBackref(Rule):
    """
    ## What it does
    Checks for `relationship()` with `backref=`, which makes a second
    relationship on the other class when the mappers are configured.

    ## Why is this bad?
    The SQLAlchemy 2.0 documentation calls `backref` legacy: the attribute it
    makes appears nowhere in the other class, so readers, type checkers and
    `Mapped[]` annotations cannot see it, and it exists only once the mappers
    are configured (`select(Post.author)` before that fails). Two relationships
    linked by `back_populates` say the same thing explicitly.

    ## Example
        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            posts = relationship("Post", backref=backref("author", lazy="joined"))


        class Post(Base):
            __tablename__ = "posts"
            id = Column(Integer, primary_key=True)
            user_id = Column(ForeignKey("users.id"))

    ## Use instead
        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            posts = relationship("Post", back_populates="author")


        class Post(Base):
            __tablename__ = "posts"
            id = Column(Integer, primary_key=True)
            user_id = Column(ForeignKey("users.id"))
            author = relationship("User", back_populates="posts", lazy="joined")

    ## Fix safety
    Safe when both classes are mapped in the module: the new relationship gets
    what SQLAlchemy gave the backref (the `backref()` arguments, `secondary`, the
    join conditions, swapped for a many-to-many, `foreign_keys`, `viewonly`,
    `post_update`, `passive_updates`, `sync_backref`), and runs on 1.4 too. An
    expression is carried over when its names are bound before the other class,
    else wrapped in a lambda where SQLAlchemy accepts one (`order_by`,
    `secondary`, the joins, `foreign_keys`, `remote_side`). Unsafe when
    `relationship` is only Flask-SQLAlchemy's `db` imported from elsewhere.

    All the backrefs of a module are rewritten together, in one fix.

    When the other class is mapped in another module checked in the same run,
    both modules are rewritten, or neither: that module reports its class's
    missing relationship (adding the `relationship` import it needs), and both
    ends are unsafe if either is. Its options must then be literals, which mean
    the same in any module (strings name classes and tables). A run that sees
    only one of the modules (pre-commit's, on one changed file) leaves both.

    A classical mapping's `backref=` (in `properties={...}` of `mapper()` or
    `registry.map_imperatively()`) becomes `back_populates` too, and the other
    class's mapping in the same module or function gets the new relationship
    in its `properties` (made if it has none). Safe when both calls are proven
    SQLAlchemy's (`mapper` imported from it, a registry bound to `registry()`);
    unsafe on a registry known only by the method's name (`cls.registry`). What
    the new relationship evaluates moves to the other mapping's call. When that
    call comes first, only mappings and tables may stand between them: a query
    or an `aliased()` would configure a relationship to a class not mapped yet.
    Refused when the other class is mapped elsewhere, more than once, or in a
    hierarchy (a backref's name is checked against the whole hierarchy, a
    property's is not).

    Either way, a join written with `remote()` or `foreign()`, or a
    self-referential join without `remote_side`, is not carried over:
    SQLAlchemy gives the backref the join with its remote side reversed.

    Reported without a fix: the other class unknown, `__abstract__`, or defined
    by more than one module, an option that names something of the class's
    own body, a `backref` that is not a string or a `backref()` call, or a class
    that already has the attribute.

    Whichever spelling, SQLAlchemy 2.0 no longer cascades an object into the
    session along a backref (`post.author = user` no longer adds `post` to
    `user`'s session): code that relied on it must call `session.add(post)`.

    ## References
    - SQLAlchemy ORM docs, "Using the legacy 'backref' relationship parameter"
    """

    code = "ORM406"
    name = "relationship-backref"
    message = "`backref=` makes a relationship the other class does not declare"
    fix_title = "Declare both sides with `back_populates`"
    fix_runs_on = "1.4"
    fix_availability = "sometimes"
    triggers = (b"backref",)

    @classmethod
    def triggered(cls, source: bytes, project: ProjectIndex | None) -> bool:
        if b"backref" in source:
            return True
        return project is not None and any(
            b.target.encode() in source
            for b in project.foreign_backrefs | project.accepted_backrefs
        )

    def visit_Module(self, node: cst.Module) -> None:
        backrefs = [self._checked(b) for b in module_backrefs(self.semantic)]
        fixable = [
            b
            for b in backrefs
            if b.problem is None
            and b.elsewhere is None
            and not self.semantic.suppressed(self.code, b.arg)
        ]
        fix = self._fix(fixable) if fixable else None
        for backref in backrefs:
            if backref.problem is not None:
                self.report(backref.arg, message=f"{self.message} ({backref.problem})")
            elif backref.elsewhere is not None:
                self.report(backref.arg, fix=self._fix_elsewhere(backref))
            else:
                self.report(backref.arg, fix=fix)
        self._declare_foreign()
        self._classical()

    def _classical(self) -> None:
        """The backrefs of classical mappings: one fix for the module's, which
        rewrites each mapping call they touch."""
        found = classical_backrefs(self.semantic)
        fixable = [
            b
            for b in found
            if b.problem is None and not self.semantic.suppressed(self.code, b.arg)
        ]
        fix = (
            Fix(
                classical_edits(fixable),
                safe=all(b.evidence.proven for b in fixable),
                unused=_freed([b.arg for b in fixable]),
            )
            if fixable
            else None
        )
        for backref in found:
            if backref.problem is not None:
                self.report(backref.arg, message=f"{self.message} ({backref.problem})")
            else:
                self.report(backref.arg, fix=fix)

    def _checked(self, backref: Backref) -> Backref:
        """The backref with its options as the other class's body must spell
        them, or with the reason it cannot be written out there."""
        if backref.problem is not None:
            return backref
        target = self.semantic.mapped_classes.get(backref.target)
        problem: str | None
        if target is None:
            if backref.target not in self.semantic.project.mapped:
                problem = (
                    f"`{backref.target}` is not a declarative class of this module"
                    f" or of one checked with it: declare `{backref.name}` on it"
                    " by hand"
                )
            elif (option := backref.non_literal_option()) is not None:
                problem = (
                    f"`{backref.target}` is mapped in another module, where"
                    f" `{option}=` may not mean the same: declare `{backref.name}`"
                    " on it by hand"
                )
            elif (elsewhere := self._elsewhere(backref)) is not None:
                return replace(backref, elsewhere=elsewhere)
            else:
                problem = (
                    f"`{backref.target}` is mapped in another module, which this"
                    f" run cannot give `{backref.name}`: declare it there by hand"
                )
        elif (problem := _cannot_declare(target, backref.name)) is None:
            options, problem = carried_options(backref, target, self.semantic)
            if problem is None:
                return replace(backref, options=options)
        return replace(backref, problem=problem)

    # -- the other class in another module -------------------------------------------
    # The runner checks the project once, collecting the backrefs to classes of
    # other modules; then the modules of those classes, which say which they can
    # declare; then both ends of those, with `accepted_backrefs` set.
    def _elsewhere(self, backref: Backref) -> ForeignBackref | None:
        """The accepted backref to a class of another module, or None (noting
        the backref for the runner when the other module may declare it)."""
        project = self.semantic.project
        foreign = backref.foreign(self.semantic)
        if foreign is None or self.semantic.suppressed(self.code, backref.arg):
            return None
        accepted = {b.key: b for b in project.accepted_backrefs}
        if foreign.key in accepted:
            return accepted[foreign.key]
        self.semantic.exports += Exports(foreign_backrefs=(foreign,))
        return None

    def _fix_elsewhere(self, backref: Backref) -> Fix:
        """This end of a pair the other class's module completes in the same run;
        both ends are as safe as the less safe of the two."""
        assert backref.elsewhere is not None
        return Fix.replace(
            backref.arg,
            backref.back_populates(),
            safe=backref.elsewhere.safe,
            unused=_freed([backref.arg]),
        )

    def _declare_foreign(self) -> None:
        """The other end: declare on this module's classes the relationships that
        backrefs of other modules make, as far as each class can take them."""
        project = self.semantic.project
        pending = {b.key: b for b in project.foreign_backrefs}
        pending.update((b.key, b) for b in project.accepted_backrefs)
        accepted = {b.key for b in project.accepted_backrefs}
        taken: set[tuple[str, str]] = set()
        groups: dict[tuple[str, bool], list[tuple[ForeignBackref, str]]] = {}
        imports: dict[tuple[str, bool], list[ImportSpec]] = {}
        for foreign in sorted(pending.values(), key=lambda b: b.key):
            target = self.semantic.mapped_classes.get(foreign.target)
            if (
                target is None
                or (foreign.target, foreign.name) in taken
                or _cannot_declare(target, foreign.name) is not None
                or self.semantic.suppressed(self.code, target.name)
            ):
                continue
            function = self._function(foreign, target)
            if function is None:
                continue
            spelled, needed, evidence = function
            taken.add((foreign.target, foreign.name))
            if foreign.key not in accepted:
                safe = foreign.safe and evidence.proven
                self.semantic.exports += Exports(
                    declarable_backrefs=(replace(foreign, safe=safe),)
                )
                continue
            group = (foreign.target, foreign.safe)
            groups.setdefault(group, []).append((foreign, spelled))
            if needed is not None:
                imports.setdefault(group, []).append(needed)
        for (name, safe), declared in groups.items():
            classdef = self.semantic.mapped_classes[name]
            indent = self._indent(classdef)
            statements = [
                statement(b.name, spelled, b.arguments, len(indent))
                for b, spelled in declared
            ]
            fix = Fix(
                (Edit(classdef, _with_statements(classdef, statements)),),
                safe=safe,
                imports=tuple(dict.fromkeys(imports.get((name, safe), []))),
            )
            for foreign, _ in declared:
                self.report(
                    classdef.name,
                    fix=fix,
                    message=(
                        f"`{name}` does not declare `{foreign.name}`, which"
                        f" `backref=` of `{foreign.owner}.{foreign.attribute}`"
                        f" makes in `{foreign.module}`"
                    ),
                )

    def _function(
        self, foreign: ForeignBackref, target: cst.ClassDef
    ) -> tuple[str, ImportSpec | None, Evidence] | None:
        """How this module spells `relationship` for the new relationship: the
        same Flask-SQLAlchemy `db` as the other end, or `sqlalchemy.orm`'s (its
        import added if need be)."""
        if foreign.flask:
            root = foreign.function.split(".", 1)[0]
            evidence = self.semantic.module_db(root)
            if evidence is Evidence.NONE:
                return None
            return f"{root}.relationship", None, evidence
        body = target.body
        if isinstance(body, cst.IndentedBlock) and "relationship" in class_body_names(
            body
        ):
            return None
        found = self.semantic.reference(target, "sqlalchemy.orm", "relationship")
        if found is None:
            return None
        expression, needed = found
        return code_of(expression), needed, Evidence.PROVEN

    def _indent(self, classdef: cst.ClassDef) -> str:
        return (
            getattr(classdef.body, "indent", None)
            or self.semantic.module.default_indent
        )

    def _fix(self, backrefs: list[Backref]) -> Fix:
        """One fix for the module: each class that gains relationships is
        replaced once, with its own `backref=` arguments rewritten."""
        classes = self.semantic.mapped_classes
        added: dict[str, list[cst.SimpleStatementLine]] = {}
        imports: list[ImportSpec] = []
        for backref in backrefs:
            indent = self._indent(classes[backref.target])
            function = self._new_spelling(backref, imports)
            added.setdefault(backref.target, []).append(
                backref.reverse(len(indent), function)
            )
        rewritten = {id(b.arg): b.back_populates() for b in backrefs}
        edits = []
        for name, classdef in classes.items():
            args_inside = [b.arg for b in backrefs if b.owner is classdef]
            if name not in added and not args_inside:
                continue
            replacer = Replacer({id(a): rewritten[id(a)] for a in args_inside})
            replaced = classdef.visit(replacer)
            assert isinstance(replaced, cst.ClassDef)
            new = _with_statements(replaced, added.get(name, []))
            edits.append(Edit(classdef, new))
        safe = all(b.evidence.proven for b in backrefs)
        return Fix(
            tuple(edits),
            safe=safe,
            imports=tuple(dict.fromkeys(imports)),
            unused=_freed([b.arg for b in backrefs]),
        )

    def _new_spelling(self, backref: Backref, imports: list[ImportSpec]) -> str | None:
        """`relationship` where the backref's own relationship is made by the
        legacy `relation()` (`db.relation` -> `db.relationship`); None: as its
        own is spelled."""
        func = backref.call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else None
        if isinstance(func, cst.Attribute) and name == "relation":
            return f"{code_of(func.value)}.relationship"
        if not (isinstance(func, cst.Name) and func.value == "relation"):
            return None
        spelled = namer(self.semantic, func, imports)("sqlalchemy.orm", "relationship")
        return code_of(spelled) if spelled is not None else None


def _cannot_declare(target: cst.ClassDef, name: str) -> str | None:
    """Why the class cannot be given a relationship called `name` in its body."""
    if is_abstract(target):
        return (
            f"`{target.name.value}` is abstract (`__abstract__ = True`):"
            " a relationship to it is not mapped"
        )
    if not isinstance(target.body, cst.IndentedBlock):
        return f"`{target.name.value}` has a one-line body"
    if name in class_body_names(target.body):
        return f"`{target.name.value}` already has `{name}`"
    return None


def _freed(args: list[cst.Arg]) -> tuple[str, ...]:
    """`backref` itself, once no call of it is left (`args`: `backref=`)."""
    return tuple(
        sorted(
            {
                name
                for arg in args
                if isinstance(arg.value, cst.Call)
                for name in imported_root(arg.value.func)
            }
        )
    )


def _with_statements(
    classdef: cst.ClassDef, statements: list[cst.SimpleStatementLine]
) -> cst.ClassDef:
    """`statements` beside the class's other relationships: after the last one
    before its first method, else after its last column, else after its last
    simple statement (a nested class, such as a `query_class`, may come first),
    else before that method, else at the end. Not after an unrelated attribute
    (`currency = CurrencyConverter()`) that follows the mapping."""
    if not statements:
        return classdef
    body = classdef.body
    assert isinstance(body, cst.IndentedBlock)
    lines = list(body.body)
    first_method = next(
        (i for i, s in enumerate(lines) if isinstance(s, cst.FunctionDef)), len(lines)
    )
    attributes = [
        i
        for i, s in enumerate(lines[:first_method])
        if isinstance(s, cst.SimpleStatementLine)
    ]
    relationships = [i for i in attributes if _assigns(lines[i], RELATIONSHIPS)]
    columns = [i for i in attributes if _assigns(lines[i], COLUMNS)]
    after = relationships or columns or attributes
    at = after[-1] + 1 if after else first_method
    while at < first_method and _attribute_docstring(lines[at]):
        at += 1  # an attribute's docstring stays under its attribute
    return classdef.with_changes(
        body=body.with_changes(body=[*lines[:at], *statements, *lines[at:]])
    )


# What a mapped class's body assigns its relationships and columns with
RELATIONSHIPS = frozenset({"relationship", "relation", "dynamic_loader"})
COLUMNS = frozenset(
    {"Column", "mapped_column", "column_property", "deferred", "synonym", "composite"}
)


def _assigns(statement: cst.CSTNode, calls: frozenset[str]) -> bool:
    """`statement` assigns the result of a call of one of `calls` (`x = db.Column(`,
    `x: Mapped[int] = mapped_column(`)."""
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(small, (cst.Assign, cst.AnnAssign))
        and isinstance(small.value, cst.Call)
        and called_name(small.value) in calls
        for small in statement.body
    )


def _attribute_docstring(statement: cst.CSTNode) -> bool:
    """A bare string alone on its line under an attribute: its docstring, for
    Sphinx and IDEs."""
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and is_docstring(statement)
    )
