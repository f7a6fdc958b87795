"""ORM102: an object that reached the session only by a backref cascade (1.4)."""

from __future__ import annotations

import libcst as cst

from orm_modernize.analysis.project import ProjectIndex
from orm_modernize.analysis.relationships import class_body_calls
from orm_modernize.analysis.scopes import Assignment
from orm_modernize.data.records import Evidence, Fix
from orm_modernize.rewrite.naming import snake_case
from orm_modernize.rules.base import Rule
from orm_modernize.syntax.nodes import (
    called_name,
    keyword_argument,
    method,
    root_name,
)

RELATIONSHIP = ("relationship", "relation")
# Calls that put their arguments into a session (or a collection that cascades).
ADDING = frozenset({"add", "add_all", "merge", "append", "extend", "insert"})
FINDING = (
    "`{cls}` is attached by `{attribute}`, a two-way relationship, and never added:"
    " SQLAlchemy 1.4 cascaded it into the session along the backref, 2.0 does not;"
    " call `session.add()` on it"
)


class BackrefCascade(Rule):
    """
    ## What it does
    Checks for a new object of a mapped class that is linked to another through
    a two-way relationship (`Address(user=user)`, or `address.user = user`) and
    is never itself given to the session, added to a collection, or passed on.

    ## Why is this bad?
    In SQLAlchemy 1.4, `address.user = user` also appends `address` to
    `user.addresses`, and when `user` was in a session, that backref event
    *cascaded* `address` into the session too, so the next commit saved it.
    SQLAlchemy 2.0 removed this "cascade_backrefs" behaviour, silently: the
    object is left out of the session, is never written, and 2.0 only warns
    at flush time. Code that relied on it must add the object itself.

    ## Example
        def add_address(session, user, email):
            Address(email=email, user=user)
            session.commit()

    ## Use instead
        def add_address(session, user, email):
            address = Address(email=email, user=user)
            if object_session(user) is not None:
                object_session(user).add(address)
            session.commit()

    ## Fix safety
    The fix does what 1.4 did at that line: after it, the new object is added
    to the session the other object is in, if it is in one
    (`if object_session(user) is not None: object_session(user).add(address)`);
    whether it is, is only known at run time. A new object the line throws away
    is given a name first. It is safe unless the module sets cascades of its own
    (`cascade=`, `cascade_backrefs=False`), with which 1.4 may not have
    cascaded; reported without a fix when the other object is not a plain name
    or the line shares its line with other statements. A site is reported when
    the new object is a discarded expression or a name that is only read or
    written through attributes afterwards, and the other object was added to a
    session before, or is neither new itself (made by its class in the same
    function) nor added to a session later in it: adding a new graph by its root
    cascades along the forward relationships, in 1.4 and 2.x alike. Two-way
    relationships are those the module declares with `backref=` or
    `back_populates=`, and backrefs the rest of the project makes.

    ## References
    - SQLAlchemy 1.4 migration notes, "cascade_backrefs behavior deprecated for
      removal in 2.0"
    - SQLAlchemy 2.0 changelog, #7257
    """

    code = "ORM102"
    name = "backref-cascade"
    message = "an object reached the session along a backref, which 2.0 no longer does"
    fix_title = "Add it to the session the other object is in, as 1.4 did"
    fix_availability = "sometimes"
    impact = "changed"
    fix_runs_on = "1.4"
    triggers = (b"backref", b"back_populates")

    @classmethod
    def triggered(cls, source: bytes, project: ProjectIndex | None) -> bool:
        """A module using the project's models holds no `backref` itself."""
        return super().triggered(source, project) or bool(
            project and (project.backrefs or project.paired)
        )

    def visit_Call(self, node: cst.Call) -> None:
        cls = node.func
        named = [arg for arg in node.args if arg.keyword is not None]
        if not (
            named  # checked first: most calls are not of a class, whose test costs
            and isinstance(cls, cst.Name)
            and self.semantic.is_mapped_class(cls)
        ):
            return
        for arg in named:
            assert arg.keyword is not None
            if not self._two_way(cls.value, arg.keyword.value):
                continue
            if self._kept_alone(node) and self._maybe_persistent(arg.value, node):
                parent = self.semantic.parent(node)
                new: cst.BaseExpression = node
                if isinstance(parent, cst.Assign):  # `label = Tag(owner=user)`
                    target = parent.targets[0].target
                    new = target if isinstance(target, cst.Name) else node
                fix = self._fix(node, new, arg.value, cls.value)
                self._report(arg, cls.value, arg.keyword.value, fix)

    def visit_Assign(self, node: cst.Assign) -> None:
        """`address.user = user` on a new `address = Address(...)`."""
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not (
            isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
        ):
            return
        created = self._created_by(target.value)
        if created is None:
            return
        cls = created.func
        assert isinstance(cls, cst.Name)
        if (
            self._two_way(cls.value, target.attr.value)
            and self._kept_alone(created)
            and self._maybe_persistent(node.value, node)
        ):
            fix = self._fix(node, target.value, node.value, cls.value)
            self._report(node, cls.value, target.attr.value, fix)

    def _report(
        self, node: cst.CSTNode, cls: str, attribute: str, fix: Fix | None
    ) -> None:
        self.report(node, message=FINDING.format(cls=cls, attribute=attribute), fix=fix)

    # -- the fix -------------------------------------------------------------------
    def _fix(
        self,
        site: cst.CSTNode,
        new: cst.BaseExpression,
        other: cst.BaseExpression,
        cls: str,
    ) -> Fix | None:
        """After the line that links `new` to `other`, what 1.4 did then: add
        `new` to the session `other` is in, if any. `new` is the new object's
        name, or its `Cls(...)` when the line throws it away (it then gets a
        name)."""
        line = self.semantic.own_line(site)
        if not isinstance(other, cst.Name) or line is None:
            return None
        found = self.semantic.reference(site, "sqlalchemy.orm", "object_session")
        if found is None:
            return None
        object_session, needed = found
        first = line
        if isinstance(new, cst.Call):  # `Address(user=user)` on its own line
            name = self.semantic.fresh_name(snake_case(cls), site)
            assign = cst.Assign([cst.AssignTarget(cst.Name(name))], new)
            first = line.with_changes(body=[assign])
            new = cst.Name(name)
        session = cst.Call(object_session, [cst.Arg(other)])
        added = cst.If(
            test=cst.Comparison(
                session, [cst.ComparisonTarget(cst.IsNot(), cst.Name("None"))]
            ),
            body=cst.IndentedBlock(
                [cst.SimpleStatementLine([cst.Expr(method(session, "add", new))])]
            ),
        )
        # Exact unless a relationship sets its own cascades (`cascade=`,
        # `cascade_backrefs=False`): then 1.4 may not have cascaded at all.
        safe = "cascade" not in self.semantic.text
        return Fix.replace(
            line,
            cst.FlattenSentinel([first, added]),
            safe=safe,
            imports=(needed,) if needed else (),
        )

    # -- the relationship ----------------------------------------------------------
    def _two_way(self, cls: str, attribute: str) -> bool:
        """`cls.attribute` is a relationship with a reverse side that SQLAlchemy
        keeps in step: declared with `backref=`/`back_populates=`, or made by a
        backref."""
        relationships = self.semantic.relationships
        if (cls, attribute) in relationships.backrefs:
            return True
        classdef = self.semantic.mapped_classes.get(cls)
        if classdef is not None:
            return any(
                name == attribute
                and self.semantic.orm_function(call.func, RELATIONSHIP)
                is not Evidence.NONE
                and (
                    keyword_argument(call, "backref") is not None
                    or keyword_argument(call, "back_populates") is not None
                )
                for name, call in class_body_calls(classdef)
            )
        project = self.semantic.project
        return attribute in project.backrefs or attribute in project.paired

    # -- the new object --------------------------------------------------------------
    def _created_by(self, name: cst.Name) -> cst.Call | None:
        """The `Cls(...)` of a mapped class that `name`, bound once, holds."""
        assignments = self.semantic.assignments(name)
        if len(assignments) != 1 or not isinstance(assignments[0], Assignment):
            return None
        values = list(self.semantic.assigned_values(name))
        value = values[0] if len(values) == 1 else None
        if (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Name)
            and self.semantic.is_mapped_class(value.func)
        ):
            return value
        return None

    def _kept_alone(self, call: cst.Call) -> bool:
        """The new object is thrown away, or kept in a name that is only used as
        `name.attribute` afterwards: nothing can have added it to a session."""
        parent = self.semantic.parent(call)
        if isinstance(parent, cst.Expr):
            return True
        if not (
            isinstance(parent, cst.Assign)
            and len(parent.targets) == 1
            and isinstance(parent.targets[0].target, cst.Name)
        ):
            return False
        assignments = self.semantic.assignments(parent.targets[0].target)
        if len(assignments) != 1:
            return False
        for access in assignments[0].references:
            above = self.semantic.parent(access.node)
            if not (isinstance(above, cst.Attribute) and above.value is access.node):
                return False
            if self._passes_on(above):
                return False
        return True

    def _passes_on(self, attribute: cst.Attribute) -> bool:
        """`x.items` in `session.add_all(x.items)`: the attribute's value goes
        somewhere; `x.user = u` and `print(x.id)`-like reads do not count."""
        parent = self.semantic.parent(attribute)
        return (
            isinstance(parent, cst.Arg)
            and called_name(self.semantic.parent(parent) or attribute) in ADDING
        )

    # -- the other object --------------------------------------------------------------
    def _maybe_persistent(self, value: cst.BaseExpression, site: cst.CSTNode) -> bool:
        """The other object (or one of a list of them) may be in a session when
        linked: one added before `site`, or one not made here and not added
        after it. Literals are no objects at all."""
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            return any(self._maybe_persistent(e.value, site) for e in value.elements)
        if not isinstance(value, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)):
            return False
        if isinstance(value, cst.Call) and self.semantic.is_mapped_class(value.func):
            return False  # `User(...)`: new
        root = root_name(value)
        if root is not None and self._added(root, site, before=True):
            return True
        if root is not None and self._created_by(root) is not None:
            return False  # new too: whatever adds it later cascades forward
        return not (isinstance(value, cst.Name) and self._added(value, site))

    def _added(self, name: cst.Name, site: cst.CSTNode, before: bool = False) -> bool:
        """`name` is passed to an `add()`-like call after `site` (or before it)."""
        line = self.semantic.positions[site].start.line
        return any(
            (self.semantic.positions[access.node].start.line > line) is not before
            and self._in_adding_call(access.node)
            for assignment in self.semantic.assignments(name)
            for access in assignment.references
        )

    def _in_adding_call(self, node: cst.CSTNode) -> bool:
        for above in self.semantic.ancestors(node):
            if isinstance(above, cst.Call) and called_name(above) in ADDING:
                return True
            if isinstance(above, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
                return False
        return False
