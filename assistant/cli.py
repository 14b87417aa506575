"""The command line: parse, call the library, format. No retrieval or attribution logic here."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from assistant import __version__
from assistant.draft import EXIT_NOT_VERIFIED, EXIT_VERIFIED
from assistant.errors import AssistantError
from assistant.export import FORMATS
from assistant.library import OnTheRecord, where
from assistant.settings import Settings, load_settings

log = logging.getLogger("assistant")

EXIT_STATUSES = f"""exit status:
  {EXIT_VERIFIED}  success; for `check`, every quotation checked is verified
  1  an error (a message on stderr says what to do); for `eval --fail-under`, a metric fell short
  2  a usage error (an unknown option, say)
  {EXIT_NOT_VERIFIED}  `check`: at least one quotation is misattributed, paraphrased or not found"""


def _parser(prog: str = "python -m assistant") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog,
                                description="Answers questions about news articles only with verbatim, "
                                            "attributed quotes.",
                                epilog=EXIT_STATUSES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    sub = p.add_subparsers(dest="command", required=True)
    _archive_commands(sub)
    _desk_commands(sub)
    _model_commands(sub)

    from assistant.app import add_arguments  # the app's options only; gradio loads when it serves

    add_arguments(sub.add_parser("serve", help="start the reader's page in the browser (Gradio)",
                                 description="On the Record in the browser."))
    return p


def _output_options(sp: argparse.ArgumentParser, what: str) -> None:
    sp.add_argument("--json", action="store_true", help=f"one JSON object per {what}")
    sp.add_argument("--format", choices=FORMATS, default=None,
                    help="a table instead: csv (standard CSV with a header row) or md (Markdown)")


def _at_least_one(value: str) -> int:
    """A count of 1 or more, for argparse: anything else is a usage error (exit status 2)."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _store_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--store", type=Path,
                    help="Chroma store folder (default: index/chroma in the checkout, else the user data "
                         "folder; also ASSISTANT_STORE)")
    sp.add_argument("--chroma-host", metavar="HOST[:PORT]",
                    help="use a Chroma server instead of the folder (also ASSISTANT_CHROMA_HOST)")


def _archive_commands(sub) -> None:
    """index, documents, ask and quotes: building the archive and reading from it."""
    sp = sub.add_parser("index", help="index article files or folders (default, in the checkout: seeds/)")
    sp.add_argument("paths", nargs="*", type=Path)
    _store_options(sp)
    sp.add_argument("--rebuild", action="store_true", help="drop the store and index from scratch")
    sp.add_argument("--prune", action="store_true", help="remove documents whose files are gone")

    sp = sub.add_parser("documents", help="list the indexed documents")
    _store_options(sp)
    _output_options(sp, "document")

    sp = sub.add_parser("ask", help="answer a question, or one per stdin line")
    sp.add_argument("question", nargs="?")
    _store_options(sp)
    sp.add_argument("--top-k", type=_at_least_one, default=None, help="quotes per answer (default 3)")
    sp.add_argument("--document", help="answer only from this indexed article (its path, file name or id)")
    _output_options(sp, "question")

    sp = sub.add_parser("quotes", help="list every attributed passage of article files (no index needed)")
    sp.add_argument("files", nargs="+", type=Path)
    sp.add_argument("--json", action="store_true")
    _store_options(sp)  # HTML's extracted text is kept in the store folder, so that offsets point into a file


