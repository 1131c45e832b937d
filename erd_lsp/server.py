"""The language server: pygls 2 over the analysis core. The only module that imports
pygls or lsprotocol.

Handlers convert and delegate: LSP positions become host offsets (in the encoding the
client negotiated), the analysis answers in offsets and plain data, and the answer is
converted back. The server keeps its own store of open documents (text, version and the
analysed :class:`~erd_lsp.analysis.Document`) and applies edits itself, so a keystroke
reparses only what it touched; pygls's own copy of the text is not kept.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import default_converter
from pygls.protocol.language_server import LanguageServerProtocol, lsp_method

from pygls.exceptions import JsonRpcException, JsonRpcInternalError

from erd_lsp import __version__
from erd_lsp.text import TextEdit, TextRange, paused_gc

if TYPE_CHECKING:
    from erd_lsp.analysis import Document, Settings
    from erd_lsp.analysis.diagnostics import Diagnostic


class _Lazy:
    """A module imported on first use, so that the server answers ``initialize`` before it
    loads the analysis (whose import costs more than pygls's own start-up would allow)."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module = None

    def __getattr__(self, attr: str):
        if self._module is None:
            import importlib

            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


analysis = _Lazy("erd_lsp.analysis")
completion = _Lazy("erd_lsp.analysis.completion")
formatting = _Lazy("erd_lsp.analysis.format")
hover = _Lazy("erd_lsp.analysis.hover")
navigation = _Lazy("erd_lsp.analysis.navigation")
rename = _Lazy("erd_lsp.analysis.rename")
structure = _Lazy("erd_lsp.analysis.structure")
workspace_mod = _Lazy("erd_lsp.analysis.workspace")
config = _Lazy("erd_lsp.config")

# The semantic token legend (the same as erd_lsp.analysis.structure's; a test checks it),
# spelled out here because registering it must not import the analysis.
TOKEN_TYPES = ("class", "string", "property", "type", "decorator", "operator", "comment", "macro", "keyword", "enumMember", "namespace")
TOKEN_MODIFIERS = ("declaration", "deprecated", "documentation", "implicit", "identifying", "nonIdentifying")

log = logging.getLogger("erd_lsp")

LANGUAGE_KINDS = {"mermaid": "mermaid", "mmd": "mermaid", "markdown": "markdown", "mdx": "markdown"}
SUFFIX_KINDS = {".mmd": "mermaid", ".mermaid": "mermaid", ".md": "markdown", ".markdown": "markdown", ".mdx": "markdown"}
MAX_INDEXED_FILES = 5000
MAX_INDEXED_BYTES = 2_000_000


@dataclass
class OpenDoc:
    uri: str
    version: Optional[int]
    doc: Document
    published_version: Optional[int] = None
    size: int = 0  # the text's size in memory when it was last sent whole (bytes)


def _kind_for(uri: str, language_id: Optional[str]) -> str:
    if language_id and language_id.lower() in LANGUAGE_KINDS:
        return LANGUAGE_KINDS[language_id.lower()]
    path = urlparse(uri).path
    return SUFFIX_KINDS.get(os.path.splitext(path)[1].lower(), "mermaid")


def uri_to_path(uri: str) -> Optional[str]:
    p = urlparse(uri)
    if p.scheme != "file":
        return None
    return unquote(p.path)


class ErdProtocol(LanguageServerProtocol):
    """Keeps documents in the server's own store instead of pygls's workspace, and sends
    a result already written as JSON text (:class:`JsonText`) as it is."""

    def _send_data(self, data: Any):
        result = getattr(data, "result", None)
        if result.__class__ is not JsonText or self.writer is None or getattr(data, "error", None) is not None:
            return super()._send_data(data)
        try:
            # the text is ASCII (JsonText's contract): its length is its size in bytes
            body = '{"id": %s, "jsonrpc": "2.0", "result": %s}' % (json.dumps(data.id), result)
            if self._include_headers:
                body = f"Content-Length: {len(body)}\r\nContent-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n" + body
            res = self.writer.write(body.encode(self.CHARSET))
            if inspect.isawaitable(res):
                asyncio.ensure_future(res)
            del body
            if result.collect_after:
                # making a large answer (the outline of a 66k-line diagram: 60,000 symbols,
                # hundreds of thousands of tuples, lists and strings) leaves CPython's free
                # lists full of spare objects spread over many pymalloc arenas, which keeps
                # each of those arenas; a full collection empties the free lists (RSS on
                # large after the outline: 113 -> 90 MB). The models are frozen out of the
                # collector's sight (freeze_new_models): it walks little (~30 ms)
                gc.collect()
        except BrokenPipeError:
            log.exception("Error sending data. BrokenPipeError")
            raise
        except Exception as error:  # as pygls reports a failed send
            log.exception("Error sending data")
            self._server._report_server_error(error, JsonRpcInternalError)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        self._server.open_document(params.text_document)
        if (h := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield h, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        self._server.change_document(params)
        if (h := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield h, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        self._server.close_document(params.text_document.uri)
        if (h := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield h, (params,), None


class PreparedList(list):
    """A result that is already JSON (lists, dicts, strings, numbers): sent as it is. pygls
    gives every result to cattrs, which walks each value of it one by one: for the
    outline of a large diagram (15 MB of JSON) that walk alone took 5 s, for its
    semantic tokens (867,000 integers) a third of the answer."""


class PreparedMap(dict):
    """A JSON object result, sent as it is (see :class:`PreparedList`)."""


class JsonText(str):
    """A result written as JSON text, ASCII only (non-ASCII characters escaped, as
    ``json.dumps`` does by default): :class:`ErdProtocol` sends it without making any
    object of it. For the outline of a large diagram (60,000 symbols, 15 MB), making
    the JSON objects and pygls's ``json.dumps`` of them took two thirds of the answer.
    ``collect_after``: a full collection follows its sending (see ``_send_data``)."""

    collect_after = False


def _converter():
    conv = default_converter()
    conv.register_unstructure_hook(PreparedList, lambda v: v)
    conv.register_unstructure_hook(PreparedMap, lambda v: v)
    return conv


class ErdServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("erd-lsp", __version__, protocol_cls=ErdProtocol, converter_factory=_converter)
        self.docs: dict[str, OpenDoc] = {}
        self.indexed: dict[str, Document] = {}  # unopened workspace files, by URI
        self.client_config = None  # from initializationOptions, overrides configuration files
        self.config_errors: list[str] = []
        self.completion_items: tuple = ()  # the last list's items, whose documentation resolve writes
        self.completion_serial = 0
        self._resolver = None  # configuration files, found upward from each document
        self._settings: dict[str, Settings] = {}
        self._types: Optional[list[str]] = None  # workspace attribute types, computed lazily
        # uri -> (result id, the last semantic-tokens answer, its document): what the next
        # delta starts from
        self.semantic: dict = {}
        self.semantic_serial = 0

    # -- the document store -------------------------------------------------------------
    @property
    def encoding(self) -> str:
        try:
            enc = self.workspace.position_encoding
        except Exception:  # before initialize
            return "utf-16"
        return str(getattr(enc, "value", enc) or "utf-16")

    def open_document(self, item: types.TextDocumentItem) -> None:
        kind = _kind_for(item.uri, item.language_id)
        self.docs[item.uri] = OpenDoc(item.uri, item.version, analysis.Document(item.text, kind, item.uri), size=sys.getsizeof(item.text))
        self._types = None

    def change_document(self, params: types.DidChangeTextDocumentParams) -> None:
        od = self.docs.get(params.text_document.uri)
        if od is None:
            return
        doc = od.doc
        enc = self.encoding
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                li = doc.line_index
                a = li.offset(change.range.start.line, change.range.start.character, enc)
                b = li.offset(change.range.end.line, change.range.end.character, enc)
                if b < a:
                    a, b = b, a
                prev, doc = doc, doc.edited(TextEdit(TextRange(a, b), change.text))
                if prev is not od.doc:
                    prev.release()  # an intermediate version of a batch of changes
            else:
                doc = analysis.Document(change.text, doc.kind, doc.path)
                od.size = sys.getsizeof(change.text)
        if doc is not od.doc:
            od.doc.release()
        od.doc = doc
        od.version = params.text_document.version
        keep_freed_blocks(od.size)

    def close_document(self, uri: str) -> None:
        od = self.docs.pop(uri, None)
        if od is not None:
            od.doc.release()
        self._settings.pop(uri, None)
        self.semantic.pop(uri, None)

    def document(self, uri: str) -> Optional[Document]:
        od = self.docs.get(uri)
        if od is not None:
            return od.doc
        return self.indexed.get(uri)

    def workspace_types(self) -> list[str]:
        """Attribute types used in the workspace, most frequent first (for completion)."""
        if self._types is None:
            counts: dict[str, int] = {}
            for _uri, d in self.all_documents():
                for u in d.units:
                    for e in u.diagram.entities.values():
                        for a in e.attributes:
                            counts[a.type] = counts.get(a.type, 0) + 1
            self._types = [t for t, _n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]
        return self._types

    def all_documents(self) -> list[tuple[str, Document]]:
        out = {uri: d for uri, d in self.indexed.items()}
        out.update({uri: od.doc for uri, od in self.docs.items()})
        return sorted(out.items())

    # -- positions ----------------------------------------------------------------------
    def offset(self, doc: Document, pos: types.Position) -> int:
        return doc.line_index.offset(pos.line, pos.character, self.encoding)

    def position(self, doc: Document, offset: int) -> types.Position:
        line, ch = doc.line_index.position(offset, self.encoding)
        return types.Position(line=line, character=ch)

    def range(self, doc: Document, r: TextRange) -> types.Range:
        return types.Range(start=self.position(doc, r.start), end=self.position(doc, r.end))

    # -- workspace indexing -------------------------------------------------------------
    def index_workspace(self) -> None:
        """Read the workspace's Mermaid and Markdown files (for definition and workspace
        symbols in files that are not open)."""
        roots = []
        try:
            for f in self.workspace.folders.values():
                p = uri_to_path(f.uri)
                if p:
                    roots.append(p)
            if not roots and self.workspace.root_path:
                roots.append(self.workspace.root_path)
        except Exception:
            return
        count = 0
        for root in roots:
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "__pycache__", ".venv", "venv"))
                for name in sorted(filenames):
                    kind = SUFFIX_KINDS.get(os.path.splitext(name)[1].lower())
                    if kind is None:
                        continue
                    path = os.path.join(dirpath, name)
                    try:
                        if os.path.getsize(path) > MAX_INDEXED_BYTES:
                            continue
                        text = Path(path).read_text(encoding="utf-8")
                    except (OSError, UnicodeDecodeError):
                        continue
                    if kind == "markdown" and "mermaid" not in text:
                        continue
                    uri = Path(path).as_uri()
                    self.indexed[uri] = analysis.Document(text, kind, uri)
                    count += 1
                    if count >= MAX_INDEXED_FILES:
                        return

    # -- diagnostics ----------------------------------------------------------------------
    def client_resolves_documentation(self) -> bool:
        """Whether the client asks for a completion item's documentation when it shows
        it (``completionItem/resolve``), so long lists can go without it."""
        td = self.client_capabilities.text_document if self.client_capabilities else None
        ci = td.completion.completion_item if td is not None and td.completion is not None else None
        rs = ci.resolve_support if ci is not None else None
        return rs is not None and "documentation" in (rs.properties or [])

    def completion_defaults(self) -> frozenset:
        """Which ``CompletionList.itemDefaults`` the client reads (LSP 3.17)."""
        td = self.client_capabilities.text_document if self.client_capabilities else None
        cl = td.completion.completion_list if td is not None and td.completion is not None else None
        return frozenset((cl.item_defaults or ()) if cl is not None else ())

    def client_pulls(self) -> bool:
        td = self.client_capabilities.text_document if self.client_capabilities else None
        return td is not None and td.diagnostic is not None

    def settings_for(self, uri: str) -> Settings:
        """The rule settings for a document: the client's initializationOptions if it sent
        any, else the configuration file found upward from the file (as the CLI does)."""
        s = self._settings.get(uri)
        if s is not None:
            return s
        path = uri_to_path(uri)
        try:
            if self.client_config is not None:
                s = self.client_config.settings_for(path)
            elif path is not None:
                if self._resolver is None:
                    self._resolver = config.ConfigResolver()
                s = self._resolver.for_file(path).settings_for(path)
            else:
                s = analysis.Settings()
        except config.ConfigError as e:
            msg = f"erd-lsp: {e}"
            if msg not in self.config_errors:
                self.config_errors.append(msg)
                self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=msg))
            s = analysis.Settings()
        self._settings[uri] = s
        return s

    def lsp_diagnostics(self, uri: str, doc: Document) -> list[types.Diagnostic]:
        return [self.to_lsp_diagnostic(uri, doc, d) for d in doc.diagnostics(self.settings_for(uri))]

    def to_lsp_diagnostic(self, uri: str, doc: Document, d: Diagnostic) -> types.Diagnostic:
        tags = []
        if "unnecessary" in d.tags:
            tags.append(types.DiagnosticTag.Unnecessary)
        if "deprecated" in d.tags:
            tags.append(types.DiagnosticTag.Deprecated)
        return types.Diagnostic(
            range=self.range(doc, d.range),
            message=d.message,
            severity=types.DiagnosticSeverity(int(d.severity)),
            code=d.code,
            source="erd-lsp",
            tags=tags or None,
            related_information=[
                types.DiagnosticRelatedInformation(location=types.Location(uri=uri, range=self.range(doc, r.range)), message=r.message)
                for r in d.related
            ]
            or None,
            data={"fixes": len(d.fixes)} if d.fixes else None,
        )

    def publish(self, uri: str) -> None:
        """Push diagnostics, for clients that cannot pull; never a stale version."""
        if self.client_pulls():
            return
        od = self.docs.get(uri)
        if od is None:
            return
        version = od.version
        diags = self.lsp_diagnostics(uri, od.doc)
        cur = self.docs.get(uri)
        if cur is None or cur.version != version:
            return  # superseded while we computed
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diags))
        od.published_version = version
        freeze_new_models(od.doc)


