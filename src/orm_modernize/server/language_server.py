"""`orm-modernize server`: diagnostics and quick fixes as the user types.

Each open document is checked as its file would be (`runner.check_source`): its
own text, not the file on disk, with the configuration nearest to it and the whole
project's model, its findings published as LSP diagnostics linking to the rule's
docs. Code actions: "Fix ORMxxx" for each finding with a fix (unsafe ones only
when the client's initialization options set `unsafeFixes` or the project's
configuration sets `unsafe-fixes = true`), "Fix all orm-modernize findings"
(`source.fixAll.orm-modernize`), and a `# noqa` for the finding's line.

A change is checked after a short pause, in a worker process (whose main thread
gives each file its time budget): a newer version of the document makes the
older check's result be dropped, and the server itself never waits on a check.
"""

from __future__ import annotations

import asyncio
import tokenize
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from orm_modernize import __version__
from orm_modernize.data.codes import docs_url
from orm_modernize.data.records import Diagnostic, FileError, FileResult, TextEdit
from orm_modernize.rules import RULES_BY_CODE
from orm_modernize.syntax import noqa
from orm_modernize.workspace.cache import Cache, default_directory, trusted
from orm_modernize.workspace.config import ConfigError, Options
from orm_modernize.workspace.hierarchy import configure
from orm_modernize.workspace.runner import check_source

NAME = "orm-modernize"
FIX_ALL = f"{lsp.CodeActionKind.SourceFixAll.value}.{NAME}"
PAUSE = 0.15  # seconds of quiet typing before a changed document is checked