def _desk_commands(sub) -> None:
    """check and sources: the journalist's desk."""
    sp = sub.add_parser("check", help="check a claimed quote, or every quotation of a draft: verified, "
                                      "misattributed, paraphrased or not found",
                        epilog=EXIT_STATUSES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp.add_argument("claim", nargs="?", help="the quoted words, at least three")
    sp.add_argument("--draft", type=Path, metavar="FILE",
                    help="check every quotation of this draft (.txt, .md or .html; it is not indexed)")
    sp.add_argument("--speaker", help="who the quote is attributed to (a surname is enough)")
    sp.add_argument("--document", help="check only against this indexed article (its path, file name or id)")
    _store_options(sp)
    _output_options(sp, "check")

    sp = sub.add_parser("sources", help="audit an article's sources: who is quoted, how, and how often")
    sp.add_argument("document", nargs="?", help="an indexed article (path, file name or id); default: all")
    sp.add_argument("--document", dest="document_opt", metavar="DOC", help="the same, as an option")
    sp.add_argument("--by", choices=("article", "source"), default=None,
                    help="one row per article (the corpus summary; the default over all articles) or per "
                         "source (the default for one article)")
    _store_options(sp)
    _output_options(sp, "article")


def _model_commands(sub) -> None:
    """eval and train: measuring answers, and fitting the answer model."""
    sp = sub.add_parser("eval", help="score answers against a gold JSON Lines file")
    sp.add_argument("gold", type=Path)
    _store_options(sp)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--answers", type=Path, metavar="FILE",
                    help="also write one row per question here: its answer and the metrics it scored (JSON "
                         "Lines; CSV when FILE ends in .csv)")
    sp.add_argument("--fail-under", action="append", default=[], metavar="METRIC=VALUE",
                    help="exit 1 when METRIC is under VALUE (above it for false_abstain_rate); repeatable")

    sp = sub.add_parser("train", help="fit the answer model from ../shared and print its cross-validated figures")
    sp.add_argument("--shared", type=Path, default=None,
                    help="the shared data folder (default: ../shared beside the checkout)")
    sp.add_argument("--out", type=Path, default=None, help="where to write the model (default assistant/model)")
    sp.add_argument("--keep-reranker", action="store_true",
                    help="reuse the cross-encoder in --out and refit only the calibrator and the threshold")
    sp.add_argument("--dump", type=Path, default=None, help=argparse.SUPPRESS)  # analysis: the pipeline's view
    sp.add_argument("--load", type=Path, default=None, help=argparse.SUPPRESS)  # ... and starting from it


def main(argv: list[str] | None = None, prog: str = "python -m assistant") -> int:
    """Run the CLI; returns the exit status."""
    args = _parser(prog).parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        # Inside the try: a bad ASSISTANT_* value is one line, like any other error.
        settings = load_settings().with_(store_dir=getattr(args, "store", None),
                                         chroma_host=getattr(args, "chroma_host", None))
        commands = {"index": _index, "documents": _documents, "ask": _ask, "quotes": _quotes, "check": _check,
                    "sources": _sources, "eval": _eval, "train": _train, "serve": _serve}
        return commands[args.command](args, settings)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _index(args, settings: Settings) -> int:
    from assistant.library import index

    paths = args.paths or ([settings.seeds_dir] if settings.seeds_dir is not None else [])
    if not paths:
        raise AssistantError("give the article files or folders to index: 'on-the-record index PATH...'")
    report = index(paths, settings, rebuild=args.rebuild, prune=args.prune, progress=sys.stderr.isatty())
    for path, why in report.failed:
        print(f"skipped {why}", file=sys.stderr)
    for path in report.skipped:
        log.info("unchanged: %s", path)
    print(f"indexed {len(report.indexed)} document(s), {report.units} units; "
          f"{len(report.skipped)} unchanged; {len(report.pruned)} pruned; {len(report.failed)} failed; "
          f"{where(settings).removeprefix('the ')}",
          file=sys.stderr)
    return 1 if report.failed and not report.indexed and not report.skipped else 0


def _mode(args) -> str:
    """How a command prints: "text", "json", "csv" or "md"."""
    if getattr(args, "json", False) and getattr(args, "format", None):
        raise AssistantError(f"give --json or --format {args.format}, not both")
    return "json" if getattr(args, "json", False) else getattr(args, "format", None) or "text"


def _table(mode: str, columns, rows, header: bool = True) -> None:
    from assistant.export import render

    sys.stdout.write(render(mode, columns, rows, header))
    sys.stdout.flush()