_MALLOC_TUNED_FOR = 0  # the text size (bytes) malloc was last tuned for


def keep_freed_blocks(size: int) -> None:
    """Edits keep a large document's text as ropes, but every few dozen keystrokes a rope
    is flattened again (the document's and the lexer's: a string of the text's size
    each), and features that need the whole text make one. With glibc's default
    settings such blocks go back to the system when freed (they are mmapped, or trimmed
    from the top of the heap), so every new one is faulted in again page by page: about
    2 ms on a 2 MB file, more than a keystroke's reparse. Once typing starts in a
    document over 1 MB (``size``: its text's size in bytes), malloc is asked to serve
    blocks of up to twice its size from the heap and to keep some free memory at the
    top of the heap (8 times its size, at most 32 MB: pages later strings reuse, not new
    memory). Not at open: the first parse frees many medium-sized blocks that the
    default settings give back. Linux/glibc only; a no-op elsewhere or when it fails."""
    global _MALLOC_TUNED_FOR
    if size < 1_000_000 or not sys.platform.startswith("linux"):
        return
    if size <= _MALLOC_TUNED_FOR:
        return
    _MALLOC_TUNED_FOR = size
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
        M_TOP_PAD, M_MMAP_THRESHOLD = -2, -3
        mallopt(M_MMAP_THRESHOLD, min(32 << 20, 2 * size + (1 << 20)))
        mallopt(M_TOP_PAD, min(32 << 20, 8 * size))
    except Exception:  # not glibc (musl has no mallopt), or no ctypes: keep the defaults
        pass


