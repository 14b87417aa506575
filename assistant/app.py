"""The reader's page: ask about the article in a browser, see verbatim quote cards beside the article.

    on-the-record serve [--store DIR] [--host 127.0.0.1] [--port 7860]   (or, in the checkout, python app.py)

The page only presents the `assistant` API (see assistant/web.py for the HTML). It also serves the named
endpoint `/ask` for scripts: `gradio_client.Client(URL).predict(question, top_k, document, api_name="/ask")`
returns the same JSON object as `python -m assistant ask --json` (set HF_HUB_OFFLINE=1 and
GRADIO_ANALYTICS_ENABLED=False in the client's environment, or gradio_client itself contacts the internet).

`build_app` lays out one tab at a time (`_ask_tab` ... `_sources_tab`), then wires each tab's events
(`_load_event` ... `_sources_events`) and the named endpoints (`_api`), in that order.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections import namedtuple
from pathlib import Path

# The upload limit is the article limit: a draft or an article.
from assistant.articles import MAX_ARTICLE_BYTES

log = logging.getLogger("assistant.app")

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
ALL_ARTICLES = ("All articles", "")  # heads the article lists that may search every article


# What each tab's layout hands its events: its gradio components, by name.
AskTab = namedtuple("AskTab", "chat question ask k doc add added pane")
CheckTab = namedtuple("CheckTab", "claim who doc check verdict csv md")
DraftTab = namedtuple("DraftTab", "text file doc check name result csv md pane")
SourcesTab = namedtuple("SourcesTab", "doc summary table chart csv md corpus_csv")


class Page(namedtuple("Page", "turns ask check draft sources")):
    """The page's controls by tab, and the reader's conversation (a gr.State)."""

    @property
    def lists(self) -> list:
        """The four article lists, in the order `_lists` updates them."""
        return [self.ask.doc, self.check.doc, self.sources.doc, self.draft.doc]


def build_app(reader, top_k: int = 3, uploads: bool = False):
    """The Gradio Blocks around a `Reader`; launch it with `launch_options()`. uploads=True shows "Add article"."""
    import gradio as gr

    exports = Path(tempfile.mkdtemp(prefix="otr-exports-"))  # the downloads this app writes (Gradio serves copies)
    atexit.register(shutil.rmtree, exports, ignore_errors=True)
    choices = reader.choices()
    with gr.Blocks(title="On the Record", analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.HTML('<div class="otr-head"><h1>On the Record</h1><p>Answers come only as verbatim quotes from '
                'the article, each with who said it and what kind of source that is.</p></div>')
        with gr.Tabs():
            ask = _ask_tab(reader, choices, top_k, uploads)
            check = _check_tab(choices)
            draft = _draft_tab(choices)
            sources = _sources_tab(reader, choices, exports)
        page = Page(turns, ask, check, draft, sources)
        # Events register in the order the page has always had them; the private ones stay off the API page.
        _load_event(demo, page, reader)
        _ask_events(page, reader)
        _add_event(page, reader, uploads, exports)
        _check_events(page, reader, exports)
        _draft_events(page, reader, exports)
        _sources_events(page, reader, exports)
        _api(reader)
    return demo


# --------------------------------------------------------------------------- the tabs


def _article_list(choices: list, elem_id: str, label: str = "Article", **kw):
    """An article list headed by "All articles", shown when there is more than one article."""
    import gradio as gr

    return gr.Dropdown(choices=[ALL_ARTICLES] + choices, value="", label=label, visible=len(choices) > 1,
                       elem_id=elem_id, **kw)


def _ask_tab(reader, choices: list, top_k: int, uploads: bool) -> AskTab:
    """Ask: the transcript, the question box and its settings, "Add article", and the article pane."""
    import gradio as gr

    from assistant import web
    from assistant.articles import ARTICLE_SUFFIXES

    with gr.Tab("Ask", id="ask-tab", elem_id="ask-tab"):
        with gr.Row(equal_height=False, elem_id="panes"):
            with gr.Column(scale=3, min_width=340):
                chat = gr.HTML(reader.transcript([]), elem_id="transcript")
                with gr.Row():
                    question = gr.Textbox(label="Your question", max_lines=4, scale=5, elem_id="question",
                                          placeholder="Who said …? What did … say about …?", autofocus=True)
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                gr.Examples(examples=[[q] for q in reader.examples()], inputs=[question], label="Try")
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(1, 10, value=top_k, step=1, label="Quotes per answer (top-k)", elem_id="top-k")
                    doc = _article_list(choices, "document")
                with gr.Row(visible=uploads):
                    label = f"Add article (.txt, .md, .html; up to {MAX_ARTICLE_BYTES // 1_000_000} MB)"
                    add = gr.UploadButton(label, size="sm", file_types=list(ARTICLE_SUFFIXES), file_count="single",
                                          elem_id="add-article", visible=uploads)
                    added = gr.HTML("", elem_id="add-status")
            with gr.Column(scale=2, min_width=340):
                pane = gr.HTML(reader.pane([]), elem_id="article-pane")
                gr.HTML(web.legend(), elem_id="legend")
    return AskTab(chat, question, ask, k, doc, add, added, pane)


def _check_tab(choices: list) -> CheckTab:
    """Check a quote: the claim, who it is attributed to, the verdict and its downloads."""
    import gradio as gr

    with gr.Tab("Check a quote", id="check-tab", elem_id="check-tab"):
        gr.HTML("<p>Is a quote real, and whose is it? Paste the words (at least three) and, if you "
                "like, who they are attributed to.</p>")
        claim = gr.Textbox(label="Claimed quote", lines=3, max_lines=8, elem_id="claim")
        with gr.Row():
            who = gr.Textbox(label="Attributed to (optional)", placeholder="a surname is enough",
                             scale=3, elem_id="claimed-speaker")
            doc = _article_list(choices, "check-document", scale=2)
        check = gr.Button("Check", variant="primary", elem_id="check")
        verdict = gr.HTML(elem_id="verdict")
        with gr.Row():
            csv = gr.DownloadButton("Download CSV", visible=False, size="sm", elem_id="check-csv")
            md = gr.DownloadButton("Download Markdown", visible=False, size="sm", elem_id="check-md")
    return CheckTab(claim, who, doc, check, verdict, csv, md)


def _draft_tab(choices: list) -> DraftTab:
    """Check a draft: the text or its file, the table of its quotations, and the archive passage pane."""
    import gradio as gr

    from assistant import web
    from assistant.articles import ARTICLE_SUFFIXES

    with gr.Tab("Check a draft", id="draft-tab", elem_id="draft-tab"):
        gr.HTML("<p>Paste a draft, or upload one (.txt, .md or .html). Every quotation in it is found "
                "with who it is given to, and checked against the indexed articles: "
                + " ".join(web.verdict_chip(v) for v in web.VERDICT_COLOURS)
                + ". Click a row to see the archive passage. The draft is not indexed.</p>")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                text = gr.Textbox(label="Draft", lines=8, max_lines=20, elem_id="draft-text",
                                  placeholder="Paste the draft here …")
                with gr.Row():
                    file = gr.UploadButton("Upload a draft", size="sm", file_types=list(ARTICLE_SUFFIXES),
                                           file_count="single", elem_id="draft-file")
                    doc = _article_list(choices, "draft-document", label="Check against")
                    check = gr.Button("Check the draft", variant="primary", elem_id="check-draft")
                name = gr.State("draft")
                result = gr.HTML(elem_id="draft-result")
                with gr.Row():
                    csv = gr.DownloadButton("Download CSV", visible=False, size="sm", elem_id="draft-csv")
                    md = gr.DownloadButton("Download Markdown", visible=False, size="sm", elem_id="draft-md")
            with gr.Column(scale=2, min_width=340):
                pane = gr.HTML('<div class="otr-empty">The archive passages of the quotations show '
                               'here.</div>', elem_id="draft-pane")
                gr.HTML(web.legend())
    return DraftTab(text, file, doc, check, name, result, csv, md, pane)


def _sources_tab(reader, choices: list, exports: Path) -> SourcesTab:
    """Sources: one article's audit as a summary, a table and a chart, with the downloads."""
    import gradio as gr

    from assistant import web

    with gr.Tab("Sources", id="sources-tab", elem_id="sources-tab"):
        first = choices[0][1] if choices else None  # None, not "": a value must be among the choices
        doc = gr.Dropdown(choices=choices, value=first, label="Article", visible=len(choices) > 1,
                          elem_id="sources-document")
        summary, rows, counts = sources_view(reader, first)
        audit_summary = gr.HTML(summary, elem_id="audit-summary")
        table = gr.Dataframe(value=rows, headers=web.SOURCE_COLUMNS, interactive=False, wrap=True,
                             column_widths=["30%", "13%", "7%", "8%", "30%", "12%"],
                             elem_id="sources-table", label="Sources")
        # Counts start at zero: vega-lite's default scale here does not, and a type with the fewest
        # passages would draw no bar at all.
        chart = gr.BarPlot(counts, x="source type", y="passages", color="source type",
                           color_map={t: fg for t, (_bg, fg) in web.COLOURS.items()}, y_lim=[0, None],
                           title="Attributed passages by source type", sort=None, elem_id="sources-chart")
        with gr.Row():
            csv = gr.DownloadButton("This article's sources (CSV)", size="sm", elem_id="sources-csv",
                                    value=sources_file(reader, first, exports, "csv"))
            md = gr.DownloadButton("This article's sources (Markdown)", size="sm", elem_id="sources-md",
                                   value=sources_file(reader, first, exports, "md"))
            corpus_csv = gr.DownloadButton("Every article, summarised (CSV)", size="sm",
                                           elem_id="corpus-csv", value=corpus_file(reader, exports))
    return SourcesTab(doc, audit_summary, table, chart, csv, md, corpus_csv)


