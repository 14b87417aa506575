"""The reader's page: ask about the article in a browser, see verbatim quote cards beside the article.

    on-the-record serve [--store DIR] [--host 127.0.0.1] [--port 7860]   (or, in the checkout, python app.py)

The page only presents the `assistant` API (see assistant/web.py for the HTML). It also serves the named
endpoint `/ask` for scripts: `gradio_client.Client(URL).predict(question, top_k, document, api_name="/ask")`
returns the same JSON object as `python -m assistant ask --json` (set HF_HUB_OFFLINE=1 and
GRADIO_ANALYTICS_ENABLED=False in the client's environment, or gradio_client itself contacts the internet).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path

log = logging.getLogger("assistant.app")

def build_app(reader, top_k: int = 3):
    """The Gradio Blocks around a `Reader`; launch it with `launch_options()`."""
    import gradio as gr

    from assistant import web
    from assistant.errors import AssistantError, QuestionError

    choices = reader.choices()
    with gr.Blocks(title="On the Record", analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.HTML('<div class="otr-head"><h1>On the Record</h1><p>Answers come only as verbatim quotes from '
                'the article, each with who said it and what kind of source that is.</p></div>')
        with gr.Tabs():
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
                            k = gr.Slider(1, 10, value=top_k, step=1, label="Quotes per answer (top-k)",
                                          elem_id="top-k")
                            doc = gr.Dropdown(choices=[("All articles", "")] + choices, value="", label="Article",
                                              visible=len(choices) > 1, elem_id="document")
                    with gr.Column(scale=2, min_width=340):
                        pane = gr.HTML(reader.pane([]), elem_id="article-pane")
                        gr.HTML(web.legend(), elem_id="legend")

            with gr.Tab("Check a quote", id="check-tab", elem_id="check-tab"):
                gr.HTML("<p>Is a quote real, and whose is it? Paste the words (at least three) and, if you "
                        "like, who they are attributed to.</p>")
                claim = gr.Textbox(label="Claimed quote", lines=3, max_lines=8, elem_id="claim")
                with gr.Row():
                    who = gr.Textbox(label="Attributed to (optional)", placeholder="a surname is enough",
                                     scale=3, elem_id="claimed-speaker")
                    check_doc = gr.Dropdown(choices=[("All articles", "")] + choices, value="", label="Article",
                                            visible=len(choices) > 1, scale=2, elem_id="check-document")
                check = gr.Button("Check", variant="primary", elem_id="check")
                verdict = gr.HTML(elem_id="verdict")

            with gr.Tab("Sources", id="sources-tab", elem_id="sources-tab"):
                first = choices[0][1] if choices else None  # None, not "": a value must be among the choices
                src_doc = gr.Dropdown(choices=choices, value=first, label="Article", visible=len(choices) > 1,
                                      elem_id="sources-document")
                summary, rows, counts = sources_view(reader, first)
                audit_summary = gr.HTML(summary, elem_id="audit-summary")
                table = gr.Dataframe(value=rows, headers=web.SOURCE_COLUMNS, interactive=False, wrap=True,
                                     column_widths=["30%", "13%", "7%", "8%", "30%", "12%"],
                                     elem_id="sources-table", label="Sources")
                chart = gr.BarPlot(counts, x="source type", y="passages", color="source type",
                                   color_map={t: fg for t, (_bg, fg) in web.COLOURS.items()},
                                   title="Attributed passages by source type", sort=None, elem_id="sources-chart")

        def lists(document: str, checked: str, audited: str):
            """The three article lists as the store has them now, keeping each choice that still exists."""
            choices = reader.choices()
            ids = {d for _label, d in choices}
            every = [("All articles", "")] + choices
            many = len(choices) > 1
            first = choices[0][1] if choices else None  # None, not "": a value must be among the choices
            return (gr.update(choices=every, value=document if document in ids else "", visible=many),
                    gr.update(choices=every, value=checked if checked in ids else "", visible=many),
                    gr.update(choices=choices, value=audited if audited in ids else first, visible=many))

        built = reader.version  # the documents the page was built with

        def on_load(document: str, checked: str, audited: str):
            # A page opened after more articles were indexed lists them, and shows one when there was none.
            # Otherwise nothing changes: a question asked while the page loads keeps its highlighted pane.
            reader.sync()
            if reader.version == built:
                return gr.update(), gr.update(), gr.update(), gr.update()
            return (*lists(document, checked, audited), reader.pane([], document or None))

        demo.load(on_load, [doc, check_doc, src_doc], [doc, check_doc, src_doc, pane], api_visibility="private")

        def on_ask(q: str, history: list, top: float, document: str, checked: str, audited: str):
            history = reader.turn(q, history, int(top), document or None)  # answers from what is indexed now
            return (reader.transcript(history, document or None), reader.pane(history, document or None), history,
                    "", *lists(document, checked, audited))

        def on_document(document: str, history: list):
            return reader.pane(history, document or None)

        for trigger in (ask.click, question.submit):
            trigger(on_ask, [question, turns, k, doc, check_doc, src_doc],
                    [chat, pane, turns, question, doc, check_doc, src_doc], api_visibility="private")
        doc.change(on_document, [doc, turns], [pane], api_visibility="private")

        def on_check(text: str, speaker: str, document: str) -> str:
            try:
                return web.verdict_html(reader.check(text, speaker or None, document or None))
            except QuestionError as exc:
                return f'<div class="otr-error" role="alert">Please give the quote again: {web.html.escape(str(exc))}.</div>'
            except AssistantError as exc:  # the store is unreachable, say
                return f'<div class="otr-error" role="alert">Cannot check right now: {web.html.escape(str(exc))}.</div>'

        check.click(on_check, [claim, who, check_doc], [verdict], api_visibility="private")
        claim.submit(on_check, [claim, who, check_doc], [verdict], api_visibility="private")
        src_doc.change(lambda d: sources_view(reader, d), [src_doc], [audit_summary, table, chart],
                       api_visibility="private")

        def api_ask(question: str, top_k: int = 3, document: str = "") -> dict:
            """Answer one question: the same JSON object as `python -m assistant ask --json`."""
            try:
                if document:  # an article indexed a moment ago is found by name
                    reader.sync()
                doc_id = reader.assistant.store.find_document(document) if document else None
                return reader.ask(question, int(top_k), doc_id).to_json()
            except AssistantError as exc:  # a bad question, an unknown document: a message, not a trace
                raise gr.Error(str(exc)) from exc

        gr.api(api_ask, api_name="ask")

        def api_check(claim: str, speaker: str = "", document: str = "") -> dict:
            """Check a claimed quote: the same JSON object as `python -m assistant check --json`."""
            try:
                if document:
                    reader.sync()
                doc_id = reader.assistant.store.find_document(document) if document else None
                return reader.check(claim, speaker or None, doc_id).to_json()
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc

        def api_sources(document: str = "") -> list:
            """The source audit of one article, or of each: as `python -m assistant sources --json`."""
            try:
                reader.sync()
                doc_id = reader.assistant.store.find_document(document) if document else None
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            return [a.to_json() for a in reader.audits(doc_id)]

        def api_documents() -> list:
            """The indexed articles, as `python -m assistant documents --json` lists them."""
            try:
                reader.sync()
            except AssistantError as exc:
                raise gr.Error(str(exc)) from exc
            return [document_json(d, info) for d, info in sorted(reader.docs.items(),
                                                                 key=lambda kv: kv[1].get("source") or kv[1]["path"])]

        gr.api(api_check, api_name="check")
        gr.api(api_sources, api_name="sources")
        gr.api(api_documents, api_name="documents")
    return demo


def document_json(doc_id: str, info: dict) -> dict:
    """One indexed document as `documents --json` prints it."""
    return {"id": doc_id, "title": info.get("title", ""), "author": info.get("author", ""),
            "date": info.get("date", ""), "units": info.get("units", 0),
            "source": info.get("source") or info["path"], "text": info["path"]}


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


def launch_options() -> dict:
    """Theme, CSS and script for `launch()`: system fonts only, so the page fetches nothing from elsewhere."""
    import gradio as gr

    from assistant import web

    fonts = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    theme = gr.themes.Default(font=fonts, font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])
    return dict(theme=theme, css=web.CSS, head=web.JS)


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The app's options, shared by `python app.py` and `on-the-record serve`."""
    p.add_argument("--store", type=Path,
                   help="Chroma store folder (default: index/chroma in the checkout, else the user data folder; "
                        "also ASSISTANT_STORE)")
    p.add_argument("--chroma-host", metavar="HOST[:PORT]",
                   help="use a Chroma server instead of the folder (also ASSISTANT_CHROMA_HOST)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 exposes the app "
                        "to your whole network, without a password)")
    p.add_argument("--port", type=int, default=int(os.environ.get("ASSISTANT_PORT", 7860)),
                   help="port (default 7860)")
    p.add_argument("--auth", metavar="USER:PASSWORD", default=os.environ.get("ASSISTANT_AUTH"),
                   help="require this login (HTTP basic auth through Gradio; also ASSISTANT_AUTH); use it "
                        "whenever --host is wider than 127.0.0.1")
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
    from assistant.session import open_assistant
    from assistant.web import Reader

    try:
        settings = load_settings().with_(store_dir=args.store, chroma_host=args.chroma_host)
        # An empty store still serves: the page says so, and shows articles as soon as they are indexed.
        assistant = open_assistant(settings, progress=True, require_documents=False)
        reader = Reader(assistant)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # The model loads while gradio imports and the page is built; the first question waits for it if need be.
    threading.Thread(target=reader.warm, name="warm-up", daemon=True).start()
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            print("error: --auth takes USER:PASSWORD", file=sys.stderr)
            return 1
        auth = (user, password)
    elif args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s without --auth: anyone who can reach this address can read the articles",
                    args.host)
    demo = build_app(reader, settings.top_k)
    print(f"On the Record: http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    try:
        demo.queue(default_concurrency_limit=4, max_size=256)
        demo.launch(server_name=args.host, server_port=args.port, share=False, show_error=True, quiet=True,
                    footer_links=[], auth=auth, **launch_options())
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port} ({exc}); pick another with --port",
              file=sys.stderr)
        return 1
    return 0