def freeze_new_models(doc: Document) -> None:
    """A model just built for a large diagram (with its tree) is hundreds of thousands of
    long-lived objects free of reference cycles (``Document.release`` breaks the one
    cycle): move them out of the cyclic collector's sight (``gc.freeze``) so that its
    full collections, during typing, do not scan them again and again. Models are
    rebuilt rarely (most edits derive their diagnostics without one)."""
    for u in doc.units:
        if "diagram" in u.__dict__ and not u.__dict__.get("_frozen"):
            gc.freeze()
            u._frozen = True
            return


server = ErdServer()


@server.feature(types.INITIALIZE)
def on_initialize(ls: ErdServer, params: types.InitializeParams) -> None:
    opts = params.initialization_options
    if isinstance(opts, dict) and opts:
        # the client's settings: the same keys as [tool.erd-lsp]
        try:
            ls.client_config = config.settings_from_mapping(opts, "initializationOptions")
        except config.ConfigError as e:
            ls.config_errors.append(str(e))


@server.feature(types.INITIALIZED)
def on_initialized(ls: ErdServer, params: types.InitializedParams) -> None:
    for msg in ls.config_errors:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"erd-lsp: {msg}"))
    try:
        ls.index_workspace()
    except Exception as e:  # indexing is best effort
        log.warning("workspace indexing failed: %s", e)