# --------------------------------------------------------------------------- the events


def _lists(reader, document: str, checked: str, audited: str, drafted: str = ""):
    """The article lists as the store has them now, keeping each choice that still exists."""
    import gradio as gr

    choices = reader.choices()
    ids = {d for _label, d in choices}
    every = [ALL_ARTICLES] + choices
    many = len(choices) > 1
    first = choices[0][1] if choices else None  # None, not "": a value must be among the choices
    return (gr.update(choices=every, value=document if document in ids else "", visible=many),
            gr.update(choices=every, value=checked if checked in ids else "", visible=many),
            gr.update(choices=choices, value=audited if audited in ids else first, visible=many),
            gr.update(choices=every, value=drafted if drafted in ids else "", visible=many))


def _load_event(demo, page: Page, reader) -> None:
    """Opening the page: the article lists as they are now, and what a permalink asks for."""
    import gradio as gr

    built = reader.version  # the documents the page was built with
    a = page.ask

    def on_load(document: str, checked: str, audited: str, drafted: str, history: list, top: float,
                request: gr.Request):
        # A page opened after more articles were indexed lists them, and shows one when there was none.
        # Otherwise nothing changes: a question asked while the page loads keeps its highlighted pane.
        reader.sync()
        fresh = reader.version != built
        same = (gr.update(),) * 4
        params = dict(request.query_params) if request is not None else {}
        link = permalink(reader, params)
        if link is None:
            if not fresh:
                return (*same, gr.update(), gr.update(), gr.update(), gr.update())
            return (*_lists(reader, document, checked, audited, drafted), reader.pane([], document or None),
                    gr.update(), gr.update(), gr.update())
        doc_id, q, highlight = link
        if doc_id:
            document = doc_id
        if q:  # /?q=QUESTION[&doc=DOC]: answered at once, as if asked
            history = reader.turn(q, history, int(top), document or None)
            return (*_lists(reader, document, checked, audited, drafted), reader.pane(history, document or None),
                    reader.transcript(history, document or None), history, q)
        return (*_lists(reader, document, checked, audited, drafted),
                reader.pane(history, document or None, highlight), gr.update(), gr.update(), gr.update())

    # Gradio finds the request parameter by its type hint, which it cannot resolve from a string (this module
    # postpones annotations and imports gradio late): give it the class itself.
    on_load.__annotations__ = {"request": gr.Request}
    demo.load(on_load, [*page.lists, page.turns, a.k], [*page.lists, a.pane, a.chat, page.turns, a.question],
              api_visibility="private")