def _documents(args, settings: Settings) -> int:
    from assistant.library import stored_documents

    mode = _mode(args)
    rows = stored_documents(settings)
    if mode in FORMATS:
        from assistant.export import DOCUMENT_COLUMNS, document_rows

        _table(mode, DOCUMENT_COLUMNS, document_rows(r.to_json() for r in rows))
        return 0
    for r in rows:
        d, rec = r.doc_id, r.to_json()
        if args.json:
            print(json.dumps(rec, ensure_ascii=False))
        else:
            print(f"{d}  {rec['units']:>5} units  {rec['title'][:60]}"
                  + (f" — {rec['author']}" if rec["author"] else "") + (f", {rec['date']}" if rec["date"] else "")
                  + f"\n{'':18}{rec['source']}")
    if not args.json:
        print(f"{len(rows)} document(s)", file=sys.stderr)
    return 0


def _ask(args, settings: Settings) -> int:
    from assistant.errors import QuestionError

    from assistant.answer import Answer
    from assistant.export import ANSWER_COLUMNS, answer_rows

    mode = _mode(args)
    library = OnTheRecord.open(settings)
    doc_id = library.find_document(args.document)
    questions = [args.question] if args.question is not None else (line.rstrip("\n") for line in sys.stdin)
    status = 0
    header = True  # a table's header row comes once, before the first answer's rows
    for q in questions:
        try:
            ans = library.ask(q, top_k=args.top_k, doc_id=doc_id)
        except QuestionError as exc:
            if args.question is not None:
                raise
            # In batch mode a bad line still gets its answer line, so outputs stay aligned.
            if mode in FORMATS:
                _table(mode, ANSWER_COLUMNS, answer_rows(Answer(q, True, (), reason=f"error: {exc}")), header)
                header = False
            else:
                print(json.dumps({"question": q, "abstained": True, "quotes": [], "error": str(exc)},
                                 ensure_ascii=False) if args.json else f"error: {exc}", flush=True)
            status = 1
            continue
        if mode in FORMATS:
            _table(mode, ANSWER_COLUMNS, answer_rows(ans), header)
            header = False
        elif args.json:
            print(json.dumps(ans.to_json(), ensure_ascii=False), flush=True)
        else:
            print(format_answer(ans), flush=True)
    return status


def format_answer(ans) -> str:
    """A readable answer: each quote in quotation marks, then speaker, type and position."""
    lines = [f"Q: {ans.question}"]
    if ans.abstained:
        lines.append(f"  {ans.note or 'The article does not say.'}")
        if ans.reason:
            lines.append(f"  ({ans.reason})")
    for i, q in enumerate(ans.quotes, 1):
        lines.append(f"  {i}. “{q.text}”")
        label = q.speaker if q.speaker.endswith(f"({q.source_type})") else f"{q.speaker} ({q.source_type})"
        lines.append(f"     — {label}, {Path(q.document).name} [{q.start}:{q.end}], confidence {q.confidence:.2f}")
    return "\n".join(lines) + "\n"


def _quotes(args, settings: Settings) -> int:
    from assistant.attribution import attribute, load_nlp
    from assistant.indexing import load_document

    nlp = load_nlp()
    status = 0
    for f in args.files:
        try:
            # HTML becomes canonical text first (kept beside the store), so offsets point into a real file.
            article, _source = load_document(Path(f), settings.store_dir / "documents")
        except AssistantError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        for a in attribute(article, nlp):
            for s, e in a.spans:
                rec = {"text": article.text[s:e], "speaker": a.speaker, "source_type": a.source_type,
                       "document": article.path, "start": s, "end": e, "cue": a.cue, "kind": a.kind}
                if args.json:
                    print(json.dumps(rec, ensure_ascii=False))
                else:
                    print(f"{a.speaker} ({a.source_type}) — {a.cue}\n  “{rec['text']}”\n"
                          f"  {Path(article.path).name} [{s}:{e}]\n")
    return status


