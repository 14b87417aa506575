"""The corpus: a mixed-format folder (text, Markdown, HTML), globs, incremental re-indexing and pruning,
the `documents` command, the write lock, a real Chroma server, and what a crash mid-document leaves behind.

Everything is real: spaCy, the MiniLM model, Chroma (embedded, and a `chroma run` server). The articles are
small ones invented here, so each store is built in well under a second once the models are loaded.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.answer import Assistant
from assistant.cli import main
from assistant.errors import StoreError
from assistant.indexing import index_paths
from assistant.store import Store

REPO = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- the articles

LIBRARY_TXT = """City Library Extends Weekend Hours

By Marcus Bell
June 3, 2024

The Millbrook public library will stay open until nine in the evening on Saturdays and Sundays starting this summer.

“Families have asked for more weekend time, and we finally have the staff to give it to them,” said head librarian Priya Natarajan.

The change costs about 90,000 dollars a year, which the city council approved on Monday.
"""
OLD_SENTENCE = "The change costs about 90,000 dollars a year, which the city council approved on Monday."
NEW_SENTENCE = "A grant from the Hartley Foundation will pay for the longer hours."
NEW_QUESTION = "Who will pay for the longer library hours?"

ORCHARD_MD = """# Apple Harvest Falls Short After Late Frost

By Helen Ortiz
September 20, 2024

Orchards across the valley picked roughly a third fewer apples this autumn after a late April frost damaged the blossoms.

“We lost almost every blossom on the lower slopes in a single night,” said farmer Tomas Lindqvist, who grows apples near Cedar Ridge.

Cider makers expect prices to rise by the end of the year.
"""

HARBOR_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Harbor Bridge Reopens After Two-Year Repair</title>
<meta name="author" content="Dana Whitfield">
<meta property="article:published_time" content="2024-03-14">
<meta name="date" content="2024-03-14">
<script>var tracker = "analytics-beacon-7731"; window.dataLayer = [];</script>
</head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/subscribe">Subscribe now</a></li>
<li><a href="/sports">Sports</a></li></ul></nav>
<div class="ad">Advertisement: Buy discount kayaks at Paddle Planet today</div>
<article>
<h1>Harbor Bridge Reopens After Two-Year Repair</h1>
<p>The Harbor Bridge in Millbrook reopened to traffic on Thursday after a two-year repair that cost the county 48 million dollars.</p>
<p>Crews replaced the rusted steel deck and rebuilt both approach ramps, according to the county engineering office.</p>
<p>“The bridge will carry twelve thousand cars a day and it is safe for the next fifty years,” said Mayor Elena Ruiz.</p>
<p>Local shop owners said the closure had cut their sales sharply, and several plan to hold a street fair next month.</p>
</article>
<section id="comments"><h3>Comments</h3>
<p class="comment">Great news for the town! Finally I can drive to work again without the detour.</p></section>
<footer><p>© 2024 Millbrook Gazette. All rights reserved.</p></footer>
</body>
</html>
"""
# Page furniture of the HTML page: none of it is part of the story.
FURNITURE = ["Home", "Subscribe", "Sports", "Advertisement", "Paddle Planet", "kayaks", "Comments",
             "Great news for the town", "detour", "All rights reserved", "Millbrook Gazette", "analytics-beacon",
             "dataLayer", "tracker", "<", ">"]
RUIZ_WORDS = "The bridge will carry twelve thousand cars a day and it is safe for the next fifty years"
RUIZ_QUESTION = "What did Mayor Ruiz say about the bridge?"

# Questions with an answer in the small corpus, for comparing two stores.
QUESTIONS = [
    RUIZ_QUESTION,
    "What did Natarajan say?",
    "What did Tomas Lindqvist say about the blossoms?",
    "Why is the library open longer on weekends?",
]


def write_corpus(root: Path) -> Path:
    """news/library.txt, news/sub/orchard.md, news/sub/harbor.html, and a file that is no article."""
    news = root / "news"
    (news / "sub").mkdir(parents=True)
    (news / "library.txt").write_text(LIBRARY_TXT, encoding="utf-8")
    (news / "sub" / "orchard.md").write_text(ORCHARD_MD, encoding="utf-8")
    (news / "sub" / "harbor.html").write_text(HARBOR_HTML, encoding="utf-8")
    (news / "sub" / "figures.csv").write_text("year,cars\n2024,12000\n", encoding="utf-8")
    return news