@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: ErdServer, params: types.DidOpenTextDocumentParams) -> None:
    od = ls.docs.get(params.text_document.uri)
    if od is not None:
        # before publishing, so that a keystroke right after opening does not wait for it
        od.doc.diagnostics(ls.settings_for(params.text_document.uri))
        od.doc.prepare_for_edits()  # the first keystroke then costs what the others do
    ls.publish(params.text_document.uri)
    if od is not None:
        freeze_new_models(od.doc)  # (publish does it too, but not for clients that pull)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: ErdServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: ErdServer, params: types.DidCloseTextDocumentParams) -> None:
    if not ls.client_pulls():
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


@server.feature(
    types.TEXT_DOCUMENT_DIAGNOSTIC,
    types.DiagnosticOptions(identifier="erd-lsp", inter_file_dependencies=False, workspace_diagnostics=False),
)
def pull_diagnostics(ls: ErdServer, params: types.DocumentDiagnosticParams):
    uri = params.text_document.uri
    od = ls.docs.get(uri)
    if od is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    result_id = f"{od.version}:{id(od.doc)}"
    if params.previous_result_id == result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    items = ls.lsp_diagnostics(uri, od.doc)
    freeze_new_models(od.doc)
    return types.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix], resolve_provider=False),
)
def code_action(ls: ErdServer, params: types.CodeActionParams):
    uri = params.text_document.uri
    doc = ls.document(uri)
    if doc is None:
        return None
    a = ls.offset(doc, params.range.start)
    b = ls.offset(doc, params.range.end)
    actions = []
    for d in doc.diagnostics(ls.settings_for(uri)):
        if d.range.end < a or d.range.start > b or not d.fixes:
            continue
        lsp_diag = ls.to_lsp_diagnostic(uri, doc, d)
        for i, fix in enumerate(d.fixes):
            edits = [types.TextEdit(range=ls.range(doc, e.range), new_text=e.new_text) for e in fix.edits]
            actions.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[lsp_diag],
                    is_preferred=(i == 0 and len(d.fixes) > 0 and d.code != "E002") or None,
                    edit=types.WorkspaceEdit(changes={uri: edits}),
                )
            )
    return actions or None