def _check(args, settings: Settings) -> int:
    from assistant.draft import verdict_status
    from assistant.export import VERDICT_COLUMNS, verdict_rows

    mode = _mode(args)
    if args.draft is not None:
        if args.claim is not None or args.speaker:
            raise AssistantError("give a claim (with --speaker) or --draft FILE, not both")
        return _check_draft(args, settings, mode)
    if args.claim is None:
        raise AssistantError("give the quoted words to check, or a draft with --draft FILE")
    library = OnTheRecord.open(settings)
    v = library.check(args.claim, args.speaker, library.find_document(args.document))
    if mode in FORMATS:
        _table(mode, VERDICT_COLUMNS, verdict_rows(v))
    elif args.json:
        print(json.dumps(v.to_json(), ensure_ascii=False))
    else:
        print(format_verdict(v))
    return verdict_status(v)


def _check_draft(args, settings: Settings, mode: str) -> int:
    from assistant.draft import read_draft
    from assistant.export import DRAFT_COLUMNS, draft_rows

    text = read_draft(args.draft)  # before the store opens: a bad file is reported at once
    library = OnTheRecord.open(settings)
    report = library.check_draft(text, args.draft.name, library.find_document(args.document))
    if mode in FORMATS:
        _table(mode, DRAFT_COLUMNS, draft_rows(report))
    elif mode == "json":
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(format_draft(report, text), end="")
    counts = ", ".join(f"{n} {v}" for v, n in report.counts.items() if n) or "no quotation to check"
    print(f"{args.draft.name}: {len(report.rows)} quotation(s): {counts}"
          + (f"; {len(report.skipped)} too short to check" if report.skipped else ""), file=sys.stderr)
    return report.exit_status


def format_draft(report, text: str) -> str:
    """A draft's check for people: each quotation where it is in the draft, its verdict, and the archive's words."""
    from assistant.export import diff_text

    if not report.rows:
        return "No quotation of three words or more in the draft.\n"
    lines = []
    for n, r in enumerate(report.rows, 1):
        q, v, p = r.quote, r.verdict, r.verdict.passage
        line_no = text.count("\n", 0, q.start) + 1
        lines.append(f"{n}. {v.verdict.upper()}  line {line_no} [{q.start}:{q.end}]  “{q.text}”")
        lines.append(f"   draft gives it to: {q.speaker or '(nobody)'}")
        if v.verdict == "verified":
            lines.append(f"   archive: {p.speaker} ({p.source_type}), verbatim")
        elif v.verdict == "misattributed":
            lines.append(f"   archive gives these words to {p.speaker} ({p.source_type})")
        elif v.verdict == "paraphrased":
            lines.append(f"   archive ({v.similarity:.0%} similar), {p.speaker} ({p.source_type}): “{p.text}”")
            lines.append(f"   diff ([-draft only-] {{+archive only+}}): {diff_text(v.diff)}")
        else:
            lines.append("   nothing in the indexed articles is close to these words")
        if p:
            lines.append(f"   {Path(p.document).name} [{p.start}:{p.end}]")
    return "\n".join(lines) + "\n"


def format_verdict(v) -> str:
    """A verdict for people: what was claimed, what the article says, and who it gives the words to."""
    said = f" by {v.claimed_speaker}" if v.claimed_speaker else ""
    lines = [f"Claim{said}: “{v.claim.strip()}”", f"Verdict: {v.verdict.upper()}"]
    p = v.passage
    if v.verdict == "verified":
        lines.append(f"The article has these words verbatim, from {p.speaker} ({p.source_type}).")
    elif v.verdict == "misattributed":
        lines.append(f"The article has these words verbatim, but gives them to {p.speaker} ({p.source_type}),"
                     f" not {v.claimed_speaker}.")
    elif v.verdict == "paraphrased":
        lines.append(f"Not verbatim. The closest passage ({v.similarity:.0%} similar), from {p.speaker} "
                     f"({p.source_type}):")
        lines.append(f"  “{p.text}”")
        lines.append("Differences ([-claim only-] {+article only+}):")
        from assistant.export import diff_text

        lines.append("  " + diff_text(v.diff))
    else:
        lines.append("Nothing in the indexed articles is close to these words.")
    if p:
        lines.append(f"  {Path(p.document).name} [{p.start}:{p.end}]")
    return "\n".join(lines)


