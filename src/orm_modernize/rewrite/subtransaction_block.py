"""`with session.begin(subtransactions=True):` written out as what it did.

A 1.x session not in autocommit mode begins its transaction on first use, so
`begin(subtransactions=True)` always began a *subtransaction* of it: leaving the
block normally committed the subtransaction, which only flushes, and the
transaction stays open for the application's own `commit()`; an exception in
the block (or from that flush) rolled the whole transaction back and went on.
Exactly that runs on 1.4 and 2.x alike:

    try:
        <block>
        session.flush()
    except BaseException:
        session.rollback()
        raise

The one difference: after the exception, 1.x refused the session's next use
until the application called `rollback()` itself, which the code that works on
1.x does; 2.x needs no such call. An autocommit session began and committed a
real transaction at the outermost block instead, so no module of the project
may name `autocommit`.
"""

from __future__ import annotations

import os

import libcst as cst

from orm_modernize.analysis.module_facts import names_autocommit
from orm_modernize.analysis.semantic import Semantic
from orm_modernize.data.records import Fix, Refused
from orm_modernize.syntax import tree
from orm_modernize.syntax.nodes import assignment_targets, code_of, method, root_name


def written_out(semantic: Semantic, call: cst.Call) -> Fix:
    """The `with` statement whose item is `call` (`x.begin(subtransactions=True)`)
    as a `try` that flushes at its end and rolls back on an exception."""
    item = semantic.parent(call)
    block = semantic.parent(item) if isinstance(item, cst.WithItem) else None
    if not isinstance(block, cst.With):
        raise Refused("`begin()` is not the item of a `with` statement")
    if len(block.items) != 1 or block.asynchronous is not None:
        raise Refused("the `with` statement has other items")
    if item.asname is not None:  # type: ignore[union-attr]
        raise Refused("the subtransaction is bound to a name")
    if len(call.args) != 1:
        raise Refused("`begin()` has other arguments")
    receiver = call.func.value  # type: ignore[attr-defined]
    if not semantic.session_evidence(receiver).proven:
        raise Refused(
            "the receiver is not proven a session, whose autocommit mode would"
            " decide what the block did"
        )
    _check_no_autocommit(semantic)
    body = _statements(block.body)
    _check_falls_through(semantic, block, receiver)
    flush = cst.SimpleStatementLine([cst.Expr(method(receiver, "flush"))])
    rollback = cst.SimpleStatementLine([cst.Expr(method(receiver, "rollback"))])
    indented = block.body if isinstance(block.body, cst.IndentedBlock) else None
    statement = cst.Try(
        body=cst.IndentedBlock(
            body=[*body, flush],
            header=indented.header if indented else cst.TrailingWhitespace(),
            indent=indented.indent if indented else None,
        ),
        handlers=[
            cst.ExceptHandler(
                body=cst.IndentedBlock(
                    body=[rollback, cst.SimpleStatementLine([cst.Raise()])],
                    indent=indented.indent if indented else None,
                    footer=indented.footer if indented else (),
                ),
                type=cst.Name("BaseException"),
            )
        ],
        leading_lines=block.leading_lines,
    )
    return Fix.replace(block, statement, safe=False)


def _statements(body: cst.BaseSuite) -> list[cst.BaseStatement]:
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    assert isinstance(body, cst.SimpleStatementSuite)
    return [cst.SimpleStatementLine(body=body.body)]


def _check_no_autocommit(semantic: Semantic) -> None:
    here = os.path.abspath(semantic.path) if semantic.path is not None else None
    naming = sorted(semantic.project.autocommit_modules - {here})
    if naming or names_autocommit(semantic.text.encode()):
        where = os.path.relpath(naming[0]) if naming else "this module"
        raise Refused(
            f"`autocommit` is named in {where}: in 1.x's autocommit mode the"
            " outermost block committed a transaction of its own"
        )


def _check_falls_through(
    semantic: Semantic, block: cst.With, receiver: cst.BaseExpression
) -> None:
    """Refused unless the block ends only by falling off its end or by an
    exception: the flush written at its end must run whenever 1.x's commit of
    the subtransaction did; and the receiver stays what it was."""
    root = root_name(receiver)
    if root is None:
        raise Refused("the session is not a name or an attribute of one")
    text = code_of(receiver)
    for node in tree.own_nodes(block.body):
        if isinstance(node, cst.Return):
            raise Refused("the block returns from inside it")
        if isinstance(node, (cst.Break, cst.Continue)) and not _in_inner_loop(
            semantic, node, block
        ):
            raise Refused("the block is left by `break` or `continue`")
        if any(code_of(t) in (text, root.value) for t in assignment_targets(node)):
            raise Refused(f"`{text}` is assigned inside the block")


def _in_inner_loop(semantic: Semantic, node: cst.CSTNode, block: cst.With) -> bool:
    """Whether the `break`/`continue` `node` belongs to a loop inside `block`."""
    child = node
    for ancestor in semantic.ancestors(node):
        if ancestor is block:
            return False
        if isinstance(ancestor, (cst.For, cst.While)) and child is ancestor.body:
            return True
        child = ancestor
    return False
