"""Memory at scale, measured: peak RSS of `quotes` and `index` as the archive grows, and the app's RSS after
many questions. The targets of issue 14, part 1.

    .venv/bin/python bench/memory.py [--parts quotes,index,app] [--small 1000] [--large 3000]
                                     [--questions 1000] [--keep DIR] [--quiet]

The corpus is bench/corpus.py's: articles generated from ../shared (SQuAD 2.0 dev paragraphs, PolNeAR dev
texts) with its fixed seed. Its generator is deterministic article by article, so the first 84 articles of
the 3,000 are the 84-article corpus, and so on: every smaller corpus is a prefix of the larger one. Each
corpus is a folder of hard links to the same files.

Every measurement is its own process, so each peak is that command's alone. A command runs as
`sys.executable -m assistant ...` (with this checkout first on PYTHONPATH); its peak RSS is the kernel's
ru_maxrss for that child (os.wait4: the figure `/usr/bin/time -f %M` prints), and its current RSS (VmRSS of
/proc/PID/status) is sampled every few seconds to show whether memory grows with the articles or levels off.
1. quotes: `python -m assistant quotes --json FILES` over the first 84 articles, then the first 252.
   Target: the 252-article peak is within 5% of the 84-article one. The issue's own case, the same 84
   articles three times in one process, is reported too.
2. index: `python -m assistant index FOLDER --store NEW` of the first --small (1,000) articles, then of all
   --large (3,000), each into a fresh store. Targets: the 3,000-article peak is at most 1.5 GB, and at most
   15% above the 1,000-article one.
3. app: the real app (`sys.executable app.py --port P --store STORE`, bench/common.py's App) over the
   1,000-article store from part 2, asked --questions (1,000) questions one after another through its `/ask`
   API with gradio_client, as a reader's client would. Target: the app's RSS (VmRSS, the app process and
   any children) after the last answer is at most 1.2 GB. Its peak (VmHWM) and its RSS after the first
   100 questions are reported beside it. The questions: "What did SPEAKER say about WORD WORD?" from the
   quotes of part 1 and SQuAD questions on paragraphs of the store, half each, shuffled with a fixed seed;
   when there are fewer than asked for, the list repeats.
GB here is 10^9 bytes. Every process runs at this process's niceness (run it with `nice -n 10` on a shared
machine); load does not change memory, only time. The exit status is 1 only on errors, never on a MISSED.

Time: about an hour on this 2-core machine (the two builds take 12 and 37 minutes; the 1,000 questions
about 5). --parts runs a subset; part 3 needs part 2's 1,000-article store (run together, or --keep DIR
from an earlier run with index in it, and --parts app).

Figures measured here on 2026-11-30, 2 cores shared with two other engineers' training and test runs (load
average 3-13 throughout, so the times are long; memory does not depend on it):
- quotes (`--parts quotes`, 17:23): 84 articles peak 0.372 GB, 252 articles 0.375 GB, +0.7% (target ≤ 5%:
  met); the 84 articles three times in one process 0.377 GB (+1.2%). Before the lru_cache fix the issue
  measured 466 -> 511 -> 555 MB for that last case.
- index of 1,000 articles: 1.849 GB peak before this branch (17:28, RSS over the run 1.44/1.49/1.53/1.65 GB);
  1.230 GB after (18:01-18:47, 1.08/1.08/1.08/1.21 GB), with the Embedder's fixed mmap threshold and the
  paged unit reads (this build ran before indexing stopped keeping every article's text, 13 MB per 1,000).
- app over that 1,000-article store, after 1,000 questions through `/ask`: 1.584 GB before (after 100
  questions 1.552), 0.998 GB after (after 100 questions 0.966; +3 MB over the last 300): target ≤ 1.2 GB met.
  Again at 19:00 on main with the answer model that reads word embeddings and the entity slot rule (its word
  cache capped at 50,000 words, and spaCy's recogniser loaded): 1.099 GB after 1,000 questions (1.068 after
  the warm-up, 1.105 after 100, peak 1.118; flat from 200 on), 0 errors, 0.25 s a question at load 5.6: met.
- index of 3,000 articles (`--parts index --small 3000 --large 3000`, 18:59-19:29 on main, load 2-5): peak
  1.446 GB in 1,778 s (RSS over the run 1.08/1.15/1.27/1.40 GB): target ≤ 1.5 GB met. Growth from the
  1,000-article peak above (1.230 GB): +17.6%, target ≤ 15%: MISSED. The RSS climbs with the articles
  written (about 0.1 GB per 1,000), most likely Chroma's in-memory HNSW index of the collection being built;
  the two builds were also measured 40 minutes apart on different code (the 1,000 one before indexing stopped
  holding every article's text), so a fresh pair of runs on one commit is the next measurement to make.
- Both builds and the app again on one commit (cf6965f: the registry's records read 200 at a time, where one
  read of every record held all the documents' texts, 64 MB at 3,000 articles), 21:20-23:20, load about 2:
  index of 1,000 articles peak 1.189 GB in 433 s (RSS 1.04/1.06/1.06/1.06 GB); of 3,000 peak 1.383 GB in 939 s
  (1.06/1.16/1.19/1.28 GB): ≤ 1.5 GB met, growth +16.4% (≤ 15%: MISSED). The app after 1,000 questions 1.097 GB
  (peak 1.119), met. What grows is Chroma's HNSW index of the units collection, held in the writing process:
  opening a store and counting its units takes 0.068 GB at 1,000 articles (31,785 units) and 0.204 GB at
  3,000 (96,833 units), about 2.1 KB a unit, which alone is +11% of the 1,000-article peak. Both peaks are
  about 0.1 GB above the highest RSS sampled, a transient not yet found.
- The transient, found on 2026-12-01 by sampling RSS every 50 ms inside an index run of 1,000 articles (the
  peak, 1.165 GB, was caught by a sample, 1.162 GB): the encoder's batch activations. 64 texts of 256 tokens
  take about 0.3 GB for a moment (0.29 GB for one 2,048-text call measured alone; up to 0.57 GB above the RSS
  before an encode call while the next chunk is parsed). Long texts now go in smaller batches, at most 4,096
  tokens a batch (store.TOKENS_PER_BATCH): 0.13 GB for the same call, the same vectors (to 2e-7).
  Both builds on one commit (9decbbb), load 3-4: index of 1,000 articles peak 1.031 GB in 457 s (RSS
  0.92/0.94/0.97/1.01 GB); of 3,000 articles 1.209 GB in 1,591 s (1.01/1.08/1.14/1.19 GB): ≤ 1.5 GB met;
  growth +17.4% (≤ 15%: MISSED). Both peaks fell by 0.16-0.17 GB, so the ratio rose: what grows is the same.
  Chroma's HNSW index of the units is 0.199 GB for 96,832 random 384-d vectors written alone (2.05 KB a
  vector; its resize_factor changes nothing), 0.134 GB of the 0.178 GB between the two peaks, 13% of the
  1,000-article peak by itself. Chroma's writes alone grow at 1.9 KB a unit past the first 10,000 units, so
  almost all of the rest is Chroma too; spaCy's vocabulary stays flat over 1,500 articles (0.355 GB RSS with
  or without memory zones). The app over that 1,000-article store, same commit: 1.092 GB after 1,000
  questions through `/ask` (1.059 after the warm-up, 1.095 after 100, flat from 200), 0 errors: met.
- With every vector projected to 192 dimensions (projection.py; bff1606 and the committed projection), both
  builds on 2026-12-01 05:27-06:04, load 3.7-4.2 (a training run shared the cores): index of 1,000 articles
  peak 0.996 GB in 821 s (RSS 0.91/0.93/0.96/0.98 GB); of 3,000 articles 1.102 GB in 1,780 s
  (0.93/0.99/1.03/1.09 GB): ≤ 1.5 GB met, growth +10.7% (≤ 15%: met). The app over that 1,000-article
  store: 1.035 GB after 1,000 questions through `/ask` (1.011 after the warm-up, 1.042 after 100, flat from
  200; peak 1.060), 0 errors, 0.09 s a question: met.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/corpus.py and bench/common.py

from common import App, free_port, make_client, require_gradio_client  # noqa: E402
from corpus import (ROOT, SHARED, BenchError, generate, make_questions, polnear_stream,  # noqa: E402
                    squad_stream)

QUOTES_SMALL, QUOTES_LARGE = 84, 252
QUOTES_GROWTH_TARGET = 0.05
INDEX_PEAK_TARGET_GB = 1.5
INDEX_GROWTH_TARGET = 0.15
APP_RSS_TARGET_GB = 1.2
SAMPLE_S = 2.0
ASK_TIMEOUT_S = 60.0
APP_START_TIMEOUT_S = 600.0  # loading 1,000 articles' units and BM25 before the page answers


@dataclass
class Run:
    """One measured command."""

    label: str
    peak_kb: int = 0  # ru_maxrss of the child
    seconds: float = 0.0
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, VmRSS kB)
    status: int = 0
    load: float = 0.0

    @property
    def peak_gb(self) -> float:
        return self.peak_kb * 1024 / 1e9

    def shape(self) -> str:
        """RSS at a quarter, half, three quarters of the run and at its end: growth or a plateau."""
        if not self.samples:
            return "-"
        out = []
        for frac in (0.25, 0.5, 0.75, 1.0):
            t = self.seconds * frac
            kb = max((kb for s, kb in self.samples if s <= t), default=0)  # the highest RSS up to that point
            out.append(f"{kb * 1024 / 1e9:.2f}")
        return "/".join(out) + " GB"


@dataclass
class AppRun:
    questions: int = 0
    answered: int = 0
    errors: int = 0
    start_rss_kb: int = 0  # after the warm-up questions
    rss_100_kb: int = 0
    rss_end_kb: int = 0
    hwm_kb: int = 0
    seconds: float = 0.0
    load: float = 0.0
    trace: list[tuple[int, int]] = field(default_factory=list)  # (questions asked, VmRSS kB)
    source: str = ""


def note(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _env() -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def measure(label: str, args: list[str], out: Path, log: Path, quiet: bool) -> Run:
    """Run `python -m assistant ARGS` as a child, sampling its RSS; its peak is the kernel's ru_maxrss."""
    run = Run(label)
    note(f"{label}: python -m assistant {' '.join(args[:3])}{' ...' if len(args) > 3 else ''}", quiet)
    with open(out, "wb") as fo, open(log, "wb") as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=_env(),
                                stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(SAMPLE_S):
                kb = _status_kb(proc.pid, "VmRSS")
                if kb:
                    run.samples.append((time.perf_counter() - t0, kb))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
        run.seconds = time.perf_counter() - t0
    run.status = proc.returncode
    run.peak_kb = usage.ru_maxrss
    run.load = os.getloadavg()[0]
    if run.status != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        raise BenchError(f"{label} exited with status {run.status}: {' | '.join(tail)}")
    note(f"  peak {run.peak_gb:.3f} GB in {run.seconds:.0f} s (RSS over the run {run.shape()})", quiet)
    return run