def _sources(args, settings: Settings) -> int:
    from assistant.export import CORPUS_COLUMNS, SOURCE_COLUMNS, corpus_rows, source_rows

    mode = _mode(args)
    library = OnTheRecord.open(settings)
    args.document = args.document or args.document_opt
    by = args.by or ("source" if args.document else "article")
    audits = library.audits(library.find_document(args.document))
    if mode == "json":
        for a in audits:
            print(json.dumps(a.to_json(), ensure_ascii=False))
    elif mode in FORMATS:
        if by == "source":
            _table(mode, SOURCE_COLUMNS, [row for a in audits for row in source_rows(a)])
        else:
            _table(mode, CORPUS_COLUMNS, corpus_rows(audits))
    elif by == "source":
        for a in audits:
            print(format_audit(a))
    else:
        print(format_corpus(audits), end="")
    return 0


def format_corpus(audits) -> str:
    """The corpus summary: per article, its sources, the share of anonymous passages, passages by type."""
    from assistant.source_types import SOURCE_TYPES, SourceType

    types = [t for t in SOURCE_TYPES if t != SourceType.AUTHOR]
    short = {t: "".join(w[0] for w in t.split()).upper() for t in types}  # OR, PO, LE, NS, AS, HQ
    lines = [f"{'article':<44} {'sources':>7} {'passages':>8} {'anon.':>6}  "
             + " ".join(f"{short[t]:>3}" for t in types)]
    for a in audits:
        title = a.title if len(a.title) <= 44 else a.title[:43] + "…"
        lines.append(f"{title:<44} {len(a.sources):>7} {a.passages:>8} {a.anonymous_share:>6.0%}  "
                     + " ".join(f"{a.by_type.get(t, 0):>3}" for t in types))
    total = sum(a.passages for a in audits)
    anon = sum(a.anonymous_passages for a in audits)
    lines.append(f"{len(audits)} article(s), {sum(len(a.sources) for a in audits)} sources, {total} attributed "
                 f"passages, {anon / total if total else 0:.0%} anonymous")
    lines.append("types: " + ", ".join(f"{short[t]} {t}" for t in types))
    return "\n".join(lines) + "\n"


def format_audit(a) -> str:
    """The audit as a table of sources and a summary."""
    lines = [f"{a.title}  ({Path(a.document).name})", ""]
    lines.append(f"{'source':<48} {'type':<17} {'named':<6} {'n':>3}  how the words reached the article")
    for s in a.sources:
        name = s.speaker if len(s.speaker) <= 48 else s.speaker[:47] + "…"
        where = ", ".join(f"¶{p}" for p in dict.fromkeys(p for p, _s, _e in s.passages))
        lines.append(f"{name:<48} {s.source_type:<17} {'yes' if s.named else 'no':<6} {len(s.passages):>3}  "
                     f"{'; '.join(s.cues)}  [{where}]")
    if not a.sources:
        lines.append("(no quoted or reported sources)")
    lines += ["", f"sentences: {a.sentences}; the author's own: {a.sentences - a.attributed_sentences} "
                  f"({a.author_share:.0%}); attributed to someone: {a.attributed_sentences} ({a.attributed_share:.0%})",
              f"anonymous passages: {a.anonymous_passages}",
              "attributed passages by type: " + (", ".join(f"{t} {n}" for t, n in a.by_type.items() if n) or "none")]
    return "\n".join(lines) + "\n"