def _ask_events(page: Page, reader) -> None:
    """Asking (the button or Enter), and choosing an article to read."""
    a = page.ask

    def on_ask(q: str, history: list, top: float, document: str, checked: str, audited: str, drafted: str):
        history = reader.turn(q, history, int(top), document or None)  # answers from what is indexed now
        return (reader.transcript(history, document or None), reader.pane(history, document or None), history,
                "", *_lists(reader, document, checked, audited, drafted))

    def on_document(document: str, history: list):
        return reader.pane(history, document or None)

    for trigger in (a.ask.click, a.question.submit):
        trigger(on_ask, [a.question, page.turns, a.k, *page.lists],
                [a.chat, a.pane, page.turns, a.question, *page.lists], api_visibility="private")
    # The reader's own choice only: a value set by the app (a link, an added article) comes with its pane,
    # which a change event would redraw without the link's highlight.
    a.doc.input(on_document, [a.doc, page.turns], [a.pane], api_visibility="private")


def _add_event(page: Page, reader, uploads: bool, exports: Path) -> None:
    """"Add article": index an uploaded file and select it."""
    import gradio as gr

    from assistant import web
    from assistant.errors import AssistantError

    def on_add(file, history: list, checked: str, audited: str, drafted: str):
        if not uploads:  # the control is hidden then; a crafted request is refused all the same
            raise gr.Error("Adding articles is turned off on this server.")
        if file is None:
            raise gr.Error("Choose a .txt, .md or .html file to add.")
        path = Path(file if isinstance(file, str) else file.name)
        name = getattr(file, "orig_name", None) or path.name
        try:
            doc_id = reader.add_article(path, name)
        except AssistantError as exc:  # a bad file: the index command's reason, and nothing changes
            raise gr.Error(str(exc)) from exc
        title = reader.title(doc_id, name)
        status = (f'<div class="otr-added" role="status">Added “{web.html.escape(title)}”: ask about it now; '
                  "it is selected under Settings.</div>")
        return (status, reader.pane(history, doc_id), *_lists(reader, doc_id, checked, audited, drafted),
                gr.update(value=corpus_file(reader, exports)))

    a = page.ask
    a.add.upload(on_add, [a.add, page.turns, page.check.doc, page.sources.doc, page.draft.doc],
                 [a.added, a.pane, *page.lists, page.sources.corpus_csv], api_visibility="private")