@server.feature(types.TEXT_DOCUMENT_HOVER)
def on_hover(ls: ErdServer, params: types.HoverParams):
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    h = hover.hover(doc, ls.offset(doc, params.position))
    if h is None:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=h.contents_markdown),
        range=ls.range(doc, h.range),
    )


_SYMBOL_KINDS = {
    "diagram": types.SymbolKind.Module,
    "entity": types.SymbolKind.Class,
    "attribute": types.SymbolKind.Field,
    "relationship": types.SymbolKind.Interface,
    "subgraph": types.SymbolKind.Namespace,
}


def _json_range(position, r: TextRange) -> dict:
    """An LSP ``Range`` as the JSON object itself (``position``: offset -> (line, character))."""
    a, b = position(r.start), position(r.end)
    return {"start": {"line": a[0], "character": a[1]}, "end": {"line": b[0], "character": b[1]}}


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def on_document_symbol(ls: ErdServer, params: types.DocumentSymbolParams):
    """``DocumentSymbol`` s written as JSON text (:class:`JsonText`). The outline of a large
    diagram (60,000 symbols) takes a few hundred milliseconds: it is made in steps of a
    few milliseconds, between which the server answers other messages (the keystrokes
    that come meanwhile get their diagnostics; a ``$/cancelRequest`` stops it there). The
    document it outlines is the version asked about (documents are immutable)."""
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    # the collector stays paused throughout, the pauses included (hundreds of thousands of
    # small acyclic objects: collections between the steps would walk them again and again)
    collecting = gc.isenabled()
    gc.disable()
    try:
        steps = structure.document_symbol_steps(doc)
        while True:
            try:
                next(steps)
            except StopIteration as stop:
                syms = stop.value
                break
            except Exception:  # pragma: no cover - never take the editor down
                syms = []
                break
            await asyncio.sleep(0)
        position = doc.line_index.positions(ls.encoding)
        parts: list = ["["]
        count = 0
        memo: dict = {}
        for i in range(0, len(syms), _WRITE_STEP):
            if i:
                parts.append(", ")
            count += _write_symbols(position, syms[i : i + _WRITE_STEP], parts, memo)
            await asyncio.sleep(0)
        parts.append("]")
        out = JsonText("".join(parts))
        out.collect_after = count >= 20_000
    finally:
        if collecting:
            gc.enable()
    return out


_WRITE_STEP = 100  # top-level symbols written between two pauses (~2 ms)

_KIND_NUMBERS = {k: int(v) for k, v in _SYMBOL_KINDS.items()}
_OTHER_KIND = int(types.SymbolKind.Object)
_SYMBOL_JSON = '{"name": %s, "kind": %d, "range": %s, "selectionRange": %s'
_RANGE_JSON = '{"start": {"line": %d, "character": %d}, "end": {"line": %d, "character": %d}}'
_PLAIN_JSON = re.compile(r"[ !#-\[\]-~]*")  # needs no escape in a JSON string


def _json_str(s: str, memo: dict) -> str:
    """``json.dumps(s)`` (ASCII), remembered: names and types repeat a lot."""
    out = memo.get(s)
    if out is None:
        out = memo[s] = '"' + s + '"' if _PLAIN_JSON.fullmatch(s) else json.dumps(s)
    return out