# --------------------------------------------------------------------------- the corpus


def corpus_folders(work: Path, sizes: list[int], shared: Path, quiet: bool) -> dict[int, list[Path]]:
    """The articles, generated once for the largest size, and a folder of hard links per size."""
    squad_json, polnear = shared / "squad" / "dev.json", shared / "polnear" / "dev"
    for p in (squad_json, polnear):
        if not p.exists():
            raise BenchError(f"{p}: not found; pass the shared folder with --shared")
    n = max(sizes)
    everything = work / "articles"
    files = sorted(everything.glob("*.txt")) if everything.is_dir() else []
    if len(files) != n:
        if everything.exists():
            shutil.rmtree(everything)
        note(f"generating {n:,} articles in {everything}", quiet)
        corpus = generate(n, everything, {"polnear": polnear_stream(polnear), "squad": squad_stream(squad_json)})
        files = corpus.files
    out = {}
    for k in sizes:
        folder = work / f"articles_{k}"
        if not folder.is_dir() or len(list(folder.glob("*.txt"))) != k:
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            for f in files[:k]:
                os.link(f, folder / f.name)
        out[k] = sorted(folder.glob("*.txt"))
    return out


def squad_questions_of(files: list[Path], shared: Path) -> list[str]:
    """SQuAD's answerable questions on paragraphs that these articles hold."""
    data = json.loads((shared / "squad" / "dev.json").read_text(encoding="utf-8"))["data"]
    text = "\n".join(f.read_text(encoding="utf-8") for f in files)
    out = []
    for art in data:
        for p in art["paragraphs"]:
            if " ".join(p["context"].split()) in text:
                out += [q["question"].strip() for q in p.get("qas", ()) if not q.get("is_impossible")]
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class _Quoted:
    kind: str
    source_type: str
    speaker: str
    text: str