def _error_html(what: str, exc: Exception) -> str:
    """A check's failure in words, where its result would be."""
    from assistant import web

    return f'<div class="otr-error" role="alert">{what}: {web.html.escape(str(exc))}.</div>'


def _downloads(exports: Path, stem: str, columns, rows) -> tuple:
    """A CSV and a Markdown file of the rows, in a folder of their own, as shown download buttons."""
    import gradio as gr

    from assistant import export

    folder = Path(tempfile.mkdtemp(dir=exports))
    return tuple(gr.update(value=export.write(folder / f"{stem}.{fmt}", fmt, columns, rows), visible=True)
                 for fmt in ("csv", "md"))


def _check_events(page: Page, reader, exports: Path) -> None:
    """Check a quote: the verdict and its downloads, or a message."""
    import gradio as gr

    from assistant import export, web
    from assistant.errors import AssistantError, QuestionError

    def on_check(text: str, speaker: str, document: str):
        try:
            v = reader.check(text, speaker or None, document or None)
        except QuestionError as exc:
            return _error_html("Please give the quote again", exc), gr.update(visible=False), gr.update(visible=False)
        except AssistantError as exc:  # the store is unreachable, say
            return _error_html("Cannot check right now", exc), gr.update(visible=False), gr.update(visible=False)
        return (web.verdict_html(v), *_downloads(exports, "check", export.VERDICT_COLUMNS, export.verdict_rows(v)))

    c = page.check
    c.check.click(on_check, [c.claim, c.who, c.doc], [c.verdict, c.csv, c.md], api_visibility="private")
    c.claim.submit(on_check, [c.claim, c.who, c.doc], [c.verdict, c.csv, c.md], api_visibility="private")