def _write_symbols(position, symbols, parts: list, memo: dict) -> int:
    """Append the JSON text of ``DocumentSymbol`` s, separated by commas (the list's
    brackets are the caller's), to ``parts``; returns how many symbols it wrote."""
    n = len(symbols)
    add = parts.append
    for i, sym in enumerate(symbols):
        if i:
            add(", ")
        r, sr = sym.range, sym.selection_range
        a, b, c, d = position(r.start), position(r.end), position(sr.start), position(sr.end)
        add(
            _SYMBOL_JSON
            % (
                _json_str(sym.name or "?", memo),
                _KIND_NUMBERS.get(sym.kind, _OTHER_KIND),
                _RANGE_JSON % (a[0], a[1], b[0], b[1]),
                _RANGE_JSON % (c[0], c[1], d[0], d[1]),
            )
        )
        if sym.detail:
            add(', "detail": ' + _json_str(sym.detail, memo))
        if sym.children:
            add(', "children": [')
            n += _write_symbols(position, sym.children, parts, memo)
            add("]")
        add("}")
    return n


@server.feature(types.WORKSPACE_SYMBOL)
def on_workspace_symbol(ls: ErdServer, params: types.WorkspaceSymbolParams):
    docs = ls.all_documents()
    by_key = dict(docs)
    out = []
    for key, sym in structure.workspace_symbols(docs, params.query or "", limit=200):
        doc = by_key.get(key)
        if doc is None:
            continue
        out.append(
            types.SymbolInformation(
                name=sym.name,
                kind=_SYMBOL_KINDS.get(sym.kind, types.SymbolKind.Object),
                location=types.Location(uri=key, range=ls.range(doc, sym.selection_range)),
                container_name=sym.detail or None,
            )
        )
    return out


@server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
def on_folding_range(ls: ErdServer, params: types.FoldingRangeParams):
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    out = PreparedList()
    for f in structure.folding_ranges(doc):  # as JSON objects (thousands in a large diagram)
        fold = {"startLine": f.start_line, "endLine": f.end_line}
        if f.kind in ("region", "comment"):
            fold["kind"] = f.kind
        out.append(fold)
    return out


@server.feature(types.TEXT_DOCUMENT_SELECTION_RANGE)
def on_selection_range(ls: ErdServer, params: types.SelectionRangeParams):
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    offsets = [ls.offset(doc, p) for p in params.positions]
    out = []
    for chain in structure.selection_ranges(doc, offsets):
        parent = None
        for r in reversed(chain):
            parent = types.SelectionRange(range=ls.range(doc, r), parent=parent)
        out.append(parent)
    return out


@server.feature(
    types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
    types.SemanticTokensRegistrationOptions(
        legend=types.SemanticTokensLegend(token_types=list(TOKEN_TYPES), token_modifiers=list(TOKEN_MODIFIERS)),
        full=types.SemanticTokensFullDelta(delta=True),
        range=True,
        document_selector=[{"language": "mermaid"}, {"language": "mmd"}, {"language": "markdown"}, {"language": "mdx"}],
    ),
)
def on_semantic_tokens(ls: ErdServer, params: types.SemanticTokensParams):
    res = _semantic_tokens(ls, params.text_document.uri)
    if res is None:
        return types.SemanticTokens(data=[])
    result_id, enc = res
    return _tokens_answer(result_id, data=list(enc.data))


@server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL_DELTA)
def on_semantic_tokens_delta(ls: ErdServer, params: types.SemanticTokensDeltaParams):
    res = _semantic_tokens(ls, params.text_document.uri, params.previous_result_id)
    if res is None:
        return types.SemanticTokens(data=[])
    result_id, enc = res
    if enc.edits is None:
        return _tokens_answer(result_id, data=list(enc.data))
    edits = [{"start": a, "deleteCount": n, "data": list(ints)} for a, n, ints in enc.edits]
    return _tokens_answer(result_id, edits=edits)


def _tokens_answer(result_id: Optional[str], **fields) -> PreparedMap:
    """``SemanticTokens`` / ``SemanticTokensDelta`` as JSON (no ``resultId`` when there is none)."""
    out = PreparedMap(fields)
    if result_id is not None:
        out["resultId"] = result_id
    return out


