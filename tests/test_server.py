"""`orm-modernize server`, the language server, driven over stdio by pygls's LSP
client as an editor would: open a document, receive its diagnostics, ask for a
code action and apply it, see the diagnostics clear."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

LEGACY = """\
from sqlalchemy import Column, Integer, MetaData, Table, select

t = Table("t", MetaData(), Column("id", Integer))
stmt = select([t])
"""


class Editor:
    """A client that keeps what the server published for each document."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.published: dict[str, list[lsp.PublishDiagnosticsParams]] = {}
        self.changed = asyncio.Condition()
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}

    async def diagnostics(
        self, uri: str, done: Callable[[list[lsp.Diagnostic]], bool], after: int = 0
    ) -> list[lsp.Diagnostic]:
        """The first diagnostics published for `uri` (past the `after` first
        publications) that `done` accepts."""
        async with self.changed:
            while True:
                for params in self.published.get(uri, [])[after:]:
                    if done(params.diagnostics):
                        return params.diagnostics
                await asyncio.wait_for(self.changed.wait(), timeout=60)

    def open(self, name: str, text: str) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        uri = path.as_uri()
        self.versions[uri], self.texts[uri] = 1, text
        self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        return uri

    def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def apply(self, uri: str, edit: lsp.WorkspaceEdit) -> str:
        """The document's text with the edits of `edit` made (last first)."""
        assert edit.changes is not None
        lines = self.texts[uri].splitlines(True)
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line))

        def at(position: lsp.Position) -> int:
            return offsets[min(position.line, len(lines))] + position.character

        text = self.texts[uri]
        for change in sorted(
            edit.changes[uri], key=lambda e: at(e.range.start), reverse=True
        ):
            text = (
                text[: at(change.range.start)]
                + change.new_text
                + text[at(change.range.end) :]
            )
        return text


@asynccontextmanager
async def editor(
    root: Path, env: dict[str, str] | None = None, **options: object
) -> AsyncIterator[Editor]:
    client = LanguageClient("test-editor", "1")
    opened = Editor(client, root)

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    async def published(params: lsp.PublishDiagnosticsParams) -> None:
        async with opened.changed:
            opened.published.setdefault(params.uri, []).append(params)
            opened.changed.notify_all()

    await client.start_io(
        sys.executable,
        "-m",
        "orm_modernize",
        "server",
        env={**os.environ, **(env or {})},
    )
    await client.initialize_async(
        lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(),
            root_uri=root.as_uri(),
            initialization_options=options or None,
        )
    )
    client.initialized(lsp.InitializedParams())
    try:
        yield opened
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_diagnostics_then_a_quick_fix_that_clears_them(project: Path) -> None:
    async def session() -> None:
        async with editor(project) as opened:
            uri = opened.open("queries.py", LEGACY)
            found = await opened.diagnostics(uri, bool)
            (finding,) = found
            assert finding.code == "ORM301" and finding.source == "orm-modernize"
            assert finding.range.start == lsp.Position(line=3, character=7)
            assert finding.code_description is not None
            assert finding.code_description.href.endswith("docs/rules.md#orm301")
            assert list(finding.tags or ()) == [lsp.DiagnosticTag.Deprecated]
            actions = await opened.client.text_document_code_action_async(
                lsp.CodeActionParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    range=finding.range,
                    context=lsp.CodeActionContext(diagnostics=[finding]),
                )
            )
            assert actions is not None
            titles = [a.title for a in actions if isinstance(a, lsp.CodeAction)]
            assert titles == [
                "Fix ORM301: Pass the columns positionally and the clauses as methods",
                "Add `# noqa: ORM301`",
            ]
            fix = actions[0]
            assert isinstance(fix, lsp.CodeAction) and fix.edit is not None
            fixed = opened.apply(uri, fix.edit)
            assert "stmt = select(t)\n" in fixed
            before = len(opened.published[uri])
            opened.change(uri, fixed)
            assert not await opened.diagnostics(uri, lambda d: not d, after=before)
            # the file on disk was never touched: the editor's text is what counts
            assert (project / "queries.py").read_text() == LEGACY

    asyncio.run(session())