def sources(news: Path) -> dict[str, str]:
    """File name -> the source path the index records for it."""
    return {name: str((news / rel).resolve()) for name, rel in
            [("library.txt", "library.txt"), ("orchard.md", "sub/orchard.md"), ("harbor.html", "sub/harbor.html")]}


def reopen(store: Store) -> Store:
    """The same store as a new process sees it: no cached reads."""
    return Store(store.settings, embedder=store.embedder)


def stored_ids(store: Store, doc_id: str) -> list[str]:
    """Unit ids physically in the collection for a doc_id, served or not."""
    return store.collection.get(where={"doc_id": doc_id}, include=[])["ids"]


def by_source(store: Store) -> dict[str, str]:
    """source -> doc_id of every served document (fails on two documents for one source)."""
    out: dict[str, str] = {}
    for d, info in store.documents().items():
        src = info.source
        assert src not in out, f"two served documents for {src}: {out[src]} and {d}"
        out[src] = d
    return out


def file_slice(document: str, start: int, end: int) -> str:
    with open(document, encoding="utf-8") as fh:
        return fh.read()[start:end]


def quote_keys(answer) -> list[tuple]:
    return [(q.text, q.speaker, q.source_type, q.start, q.end, Path(q.document).name) for q in answer.quotes]


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The small folder, shared by the tests that only read it."""
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def built(corpus, settings, embedder, nlp, tmp_path_factory):
    """An embedded store built from the folder: (store, report). Read-only for the tests that use it."""
    s = settings.with_(store_dir=tmp_path_factory.mktemp("embedded") / "chroma")
    store = Store(s, embedder=embedder)
    report = index_paths([corpus], store, progress=False, nlp=nlp)
    return store, report


@pytest.fixture
def fresh(tmp_path, settings, embedder, nlp):
    """A private copy of the folder and an empty store, for tests that change them."""
    news = write_corpus(tmp_path)
    return news, Store(settings.with_(store_dir=tmp_path / "chroma"), embedder=embedder)


# --------------------------------------------------------------------------- 1. a mixed-format folder

def test_mixed_folder_indexes_each_article_once(built, corpus):
    store, report = built
    src = sources(corpus)
    assert report.failed == []
    assert sorted(report.indexed) == sorted(src.values())  # the .csv is no article
    assert report.skipped == [] and report.pruned == []
    docs = store.documents()
    assert len(docs) == 3
    assert sorted(info.source for info in docs.values()) == sorted(src.values())
    assert report.units == len(store.all_units()) == store.count()


def test_no_page_furniture_reaches_the_index(built):
    store, _ = built
    units = store.all_units()
    assert units
    for u in units:
        for junk in FURNITURE:
            assert junk not in u.text, (junk, u)
    for d, info in store.documents().items():
        text = store.document_text(d)
        for junk in FURNITURE:
            assert junk not in text, (junk, info.source)
    # ... while the story itself is all there, paragraph by paragraph.
    html = next(d for d, info in store.documents().items() if info.source.endswith("harbor.html"))
    texts = " ".join(u.text for u in units if u.doc_id == html)
    for words in ["The Harbor Bridge in Millbrook reopened to traffic on Thursday",
                  "Crews replaced the rusted steel deck", RUIZ_WORDS,
                  "Local shop owners said the closure had cut their sales sharply"]:
        assert words in texts, words


def test_records_carry_title_author_and_date(built, corpus):
    store, _ = built
    src = sources(corpus)
    recs = {Path(info.source).name: info for info in store.documents().values()}
    html = recs["harbor.html"]
    assert html.title == "Harbor Bridge Reopens After Two-Year Repair"
    assert html.author == "Dana Whitfield"
    assert html.date == "2024-03-14"
    assert html.source == src["harbor.html"]
    # The HTML becomes canonical text kept with the store; the offsets refer to that file.
    path = Path(html.path)
    assert path.suffix == ".txt"
    assert path.resolve().is_relative_to(store.documents_dir.resolve())
    assert path.read_text(encoding="utf-8") == store.document_text(html.doc_id)

    assert (recs["library.txt"].title, recs["library.txt"].author, recs["library.txt"].date) == \
        ("City Library Extends Weekend Hours", "Marcus Bell", "June 3, 2024")
    assert recs["library.txt"].path == src["library.txt"]
    assert (recs["orchard.md"].title, recs["orchard.md"].author, recs["orchard.md"].date) == \
        ("Apple Harvest Falls Short After Late Frost", "Helen Ortiz", "September 20, 2024")


def test_every_unit_is_a_slice_of_its_document_file(built):
    store, _ = built
    docs = store.documents()
    units = reopen(store).all_units()
    assert {u.doc_id for u in units} == set(docs)
    texts: dict[str, str] = {}
    for u in units:
        assert u.document == docs[u.doc_id].path
        assert Path(u.document).is_file(), u.document
        if u.document not in texts:
            with open(u.document, encoding="utf-8") as fh:
                texts[u.document] = fh.read()
        assert texts[u.document][u.start:u.end] == u.text, u
    for d, info in docs.items():
        assert store.document_text(d) == texts[info.path]
        assert info.units == sum(1 for u in units if u.doc_id == d)


def test_ask_quotes_the_html_article_with_its_speaker(built):
    store, _ = built
    html = next(info for info in store.documents().values() if info.source.endswith("harbor.html"))
    ans = Assistant(store).ask(RUIZ_QUESTION)
    assert not ans.abstained
    first = ans.quotes[0]
    assert RUIZ_WORDS in first.text
    assert "Elena Ruiz" in first.speaker
    assert first.document == html.path
    assert file_slice(first.document, first.start, first.end) == first.text


@pytest.mark.parametrize("pattern, names", [
    ("**/*.txt", ["library.txt"]),
    ("**/*.md", ["orchard.md"]),
    ("sub/*.htm*", ["harbor.html"]),
    ("**/*", ["harbor.html", "library.txt", "orchard.md"]),
])
def test_a_glob_indexes_only_the_files_it_matches(corpus, settings, embedder, nlp, tmp_path, pattern, names):
    store = Store(settings.with_(store_dir=tmp_path / "chroma"), embedder=embedder)
    report = index_paths([f"{corpus}/{pattern}"], store, progress=False, nlp=nlp)
    src = sources(corpus)
    assert report.failed == []
    assert sorted(report.indexed) == sorted(src[n] for n in names)
    assert sorted(info.source for info in store.documents().values()) == sorted(src[n] for n in names)
    assert {u.doc_id for u in store.all_units()} == set(store.documents())


# --------------------------------------------------------------------------- 2. incremental indexing

def test_reindexing_an_unchanged_folder_skips_every_document(fresh, nlp):
    news, store = fresh
    first = index_paths([news], store, progress=False, nlp=nlp)
    assert len(first.indexed) == 3
    docs, count = store.documents(), store.count()

    again = index_paths([news], reopen(store), progress=False, nlp=nlp)
    assert again.indexed == []
    assert sorted(again.skipped) == sorted(sources(news).values())
    assert again.units == 0 and again.failed == [] and again.pruned == []
    later = reopen(store)
    assert later.count() == count
    assert set(later.documents()) == set(docs)


def test_an_edited_file_replaces_its_old_version(fresh, nlp):
    news, store = fresh
    index_paths([news], store, progress=False, nlp=nlp)
    src = sources(news)
    old_id = by_source(store)[src["library.txt"]]
    others = {s: d for s, d in by_source(store).items() if s != src["library.txt"]}

    lib = news / "library.txt"
    lib.write_text(LIBRARY_TXT.replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    report = index_paths([news], reopen(store), progress=False, nlp=nlp)
    assert report.indexed == [src["library.txt"]]
    assert sorted(report.skipped) == sorted(others)

    store = reopen(store)
    now = by_source(store)
    new_id = now[src["library.txt"]]
    assert new_id != old_id
    assert old_id not in store.documents()
    assert {s: d for s, d in now.items() if s != src["library.txt"]} == others
    # Nothing of the old version is left, served or not.
    assert stored_ids(store, old_id) == []
    units = store.all_units()
    assert not [u for u in units if u.doc_id == old_id]
    assert not [u for u in units if "90,000 dollars" in u.text]
    assert any(u.text == NEW_SENTENCE and u.doc_id == new_id for u in units)
    for u in units:
        assert file_slice(u.document, u.start, u.end) == u.text

    ans = Assistant(store).ask(NEW_QUESTION)
    assert not ans.abstained
    assert ans.quotes[0].text == NEW_SENTENCE
    assert file_slice(ans.quotes[0].document, ans.quotes[0].start, ans.quotes[0].end) == NEW_SENTENCE


def test_a_deleted_file_stays_until_pruned(fresh, nlp):
    news, store = fresh
    index_paths([news], store, progress=False, nlp=nlp)
    src = sources(news)
    ids = by_source(store)
    orchard, harbor = ids[src["orchard.md"]], ids[src["harbor.html"]]
    (news / "sub" / "orchard.md").unlink()
    (news / "sub" / "harbor.html").unlink()

    kept = index_paths([news], reopen(store), progress=False, nlp=nlp)
    assert kept.pruned == [] and kept.indexed == []
    assert kept.skipped == [src["library.txt"]]
    store = reopen(store)
    assert {orchard, harbor} <= set(store.documents())
    assert {orchard, harbor} <= {u.doc_id for u in store.all_units()}

    report = index_paths([news], reopen(store), progress=False, nlp=nlp, prune=True)
    assert sorted(report.pruned) == sorted([src["orchard.md"], src["harbor.html"]])
    assert report.indexed == []
    store = reopen(store)
    assert set(store.documents()) == {ids[src["library.txt"]]}
    assert {u.doc_id for u in store.all_units()} == {ids[src["library.txt"]]}
    assert stored_ids(store, orchard) == [] and stored_ids(store, harbor) == []
    ans = Assistant(store).ask(RUIZ_QUESTION)
    assert all("Ruiz" not in q.speaker for q in ans.quotes)


def test_prune_keeps_articles_outside_the_paths_given(fresh, nlp):
    news, store = fresh
    index_paths([news], store, progress=False, nlp=nlp)
    # Pruning with a subfolder leaves the articles outside it alone: their files are still there.
    report = index_paths([news / "sub"], reopen(store), progress=False, nlp=nlp, prune=True)
    assert report.pruned == []
    assert len(reopen(store).documents()) == 3


def test_identical_copies_are_skipped_when_unchanged(fresh, nlp):
    news, store = fresh
    shutil.copy(news / "library.txt", news / "sub" / "library-copy.txt")
    index_paths([news], store, progress=False, nlp=nlp)
    for _ in range(2):
        again = index_paths([news], reopen(store), progress=False, nlp=nlp)
        assert again.indexed == [], again


# --------------------------------------------------------------------------- 3. the documents command

def test_documents_json_lists_every_document(capsys, cli_env, built, corpus):
    store, _ = built
    code, out, err = run(capsys, ["documents", "--store", str(store.settings.store_dir), "--json"])
    assert code == 0, err
    rows = [json.loads(line) for line in out.strip().splitlines()]
    docs = store.documents()
    assert len(rows) == 3
    assert {r["id"] for r in rows} == set(docs)
    units = store.all_units()
    for r in rows:
        assert set(r) >= {"id", "title", "author", "date", "units", "source"}
        info = docs[r["id"]]
        assert (r["title"], r["author"], r["date"], r["source"]) == \
            (info.title, info.author, info.date, info.source)
        assert r["units"] == sum(1 for u in units if u.doc_id == r["id"]) > 0
    html = next(r for r in rows if r["source"].endswith("harbor.html"))
    assert (html["title"], html["author"], html["date"]) == \
        ("Harbor Bridge Reopens After Two-Year Repair", "Dana Whitfield", "2024-03-14")
    assert html["source"] == sources(corpus)["harbor.html"]


@pytest.mark.parametrize("ref", ["harbor.html", "{corpus}/sub/harbor.html"])
def test_ask_document_accepts_the_html_file_it_was_indexed_from(capsys, cli_env, built, corpus, ref):
    store, _ = built
    code, out, err = run(capsys, ["ask", RUIZ_QUESTION, "--store", str(store.settings.store_dir), "--json",
                                  "--document", ref.format(corpus=corpus)])
    assert code == 0, err
    ans = json.loads(out)
    assert ans["quotes"] and RUIZ_WORDS in ans["quotes"][0]["text"]


# --------------------------------------------------------------------------- 4. the write lock

HOLDER = """
import sys, time
from pathlib import Path
from assistant.settings import Settings
from assistant.store import Store
with Store(Settings().with_(store_dir=Path(sys.argv[1]))).writing():
    time.sleep(float(sys.argv[2]))
