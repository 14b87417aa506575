"""Answer quality and speed: the learned answer model against the old rule gate and two baselines, on the
news gold, SQuAD 2.0 dev and the seed dev gold, in one run, every figure out of sample.

    .venv/bin/python bench/answers.py [--squad-limit N] [--skip-squad] [--skip-news] [--answers-out DIR]

Systems, each answering every question of a dataset from a store of that dataset's articles (a question
whose gold row names its article, as the news and SQuAD rows do, is answered from that article alone):
- ours: `Assistant.ask` with the committed answer model, out of sample: on the news gold each article's
  questions use the threshold chosen on the other folds (the model card's `folds.news`), on SQuAD dev each
  article's questions use the calibrator fitted without that article (`folds.squad`); the cross-encoder
  never saw either, and the seed gold was never used at all;
- rules: the hand-tuned rule gate that the model replaced (`bench/rule_gate.py`, kept here only);
- naive: LangChain's RecursiveCharacterTextSplitter at 300 characters, Chroma top 3, never abstains;
- sentence: the article's sentences, MiniLM cosine top 3, never abstains.
All use the same MiniLM model, loaded once. Metrics are those of ../shared/gold/README.md, computed by
`assistant.evaluation.score` and checked against ../shared/tools/score_answers.py on every run. Then the
reliability table of our confidence, and the median warm `ask` on the seed store.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/common.py and bench/rule_gate.py

from common import (SHARED, TOP_K, BenchError, load_average, met, note, percentile, run,  # noqa: E402
                    steal_seconds, timed, write_jsonl)

from assistant.progress import progress_bar  # noqa: E402
from assistant.settings import offline_environment  # noqa: E402

SYSTEMS = ("ours", "rules", "naive", "sentence")
DATASETS = ("news", "squad", "seed")
# (metric, header) in table order; the headers are short so that the table fits a terminal.
COLUMNS = (("strict_accuracy", "strict"), ("hit_at_1", "hit@1"), ("hit_at_3", "hit@3"), ("mrr", "mrr"),
           ("label_accuracy", "label"), ("abstain_accuracy", "abstain"), ("false_abstain_rate", "f_abst"),
           ("evidence_precision", "ev_prec"), ("verbatim_rate", "verbatim"))
# The issue's targets for our system, out of sample: (dataset, metric, "min" or "max", bound).
TARGETS = (
    ("news", "strict_accuracy", "min", 0.65), ("news", "hit_at_1", "min", 0.75), ("news", "hit_at_3", "min", 0.90),
    ("news", "false_abstain_rate", "max", 0.10), ("news", "abstain_accuracy", "min", 0.45),
    ("news", "label_accuracy", "min", 0.80),
    ("squad", "strict_accuracy", "min", 0.65), ("squad", "hit_at_3", "min", 0.85),
    ("squad", "abstain_accuracy", "min", 0.55),
    ("seed", "strict_accuracy", "min", 0.90), ("seed", "hit_at_1", "min", 0.85),
    ("seed", "false_abstain_rate", "max", 0.05), ("seed", "abstain_accuracy", "min", 0.85),
    ("seed", "label_accuracy", "min", 0.95),
)
SPEED_TARGET_MS = 80.0
CHUNK_CHARS = 300


@dataclass
class Dataset:
    """Questions with gold answers, and the article files they are about."""

    name: str
    gold_path: Path
    articles: list[Path]
    gold: list = field(default_factory=list)  # list[GoldRow]
    doc_dir: Path | None = None  # where the rows' `document` files live (default: beside the gold file)
    docs: list[str] = field(default_factory=list)  # article texts, in the order of `articles`

    def article_of(self, row) -> Path | None:
        """The article a gold row names, when it names one of ours: every system answers from it alone."""
        if not row.document:
            return None
        path = ((self.doc_dir or self.gold_path.parent) / row.document).resolve()
        return path if path in self.articles else None


@dataclass
class Run:
    """One system's answers to one dataset, with their scores."""

    system: str
    dataset: str
    answers: list[dict]
    metrics: dict
    build_s: float
    answer_s: float
    reference: dict | None = None


