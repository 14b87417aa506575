"""The reader's page: ask about the article in a browser, see verbatim quote cards beside the article.

    python app.py [--store DIR] [--host 127.0.0.1] [--port 7860]

The page only presents the `assistant` API (see assistant/web.py for the HTML). It also serves the named
endpoint `/ask` for scripts: `gradio_client.Client(URL).predict(question, top_k, document, api_name="/ask")`
returns the same JSON object as `python -m assistant ask --json`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("assistant.app")

UNANSWERED = "What is the recipe for apple pie?"


def build_app(reader, top_k: int = 3):
    """The Gradio Blocks around a `Reader`; launch it with `launch_options()`."""
    import gradio as gr

    from assistant import web
    from assistant.errors import QuestionError

    choices = reader.choices()
    with gr.Blocks(title="On the Record", analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.HTML('<div class="otr-head"><h1>On the Record</h1><p>Answers come only as verbatim quotes from '
                'the article, each with who said it and what kind of source that is.</p></div>')
        with gr.Row(equal_height=False, elem_id="panes"):
            with gr.Column(scale=3, min_width=340):
                chat = gr.HTML(reader.transcript([]), elem_id="transcript")
                with gr.Row():
                    question = gr.Textbox(label="Your question", placeholder="Who said …? What did … say about …?",
                                          max_lines=4, scale=5, elem_id="question", autofocus=True)
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                gr.Examples(examples=[[q] for q in reader.examples()], inputs=[question], label="Try")
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(1, 10, value=top_k, step=1, label="Quotes per answer (top-k)", elem_id="top-k")
                    doc = gr.Dropdown(choices=[("All articles", "")] + choices, value="", label="Article",
                                      visible=len(choices) > 1, elem_id="document")
            with gr.Column(scale=2, min_width=340):
                pane = gr.HTML(reader.pane([]), elem_id="article-pane")
                gr.HTML(web.legend(), elem_id="legend")

        def on_ask(q: str, history: list, top: float, document: str):
            history = reader.turn(q, history, int(top), document or None)
            return reader.transcript(history, document or None), reader.pane(history, document or None), history, ""

        def on_document(document: str, history: list):
            return reader.pane(history, document or None)

        for trigger in (ask.click, question.submit):
            trigger(on_ask, [question, turns, k, doc], [chat, pane, turns, question], api_visibility="private")
        doc.change(on_document, [doc, turns], [pane], api_visibility="private")

        def api_ask(question: str, top_k: int = 3, document: str = "") -> dict:
            """Answer one question: the same JSON object as `python -m assistant ask --json`."""
            try:
                doc_id = reader.assistant.store.find_document(document) if document else None
                return reader.ask(question, int(top_k), doc_id).to_json()
            except QuestionError as exc:
                raise gr.Error(str(exc)) from exc
            except Exception as exc:  # a StoreError for an unknown document, say: a message, not a trace
                from assistant.errors import AssistantError

                if isinstance(exc, AssistantError):
                    raise gr.Error(str(exc)) from exc
                raise

        gr.api(api_ask, api_name="ask")
    return demo


def launch_options() -> dict:
    """Theme, CSS and script for `launch()`: system fonts only, so the page fetches nothing from elsewhere."""
    import gradio as gr

    from assistant import web

    fonts = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    theme = gr.themes.Default(font=fonts, font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])
    return dict(theme=theme, css=web.CSS, head=web.JS)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python app.py", description="On the Record in the browser.")
    p.add_argument("--store", type=Path, help="Chroma store folder (default index/chroma)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 exposes the app "
                        "to your whole network, without a password)")
    p.add_argument("--port", type=int, default=int(os.environ.get("ASSISTANT_PORT", 7860)),
                   help="port (default 7860)")
    p.add_argument("--log-level", default="WARNING")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(levelname)s %(name)s: %(message)s")
    from assistant.settings import load_settings, offline_environment

    offline_environment()  # before gradio is imported: no analytics, no hub, no telemetry
    from assistant.cli import open_assistant
    from assistant.errors import AssistantError
    from assistant.web import Reader

    settings = load_settings().with_(store_dir=args.store)
    try:
        assistant = open_assistant(settings, progress=True)
        reader = Reader(assistant)
        assistant.ask("warm up")  # loads the model, the units and BM25 before the first reader arrives
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    demo = build_app(reader, settings.top_k)
    print(f"On the Record: http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    try:
        demo.launch(server_name=args.host, server_port=args.port, share=False, show_error=True, quiet=True,
                    footer_links=[], **launch_options())
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port} ({exc}); pick another with --port",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