"""


def test_a_second_writer_is_refused_while_another_process_indexes(fresh, nlp, capsys, cli_env, tmp_path):
    news, store = fresh
    store_dir = store.settings.store_dir
    lock = store_dir / "write.lock"
    log = open(tmp_path / "holder.log", "w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(store_dir), "60"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text(encoding="utf-8").strip() == f"process {proc.pid}"):
            assert proc.poll() is None, (tmp_path / "holder.log").read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.05)

        with pytest.raises(StoreError, match="is being indexed") as info:
            index_paths([news], store, progress=False, nlp=nlp)
        assert f"process {proc.pid}" in str(info.value)
        assert str(store_dir) in str(info.value)

        code, out, err = run(capsys, ["index", str(news), "--store", str(store_dir)])
        assert code == 1
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("error: ") and "is being indexed" in lines[0] and str(store_dir) in lines[0]
        assert "Traceback" not in err
        assert reopen(store).documents() == {}  # the refused writers wrote nothing
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

    report = index_paths([news], reopen(store), progress=False, nlp=nlp)
    assert len(report.indexed) == 3
    code, _, err = run(capsys, ["index", str(news), "--store", str(store_dir)])
    assert code == 0, err
    assert "3 unchanged" in err


def test_the_lock_is_per_store_and_released_after_use(fresh, nlp, settings, embedder, tmp_path):
    news, store = fresh
    other = Store(settings.with_(store_dir=tmp_path / "other"), embedder=embedder)
    with store.writing():
        with pytest.raises(StoreError, match="is being indexed"):
            index_paths([news], reopen(store), progress=False, nlp=nlp)
        # Another store is not blocked.
        assert len(index_paths([news / "library.txt"], other, progress=False, nlp=nlp).indexed) == 1
    assert len(index_paths([news], store, progress=False, nlp=nlp).indexed) == 3


# --------------------------------------------------------------------------- 5. a Chroma server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """`chroma run` on a free port in a temporary folder; its "HOST:PORT"."""
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.skip(f"{exe} is not installed")
    root = tmp_path_factory.mktemp("server")
    port = _free_port()
    log = open(root / "server.log", "w", encoding="utf-8")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([str(exe), "run", "--path", str(root / "data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"chroma exited ({proc.returncode}): {(root / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"chroma did not answer within 30 s: {(root / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def served(chroma_server, corpus, settings, embedder, nlp, tmp_path_factory):
    """The folder indexed into the server: (store, report)."""
    s = settings.with_(chroma_host=chroma_server, store_dir=tmp_path_factory.mktemp("client") / "chroma")
    store = Store(s, embedder=embedder)
    report = index_paths([corpus], store, progress=False, nlp=nlp)
    return store, report


def test_server_store_holds_the_same_documents(served, built):
    remote, report = served
    local, _ = built
    assert report.failed == [] and len(report.indexed) == 3
    # Nothing went to an embedded store in the client's folder.
    assert not (remote.settings.store_dir / "chroma.sqlite3").exists()
    strip = lambda docs: {d: dataclasses.replace(info, indexed_at=0.0, path="")  # noqa: E731
                          for d, info in docs.items()}
    assert strip(reopen(remote).documents()) == strip(local.documents())
    assert remote.count() == local.count()
    # (sorted by id: all_units() sorts by document path, and each client keeps HTML text in its own folder)
    assert sorted((u.id, u.text, u.speaker, u.kind, u.start, u.end) for u in reopen(remote).all_units()) == \
        sorted((u.id, u.text, u.speaker, u.kind, u.start, u.end) for u in local.all_units())


def test_server_answers_as_the_embedded_store_does(served, built):
    remote, _ = served
    local, _ = built
    here, there = Assistant(local), Assistant(reopen(remote))
    for q in QUESTIONS:
        a, b = here.ask(q), there.ask(q)
        assert not a.abstained, q
        assert quote_keys(b) == quote_keys(a), q
        for quote in b.quotes:
            assert file_slice(quote.document, quote.start, quote.end) == quote.text


def test_server_document_text_and_local_path(served, settings, embedder, tmp_path):
    remote, _ = served
    html = next(d for d, info in remote.documents().items() if info.source.endswith("harbor.html"))
    text = remote.document_text(html)
    assert RUIZ_WORDS in text and "Advertisement" not in text
    assert remote.local_path(html).read_text(encoding="utf-8") == text
    # Another client, with its own folder and without the indexing client's files, gets the text from the server.
    other = Store(settings.with_(chroma_host=remote.settings.chroma_host, store_dir=tmp_path / "elsewhere"),
                  embedder=embedder)
    assert other.document_text(html) == text
    for d in other.documents():
        assert other.local_path(d).read_text(encoding="utf-8") == other.document_text(d)
    with pytest.raises(StoreError, match="no such document"):
        other.document_text("0000000000000000")


def test_server_reindex_skips_unchanged(served, corpus, nlp):
    remote, _ = served
    count = remote.count()
    report = index_paths([corpus], reopen(remote), progress=False, nlp=nlp)
    assert report.indexed == [] and report.failed == []
    assert sorted(report.skipped) == sorted(sources(corpus).values())
    assert reopen(remote).count() == count


def test_server_cli_ask_and_documents(served, capsys, cli_env):
    remote, _ = served
    host, folder = remote.settings.chroma_host, str(remote.settings.store_dir)
    code, out, err = run(capsys, ["ask", RUIZ_QUESTION, "--chroma-host", host, "--store", folder, "--json"])
    assert code == 0, err
    ans = json.loads(out)
    assert ans["abstained"] is False
    q = ans["quotes"][0]
    assert RUIZ_WORDS in q["text"] and "Elena Ruiz" in q["speaker"]
    assert file_slice(q["document"], q["start"], q["end"]) == q["text"]
    # The seeds were not indexed into the server: a store built from other articles is answered as it is.
    assert len(reopen(remote).documents()) == 3

    code, out, err = run(capsys, ["documents", "--chroma-host", host, "--json"])
    assert code == 0, err
    assert {json.loads(line)["id"] for line in out.strip().splitlines()} == set(remote.documents())


# --------------------------------------------------------------------------- 6. atomicity

GHOST = "0123456789abcdef"
GHOST_TEXT = "The bridge will carry twelve thousand cars a day, the ghost of an unfinished index said."


def _ghost_meta(kind: str, cue: str, start: int, end: int) -> dict:
    return {"doc_id": GHOST, "document": "/nowhere/ghost.txt", "title": "Ghost", "start": start, "end": end,
            "speaker": "Ghost Writer", "source_type": "named source", "kind": kind, "paragraph": 1,
            "sentence": 1, "cue": cue}


def test_units_without_a_record_are_not_served(fresh, nlp):
    news, store = fresh
    index_paths([news], store, progress=False, nlp=nlp)
    # A process killed mid-document: its units are written, its record (the commit point) is not.
    vec = store.embedder.encode_one(GHOST_TEXT)
    store.collection.upsert(ids=[f"{GHOST}:0:5", f"{GHOST}:10:90"], embeddings=[vec, vec],
                            documents=["Ghost", GHOST_TEXT],
                            metadatas=[_ghost_meta("metadata", "title", 0, 5), _ghost_meta("quote", "", 10, 90)])
    store = reopen(store)
    assert len(stored_ids(store, GHOST)) == 2  # they are in the collection...
    assert GHOST not in store.documents()  # ... but not served
    assert not [u for u in store.all_units() if u.doc_id == GHOST]
    hits = store.query(vec, k=100)
    assert hits and not [h for h in hits if h.unit.doc_id == GHOST]
    assert not [u for u in store.header_units(None, "title") if u.doc_id == GHOST]
    ans = Assistant(store).ask(RUIZ_QUESTION)
    assert ans.quotes and all("Ghost" not in q.speaker for q in ans.quotes)
    with pytest.raises(StoreError):
        store.find_document(GHOST)


class _FailingRegistry:
    """The registry collection, whose upsert fails as a full disk would (after the units were written)."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def upsert(self, **kwargs):
        raise OSError(28, "No space left on device")