class Server(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            NAME, __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full
        )
        self.unsafe = False  # offer unsafe fixes (initialization option)
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.results: dict[str, tuple[int, FileResult]] = {}  # uri -> (version, ...)
        # The same with each fix's edits, made when a code action is first asked
        # for: a check without them is a fifth faster
        self.edited: dict[str, tuple[int, FileResult]] = {}
        self._pool: ProcessPoolExecutor | None = None

    def schedule(self, uri: str, pause: float) -> None:
        """Check the document after `pause`, dropping a check still waiting."""
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self.pending[uri] = asyncio.ensure_future(self._check_later(uri, pause))

    async def _check_later(self, uri: str, pause: float) -> None:
        await asyncio.sleep(pause)
        document = self.workspace.get_text_document(uri)
        version = document.version or 0
        result = await self.checked(uri, document.source, fix=False, edits=False)
        now = self.workspace.get_text_document(uri).version or 0
        if now != version:
            return  # a newer version is on its way: this result is stale
        self.results[uri] = (version, result)
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(
                uri=uri, version=version, diagnostics=diagnostics_of(result)
            )
        )

    async def checked(
        self, uri: str, text: str, *, fix: bool, edits: bool
    ) -> FileResult:
        """The document checked in the worker process, whose main thread gives
        each file its time budget (a thread could not): a pathological file is
        reported, never left to run on."""
        loop = asyncio.get_running_loop()
        job = (path_of(uri), text, fix, edits, self.unsafe)
        try:
            return await loop.run_in_executor(self.worker(), check_document, *job)
        except BrokenProcessPool:  # the worker died (killed, out of memory)
            self._pool = None
            return await loop.run_in_executor(self.worker(), check_document, *job)

    def check(self, uri: str, text: str, fix: bool, edits: bool = True) -> FileResult:
        """The same, in this process and thread (for measuring it)."""
        return check_document(path_of(uri), text, fix, edits, self.unsafe)

    def worker(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawned, not forked: this process runs the server's threads
            self._pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
        return self._pool

    def close_worker(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


# The results cache of each project, kept by the worker process between checks
# (none where git tracks it, as for the command line)
_CACHES: dict[Path, Cache | None] = {}


def warm_up() -> None:
    """Import what a check needs, in the worker, while the editor opens files."""
    import libcst  # noqa: F401

    import orm_modernize.rules  # noqa: F401


def check_document(
    path: Path, text: str, fix: bool, edits: bool, unsafe: bool
) -> FileResult:
    """`text` checked (and with `fix`, fixed) as the file at `path`; with `edits`,
    each finding's fix as text edits."""
    directory = default_directory([path])
    if directory not in _CACHES:
        _CACHES[directory] = trusted(directory)
    try:
        config = configure([path], Options(), fix=fix)
        settings = replace(config.settings, edits=edits)
        if unsafe:  # the client's option, as `--unsafe-fixes`
            settings = replace(settings, unsafe_fixes=True)
        config = replace(config, settings=settings)
        result = check_source(path, text.encode(), config, _CACHES[directory])
    except ConfigError as problem:  # said on the document, as the editor shows it
        return FileResult(path, errors=(FileError("config", str(problem)),))
    if settings.unsafe_fixes:  # the client's option or the project's setting
        return result
    # Only the fixes the settings allow are offered, as the command line applies.
    return replace(
        result,
        diagnostics=tuple(
            replace(d, edits=()) if d.applicability == "unsafe" else d
            for d in result.diagnostics
        ),
    )


def path_of(uri: str) -> Path:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(uri)


def diagnostics_of(result: FileResult) -> list[lsp.Diagnostic]:
    found = [_diagnostic(d) for d in result.diagnostics]
    for error in result.errors:
        line, column = (n - 1 for n in error.place)
        found.append(
            lsp.Diagnostic(
                range=lsp.Range(
                    lsp.Position(line, column), lsp.Position(line, column + 1)
                ),
                message=error.message,
                severity=lsp.DiagnosticSeverity.Error,
                source=NAME,
            )
        )
    return found


def _diagnostic(found: Diagnostic) -> lsp.Diagnostic:
    rule = RULES_BY_CODE.get(found.code)
    tags = []
    if rule is not None and rule.impact in ("removed", "legacy"):
        tags.append(lsp.DiagnosticTag.Deprecated)
    elif rule is not None and rule.impact == "none":
        tags.append(lsp.DiagnosticTag.Unnecessary)  # a stale noqa comment
    url = docs_url(found.code)
    return lsp.Diagnostic(
        range=_range(found.line, found.column, found.end_line, found.end_column),
        message=found.message,
        severity=lsp.DiagnosticSeverity.Warning,
        code=found.code,
        code_description=lsp.CodeDescription(href=url) if url else None,
        source=NAME,
        tags=tags or None,
    )


def _range(line: int, column: int, end_line: int, end_column: int) -> lsp.Range:
    """1-based, end-exclusive columns -> LSP's 0-based range."""
    return lsp.Range(
        lsp.Position(line - 1, column - 1), lsp.Position(end_line - 1, end_column - 1)
    )


def _edit(edit: TextEdit) -> lsp.TextEdit:
    return lsp.TextEdit(
        range=_range(edit.line, edit.column, edit.end_line, edit.end_column),
        new_text=edit.content,
    )


async def code_actions(
    server: Server, params: lsp.CodeActionParams
) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    document = server.workspace.get_text_document(uri)
    version = document.version or 0
    known = server.results.get(uri)
    if known is None or known[0] != version:
        return []  # a check is on its way; the client asks again
    edited = server.edited.get(uri)
    if edited is None or edited[0] != version:
        made = await server.checked(uri, document.source, fix=False, edits=True)
        edited = server.edited[uri] = (version, made)
    result = edited[1]
    asked = params.context.only
    actions: list[lsp.CodeAction] = []
    wanted = {(d.code, d.range.start.line) for d in params.context.diagnostics}
    if not asked or lsp.CodeActionKind.QuickFix in asked:
        for found in result.diagnostics:
            if (found.code, found.line - 1) not in wanted:
                continue
            actions += _quick_fixes(uri, document.source, found)
    # Fixing the whole document is asked for by name (on save, or a command), not
    # on each move of the cursor: it runs every pass of the fixes.
    if asked and any(FIX_ALL.startswith(kind) for kind in asked):
        fixed = await _fixed_all(server, uri, document.source)
        if fixed is not None:
            actions.append(fixed)
    return actions


def _quick_fixes(uri: str, text: str, found: Diagnostic) -> list[lsp.CodeAction]:
    actions = []
    diagnostic = _diagnostic(found)
    unsafe = found.applicability == "unsafe"
    if found.edits:  # an unsafe one only when the settings allow it
        title = f"Fix {found.code}: {found.fix_title or 'apply the fix'}"
        actions.append(
            lsp.CodeAction(
                title=f"{title} (unsafe)" if unsafe else title,
                kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                is_preferred=not unsafe,
                edit=_workspace_edit(uri, [_edit(e) for e in found.edits]),
            )
        )
    if found.code != "ORM900":
        line_edit = _noqa_edit(text, found)
        if line_edit is not None:
            actions.append(
                lsp.CodeAction(
                    title=f"Add `# noqa: {found.code}`",
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    edit=_workspace_edit(uri, [line_edit]),
                )
            )
    return actions


def _noqa_edit(text: str, found: Diagnostic) -> lsp.TextEdit | None:
    """The line that silences `found`, as `--add-noqa` writes it."""
    try:
        new, changed = noqa.with_directives(
            text.encode(), "utf-8", {found.line: {found.code}}
        )
    except (SyntaxError, ValueError, tokenize.TokenError):
        return None
    if not changed:
        return None
    old_lines, new_lines = text.splitlines(True), new.decode().splitlines(True)
    row = next(
        (i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b), None
    )
    if row is None:
        return None
    return lsp.TextEdit(
        range=lsp.Range(lsp.Position(row, 0), lsp.Position(row + 1, 0)),
        new_text=new_lines[row],
    )


async def _fixed_all(server: Server, uri: str, text: str) -> lsp.CodeAction | None:
    result = await server.checked(uri, text, fix=True, edits=False)
    if result.fixed is None:
        return None
    lines = text.splitlines(True)
    end = lsp.Position(len(lines), 0)
    whole = lsp.TextEdit(
        range=lsp.Range(lsp.Position(0, 0), end), new_text=result.fixed.decode()
    )
    # Unsafe fixes run when the client asks for them, or the project's
    # configuration does (`unsafe-fixes = true`): the title says what was applied.
    unsafe = any(d.applicability == "unsafe" for d in result.applied)
    return lsp.CodeAction(
        title="Fix all orm-modernize findings (unsafe fixes too)"
        if unsafe
        else "Fix all safe orm-modernize findings",
        kind=FIX_ALL,
        edit=_workspace_edit(uri, [whole]),
    )


def _workspace_edit(uri: str, edits: list[lsp.TextEdit]) -> lsp.WorkspaceEdit:
    return lsp.WorkspaceEdit(changes={uri: edits})


def build() -> Server:
    server = Server()

    @server.feature(lsp.INITIALIZE)
    def initialize(params: lsp.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict):
            server.unsafe = bool(options.get("unsafeFixes"))

    @server.feature(lsp.INITIALIZED)
    def initialized(params: lsp.InitializedParams) -> None:
        server.worker().submit(warm_up)

    @server.feature(lsp.SHUTDOWN)
    def shutdown(params: None) -> None:
        server.close_worker()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
        server.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
        server.schedule(params.text_document.uri, PAUSE)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: lsp.DidSaveTextDocumentParams) -> None:
        server.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        waiting = server.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        server.results.pop(uri, None)
        server.edited.pop(uri, None)
        server.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def files_changed(params: lsp.DidChangeWatchedFilesParams) -> None:
        # A configuration, a requirement pin or a model elsewhere: check again.
        for uri in list(server.workspace.text_documents):
            server.schedule(uri, 0)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(
            code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL],
        ),
    )
    async def code_action(params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        return await code_actions(server, params)

    return server


def serve() -> None:
    build().start_io()