def _draft_events(page: Page, reader, exports: Path) -> None:
    """Check a draft: an uploaded file into the text box, then every quotation checked."""
    import gradio as gr

    from assistant import export, web
    from assistant.errors import AssistantError

    def on_draft_file(file):
        """An uploaded draft goes into the text box: what is checked is what the journalist sees."""
        from assistant.draft import draft_text

        if file is None:
            return gr.update(), "draft"
        path = Path(file if isinstance(file, str) else file.name)
        name = getattr(file, "orig_name", None) or path.name
        try:
            if path.stat().st_size > MAX_ARTICLE_BYTES:
                raise AssistantError(f"{name}: {path.stat().st_size:,} bytes is over the "
                                     f"{MAX_ARTICLE_BYTES:,}-byte limit")
            return draft_text(path.read_bytes(), name), name
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc
        except OSError as exc:
            raise gr.Error(f"{name}: cannot read ({exc.strerror or exc})") from exc

    def on_draft(text: str, name: str, document: str):
        hidden = gr.update(visible=False)
        try:
            from assistant.draft import draft_text

            # The box holds plain text (an uploaded page's is already extracted): a file's checks, as text.
            text = draft_text(text or "", "draft")
            report = reader.check_draft(text, name or "draft", document or None)
        except AssistantError as exc:
            return _error_html("Cannot check the draft", exc), gr.update(), hidden, hidden
        stem = Path(name or "draft").stem or "draft"
        return (web.draft_html(report, reader.doc_ids, text), reader.draft_pane(report),
                *_downloads(exports, f"{stem}-check", export.DRAFT_COLUMNS, export.draft_rows(report)))

    d = page.draft
    d.file.upload(on_draft_file, [d.file], [d.text, d.name], api_visibility="private")
    d.text.input(lambda: "draft", None, [d.name], api_visibility="private")  # a paste is no file
    d.check.click(on_draft, [d.text, d.name, d.doc], [d.result, d.pane, d.csv, d.md], api_visibility="private")


def _sources_events(page: Page, reader, exports: Path) -> None:
    """Sources: another article's audit and downloads."""
    def on_sources(document: str):
        return (*sources_view(reader, document), sources_file(reader, document, exports, "csv"),
                sources_file(reader, document, exports, "md"), corpus_file(reader, exports))

    s = page.sources
    s.doc.change(on_sources, [s.doc], [s.summary, s.table, s.chart, s.csv, s.md, s.corpus_csv],
                 api_visibility="private")


# --------------------------------------------------------------------------- the named endpoints


def _document(reader, document: str) -> str | None:
    """The doc_id a script names, or None for every article; an article indexed a moment ago is found too."""
    if document:
        reader.sync()
    return reader.find_document(document)


def _api(reader) -> None:
    """The named endpoints for scripts; each returns the JSON object its CLI command prints with --json."""
    import gradio as gr

    from assistant.errors import AssistantError

    def api_ask(question: str, top_k: int = 3, document: str = "") -> dict:
        """Answer one question: the same JSON object as `python -m assistant ask --json`."""
        try:
            doc_id = _document(reader, document)
            return reader.ask(question, int(top_k), doc_id).to_json()
        except AssistantError as exc:  # a bad question, an unknown document: a message, not a trace
            raise gr.Error(str(exc)) from exc

    gr.api(api_ask, api_name="ask")

    def api_check(claim: str, speaker: str = "", document: str = "") -> dict:
        """Check a claimed quote: the same JSON object as `python -m assistant check --json`."""
        try:
            doc_id = _document(reader, document)
            return reader.check(claim, speaker or None, doc_id).to_json()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc

    def api_check_draft(draft: str, document: str = "") -> dict:
        """Check every quotation of a draft's text: as `python -m assistant check --draft FILE --json`."""
        from assistant.draft import draft_text

        try:
            doc_id = _document(reader, document)
            return reader.check_draft(draft_text(draft or "", "draft"), "draft", doc_id).to_json()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc

    def api_sources(document: str = "") -> list:
        """The source audit of one article, or of each: as `python -m assistant sources --json`."""
        try:
            reader.sync()
            doc_id = reader.find_document(document)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc
        return [a.to_json() for a in reader.audits(doc_id)]

    def api_documents() -> list:
        """The indexed articles, as `python -m assistant documents --json` lists them."""
        try:
            reader.sync()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc
        return [r.to_json() for r in sorted(reader.docs.values(), key=lambda r: r.source)]

    gr.api(api_check, api_name="check")
    gr.api(api_check_draft, api_name="check_draft")
    gr.api(api_sources, api_name="sources")
    gr.api(api_documents, api_name="documents")