@dataclass(frozen=True)
class Speed:
    """Warm `ask` latency against the floor of one encode plus one Chroma query, in milliseconds."""

    questions: int
    samples: int
    ask_median: float
    ask_p95: float
    floor_median: float
    floor_p95: float
    load: float  # the 1-minute load average when timing ended: other work on the machine inflates both
    candidates: int = 0  # candidates the answer model reads per question
    steal: float | None = None  # share of the cores' time the host took while timing (Linux), else None

    @property
    def ratio(self) -> float:
        return self.ask_median / self.floor_median if self.floor_median else float("inf")


# --------------------------------------------------------------------------- datasets


def _read(path: Path) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def load_dataset(name: str, gold_path: Path, articles: list[Path], doc_dir: Path | None = None) -> Dataset:
    """A dataset with its gold rows and article texts loaded."""
    from assistant.evaluation import load_gold

    ds = Dataset(name, gold_path, [p.resolve() for p in articles], doc_dir=doc_dir)
    ds.gold = load_gold(gold_path)
    ds.docs = [_read(p) for p in ds.articles]
    return ds


def news_gold(shared: Path, out: Path) -> tuple[Path, list[Path], Path]:
    """Every news_dev*.jsonl row in one gold file, the PolNeAR articles they name, and their folder."""
    rows = []
    for f in sorted((shared / "gold").glob("news_dev*.jsonl")):
        rows += [ln for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not rows:
        raise BenchError(f"{shared / 'gold'}: no news_dev*.jsonl")
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    text_dir = shared / "polnear" / "dev" / "text"
    names = sorted({json.loads(r)["document"] for r in rows})
    return out, [text_dir / n for n in names], text_dir


def convert_squad(tool: Path, squad_json: Path, outdir: Path, limit: int | None) -> tuple[Path, Path]:
    """Run the shared SQuAD converter; returns (articles folder, gold file), the gold cut to `limit` rows."""
    proc = subprocess.run([sys.executable, str(tool), str(squad_json), str(outdir)], capture_output=True,
                          text=True, encoding="utf-8")
    if proc.returncode != 0:
        raise BenchError(f"{tool} failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    gold = outdir / "gold.jsonl"
    lines = [ln for ln in gold.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if limit is not None and limit < len(lines):
        # Evenly spaced, so that a short run still covers every article and both kinds of question.
        picked = [lines[i * len(lines) // limit] for i in range(limit)]
        gold = outdir / f"gold_{limit}.jsonl"
        gold.write_text("".join(ln + "\n" for ln in picked), encoding="utf-8")
    return outdir / "articles", gold


# --------------------------------------------------------------------------- systems


def build_store(ds: Dataset, embedder, nlp, store_dir: Path, quiet: bool):
    """A fresh store of the dataset's articles, built by `index_paths`, and the ids of the rows' articles."""
    from assistant.indexing import index_paths
    from assistant.settings import load_settings
    from assistant.store import Store

    t0 = time.perf_counter()
    store = Store(load_settings().with_(store_dir=store_dir, min_confidence=None), embedder=embedder)
    report = index_paths(ds.articles, store, rebuild=True, progress=not quiet, nlp=nlp)
    if report.failed:
        raise BenchError(f"indexing failed for {report.failed[0][0]}: {report.failed[0][1]}")
    ids = {p: store.find_document(p) for p in {ds.article_of(r) for r in ds.gold} if p is not None}
    return store, ids, time.perf_counter() - t0


def out_of_sample(model, dataset: str):
    """For each article, the model, threshold and slot rule that never saw its questions (from the model card):
    on the news gold, those chosen on the other folds; on SQuAD dev, a model fitted without that article."""
    from assistant.ranking import Calibrator

    folds = model.card.get("folds", {})
    cal, thr, rule = model.calibrator, model.threshold, model.slot_rule
    if dataset == "squad":
        cals = {g: Calibrator.from_json(c) for g, c in folds.get("squad", {}).items()}
        return lambda g: (cals.get(g, cal), thr, rule)
    if dataset == "news":
        news = folds.get("news", {})
        fold_of, ts, rules = news.get("fold_of", {}), news.get("thresholds", []), news.get("slot_rules", [])
        cals = [Calibrator.from_json(c) for c in news.get("calibrators", [])]
        return lambda g: (cals[fold_of[g]], ts[fold_of[g]], rules[fold_of[g]]) if g in fold_of else (cal, thr, rule)
    return lambda g: (cal, thr, rule)


def run_system(system: str, ds: Dataset, store, ids: dict, quiet: bool):
    """Answer every question with our Assistant (out of sample) or the old rule gate."""
    from assistant.errors import QuestionError

    if system == "ours":
        from assistant.answer import Assistant

        assistant = Assistant(store)
        pick = out_of_sample(assistant.model, ds.name)
        committed = (assistant.model.calibrator, assistant.model.threshold, assistant.model.slot_rule)
    else:
        from rule_gate import RuleAssistant

        assistant = RuleAssistant(store)
    assistant.ask(ds.gold[0].question)  # loads the models, the units and BM25 outside the timed answers
    t0 = time.perf_counter()
    answers = []
    tick = progress_bar(total=len(ds.gold), desc=f"{system}/{ds.name}", enabled=not quiet, unit="question")
    for row in ds.gold:
        path = ds.article_of(row)
        if system == "ours":
            m = assistant.model
            m.calibrator, m.threshold, m.slot_rule = pick(path.name if path else "-")
        try:
            answers.append(assistant.ask(row.question, doc_id=ids.get(path)).to_json())
        except QuestionError:
            answers.append({"question": row.question, "abstained": True, "quotes": []})
        tick.update(1)
    tick.close()
    if system == "ours":
        assistant.model.calibrator, assistant.model.threshold, assistant.model.slot_rule = committed
    return answers, time.perf_counter() - t0, assistant


def run_naive(ds: Dataset, embedder, client, quiet: bool):
    """Naive LangChain RAG: 300-character chunks in Chroma, the top 3 as quotes, never abstaining."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.answer import Answer, Quote

    t0 = time.perf_counter()
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_CHARS, chunk_overlap=0, add_start_index=True)
    chunks = splitter.create_documents(ds.docs, metadatas=[{"document": str(p)} for p in ds.articles])
    by_doc = dict(zip((str(p) for p in ds.articles), ds.docs))
    for c in chunks:
        s = c.metadata["start_index"]
        if s < 0 or by_doc[c.metadata["document"]][s:s + len(c.page_content)] != c.page_content:
            raise BenchError(f"a chunk of {c.metadata['document']} has no exact offset")
    col = client.get_or_create_collection(f"naive_{ds.name}", metadata={"hnsw:space": "cosine"},
                                          embedding_function=None)
    vecs = embedder.encode([c.page_content for c in chunks], batch_size=64)
    for i in range(0, len(chunks), 1000):
        batch = chunks[i:i + 1000]
        col.add(ids=[str(i + j) for j in range(len(batch))], embeddings=vecs[i:i + 1000],
                documents=[c.page_content for c in batch],
                metadatas=[{"document": c.metadata["document"], "start": c.metadata["start_index"]} for c in batch])
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    questions = [r.question for r in ds.gold]
    qvecs = embedder.encode(questions, batch_size=64)
    answers = []
    tick = progress_bar(total=len(questions), desc=f"naive/{ds.name}", enabled=not quiet, unit="question")
    for row, q, v in zip(ds.gold, questions, qvecs):
        path = ds.article_of(row)
        res = col.query(query_embeddings=[v], n_results=min(TOP_K, len(chunks)),
                        where={"document": str(path)} if path else None,
                        include=["documents", "metadatas", "distances"])
        quotes = tuple(Quote(text, "unknown", "author", m["document"], int(m["start"]), int(m["start"]) + len(text),
                             round(1.0 - float(d), 4))
                       for text, m, d in zip(res["documents"][0], res["metadatas"][0], res["distances"][0]))
        answers.append(Answer(q, False, quotes).to_json())
        tick.update(1)
    tick.close()
    return answers, build_s, time.perf_counter() - t0


def run_sentences(ds: Dataset, embedder, quiet: bool):
    """Plain sentence retrieval: every body sentence, MiniLM cosine top 3, never abstaining."""
    import numpy as np

    from assistant.answer import Answer, Quote
    from assistant.articles import load_article, split_sentences

    t0 = time.perf_counter()
    sents: list[tuple[str, str, int, int, str]] = []  # (text, document, start, end, speaker)
    for path in ds.articles:
        article = load_article(path)
        for p in article.paragraphs:
            for s, e in split_sentences(article.text, p.start, p.end):
                sents.append((article.text[s:e], article.path, s, e, article.author_label))
    matrix = np.asarray(embedder.encode([s[0] for s in sents], batch_size=64), dtype=np.float32)
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    questions = [r.question for r in ds.gold]
    qvecs = np.asarray(embedder.encode(questions, batch_size=64), dtype=np.float32)
    sims = qvecs @ matrix.T  # both sides are unit length, so this is the cosine
    answers = []
    tick = progress_bar(total=len(questions), desc=f"sentence/{ds.name}", enabled=not quiet, unit="question")
    doc_of = np.array([s[1] for s in sents])
    for gold_row, q, row in zip(ds.gold, questions, sims):
        path = ds.article_of(gold_row)
        if path is not None:
            row = np.where(doc_of == str(path), row, -np.inf)
        top = np.argsort(-row, kind="stable")[:TOP_K]
        quotes = tuple(Quote(sents[i][0], sents[i][4], "author", sents[i][1], sents[i][2], sents[i][3],
                             round(float(row[i]), 4)) for i in top)
        answers.append(Answer(q, False, quotes).to_json())
        tick.update(1)
    tick.close()
    return answers, build_s, time.perf_counter() - t0


# --------------------------------------------------------------------------- scoring


def reference_score(scorer: Path, ds: Dataset, answers_path: Path) -> dict:
    """The shared reference scorer's summary for one answers file."""
    # The scorer opens files with the locale's encoding; UTF-8 mode makes that the articles' encoding.
    env = {**os.environ, "PYTHONUTF8": "1"}
    proc = subprocess.run([sys.executable, str(scorer), str(ds.gold_path), str(answers_path),
                           *map(str, ds.articles)], capture_output=True, text=True, encoding="utf-8", env=env)
    if proc.returncode != 0:
        raise BenchError(f"{scorer} failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    # The summary is indented JSON; the last line is a one-line digest.
    return json.loads(proc.stdout.rsplit("\n", 2)[0])


def disagreement(ours: dict, ref: dict) -> float:
    return max(abs(float(ours[m]) - float(ref[m])) for m, _h in COLUMNS)


# --------------------------------------------------------------------------- speed


def measure_speed(assistant, questions: list[str], rounds: int) -> Speed:
    """Median and p95 of warm `ask` and of the floor, interleaved question by question."""
    store = assistant.store

    def floor(q: str) -> float:
        return timed(lambda: store.query(store.embedder.encode_one(q), TOP_K))[1]

    def ask(q: str) -> float:
        return timed(lambda: assistant.ask(q))[1]

    assistant.warm()  # as the app does: the models as traced graphs (assistant/graphs.py), the caches
    for q in questions:  # warm-up: caches, allocator, thread pools
        floor(q)
        ask(q)
    floors, asks = [], []
    steal0, t0 = steal_seconds(), time.perf_counter()
    for _ in range(rounds):
        for q in questions:
            floors.append(floor(q))
            asks.append(ask(q))

    steal1, span = steal_seconds(), time.perf_counter() - t0
    steal = (steal1 - steal0) / (span * (os.cpu_count() or 1)) if steal0 is not None and steal1 is not None else None
    ms = 1000.0
    return Speed(len(questions), len(asks), statistics.median(asks) * ms, percentile(asks, 95) * ms,
                 statistics.median(floors) * ms, percentile(floors, 95) * ms, load_average(),
                 assistant.ranker.candidates, steal)


# --------------------------------------------------------------------------- report


def format_table(runs: list[Run]) -> str:
    head = f"{'system':<10}{'dataset':<8}{'n':>6}" + "".join(f"{h:>9}" for _m, h in COLUMNS)
    lines = [head, "-" * len(head)]
    for r in runs:
        lines.append(f"{r.system:<10}{r.dataset:<8}{r.metrics['n']:>6}"
                     + "".join(f"{r.metrics[m]:>9.3f}" for m, _h in COLUMNS))
    legend = ", ".join(f"{h} = {m}" for m, h in COLUMNS if h != m)
    return "\n".join(lines) + f"\n({legend})"


def format_targets(runs: list[Run]) -> str:
    ours = {r.dataset: r.metrics for r in runs if r.system == "ours"}
    lines = [f"{'target (issue)':<30}{'ours':>8}  result"]
    for dataset, metric, kind, bound in TARGETS:
        if dataset not in ours:
            continue
        v = ours[dataset][metric]
        ok = v >= bound if kind == "min" else v <= bound
        rel = "≥" if kind == "min" else "≤"
        lines.append(f"{dataset + ' ' + metric + ' ' + rel + ' ' + format(bound, '.2f'):<30}{v:>8.3f}  {met(ok)}")
    return "\n".join(lines)


def format_speed(s: Speed) -> str:
    return "\n".join([
        f"speed on the seed store ({s.questions} dev questions, {s.samples} timed asks after a warm-up; "
        f"load average {s.load:.1f} on {os.cpu_count()} cores"
        + (f", {s.steal:.0%} of their time taken by the host" if s.steal is not None else "") + "):",
        f"  warm ask      median {s.ask_median:7.1f} ms   p95 {s.ask_p95:7.1f} ms   "
        f"target < {SPEED_TARGET_MS:.0f} ms: {met(s.ask_median < SPEED_TARGET_MS)}",
        f"  floor         median {s.floor_median:7.1f} ms   p95 {s.floor_p95:7.1f} ms   "
        f"(one MiniLM encode + one Chroma query, top {TOP_K})",
        f"  ask / floor   {s.ratio:.2f}x (the answer model reads {s.candidates} candidates per question)",
    ])


# --------------------------------------------------------------------------- main


def reliability(runs: list[Run], datasets: dict, bins: int = 10) -> str:
    """Our confidence in the best passage against how often it answers, per dataset, out of sample, with the
    error a perfectly calibrated confidence would show on as many questions by chance."""
    from assistant.evaluation import calibration, chance_calibration_error, hits

    lines = [f"{'dataset':<8}{'confidence':>13}{'questions':>11}{'mean conf':>11}{'answers':>9}"]
    eces = []
    for r in runs:
        if r.system != "ours":
            continue
        ds = datasets[r.dataset]
        pts = []
        for row, a in zip(ds.gold, r.answers):
            top = a["quotes"][0] if a["quotes"] else a.get("best")
            if top and "confidence" in top:
                pts.append((float(top["confidence"]), row.answerable and hits(row, top["text"], ds.docs)))
        ece, table = calibration(pts, bins)
        lines += [f"{r.dataset:<8}{f'{lo:.1f}-{hi:.1f}':>13}{n:>11}{mc:>11.3f}{acc:>9.3f}"
                  for lo, hi, n, mc, acc in table]
        chance, p90 = chance_calibration_error([c for c, _ in pts], bins)
        eces.append(f"{r.dataset} {ece:.3f} (target ≤ 0.05: {met(ece <= 0.05)}; a perfectly calibrated "
                    f"confidence scores {chance:.3f} by chance here, 90% of the time under {p90:.3f})")
    return "\n".join(lines) + "\nexpected calibration error: " + ", ".join(eces)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Benchmark answers (ours, the old rule gate, naive LangChain RAG, "
                                            "sentence retrieval) on the news gold, SQuAD 2.0 dev and the seed "
                                            "gold, out of sample, and the speed of a warm ask.")
    p.add_argument("--shared", type=Path, default=SHARED, help=f"the shared folder (default {SHARED})")
    p.add_argument("--gold", type=Path, help="seed gold JSON Lines (default SHARED/gold/dev.jsonl)")
    p.add_argument("--seeds", type=Path, help="the seed articles (default: the settings' seeds folder)")
    p.add_argument("--squad", type=Path, help="SQuAD 2.0 JSON (default SHARED/squad/dev.json)")
    p.add_argument("--squad-tool", type=Path, help="converter (default SHARED/tools/squad_to_gold.py)")
    p.add_argument("--scorer", type=Path, help="reference scorer (default SHARED/tools/score_answers.py)")
    p.add_argument("--squad-limit", type=int, metavar="N",
                   help="answer only N SQuAD questions, evenly spaced over the file (default: all)")
    p.add_argument("--skip-squad", action="store_true", help="leave SQuAD out")
    p.add_argument("--skip-news", action="store_true", help="leave the news gold out")
    p.add_argument("--systems", default=",".join(SYSTEMS), help=f"which systems (default {','.join(SYSTEMS)})")
    p.add_argument("--speed-rounds", type=int, default=5, metavar="R",
                   help="timed passes over the seed questions (default 5; 0 skips the speed test)")
    p.add_argument("--answers-out", type=Path, metavar="DIR",
                   help="also write each system's answers as DIR/SYSTEM_DATASET.jsonl")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run every system on every dataset, print one table, the targets and the speed; returns the exit status."""
    args = _parser().parse_args(argv)
    offline_environment()
    from assistant.errors import AssistantError

    return run(lambda: _run(args), errors=(AssistantError,))


def _run(args) -> int:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.articles import find_article_files
    from assistant.attribution import load_nlp
    from assistant.settings import load_settings
    from assistant.projection import PROJECTION_FILE
    from assistant.store import Embedder

    settings = load_settings()
    shared = args.shared
    gold, seeds, squad, tool, scorer, systems = _inputs(args, settings)
    started = time.perf_counter()
    q = args.quiet
    embedder = Embedder(settings.model, settings.answer_model_dir / PROJECTION_FILE)  # ours and the rule gate
    # The baselines are plain MiniLM, with its own 384 dimensions (the same model, loaded once).
    raw = Embedder(settings.model, projection=None)
    note("loading MiniLM and spaCy", q)
    embedder.encode_one("warm up")
    raw._model = embedder.model
    nlp = load_nlp()

    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmpname:
        tmp = Path(tmpname)
        datasets = []
        if not args.skip_news:
            news_path, news_articles, text_dir = news_gold(shared, tmp / "news.jsonl")
            datasets.append(load_dataset("news", news_path, news_articles, doc_dir=text_dir))
        if not args.skip_squad:
            note("converting SQuAD", q)
            articles_dir, squad_gold = convert_squad(tool, squad, tmp / "squad", args.squad_limit)
            datasets.append(load_dataset("squad", squad_gold, find_article_files([articles_dir])))
        datasets.append(load_dataset("seed", gold, find_article_files([seeds])))

        client = chromadb.PersistentClient(path=str(tmp / "naive"),
                                           settings=ChromaSettings(anonymized_telemetry=False))
        runs: list[Run] = []
        speed: Speed | None = None
        for ds in datasets:
            note(f"{ds.name}: {len(ds.gold)} questions over {len(ds.articles)} article(s)", q)
            if "ours" in systems or "rules" in systems:
                store, ids, build = build_store(ds, embedder, nlp, tmp / f"store_{ds.name}", q)
                for system in ("ours", "rules"):
                    if system not in systems:
                        continue
                    answers, a, assistant = run_system(system, ds, store, ids, q)
                    runs.append(Run(system, ds.name, answers, {}, build, a))
                    if system == "ours" and ds.name == "seed" and args.speed_rounds > 0:
                        note(f"timing {args.speed_rounds} rounds of ask on the seed store", q)
                        speed = measure_speed(assistant, [r.question for r in ds.gold], args.speed_rounds)
            if "naive" in systems:
                answers, b, a = run_naive(ds, raw, client, q)
                runs.append(Run("naive", ds.name, answers, {}, b, a))
            if "sentence" in systems:
                answers, b, a = run_sentences(ds, raw, q)
                runs.append(Run("sentence", ds.name, answers, {}, b, a))

        from assistant.evaluation import score

        by_name = {d.name: d for d in datasets}
        for r in runs:
            ds = by_name[r.dataset]
            r.metrics, _fails = score(ds.gold, r.answers, ds.docs)
            path = (args.answers_out or tmp / "answers") / f"{r.system}_{r.dataset}.jsonl"
            write_jsonl(path, r.answers)
            r.reference = reference_score(scorer, ds, path)
        total = time.perf_counter() - started
    return _report(runs, by_name, speed, scorer, systems, total, args)


def _inputs(args, settings) -> tuple[Path, Path, Path, Path, Path, list[str]]:
    """(seed gold, seeds, SQuAD JSON, its converter, the scorer, the systems), each checked to exist."""
    shared = args.shared
    gold = args.gold or shared / "gold" / "dev.jsonl"
    seeds = args.seeds or settings.seeds_dir
    squad = args.squad or shared / "squad" / "dev.json"
    tool = args.squad_tool or shared / "tools" / "squad_to_gold.py"
    scorer = args.scorer or shared / "tools" / "score_answers.py"
    systems = [x.strip() for x in args.systems.split(",") if x.strip()]
    if not systems or any(x not in SYSTEMS for x in systems):
        raise BenchError(f"--systems takes a comma-separated list of {', '.join(SYSTEMS)}")
    needed = [gold, seeds, scorer] + ([] if args.skip_squad else [squad, tool]) + \
        ([] if args.skip_news else [shared / "gold", shared / "polnear" / "dev" / "text"])
    for p in needed:
        if not p.exists():
            raise BenchError(f"{p}: not found; pass its location with a flag (see --help)")
    if args.squad_limit is not None and args.squad_limit < 1:
        raise BenchError("--squad-limit must be at least 1")
    return gold, seeds, squad, tool, scorer, systems


def _report(runs: list[Run], by_name: dict, speed: Speed | None, scorer: Path, systems: list[str], total: float,
            args) -> int:
    """Print the table, the targets, the reliability and the speed; 1 when the reference scorer disagrees."""
    runs.sort(key=lambda r: (DATASETS.index(r.dataset), SYSTEMS.index(r.system)))
    print(format_table(runs))
    print()
    worst = max(disagreement(r.metrics, r.reference) for r in runs)
    agree = worst < 1e-9
    print(f"reference scorer ({scorer.name}) {'agrees' if agree else 'DISAGREES'} on all {len(runs)} runs "
          f"(largest difference {worst:.2g})")
    print()
    print(format_targets(runs))
    if "ours" in systems:
        print()
        print("reliability of `confidence` (ours, the best passage; answers = it holds a gold answer):")
        print(reliability(runs, by_name))
    if speed:
        print()
        print(format_speed(speed))
    print()
    print("time (s), build + answer: " + ", ".join(f"{r.system}/{r.dataset} {r.build_s:.1f}+{r.answer_s:.1f}"
                                                   for r in runs) + f"; total {total:.0f}")
    if not args.skip_squad:
        sq = by_name["squad"]
        print(f"SQuAD 2.0 ({len(sq.articles)} articles, {len(sq.gold)} questions): Rajpurkar, Jia and Liang (2018), "
              "\"Know What You Don't Know: Unanswerable Questions for SQuAD\", CC BY-SA 4.0.")
    if args.answers_out:
        print(f"answers written to {args.answers_out}/")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
