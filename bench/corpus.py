"""Scale, measured: indexing, re-indexing, ask latency, a Chroma server, store size and memory at N articles.

    .venv/bin/python bench/corpus.py [--articles N] [--questions Q] [--skip-server] [--keep DIR] [--quiet]

The corpus: N articles (default 1,000) generated into a temporary folder from ../shared/ (SQuAD 2.0's
dev.json paragraphs and PolNeAR's dev news texts) with a fixed seed. Each article is a run of 6 to 15
consecutive paragraphs of one source stream, sized to 3-6 kB like real news, written as a title line, a
blank line, an optional "by NAME" line, then paragraphs separated by blank lines. The sources hold about
660 kB of text, so a large corpus reuses each paragraph in several articles (the output says how often).
Nothing generated lands in the project; --keep DIR keeps the folder (articles, stores, server log).

Measured in one run, on one MiniLM and one spaCy pipeline loaded up front:
1. The first build (`index_paths` into a fresh embedded store) in units per second, as a ratio to the raw
   MiniLM encode rate of the same unit texts (the same Embedder, the settings' batch size, timed on its
   own after the build, in chunks of 4,096 texts). The build's split is measured in the build itself by
   wrapping, for this process only, the functions `index_paths` calls: reading (`load_document`),
   attribution (`attribute`, spaCy), units (`build_units`), embedding (`Embedder.encode`) and Chroma writes
   (`Store.replace_documents` less its encodes). Attribution and units run on the build's parser thread,
   beside the embedding, so they are reported apart from the main thread's split.
2. A re-index with nothing changed, as a share of the first build.
3. Warm `ask` latency over the whole corpus (no doc_id), median and p95 of Q questions (default 50):
   half "What did SPEAKER say about WORD WORD?" from attributed quotes in the corpus, half SQuAD questions
   on paragraphs the corpus holds. Each store is warmed as the app warms it (`warm`, `warm_words`), then
   asked 5 other questions; each timed question is asked once per store, interleaved question by question
   with a store holding only the seed articles (seeds/*.txt), so that load on the machine hits both alike.
4. The same over a Chroma server (`chroma run`, next to sys.executable, on a free port of 127.0.0.1): the
   corpus is indexed into it afresh (its build time is reported too), then the same questions are asked,
   interleaved with the seed store again. The server is always stopped. --skip-server leaves this out.
5. The embedded store's size on disk (du) and this process's peak RSS (ru_maxrss) after parts 1-3. That peak
   is of everything above in one process (two builds, a raw encode of every unit, two assistants); the memory
   targets of issue 14 (a `quotes` run, an `index` run and the app, each on its own) are measured by
   bench/memory.py, which generates its articles with this module's `generate`.

One table follows: metric, value, target, met/MISSED, then the build split and the load average (other
work on this 2-core machine inflates every time). The exit status is 1 only on errors, never on a MISSED.

Time: the default 1,000 articles take about 30 minutes here (two builds of 11-13 minutes and a 5-minute raw
encode; more under load), over the 25-minute budget, which the output flags; --skip-server saves one build,
and --articles 100 takes about 6 minutes. The estimate is printed on stderr after the first build.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from assistant.settings import offline_environment

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

SEED = 20251128
PARAGRAPHS = (6, 15)  # paragraphs per article
ARTICLE_CHARS = (3000, 6000)  # the size a generated article aims for
WARMUP_QUESTIONS = 5
RAW_CHUNK = 4096  # texts per raw encode call: the whole corpus at once would hold every vector as Python floats
BUDGET_S = 25 * 60

INDEX_RATIO_TARGET = 0.8
REINDEX_TARGET = 0.05
ASK_TARGET_MS = 100.0
ASK_RATIO_TARGET = 1.5

HEARTBEAT_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0

# Bylines for articles cut from SQuAD, which names no authors.
REPORTERS = ("Anna Keller", "Marcus Webb", "Priya Raman", "Tom Okafor", "Lena Novak", "David Chen")
_NAME_WORD = re.compile(r"[A-Z][A-Za-z'’-]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


class BenchError(Exception):
    """The benchmark cannot run: a missing input, a failed build, or a Chroma server that does not start."""


@dataclass(frozen=True)
class Para:
    """One source paragraph, with where it came from."""

    text: str
    title: str
    author: str | None
    origin: str  # "polnear" or "squad"
    doc: int  # which source article, numbered within its stream
    questions: tuple[str, ...] = ()  # SQuAD's answerable questions on this paragraph


@dataclass
class Corpus:
    """The generated articles."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # bytes per article
    paragraphs: list[int] = field(default_factory=list)  # paragraphs per article
    squad_questions: list[str] = field(default_factory=list)  # about paragraphs the corpus holds
    source_paragraphs: int = 0
    used_paragraphs: int = 0