# --------------------------------------------------------------------------- helpers, options and serving


def permalink(reader, params: dict) -> tuple[str, str, tuple[int, int] | None] | None:
    """What a link asks for, as (doc_id, question, highlight), or None when it asks for nothing:
    `/?q=QUESTION[&doc=DOC]` answers a question, `/?doc=DOC&start=S&end=E` shows a passage. A link that
    names an unknown article or bad offsets is reported with gr.Warning and otherwise ignored."""
    import gradio as gr

    from assistant.errors import AssistantError

    q = (params.get("q") or "").strip()
    ref = (params.get("doc") or "").strip()
    if not q and not ref:
        return None
    doc_id = ""
    if ref:
        try:
            doc_id = reader.find_document(ref)
        except AssistantError as exc:
            gr.Warning(f"This link names an article that is not indexed here: {exc}")
            return ("", q, None) if q else None
    highlight = None
    if params.get("start") or params.get("end"):
        try:
            s, e = int(params.get("start", "")), int(params.get("end", ""))
        except ValueError:
            s = e = -1
        text_len = len(reader.article(doc_id).text) if doc_id and reader.article(doc_id) else 0
        if 0 <= s < e <= text_len:
            highlight = (s, e)
        else:
            gr.Warning("This link's passage (start and end) is not in the article; the article is shown whole.")
    return doc_id, q, highlight


def sources_view(reader, doc_id: str):
    """The audit of one article as (summary HTML, table rows, chart data)."""
    import pandas as pd

    from assistant import web

    audits = reader.audits(doc_id or None)[:1]
    if not audits:
        return "<p>No article is indexed.</p>", [], pd.DataFrame({"source type": [], "passages": []})
    a = audits[0]
    counts = pd.DataFrame({"source type": list(a.by_type), "passages": list(a.by_type.values())})
    return web.audit_summary(a), web.audit_rows(a), counts


def sources_file(reader, doc_id: str | None, folder: Path, fmt: str) -> str | None:
    """The sources of one article as a CSV or Markdown file to download (None when nothing is indexed)."""
    from assistant import export

    audits = reader.audits(doc_id or None)[:1]
    if not audits:
        return None
    stem = Path(audits[0].document).stem or "article"
    where = Path(tempfile.mkdtemp(dir=folder))
    return str(export.write(where / f"{stem}-sources.{fmt}", fmt, export.SOURCE_COLUMNS, export.source_rows(audits[0])))


def corpus_file(reader, folder: Path) -> str | None:
    """The corpus summary (one row per article) as a CSV file to download."""
    from assistant import export

    audits = reader.audits(None)
    if not audits:
        return None
    where = Path(tempfile.mkdtemp(dir=folder))
    return str(export.write(where / "corpus-sources.csv", "csv", export.CORPUS_COLUMNS, export.corpus_rows(audits)))


def uploads_allowed(options) -> bool:
    """Whether "Add article" is on: by default on this machine only, or wider with a login (auth). `options` is
    the Settings, or parsed options, with host, auth and uploads."""
    choice = getattr(options, "uploads", None) or "auto"
    if choice != "auto":
        return choice == "on"
    return options.host in LOCAL_HOSTS or bool(options.auth)