def test_a_crash_before_the_record_keeps_the_old_version_served(fresh, nlp):
    news, store = fresh
    index_paths([news], store, progress=False, nlp=nlp)
    src = sources(news)["library.txt"]
    old_id = by_source(store)[src]
    old_count = store.count()
    (news / "library.txt").write_text(LIBRARY_TXT.replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")

    crashing = reopen(store)
    crashing.registry._collection = _FailingRegistry(crashing.registry.collection)
    with pytest.raises(StoreError, match="library.txt"):
        index_paths([news], crashing, progress=False, nlp=nlp)

    store = reopen(store)
    assert by_source(store)[src] == old_id
    new_ids = [i for i in store.collection.get(include=[])["ids"] if not i.startswith(old_id + ":")
               and i.split(":")[0] not in store.documents()]
    assert new_ids, "the crash should have left the new version's units in the collection"
    new_id = new_ids[0].split(":")[0]
    assert new_id not in store.documents()
    assert not [u for u in store.all_units() if u.doc_id == new_id or NEW_SENTENCE in u.text]
    hits = store.query(store.embedder.encode_one(NEW_SENTENCE), k=100)
    assert hits and not [h for h in hits if h.unit.doc_id == new_id]
    assert len(store.all_units()) == old_count
    ans = Assistant(store).ask(NEW_QUESTION)
    assert all(NEW_SENTENCE not in q.text for q in ans.quotes)

    # The next run (the lock was released) finishes the job.
    report = index_paths([news], store, progress=False, nlp=nlp)
    assert report.indexed == [src]
    store = reopen(store)
    assert by_source(store)[src] == new_id
    assert stored_ids(store, old_id) == []
    assert any(u.text == NEW_SENTENCE for u in store.all_units())


def test_a_crash_after_the_record_is_repaired_by_the_next_run(fresh, nlp, monkeypatch):
    news, store = fresh
    index_paths([news], store, progress=False, nlp=nlp)
    src = sources(news)["library.txt"]
    (news / "library.txt").write_text(LIBRARY_TXT.replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")

    def interrupted(self, doc_id):  # Ctrl-C between the commit point and dropping the old version
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(Store, "delete_document", interrupted)
        with pytest.raises(KeyboardInterrupt):
            index_paths([news], reopen(store), progress=False, nlp=nlp)

    index_paths([news], reopen(store), progress=False, nlp=nlp)
    store = reopen(store)
    served = [d for d, info in store.documents().items() if info.source == src]
    assert len(served) == 1, served
    for u in store.all_units():
        assert file_slice(u.document, u.start, u.end) == u.text, u


def test_batches_use_every_core_after_a_short_query(settings, monkeypatch):
    """A one-question encode runs on one thread; a later batch must go back to torch's default, not stay at 1
    (the bug: the default was read after the first short query had set it to 1, halving indexing speed)."""
    import torch

    from assistant.store import Embedder

    default = int(subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
                                 capture_output=True, text=True, check=True).stdout)
    seen = []

    class Model:  # stands in for the real model, loaded the real way (on the first encode)
        max_seq_length = 256
        module = None

        def lengths(self, texts):
            return [len(t.split()) for t in texts]

        def encode(self, texts, batch_size, progress=False):
            import numpy as np

            seen.append(torch.get_num_threads())
            return np.zeros((len(texts), 3), dtype=np.float32)

    before = torch.get_num_threads()
    import assistant.minilm

    monkeypatch.setattr(assistant.minilm, "load", lambda name: Model())
    e = Embedder(settings.model, projection=None)  # the stand-in gives 3-d vectors
    try:
        e.encode(["one short question"])
        e.encode([f"unit {i}" for i in range(40)])
        e.encode(["another question"])
        e.encode([f"unit {i}" for i in range(40)])
    finally:
        torch.set_num_threads(before)
    assert seen == [1, default, 1, default]