@dataclass
class Split:
    """Seconds spent in each stage of one `index_paths` run, from the wrapped functions."""

    total: float = 0.0
    reading: float = 0.0
    attribution: float = 0.0
    units: float = 0.0
    embedding: float = 0.0  # every Embedder.encode call, wherever index_paths or the store makes it
    replace: float = 0.0  # Store.replace_documents, with any encodes it makes itself
    embedding_in_replace: float = 0.0
    cpu_total: float = 0.0  # process CPU seconds (every thread): less sensitive to other work on the machine
    cpu_embedding: float = 0.0
    unit_count: int = 0
    indexed: int = 0

    @property
    def writes(self) -> float:
        return max(self.replace - self.embedding_in_replace, 0.0)

    @property
    def other(self) -> float:
        """Main-thread time outside reading, embedding and writes: mostly waiting for the parser thread."""
        return max(self.total - self.reading - self.embedding - self.writes, 0.0)

    @property
    def rate(self) -> float:
        return self.unit_count / self.total if self.total else 0.0


@dataclass
class Asks:
    """Timed asks on one store, in milliseconds, with how many were answered rather than abstained."""

    label: str
    ms: list[float] = field(default_factory=list)
    answered: int = 0
    warm_s: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95(self) -> float:
        return p95(self.ms)


@dataclass
class Result:
    corpus: Corpus | None = None
    build: Split | None = None
    raw_s: float = 0.0
    raw_cpu: float = 0.0
    raw_units: int = 0
    reindex_s: float = 0.0
    reindex_skipped: int = 0
    reindex_indexed: int = 0
    questions: int = 0
    warmup: int = 0
    question_mix: str = ""
    examples: list[str] = field(default_factory=list)
    local: Asks | None = None
    seed_local: Asks | None = None
    server_build: Split | None = None
    server: Asks | None = None
    seed_server: Asks | None = None
    server_note: str = ""
    store_bytes: int = 0
    server_bytes: int = 0
    server_hwm_kb: int | None = None
    peak_rss_kb: int = 0
    peak_rss_end_kb: int = 0
    load_asks: float = 0.0
    load_end: float = 0.0
    total_s: float = 0.0


# --------------------------------------------------------------------------- progress


def note(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20, method="inclusive")[-1] if len(xs) > 1 else xs[0]


# --------------------------------------------------------------------------- the corpus


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, each joined to one line."""
    return [" ".join(b.split()) for b in re.split(r"\n\s*\n", text) if b.strip()]


def polnear_stream(folder: Path) -> list[Para]:
    """PolNeAR's dev articles, body paragraphs in file order, with titles and authors from metadata.tsv."""
    text_dir = folder / "text"
    files = sorted(text_dir.glob("*.txt"))
    if not files:
        raise BenchError(f"{text_dir}: no .txt articles; pass the shared folder with --shared")
    meta: dict[str, dict] = {}
    tsv = folder / "metadata.tsv"
    if tsv.is_file():
        lines = tsv.read_text(encoding="utf-8").splitlines()
        head = lines[0].split("\t") if lines else []
        for ln in lines[1:]:
            row = dict(zip(head, ln.split("\t")))
            if row.get("filename"):
                meta[row["filename"]] = row
    out = []
    for doc, f in enumerate(files):
        blocks = _paragraphs(f.read_text(encoding="utf-8"))
        if len(blocks) < 2:
            continue
        row = meta.get(f.stem, {})
        author = row.get("author") or None
        if author in ("None", ""):
            author = None
        title = row.get("title") or blocks[0]
        out += [Para(b, title, author, "polnear", doc) for b in blocks[1:]]
    return out