def launch_options() -> dict:
    """Theme, CSS and script for `launch()`: system fonts only, so the page fetches nothing from elsewhere."""
    import gradio as gr

    from assistant import web

    fonts = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    theme = gr.themes.Default(font=fonts, font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])
    # Gradio refuses bigger uploads itself; the app checks the 5 MB limit of an article with the CLI's message.
    return dict(theme=theme, css=web.CSS, head=web.JS, max_file_size=2 * MAX_ARTICLE_BYTES)


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The app's options, shared by `python app.py` and `on-the-record serve`. An option left out takes its
    value from the settings (`load_settings`: the ASSISTANT_* environment, else the default shown)."""
    from assistant.settings import UPLOAD_CHOICES, Settings

    p.add_argument("--store", type=Path,
                   help="Chroma store folder (default: index/chroma in the checkout, else the user data folder; "
                        "also ASSISTANT_STORE)")
    p.add_argument("--chroma-host", metavar="HOST[:PORT]",
                   help="use a Chroma server instead of the folder (also ASSISTANT_CHROMA_HOST)")
    p.add_argument("--host", default=None,
                   help=f"address to bind (default {Settings.host}: this machine only; 0.0.0.0 exposes the app "
                        "to your whole network, without a password)")
    p.add_argument("--port", type=int, default=None, help=f"port (default {Settings.port}; also ASSISTANT_PORT)")
    p.add_argument("--auth", metavar="USER:PASSWORD", default=None,
                   help="require this login (HTTP basic auth through Gradio; also ASSISTANT_AUTH); use it "
                        "whenever --host is wider than 127.0.0.1")
    p.add_argument("--uploads", choices=UPLOAD_CHOICES, default=None,
                   help=f"the \"Add article\" control that indexes an uploaded file (default {Settings.uploads}: "
                        "on when the app binds to this machine only or has --auth, off otherwise; also "
                        "ASSISTANT_UPLOADS)")
    return p


def main(argv: list[str] | None = None) -> int:
    """`python app.py`: parse the app's options and serve; returns the exit status."""
    p = add_arguments(argparse.ArgumentParser(prog="python app.py", description="On the Record in the browser."))
    p.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    args = p.parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(levelname)s %(name)s: %(message)s")
    return serve(args)


def serve(args: argparse.Namespace) -> int:
    """Start the app with parsed options (see `add_arguments`) and serve until stopped; the exit status."""
    from assistant.settings import load_settings, offline_environment

    offline_environment()  # before gradio is imported: no analytics, no hub, no telemetry
    # Gradio's queue keeps in-process timing statistics (for its API page; nothing leaves the machine) and by
    # default rebuilds them as a pandas table of up to 10,000 past events after every request: under load
    # that was 8% of the app's CPU samples, growing with uptime. Every 200 events, over the last 2,000, is plenty.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "200")
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "2000")
    from assistant.errors import AssistantError
    from assistant.library import OnTheRecord
    from assistant.web import Reader

    try:
        # The options given win over the environment, which wins over the defaults.
        settings = load_settings().with_(store_dir=args.store, chroma_host=args.chroma_host, host=args.host,
                                         port=args.port, auth=args.auth, uploads=args.uploads)
        auth = settings.login()  # a malformed login stops here, before anything is loaded
        # An empty store still serves: the page says so, and shows articles as soon as they are indexed.
        reader = Reader(OnTheRecord.open(settings, progress=True, require_documents=False))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # The model loads while gradio imports and the page is built; the first question waits for it if need be.
    threading.Thread(target=reader.warm, name="warm-up", daemon=True).start()
    host, port = settings.host, settings.port
    if auth is None and host not in LOCAL_HOSTS:
        log.warning("serving on %s without --auth: anyone who can reach this address can read the articles", host)
    uploads = uploads_allowed(settings)
    if not uploads:
        log.info("\"Add article\" is off (--uploads on turns it on)")
    demo = build_app(reader, settings.top_k, uploads=uploads)
    print(f"On the Record: http://{host}:{port}", file=sys.stderr, flush=True)
    try:
        demo.queue(default_concurrency_limit=4, max_size=256)
        demo.launch(server_name=host, server_port=port, share=False, show_error=True, quiet=True,
                    footer_links=[], auth=auth, **launch_options())
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port} ({exc}); pick another with --port", file=sys.stderr)
        return 1
    return 0