def app_questions(quotes_json: Path, squad: list[str], n: int) -> list[str]:
    """n questions: about quoted speakers (from `quotes --json` output) and SQuAD's, half each, repeating."""
    quoted = []
    for line in quotes_json.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            quoted.append(_Quoted(r["kind"], r["source_type"], r["speaker"],
                                  r["text"]))
    pool, _warm, _about = make_questions([quoted], squad, 10 ** 6, 0)
    if not pool:
        raise BenchError("no questions could be made from the corpus")
    random.Random(7).shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


# --------------------------------------------------------------------------- the app


def app_run(store: Path, questions: list[str], work: Path, quiet: bool) -> AppRun:
    """The real app over a store, asked each question once through `/ask`; its RSS along the way."""
    require_gradio_client()
    res = AppRun(questions=len(questions))
    port = free_port()
    env_before = dict(os.environ)
    os.environ.update(_env())  # App passes os.environ to app.py
    try:
        with App(store, port, work / "app.log") as app:
            note(f"app on {app.url} over {store}", quiet)
            app.wait_http(APP_START_TIMEOUT_S)
            client = make_client(app.url)

            def rss() -> int:
                return sum(_status_kb(p, "VmRSS") for p in app.processes())

            for q in questions[:5]:  # warm-up, off the count: the models and caches load on the first asks
                client.predict(q, 3, "", api_name="/ask")
            res.start_rss_kb = rss()
            res.trace.append((0, res.start_rss_kb))
            t0 = time.perf_counter()
            for i, q in enumerate(questions, 1):
                try:
                    job = client.submit(q, 3, "", api_name="/ask")
                    answer = job.result(timeout=ASK_TIMEOUT_S)
                    if not isinstance(answer, dict) or "abstained" not in answer:
                        raise BenchError(f"not an answer: {answer!r:.200}")
                    res.answered += not answer["abstained"]
                except Exception as exc:  # noqa: BLE001 - counted; the app must keep serving
                    res.errors += 1
                    if res.errors <= 3:
                        note(f"  question {i} failed: {type(exc).__name__}: {exc}", quiet)
                    app.check_alive(f" after {i} questions")
                if i % 100 == 0 or i == len(questions):
                    kb = rss()
                    res.trace.append((i, kb))
                    if i == 100:
                        res.rss_100_kb = kb
                    note(f"  {i}/{len(questions)} questions, RSS {kb * 1024 / 1e9:.3f} GB, "
                         f"{(time.perf_counter() - t0) / i:.2f} s per question", quiet)
            res.seconds = time.perf_counter() - t0
            res.rss_end_kb = rss()
            res.hwm_kb = sum(_status_kb(p, "VmHWM") for p in app.processes())
            res.load = os.getloadavg()[0]
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return res