def squad_stream(path: Path) -> list[Para]:
    """SQuAD 2.0's paragraphs in file order, each with its answerable questions."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError) as exc:
        raise BenchError(f"{path}: not a SQuAD 2.0 JSON file ({exc})") from exc
    out = []
    for doc, art in enumerate(data):
        title = art["title"].replace("_", " ")
        for p in art["paragraphs"]:
            qs = tuple(q["question"].strip() for q in p.get("qas", ()) if not q.get("is_impossible"))
            out.append(Para(" ".join(p["context"].split()), title, None, "squad", doc, qs))
    return out


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "article"


def _run_len(stream: list[Para], start: int) -> int:
    """Paragraphs from start to the end of its source article."""
    end = start
    while end < len(stream) and stream[end].doc == stream[start].doc:
        end += 1
    return end - start


def _run_chars(stream: list[Para], start: int) -> int:
    return sum(len(p.text) + 2 for p in stream[start:start + _run_len(stream, start)])


def generate(n: int, folder: Path, streams: dict[str, list[Para]], seed: int = SEED) -> Corpus:
    """Write n articles of consecutive source paragraphs, each a distinct run, deterministically."""
    rng = random.Random(seed)
    corpus = Corpus(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted(streams)
    weights = [sum(len(p.text) for p in streams[s]) for s in names]  # by size: PolNeAR is the larger
    corpus.source_paragraphs = sum(len(v) for v in streams.values())
    taken: set[tuple[str, int]] = set()
    texts: set[str] = set()
    used = 0
    for i in range(n):
        target = rng.uniform(*ARTICLE_CHARS)
        for _attempt in range(50):  # a distinct starting paragraph, while there are any left
            name = rng.choices(names, weights)[0]
            stream = streams[name]
            start = rng.randrange(len(stream))
            # Back up within the source article until the rest of it holds the article: a generated article
            # crosses into the next source article only when its source is too short.
            while (start > 0 and stream[start - 1].doc == stream[start].doc
                   and _run_chars(stream, start) < target and _run_len(stream, start) < PARAGRAPHS[1]):
                start -= 1
            if (name, start) not in taken:
                break
        taken.add((name, start))
        paras: list[Para] = []
        size = 0
        while len(paras) < PARAGRAPHS[1]:
            p = stream[(start + len(paras)) % len(stream)]
            # Past the minimum, an article ends at its size, or where its source article ends if that is
            # long enough.
            if len(paras) >= PARAGRAPHS[0] and (size >= target or size + len(p.text) > ARTICLE_CHARS[1]
                                                or p.doc != paras[0].doc and size >= ARTICLE_CHARS[0]):
                break
            paras.append(p)
            size += len(p.text) + 2
        title = paras[0].title
        byline = paras[0].author if name == "polnear" else rng.choice(REPORTERS)
        if byline and rng.random() < 0.25:
            byline = None  # the byline is optional in real news too
        head = [title] + ([f"by {byline}"] if byline else [])
        text = "\n\n".join(head + [p.text for p in paras]) + "\n"
        if text in texts:  # a run drawn twice (a small source, a large N): the same text would be one document
            text = text.replace("\n\n", f" ({i + 1})\n\n", 1)
        texts.add(text)
        path = folder / f"{i + 1:05d}_{_slug(title)}.txt"
        path.write_text(text, encoding="utf-8")
        corpus.files.append(path)
        corpus.sizes.append(len(text.encode("utf-8")))
        corpus.paragraphs.append(len(paras))
        used += len(paras)
        for p in paras:
            corpus.squad_questions += p.questions
    corpus.used_paragraphs = used
    corpus.squad_questions = list(dict.fromkeys(corpus.squad_questions))
    return corpus


# --------------------------------------------------------------------------- indexing, timed


@contextlib.contextmanager
def timed_stages(store, split: Split, captured: list | None = None):
    """Time the stages of `index_paths` by wrapping what it calls, in this process and only inside the block.

    The wrappers add a clock read per call and change nothing else. `captured` collects every article's units.
    """
    import assistant.indexing as ix

    saved = {name: getattr(ix, name) for name in ("load_document", "attribute", "build_units")}

    def clocked(fn, stage: str):
        def wrapped(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(split, stage, getattr(split, stage) + time.perf_counter() - t)
        return wrapped

    def units(*args, **kwargs):
        out = saved["build_units"](*args, **kwargs)
        split.unit_count += len(out)
        if captured is not None:
            captured.append(out)
        return out

    inside = [False]  # within replace_documents: an encode there is embedding, not a Chroma write

    def replace(*args, **kwargs):
        inside[0] = True
        try:
            return type(store).replace_documents(store, *args, **kwargs)
        finally:
            inside[0] = False

    def encode(*args, **kwargs):
        t, c = time.perf_counter(), time.process_time()
        try:
            return type(store.embedder).encode(store.embedder, *args, **kwargs)
        finally:
            dt = time.perf_counter() - t
            split.cpu_embedding += time.process_time() - c
            split.embedding += dt
            if inside[0]:
                split.embedding_in_replace += dt

    ix.load_document = clocked(saved["load_document"], "reading")
    ix.attribute = clocked(saved["attribute"], "attribution")
    ix.build_units = clocked(units, "units")
    # Instance attributes shadow the methods for this store and embedder only; deleted afterwards.
    store.replace_documents = clocked(replace, "replace")
    store.embedder.encode = encode
    try:
        yield split
    finally:
        for name, fn in saved.items():
            setattr(ix, name, fn)
        del store.replace_documents
        del store.embedder.encode


def build(store, files: list[Path], nlp, quiet: bool, captured: list | None = None) -> Split:
    """A first build into a fresh store, with its split."""
    from assistant.indexing import index_paths

    split = Split()
    with timed_stages(store, split, captured):
        t, c = time.perf_counter(), time.process_time()
        report = index_paths(files, store, rebuild=True, progress=not quiet, nlp=nlp)
        split.total = time.perf_counter() - t
        split.cpu_total = time.process_time() - c
    if report.failed:
        raise BenchError(f"indexing failed for {len(report.failed)} article(s), first {report.failed[0][0]}: "
                         f"{report.failed[0][1]}")
    split.indexed = len(report.indexed)
    return split


def raw_encode(embedder, texts: list[str], batch_size: int, quiet: bool) -> tuple[float, float]:
    """Wall and CPU seconds to encode the texts with the Embedder alone, as the build's vectors are made."""
    t, c = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), RAW_CHUNK):
        embedder.encode(texts[i:i + RAW_CHUNK], batch_size=batch_size)
        done = min(i + RAW_CHUNK, len(texts))
        el = time.perf_counter() - t
        note(f"  raw encode {done:,}/{len(texts):,} units, {done / el:,.0f} units/s", quiet)
    return time.perf_counter() - t, time.process_time() - c