def test_fix_all_a_syntax_error_and_a_configuration_change(project: Path) -> None:
    async def session() -> None:
        async with editor(project) as opened:
            uri = opened.open("queries.py", LEGACY)
            await opened.diagnostics(uri, bool)
            actions = await opened.client.text_document_code_action_async(
                lsp.CodeActionParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    range=lsp.Range(
                        start=lsp.Position(line=0, character=0),
                        end=lsp.Position(line=0, character=0),
                    ),
                    context=lsp.CodeActionContext(
                        diagnostics=[], only=["source.fixAll"]
                    ),
                )
            )
            assert actions is not None
            (fix_all,) = actions
            assert isinstance(fix_all, lsp.CodeAction) and fix_all.edit is not None
            assert fix_all.kind == "source.fixAll.orm-modernize"
            assert "select(t)" in opened.apply(uri, fix_all.edit)

            unclosed = "from sqlalchemy import select\nq = select([1]\n"
            broken = opened.open("broken.py", unclosed)
            (error,) = await opened.diagnostics(broken, bool)
            assert error.severity == lsp.DiagnosticSeverity.Error
            assert error.range.start.line == 1

            # The project now ignores ORM301: the next check says nothing.
            (project / "pyproject.toml").write_text(
                '[tool.orm-modernize]\nignore = ["ORM301"]\n'
            )
            before = len(opened.published[uri])
            opened.client.workspace_did_change_watched_files(
                lsp.DidChangeWatchedFilesParams(
                    changes=[
                        lsp.FileEvent(
                            uri=(project / "pyproject.toml").as_uri(),
                            type=lsp.FileChangeType.Created,
                        )
                    ]
                )
            )
            assert not await opened.diagnostics(uri, lambda d: not d, after=before)

    asyncio.run(session())


def test_unsafe_fixes_are_offered_only_when_asked_for(project: Path) -> None:
    legacy = (
        "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n"
    )

    async def titles(**options: object) -> list[str]:
        async with editor(project, **options) as opened:
            uri = opened.open("models.py", legacy)
            found = await opened.diagnostics(uri, bool)
            actions = await opened.client.text_document_code_action_async(
                lsp.CodeActionParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    range=found[0].range,
                    context=lsp.CodeActionContext(diagnostics=found),
                )
            )
            return [a.title for a in actions or [] if isinstance(a, lsp.CodeAction)]

    assert asyncio.run(titles()) == ["Add `# noqa: ORM402`"]
    assert asyncio.run(titles(unsafeFixes=True)) == [
        "Fix ORM402: Define `class Base(DeclarativeBase)` (unsafe)",
        "Add `# noqa: ORM402`",
    ]


def test_the_projects_unsafe_fixes_setting_is_honoured(project: Path) -> None:
    # As the command line applies them: offered one by one, and by "Fix all",
    # whose title says so, without the client's option.
    (project / "pyproject.toml").write_text(
        "[tool.orm-modernize]\nunsafe-fixes = true\n"
    )

    async def actions(only: list[str] | None) -> tuple[list[str], str]:
        async with editor(project) as opened:
            uri = opened.open(
                "models.py",
                "from sqlalchemy.orm import declarative_base\n\n"
                "Base = declarative_base()\n",
            )
            found = await opened.diagnostics(uri, bool)
            offered = await opened.client.text_document_code_action_async(
                lsp.CodeActionParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    range=found[0].range,
                    context=lsp.CodeActionContext(diagnostics=found, only=only),
                )
            )
            made = [a for a in offered or [] if isinstance(a, lsp.CodeAction)]
            fixed = opened.apply(uri, made[0].edit) if made[0].edit else ""
            return [a.title for a in made], fixed

    titles, fixed = asyncio.run(actions(None))
    assert titles == [
        "Fix ORM402: Define `class Base(DeclarativeBase)` (unsafe)",
        "Add `# noqa: ORM402`",
    ]
    assert "class Base(DeclarativeBase)" in fixed
    titles, fixed = asyncio.run(actions(["source.fixAll"]))
    assert titles == ["Fix all orm-modernize findings (unsafe fixes too)"]
    assert "class Base(DeclarativeBase)" in fixed


def test_a_file_over_its_time_budget_is_reported_not_left_running(
    project: Path,
) -> None:
    # The checks run in a worker process whose main thread gives each file its
    # budget (a thread could not): here a budget no check can keep.
    async def session() -> None:
        async with editor(
            project, env={"ORM_MODERNIZE_FILE_BUDGET": "0.0001"}
        ) as opened:
            uri = opened.open("queries.py", LEGACY * 50)
            (error,) = await opened.diagnostics(uri, bool)
            assert error.severity == lsp.DiagnosticSeverity.Error
            assert "took too long" in error.message

    asyncio.run(session())