def _eval(args, settings: Settings) -> int:
    from assistant.evaluation import METRICS, load_gold, parse_bound, question_metrics, score, shortfalls

    from assistant.errors import QuestionError, StoreError
    from assistant.progress import progress_bar

    bounds = [parse_bound(b) for b in args.fail_under]  # a bad bound fails before the questions are asked
    gold = load_gold(args.gold)
    library = OnTheRecord.open(settings)
    scope: dict[str, str | None] = {}
    for row in gold:
        # A row that names its article is answered from that article alone, as a reader viewing it would be.
        if row.document and row.document not in scope:
            try:
                scope[row.document] = library.find_document(args.gold.parent / row.document)
            except StoreError:
                scope[row.document] = None
                log.warning("%s: not indexed; its questions are answered from every article", row.document)
    answers = []
    for row in progress_bar(gold, desc="answering", enabled=len(gold) > 50, unit="question"):
        try:
            answers.append(library.ask(row.question, doc_id=scope.get(row.document)).to_json())
        except QuestionError as exc:
            answers.append({"question": row.question, "abstained": True, "quotes": [], "error": str(exc)})

    docs = library.document_texts()
    summary, fails = score(gold, answers, docs)
    if args.answers:
        _write_answers(args.answers, gold, answers, [question_metrics(r, a, docs) for r, a in zip(gold, answers)])
    if args.json:
        print(json.dumps({"metrics": summary, "failures": [list(f) for f in fails]}, ensure_ascii=False))
    else:
        for f in fails:
            print("FAIL", *f, file=sys.stderr)
        print(f"{'metric':<22}{'value':>8}")
        print(f"{'questions':<22}{summary['n']:>8}")
        for k in METRICS:
            print(f"{k:<22}{summary[k]:>8.3f}")
    short = shortfalls(summary, bounds)
    for why in short:
        print(f"eval: {why}", file=sys.stderr)
    return 1 if short else 0


def _write_answers(path: Path, gold, answers: list[dict], scored: list[dict]) -> None:
    """One row per question: its answer and the metrics it scored. JSON Lines (each line also an answer that
    ../shared/tools/score_answers.py reads), or CSV when the file name ends in .csv."""
    from assistant.evaluation import METRICS

    try:
        if path.suffix.lower() == ".csv":
            from assistant.export import to_csv

            cols = ["id", "question", "answerable", "abstained", "first_quote", "speaker", "source_type",
                    *METRICS, "failure"]
            rows = []
            for g, a, s in zip(gold, answers, scored):
                q = (a.get("quotes") or [{}])[0]
                rows.append([g.id, g.question, g.answerable, a.get("abstained", False), q.get("text", ""),
                             q.get("speaker", ""), q.get("source_type", ""),
                             *("" if s["metrics"][m] is None else s["metrics"][m] for m in METRICS), s["failure"]])
            path.write_text(to_csv(cols, rows), encoding="utf-8", newline="")
        else:
            path.write_text("".join(json.dumps({"id": g.id, **a, **s}, ensure_ascii=False) + "\n"
                                    for g, a, s in zip(gold, answers, scored)), encoding="utf-8")
    except OSError as exc:
        raise AssistantError(f"{path}: cannot write the answers ({exc.strerror or exc})") from exc


def _train(args, settings: Settings) -> int:
    from assistant.settings import ROOT
    from assistant.training import format_card, train

    shared = args.shared or ROOT.parent / "shared"
    for need in ("squad/train_sample.json", "squad/dev.json", "gold/dev.jsonl", "polnear/dev/text",
                 "tools/squad_to_gold.py"):
        if not (shared / need).exists():
            raise AssistantError(f"{shared / need}: not found; pass the shared data folder with --shared")
    card = train(shared, args.out or settings.answer_model_dir, progress=sys.stderr.isatty(),
                 retrain_reranker=not args.keep_reranker, dump=args.dump, load=args.load)
    print(format_card(card))
    return 0


def _serve(args, settings: Settings) -> int:
    from assistant.app import serve

    return serve(args)


def entry() -> None:
    """The `on-the-record` console script."""
    raise SystemExit(main(prog="on-the-record"))