def du(path: Path) -> int:
    """Bytes on disk under a folder, as du counts them (allocated blocks)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
            except OSError:
                continue
    return total


# --------------------------------------------------------------------------- questions


def speaker_name(label: str) -> str | None:
    """A name to ask about from a speaker label: "Republican nominee Gov. Mike Pence (R-IN)" -> "Mike Pence"."""
    head = re.sub(r"\([^)]*\)", " ", label.split(",")[0]).strip().rstrip(".")
    words = head.split()
    if not words or words[0].lower() in ("the", "a", "an", "one", "some", "another"):
        return None
    run: list[str] = []
    for w in reversed(words):  # the trailing capitalised words, without a title such as "Gov."
        if not _NAME_WORD.fullmatch(w):
            break
        run.insert(0, w)
        if len(run) == 2:
            break
    return " ".join(run) or None


def make_questions(captured: list, squad_questions: list[str], n: int, warm: int,
                   seed: int = SEED) -> tuple[list[str], list[str], set[str]]:
    """(n timed questions, `warm` others for the warm-up, those about speakers): half of each list about
    quoted speakers, half SQuAD's, while there are enough of both."""
    from assistant.retrieval import QUESTION_VERBS, STOPWORDS

    rng = random.Random(seed + 1)
    by_name: dict[str, list] = {}
    for units in captured:
        for u in units:
            if u.kind != "quote" or u.source_type in ("author", "anonymous source"):
                continue
            name = speaker_name(u.speaker)
            if name:
                by_name.setdefault(name, []).append(u)
    speaker_qs = []
    for name in rng.sample(sorted(by_name), len(by_name)):
        u = rng.choice(by_name[name])
        words = list(dict.fromkeys(w for w in _WORD.findall(u.text)
                                   if len(w) >= 4 and w.lower() not in STOPWORDS and w.lower() not in QUESTION_VERBS))
        if len(words) >= 2:
            pick = sorted(rng.sample(range(len(words)), 2))
            speaker_qs.append(f"What did {name} say about {words[pick[0]]} {words[pick[1]]}?")
    squad_qs = rng.sample(squad_questions, len(squad_questions))
    about = set(speaker_qs)

    def take(k: int) -> list[str]:
        want = min(len(speaker_qs), max(k - len(squad_qs), (k + 1) // 2))
        out = speaker_qs[:want] + squad_qs[:k - want]
        del speaker_qs[:want], squad_qs[:k - want]
        rng.shuffle(out)
        return out

    timed = take(n)
    return timed, take(warm), about


# --------------------------------------------------------------------------- asking


def time_asks(pairs: list[tuple[Asks, object]], warmup: list[str], questions: list[str], quiet: bool) -> None:
    """Warm each assistant as the app does, then time each question once per assistant, interleaved."""
    from assistant.errors import QuestionError

    for asks, assistant in pairs:
        t = time.perf_counter()
        assistant.warm()
        assistant.warm_words()
        for q in warmup:
            assistant.ask(q)
        asks.warm_s = time.perf_counter() - t
        note(f"  {asks.label}: warmed up in {asks.warm_s:.1f} s", quiet)
    for i, q in enumerate(questions, 1):
        for asks, assistant in pairs:
            t = time.perf_counter()
            try:
                answer = assistant.ask(q)
                answered = not answer.abstained
            except QuestionError:
                answered = False
            asks.ms.append((time.perf_counter() - t) * 1000)
            asks.answered += answered
        if i % 10 == 0 or i == len(questions):
            note("  " + ", ".join(f"{a.label} median {a.median:.0f} ms" for a, _ in pairs)
                 + f" after {i}/{len(questions)}", quiet)


# --------------------------------------------------------------------------- the Chroma server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """`chroma run` on a free local port; a context manager that always stops it."""

    def __init__(self, data: Path, log_path: Path):
        exe = Path(sys.executable).parent / "chroma"
        if not exe.is_file():
            raise BenchError(f"{exe}: not found (chromadb's CLI); install chromadb in this Python or pass "
                             "--skip-server")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        try:
            self.proc = subprocess.Popen([str(exe), "run", "--path", str(data), "--host", "127.0.0.1",
                                          "--port", str(self.port)], stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT)
        except OSError as exc:
            self._log.close()
            raise BenchError(f"cannot start {exe}: {exc}") from exc

    def __enter__(self) -> "ChromaServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f"; its log ends: {lines[-1][:200]}" if lines else ""

    def wait(self, timeout: float) -> float:
        """Seconds until /api/v2/heartbeat answers; BenchError if the server exits or never answers."""
        url = f"http://{self.host}/api/v2/heartbeat"
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise BenchError(f"chroma run exited with status {self.proc.returncode}{self._tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise BenchError(f"no answer from {url} within {timeout:.0f} s{self._tail()}")

    def hwm_kb(self) -> int | None:
        """The server's peak RSS (VmHWM), while it runs."""
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return None

    def stop(self) -> None:
        """Terminate the server, then kill it if it lingers; safe to call twice."""
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(STOP_GRACE_S)
        finally:
            self._log.close()


# --------------------------------------------------------------------------- report


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def format_report(r: Result, n_articles: int) -> str:
    c, b = r.corpus, r.build
    raw_rate = r.raw_units / r.raw_s if r.raw_s else 0.0
    ratio = b.rate / raw_rate if raw_rate else 0.0
    share = r.reindex_s / b.total if b.total else 0.0
    rows: list[tuple[str, str, str, str]] = [
        (f"first build, {b.unit_count:,} units of {n_articles:,} articles", f"{b.rate:,.0f} u/s", "-", "-"),
        ("raw MiniLM encode of the same units", f"{raw_rate:,.0f} u/s", "-", "-"),
        ("first build rate / raw encode rate", f"{ratio:.2f}", f"≥ {INDEX_RATIO_TARGET:.1f}",
         _met(ratio >= INDEX_RATIO_TARGET)),
        ("re-index, nothing changed / first build", f"{share:.1%}", f"< {REINDEX_TARGET:.0%}",
         _met(share < REINDEX_TARGET)),
    ]

    def ask_rows(where: str, asks: Asks, seed: Asks) -> None:
        q = len(asks.ms)
        rows.append((f"ask median, {where} (of {q})", f"{asks.median:.0f} ms", f"≤ {ASK_TARGET_MS:.0f} ms",
                     _met(asks.median <= ASK_TARGET_MS)))
        rows.append((f"ask p95, {where}", f"{asks.p95:.0f} ms", "-", "-"))
        rel = asks.median / seed.median if seed.median else float("inf")
        rows.append((f"  / same asks on the seed store ({seed.median:.0f} ms)", f"{rel:.2f}x",
                     f"≤ {ASK_RATIO_TARGET:.1f}x", _met(rel <= ASK_RATIO_TARGET)))

    ask_rows("embedded store", r.local, r.seed_local)
    if r.server is not None:
        ask_rows("Chroma server", r.server, r.seed_server)
        sb = r.server_build
        rows.append(("first build into the Chroma server", f"{sb.total:.0f} s", "-", "-"))
    rows.append(("store size on disk (embedded, du)", f"{r.store_bytes / 1e6:.0f} MB", "-", "-"))
    rows.append(("peak RSS of this process, parts 1-3", f"{r.peak_rss_kb * 1024 / 1e9:.2f} GB", "-", "-"))

    w = max(len(m) for m, *_ in rows)
    head = f"{'metric':<{w}}  {'value':>10}  {'target':>8}  result"
    lines = [head, "-" * len(head)]
    lines += [f"{m:<{w}}  {v:>10}  {t:>8}  {ok}" for m, v, t, ok in rows]
    lines.append("")
    kb = sorted(s / 1000 for s in c.sizes)
    lines.append(f"corpus: {len(c.files):,} articles, {sum(c.sizes) / 1e6:.2f} MB, {statistics.mean(kb):.1f} kB "
                 f"each (10-90% {kb[len(kb) // 10]:.1f}-{kb[len(kb) * 9 // 10]:.1f}, min {kb[0]:.1f}, max "
                 f"{kb[-1]:.1f}), {statistics.mean(c.paragraphs):.1f} paragraphs each; {c.used_paragraphs:,} "
                 f"paragraphs drawn from {c.source_paragraphs:,} source paragraphs (each used "
                 f"{c.used_paragraphs / max(c.source_paragraphs, 1):.1f} times on average)")

    def split_line(label: str, s: Split) -> str:
        main = (("reading", s.reading), ("embedding", s.embedding), ("Chroma writes", s.writes),
                ("waiting for the parser, and other", s.other))
        return (f"{label} {s.total:.1f} s = " + ", ".join(f"{n} {v:.1f} s ({v / s.total:.0%})" for n, v in main)
                + f"; beside it, on the parser thread: attribution (spaCy) {s.attribution:.1f} s, units "
                  f"{s.units:.1f} s (measured in the build by wrapping each stage)")

    lines.append(split_line("first build", b))
    emb_rate = b.unit_count / b.embedding if b.embedding else 0.0
    lines.append(f"inside the build, embedding alone ran at {emb_rate:,.0f} u/s ({emb_rate / raw_rate:.2f} of raw), "
                 f"embedding + Chroma writes at {b.unit_count / (b.embedding + b.writes):,.0f} u/s; "
                 f"the raw encode took {r.raw_s:.1f} s")
    if b.cpu_total and r.raw_cpu and b.cpu_embedding:
        cpu_ratio = (b.unit_count / b.cpu_total) / (r.raw_units / r.raw_cpu)
        lines.append(f"by CPU time (all threads of this process; less sensitive to other work on the machine): "
                     f"first build {b.cpu_total:.1f} s, raw encode {r.raw_cpu:.1f} s; build / raw rate "
                     f"{cpu_ratio:.2f}")
    if r.reindex_skipped != n_articles or r.reindex_indexed:
        lines.append(f"re-index: {r.reindex_skipped:,} of {n_articles:,} skipped as unchanged, "
                     f"{r.reindex_indexed:,} indexed again (expected all skipped)")
    lines.append(f"re-index took {r.reindex_s:.2f} s")
    lines.append(f"questions: {r.questions} timed ({r.question_mix}) after {r.warmup} other warm-up ones, "
                 "over the whole store (no doc_id), e.g. " + "; ".join(repr(x) for x in r.examples if x))
    stores = [r.local, r.seed_local] + ([r.server, r.seed_server] if r.server is not None else [])
    lines.append("answered (not abstained): " + ", ".join(f"{a.label} {a.answered}/{len(a.ms)}" for a in stores))
    lines.append("warm-up (warm, warm_words, the warm-up questions): "
                 + ", ".join(f"{a.label} {a.warm_s:.1f} s" for a in stores))
    if r.server is not None:
        lines.append(split_line("server build", r.server_build))
        hwm = f", the server's peak RSS {r.server_hwm_kb * 1024 / 1e9:.2f} GB" if r.server_hwm_kb else ""
        lines.append(f"server data on disk {r.server_bytes / 1e6:.0f} MB{hwm}")
    elif r.server_note:
        lines.append(f"Chroma server skipped: {r.server_note}")
    lines.append(f"peak RSS at the end of the run: {r.peak_rss_end_kb * 1024 / 1e9:.2f} GB (GB = 10^9 bytes)")
    lines.append(f"load average {r.load_asks:.2f} during the embedded asks, {r.load_end:.2f} at the end "
                 f"(1 min) on {os.cpu_count()} cores")
    over = r.total_s > BUDGET_S
    lines.append(f"total run time {r.total_s / 60:.1f} min" + (f" (OVER the {BUDGET_S // 60}-minute budget)"
                                                             if over else ""))
    lines.append("SQuAD 2.0: Rajpurkar, Jia and Liang (2018), CC BY-SA 4.0; PolNeAR: Newell, Margolin and Ruths "
                 "(2018).")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Benchmark scale: build and re-index rate, ask latency over N "
                                            "generated articles (embedded and on a Chroma server), store size "
                                            "and memory.")
    p.add_argument("--articles", type=int, default=1000, metavar="N", help="articles to generate (default 1000)")
    p.add_argument("--questions", type=int, default=50, metavar="Q", help="timed questions (default 50)")
    p.add_argument("--skip-server", action="store_true", help="leave out the Chroma server part")
    p.add_argument("--keep", type=Path, metavar="DIR",
                   help="generate into DIR (new or empty, outside the project) and keep it: articles, stores, logs")
    p.add_argument("--shared", type=Path, default=SHARED, help=f"the shared folder (default {SHARED})")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    """Generate the corpus, measure, print one table; returns the exit status."""
    args = _parser().parse_args(argv)
    offline_environment()
    from assistant.errors import AssistantError

    def terminated(signum, _frame):
        raise KeyboardInterrupt  # so that the Chroma server is stopped and the temporary folder removed

    signal.signal(signal.SIGTERM, terminated)

    try:
        return _run(args)
    except (AssistantError, BenchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _workdir(keep: Path | None):
    """The folder to generate into: a temporary one, or --keep's."""
    if keep is None:
        return tempfile.TemporaryDirectory(prefix="bench-corpus-")
    d = keep.expanduser().resolve()
    if d == ROOT or ROOT in d.parents:
        raise BenchError(f"{d}: inside the project; --keep takes a folder elsewhere, so nothing generated is "
                         "committed")
    if d.exists() and (not d.is_dir() or any(d.iterdir())):
        raise BenchError(f"{d}: exists and is not an empty folder; --keep takes a new or empty one")
    d.mkdir(parents=True, exist_ok=True)
    return contextlib.nullcontext(str(d))


def _run(args) -> int:
    if args.articles < 1:
        raise BenchError("--articles must be at least 1")
    if args.questions < 1:
        raise BenchError("--questions must be at least 1")
    squad_json = args.shared / "squad" / "dev.json"
    polnear = args.shared / "polnear" / "dev"
    for p in (squad_json, polnear):
        if not p.exists():
            raise BenchError(f"{p}: not found; pass the shared folder with --shared")

    from assistant.answer import Assistant
    from assistant.articles import find_article_files
    from assistant.attribution import load_nlp
    from assistant.indexing import index_paths
    from assistant.settings import load_settings
    from assistant.store import Embedder, Store

    started = time.perf_counter()
    q = args.quiet
    # Embedded stores unless we say otherwise: ASSISTANT_CHROMA_HOST must not send them to a server.
    settings = dataclasses.replace(load_settings(), chroma_host=None)
    seeds = find_article_files([settings.seeds_dir]) if settings.seeds_dir.is_dir() else []
    if not seeds:
        raise BenchError(f"{settings.seeds_dir}: no seed articles; set ASSISTANT_SEEDS to a folder of articles")
    workdir = _workdir(args.keep)  # checked before the models load
    note("loading MiniLM and spaCy", q)
    embedder = Embedder(settings.model)
    embedder.encode_one("warm up")
    nlp = load_nlp()
    result = Result()

    with workdir as workname:
        work = Path(workname)
        note(f"generating {args.articles:,} articles in {work / 'articles'}", q)
        streams = {"polnear": polnear_stream(polnear), "squad": squad_stream(squad_json)}
        corpus = result.corpus = generate(args.articles, work / "articles", streams)
        note(f"  {sum(corpus.sizes) / 1e6:.1f} MB, {statistics.mean(corpus.sizes) / 1000:.1f} kB per article", q)

        # 1. The first build, with its split; then the raw encode of the same unit texts.
        note("first build (embedded store)", q)
        store = Store(settings.with_(store_dir=work / "store"), embedder=embedder)
        captured: list = []
        b = result.build = build(store, corpus.files, nlp, q, captured)
        note(f"  {b.total:.1f} s, {b.unit_count:,} units, {b.rate:,.0f} units/s", q)
        texts = [u.text for units in captured for u in units]
        result.raw_units = len(texts)
        if not args.skip_server:
            # The server build repeats the first one; the asks and the raw encode take about one embedding pass.
            est = time.perf_counter() - started + 2 * b.total + b.embedding + 60
            note(f"  the whole run should take about {est / 60:.0f} min"
                 + (f": over the {BUDGET_S // 60}-minute budget" if est > BUDGET_S else ""), q)
        note(f"raw MiniLM encode of the same {len(texts):,} unit texts", q)
        result.raw_s, result.raw_cpu = raw_encode(embedder, texts, settings.embed_batch_size, q)

        # 2. Nothing changed.
        note("re-index, nothing changed", q)
        t = time.perf_counter()
        report = index_paths(corpus.files, store, rebuild=False, progress=not q, nlp=nlp)
        result.reindex_s = time.perf_counter() - t
        result.reindex_skipped, result.reindex_indexed = len(report.skipped), len(report.indexed)
        result.store_bytes = du(work / "store")

        # 3. Asks over the whole corpus, interleaved with a store of the seed articles.
        questions, warmup, about_speakers = make_questions(captured, corpus.squad_questions, args.questions,
                                                           WARMUP_QUESTIONS)
        if not questions:
            raise BenchError(f"no question could be made from {args.articles} articles; generate more with "
                             "--articles")
        result.questions, result.warmup = len(questions), len(warmup)
        n_sp = sum(1 for x in questions if x in about_speakers)
        result.question_mix = f"{n_sp} about quoted speakers, {len(questions) - n_sp} from SQuAD"
        result.examples = [next((x for x in questions if x in about_speakers), ""),
                           next((x for x in questions if x not in about_speakers), "")]
        del captured, texts
        note("seed store", q)
        seed_store = Store(settings.with_(store_dir=work / "seed_store"), embedder=embedder)
        seeded = index_paths(seeds, seed_store, rebuild=True, progress=not q, nlp=nlp)
        if seeded.failed or not seeded.indexed:
            raise BenchError(f"the seed store could not be built from {settings.seeds_dir}: "
                             f"{seeded.failed[0][1] if seeded.failed else 'no articles indexed'}")
        note(f"timing {len(questions)} asks, interleaved with the seed store", q)
        result.local = Asks(f"{args.articles} articles")
        result.seed_local = Asks("seed store")
        seed_assistant = Assistant(seed_store)
        assistant = Assistant(store)
        time_asks([(result.local, assistant), (result.seed_local, seed_assistant)], warmup, questions, q)
        result.load_asks = os.getloadavg()[0]
        result.peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        del assistant, store  # their caches (every unit and vector) are not needed for the server part

        # 4. The same over a Chroma server.
        if args.skip_server:
            result.server_note = "--skip-server"
        else:
            (work / "server").mkdir(exist_ok=True)
            with ChromaServer(work / "server", work / "chroma.log") as server:
                up = server.wait(HEARTBEAT_TIMEOUT_S)
                note(f"Chroma server on {server.host}, heartbeat after {up:.1f} s; indexing the corpus into it", q)
                remote = Store(settings.with_(store_dir=work / "server_client", chroma_host=server.host),
                               embedder=embedder)
                sb = result.server_build = build(remote, corpus.files, nlp, q)
                note(f"  {sb.total:.1f} s, {sb.unit_count:,} units, {sb.rate:,.0f} units/s", q)
                note(f"timing {len(questions)} asks over the server, interleaved with the seed store", q)
                result.server = Asks(f"{args.articles} articles, server")
                result.seed_server = Asks("seed store, again")
                # A fresh seed assistant: its word-vector cache starts as empty as the server assistant's.
                time_asks([(result.server, Assistant(remote)), (result.seed_server, Assistant(seed_store))],
                          warmup, questions, q)
                result.server_hwm_kb = server.hwm_kb()
            result.server_bytes = du(work / "server")
        result.peak_rss_end_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result.load_end = os.getloadavg()[0]
        result.total_s = time.perf_counter() - started

    print(format_report(result, args.articles))
    if args.keep:
        print(f"kept in {args.keep}: articles/, store/, seed_store/" + ("" if args.skip_server else ", server/, "
                                                                           "chroma.log"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