@server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_RANGE)
def on_semantic_tokens_range(ls: ErdServer, params: types.SemanticTokensRangeParams):
    uri = params.text_document.uri
    doc = ls.document(uri)
    if doc is None:
        return types.SemanticTokens(data=[])
    kept = ls.semantic.get(uri)
    enc = None
    if kept is not None and kept[2] is doc:
        enc = kept[1]
    r = params.range
    start, end = ls.offset(doc, r.start), ls.offset(doc, r.end)
    return PreparedMap(data=structure.semantic_tokens_in(enc, doc, start, end, ls.encoding))


def _semantic_tokens(ls: ErdServer, uri: str, previous_id: Optional[str] = None):
    """``(result id, structure.EncodedTokens)`` of the open document ``uri``, carried
    from the last answer: its ``edits`` apply to the result ``previous_id`` names (None
    when that is not the last answer, or when not given: then a full answer is meant)."""
    doc = ls.document(uri)
    if doc is None:
        return None
    store = ls.semantic
    kept = store.get(uri)
    prev_state = kept[1].state if kept is not None else None
    enc = structure.semantic_tokens_data(doc, ls.encoding, prev_state)
    if previous_id is None or kept is None or kept[0] != previous_id:
        enc = structure.EncodedTokens(enc.data, None, enc.state)
    ls.semantic_serial += 1
    serial = ls.semantic_serial
    od = ls.docs.get(uri)
    result_id = f"{od.version if od is not None else ''}:{serial}"
    store[uri] = (result_id, enc, doc)
    return result_id, enc


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed (-32803): the request was valid but cannot be done; the client
    shows the message (e.g. why a rename is refused)."""

    CODE = -32803


_COMPLETION_KINDS = {
    "entity": types.CompletionItemKind.Class,
    "keyword": types.CompletionItemKind.Keyword,
    "cardinality": types.CompletionItemKind.Operator,
    "operator": types.CompletionItemKind.Operator,
    "type": types.CompletionItemKind.TypeParameter,
    "key": types.CompletionItemKind.EnumMember,
    "attribute": types.CompletionItemKind.Field,
    "column": types.CompletionItemKind.Field,
    "snippet": types.CompletionItemKind.Snippet,
    "class": types.CompletionItemKind.Enum,
}


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(trigger_characters=[" ", ".", ":", '"', "|", "-", "{", ","], resolve_provider=True),
)
def on_completion(ls: ErdServer, params: types.CompletionParams):
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    resolves = ls.client_resolves_documentation()
    result = completion.complete(doc, ls.offset(doc, params.position), ls.workspace_types(), lazy=resolves)
    # the list is written as the JSON it is sent as: making 100 lsprotocol items and
    # unstructuring them again (cattrs) took more time than finding them
    items = []
    ranges: dict = {}  # items mostly replace the same word: convert its range once
    position = doc.line_index.positions(ls.encoding)
    # a long list goes without documentation when the client asks for it item by item
    # (half of what a list of 100 entities costs to send is their attribute lists): the
    # items are kept, and resolve writes the documentation of the one asked for
    deferred = len(result.items) > 20 and resolves
    ls.completion_items = result.items if deferred else ()
    ls.completion_serial += 1
    serial = ls.completion_serial
    # a range and a format all items share go once, as itemDefaults, to clients that read them
    defaults = ls.completion_defaults()
    first = result.items[0] if result.items else None
    shared_range = first is not None and "editRange" in defaults and all(it.replace == first.replace for it in result.items)
    shared_format = first is not None and "insertTextFormat" in defaults and all(it.is_snippet == first.is_snippet for it in result.items)
    for i, it in enumerate(result.items):
        rng = ranges.get(it.replace)
        if rng is None:
            rng = ranges[it.replace] = _json_range(position, it.replace)
        new_text = it.insert_text if it.insert_text is not None else it.label
        item = {"label": it.label}
        if shared_range:
            if new_text != it.label:
                item["textEditText"] = new_text
        else:
            item["textEdit"] = {"range": rng, "newText": new_text}
        if not shared_format:
            item["insertTextFormat"] = 2 if it.is_snippet else 1
        kind = _COMPLETION_KINDS.get(it.kind)
        if kind is not None:
            item["kind"] = int(kind)
        if it.detail is not None:
            item["detail"] = it.detail
        if deferred:
            if it.documentation or it.lazy_documentation is not None:
                item["data"] = [serial, i]
        else:
            docs = it.full_documentation()
            if docs:
                item["documentation"] = {"kind": "markdown", "value": docs}
        if it.sort_text is not None:
            item["sortText"] = it.sort_text
        if it.filter_text is not None:
            item["filterText"] = it.filter_text
        if it.is_snippet:
            item["insertTextMode"] = int(types.InsertTextMode.AdjustIndentation)
        items.append(item)
    out = {"isIncomplete": result.incomplete, "items": items}
    if shared_range or shared_format:
        out["itemDefaults"] = {}
        if shared_range:
            out["itemDefaults"]["editRange"] = ranges[first.replace]
        if shared_format:
            out["itemDefaults"]["insertTextFormat"] = 2 if first.is_snippet else 1
    return PreparedMap(out)


@server.feature(types.COMPLETION_ITEM_RESOLVE)
def on_completion_resolve(ls: ErdServer, item: types.CompletionItem) -> types.CompletionItem:
    """The documentation a long completion list left out (see ``on_completion``)."""
    data = item.data
    if isinstance(data, list) and len(data) == 2 and data[0] == ls.completion_serial:
        i = data[1]
        if isinstance(i, int) and 0 <= i < len(ls.completion_items):
            docs = ls.completion_items[i].full_documentation()
            if docs:
                item.documentation = types.MarkupContent(kind=types.MarkupKind.Markdown, value=docs)
    return item


def _workspace(ls: ErdServer):
    ws = workspace_mod.Workspace()
    for uri, d in ls.all_documents():
        ws.put_document(uri, d)
    return ws


def _location(ls: ErdServer, loc) -> Optional[types.Location]:
    target = ls.document(loc.key)
    if target is None:
        return None
    return types.Location(uri=loc.key, range=ls.range(target, loc.range))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def on_definition(ls: ErdServer, params: types.DefinitionParams):
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    locs = navigation.definition(_workspace(ls), doc, ls.offset(doc, params.position))
    out = [x for x in (_location(ls, loc) for loc in locs) if x is not None]
    return out or None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def on_references(ls: ErdServer, params: types.ReferenceParams):
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    include = params.context.include_declaration if params.context else True
    locs = navigation.references(_workspace(ls), doc, ls.offset(doc, params.position), include_declaration=include)
    out = [x for x in (_location(ls, loc) for loc in locs) if x is not None]
    return out or None


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
def on_highlight(ls: ErdServer, params: types.DocumentHighlightParams):
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    kinds = {"write": types.DocumentHighlightKind.Write, "read": types.DocumentHighlightKind.Read}
    out = [
        types.DocumentHighlight(range=ls.range(doc, r), kind=kinds.get(k, types.DocumentHighlightKind.Text))
        for r, k in navigation.highlights(doc, ls.offset(doc, params.position))
    ]
    return out or None


@server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
def on_prepare_rename(ls: ErdServer, params: types.PrepareRenameParams):
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    r = rename.prepare_rename(doc, ls.offset(doc, params.position))
    if r is None:
        return None
    if isinstance(r, str):
        raise RequestFailed(r)
    return types.PrepareRenamePlaceholder(range=ls.range(doc, r), placeholder=doc.text[r.start : r.end])


@server.feature(types.TEXT_DOCUMENT_RENAME)
def on_rename(ls: ErdServer, params: types.RenameParams):
    uri = params.text_document.uri
    doc = ls.document(uri)
    if doc is None:
        return None
    r = rename.rename(doc, ls.offset(doc, params.position), params.new_name)
    if isinstance(r, str):
        raise RequestFailed(r)
    if r is None:
        return None
    edits = [types.TextEdit(range=ls.range(doc, e.range), new_text=e.new_text) for e in r.edits]
    return types.WorkspaceEdit(changes={uri: edits})


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def on_formatting(ls: ErdServer, params: types.DocumentFormattingParams):
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    edits = formatting.format_document(doc)
    return [types.TextEdit(range=ls.range(doc, e.range), new_text=e.new_text) for e in edits] or None


@server.feature(types.TEXT_DOCUMENT_RANGE_FORMATTING)
def on_range_formatting(ls: ErdServer, params: types.DocumentRangeFormattingParams):
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return None
    rng = TextRange(ls.offset(doc, params.range.start), ls.offset(doc, params.range.end))
    edits = formatting.format_range(doc, rng)
    return [types.TextEdit(range=ls.range(doc, e.range), new_text=e.new_text) for e in edits] or None


def run_server(tcp: Optional[tuple[str, int]] = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # pygls reads each header line and each body in a thread of its own; while a long
    # answer is made in steps (the outline), that thread waits for the interpreter lock:
    # a millisecond instead of Python's default five, four times per message
    sys.setswitchinterval(0.001)
    if tcp is not None:
        server.start_tcp(tcp[0], tcp[1])
    else:
        server.start_io()
    return 0