# --------------------------------------------------------------------------- the report


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _gb(kb: int) -> str:
    return f"{kb * 1024 / 1e9:.3f} GB"


def format_report(runs: dict[str, Run], app: AppRun | None, small: int, large: int) -> str:
    rows = []
    if "quotes_small" in runs and "quotes_large" in runs:
        a, b = runs["quotes_small"], runs["quotes_large"]
        growth = b.peak_kb / a.peak_kb - 1
        rows.append((f"quotes, {QUOTES_SMALL} articles: peak RSS", _gb(a.peak_kb), "-", "-"))
        rows.append((f"quotes, {QUOTES_LARGE} articles: peak RSS", _gb(b.peak_kb), "-", "-"))
        rows.append((f"  growth {QUOTES_SMALL} -> {QUOTES_LARGE} articles", f"{growth:+.1%}",
                     f"≤ {QUOTES_GROWTH_TARGET:.0%}", _met(abs(growth) <= QUOTES_GROWTH_TARGET)))
        if "quotes_thrice" in runs:
            c = runs["quotes_thrice"]
            rows.append((f"quotes, the {QUOTES_SMALL} articles 3 times: peak RSS", _gb(c.peak_kb),
                         "-", f"{c.peak_kb / a.peak_kb - 1:+.1%}"))
    if f"index_{small}" in runs and small != large:
        rows.append((f"index, {small:,} articles: peak RSS", _gb(runs[f"index_{small}"].peak_kb), "-", "-"))
    if f"index_{large}" in runs:
        big = runs[f"index_{large}"]
        rows.append((f"index, {large:,} articles: peak RSS", _gb(big.peak_kb), f"≤ {INDEX_PEAK_TARGET_GB} GB",
                     _met(big.peak_gb <= INDEX_PEAK_TARGET_GB)))
        if f"index_{small}" in runs and small != large:
            growth = big.peak_kb / runs[f"index_{small}"].peak_kb - 1
            rows.append((f"  growth {small:,} -> {large:,} articles", f"{growth:+.1%}",
                         f"≤ {INDEX_GROWTH_TARGET:.0%}", _met(growth <= INDEX_GROWTH_TARGET)))
    if app is not None:
        rows.append((f"app over {small:,} articles: RSS after {app.questions:,} questions", _gb(app.rss_end_kb),
                     f"≤ {APP_RSS_TARGET_GB} GB", _met(app.rss_end_kb * 1024 / 1e9 <= APP_RSS_TARGET_GB)))
        rows.append(("  its RSS after the warm-up / after 100 questions",
                     f"{_gb(app.start_rss_kb)} / {_gb(app.rss_100_kb)}", "-", "-"))
        rows.append(("  its peak (VmHWM)", _gb(app.hwm_kb), "-", "-"))
    if not rows:
        return "nothing measured"
    w = max(len(r[0]) for r in rows)
    v = max(len(r[1]) for r in rows)
    head = f"{'metric':<{w}}  {'value':>{v}}  {'target':>8}  result"
    lines = [head, "-" * len(head)] + [f"{m:<{w}}  {val:>{v}}  {t:>8}  {ok}" for m, val, t, ok in rows]
    lines.append("")
    for r in runs.values():
        lines.append(f"{r.label}: {r.seconds:.0f} s, RSS over the run (highest by 1/4, 1/2, 3/4, end) {r.shape()}, "
                     f"load {r.load:.2f}")
    if app is not None:
        lines.append(f"app: {app.questions:,} questions in {app.seconds:.0f} s "
                     f"({app.seconds / max(app.questions, 1):.2f} s each), {app.answered} answered, "
                     f"{app.errors} errors; RSS by questions asked: "
                     + ", ".join(f"{n}: {kb * 1024 / 1e9:.3f}" for n, kb in app.trace) + f" GB; load {app.load:.2f}")
        lines.append(f"app questions: {app.source}")
    lines.append(f"peak RSS is ru_maxrss of each child process (as /usr/bin/time -f %M); GB = 10^9 bytes; "
                 f"{os.cpu_count()} cores")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Peak memory of quotes and index as the archive grows, and the "
                                            "app's memory after many questions (issue 14's targets).")
    p.add_argument("--parts", default="quotes,index,app", help="which parts, comma-separated (default all)")
    p.add_argument("--small", type=int, default=1000, help="the smaller index (and the app's store; default 1000)")
    p.add_argument("--large", type=int, default=3000, help="the larger index (default 3000)")
    p.add_argument("--questions", type=int, default=1000, help="questions asked of the app (default 1000)")
    p.add_argument("--keep", type=Path, metavar="DIR",
                   help="work in DIR (outside the project) and keep it; an earlier run's articles and stores "
                        "there are reused")
    p.add_argument("--shared", type=Path, default=SHARED, help=f"the shared folder (default {SHARED})")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts <= {"quotes", "index", "app"}:
        print(f"error: --parts takes quotes, index and app, not {args.parts}", file=sys.stderr)
        return 2

    def terminated(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    if args.keep is not None:
        d = args.keep.expanduser().resolve()
        if d == ROOT or ROOT in d.parents:
            print(f"error: {d}: inside the project; --keep takes a folder elsewhere", file=sys.stderr)
            return 2
        d.mkdir(parents=True, exist_ok=True)
        workdir = contextlib.nullcontext(str(d))
    else:
        workdir = tempfile.TemporaryDirectory(prefix="bench-memory-")
    try:
        with workdir as name:
            return _run(args, parts, Path(name))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _run(args, parts: set[str], work: Path) -> int:
    q = args.quiet
    sizes = sorted({QUOTES_SMALL, QUOTES_LARGE, args.small, args.large})
    folders = corpus_folders(work, sizes, args.shared, q)
    runs: dict[str, Run] = {}
    app = None
    quotes_json = work / "quotes_large.jsonl"
    if "quotes" in parts:
        small = [str(f) for f in folders[QUOTES_SMALL]]
        runs["quotes_small"] = measure(f"quotes, {QUOTES_SMALL} articles", ["quotes", "--json", *small],
                                       work / "quotes_small.jsonl", work / "quotes_small.log", q)
        runs["quotes_large"] = measure(f"quotes, {QUOTES_LARGE} articles",
                                       ["quotes", "--json", *map(str, folders[QUOTES_LARGE])],
                                       quotes_json, work / "quotes_large.log", q)
        runs["quotes_thrice"] = measure(f"quotes, the {QUOTES_SMALL} articles 3 times",
                                        ["quotes", "--json", *small, *small, *small],
                                        work / "quotes_thrice.jsonl", work / "quotes_thrice.log", q)
    for n in dict.fromkeys((args.small, args.large)) if "index" in parts else ():
        store = work / f"store_{n}"
        if store.exists():
            shutil.rmtree(store)
        runs[f"index_{n}"] = measure(f"index, {n:,} articles", ["index", str(work / f"articles_{n}"), "--store",
                                                                str(store)],
                                     work / f"index_{n}.out", work / f"index_{n}.log", q)
        if n == args.small and "app" in parts:  # the app's store is ready: measure it before the long build
            app = _app(args, work, folders, quotes_json, q)
    if "app" in parts and app is None:
        app = _app(args, work, folders, quotes_json, q)
    print(format_report(runs, app, args.small, args.large))
    return 0


def _app(args, work: Path, folders: dict[int, list[Path]], quotes_json: Path, quiet: bool) -> AppRun:
    store = work / f"store_{args.small}"
    if not store.is_dir():
        raise BenchError(f"{store}: no {args.small:,}-article store; run --parts index,app (or keep one with --keep)")
    if not quotes_json.is_file():
        measure(f"quotes, {QUOTES_LARGE} articles (for questions)",
                ["quotes", "--json", *map(str, folders[QUOTES_LARGE])], quotes_json, work / "quotes_large.log",
                quiet)
    squad = squad_questions_of(folders[args.small], args.shared)
    questions = app_questions(quotes_json, squad, args.questions)
    res = app_run(store, questions, work, quiet)
    res.source = (f"{len(set(questions)):,} distinct, about speakers quoted in the first {QUOTES_LARGE} articles "
                  f"and SQuAD's on paragraphs of the store ({len(squad):,} of those); e.g. {questions[0]!r}")
    return res


if __name__ == "__main__":
    raise SystemExit(main())
