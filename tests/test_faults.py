"""Faults: indexing killed mid-way, a damaged or foreign store folder, a Chroma server that goes away.

1. Corruption: garbage, truncated or empty chroma.sqlite3, damaged or deleted vector segments, a registry of
   another model or schema, a foreign folder: a one-line error that says to rebuild, and --rebuild (or ask,
   for an incompatible store) recovers without touching files that are not Chroma's.
2. A real `chroma run` server stopped and restarted under a live Assistant.
3. Kill tests: one driver subprocess imports the project once, then forks one child per kill point. Each
   child runs the real `main(["index", FOLDER, "--store", DIR])` with a hook that SIGKILLs the child itself
   at an exact point (the embedding call, a unit batch write, a document record write or delete); the test
   ids name the points. The test process then opens each killed store and checks that no document is
   half-visible, and that a second indexing run finishes the job. The driver starts with the module and
   runs while sections 1 and 2 do.

For speed, the spaCy pipeline is loaded once and each text is embedded once by the real MiniLM (a memo of
the same model, not a fake); attribution, units and every Chroma read and write are the product's own code.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from assistant import indexing
from assistant.answer import Assistant
from assistant.cli import main
from assistant.errors import StoreError
from assistant.settings import Settings
from assistant.store import REGISTRY_SUFFIX, SCHEMA_VERSION, Embedder, Store

REPO = Path(__file__).resolve().parent.parent
QUESTION = "What did Moolenaar say American companies must do?"
MOOLENAAR = "American companies must do more to comply with the Uyghur Forced Labor Prevention Act"
BATCH = 5  # units per Chroma write in the kill runs: 12-unit articles take three writes each
CHUNK = 2  # documents written together in the kill runs: their units, then their records in one write

# --------------------------------------------------------------------------- a small corpus of our own

ARTICLES = [
    ("harbor", "Harbor Authority Approves New Ferry Terminal", "Maria Lopez", "March 3, 2025",
     "Port director Alan Brooks", "The new terminal will cut waiting times in half for commuters.",
     "We expect the first ferries to dock there next spring.", "city council member Dana Whitfield",
     "The budget for the project has doubled since it was first proposed.",
     "The terminal will replace a pier built in 1962, and it will hold six ferry berths."),
    ("library", "Library Extends Weekend Hours After Petition", "Tom Becker", "April 14, 2025",
     "Head librarian Grace Okafor", "Students told us they had nowhere quiet to study on Sundays.",
     "The extra hours are paid for by a private donation.", "parent organizer Luis Ortega",
     "Our petition gathered more than two thousand signatures in three weeks.",
     "The central library will now open from ten in the morning until eight in the evening on weekends."),
    ("orchard", "Late Frost Damages Apple Orchards in the Valley", "Priya Nair", "May 2, 2025",
     "Farmer Henrik Larsen", "I lost nearly a third of the blossoms in a single night.",
     "We have never seen frost this late in the season.", "agronomist Sofia Reyes",
     "Growers who used wind machines saved most of their crop.",
     "Temperatures fell to minus four degrees shortly before dawn on Tuesday."),
    ("bridge", "Old Rail Bridge to Become a Footpath", "James Whitaker", "June 9, 2025",
     "Transport planner Yuki Tanaka", "Walkers and cyclists will finally have a safe crossing over the river.",
     "The steel is sound, so we can keep the original structure.", "resident Patrick Doyle",
     "The neighborhood has waited twenty years for this crossing.",
     "The bridge carried freight trains until the line closed in 1998."),
    ("vaccine", "Clinic Opens Walk-In Flu Vaccinations", "Amara Osei", "October 1, 2025",
     "Nurse practitioner Helen Cho", "No appointment is needed, and the shot takes about five minutes.",
     "We want to reach older residents before the winter peak.", "health officer Robert Mills",
     "Last winter the hospital ran out of beds during the worst week of the flu season.",
     "The clinic on Market Street will offer the shots on weekdays until December."),
    ("robotics", "High School Robotics Team Wins Regional Title", "Kevin Park", "February 20, 2025",
     "Team captain Nadia Rahman", "We rebuilt the arm three times the night before the final.",
     "Everyone on the team learned to solder this year.", "coach Bernard Fischer",
     "These students taught themselves more than any course could teach them.",
     "The team will travel to the national championship in Houston in April."),
    ("water", "Town Warns of Water Restrictions as Reservoir Falls", "Elena Petrova", "August 18, 2025",
     "Utility manager Omar Haddad", "The reservoir is at its lowest level since records began.",
     "Households should water gardens only in the early morning.", "hydrologist Claire Dubois",
     "Even a wet autumn would not refill the reservoir before next summer.",
     "The reservoir currently holds thirty-eight percent of its capacity."),
    ("museum", "Museum Returns Carved Masks to Their Community", "Samuel Adeyemi", "September 5, 2025",
     "Museum director Ingrid Holm", "These masks were taken without consent, and they belong at home.",
     "The return is the first of several we are preparing.", "community elder Joseph Tallman",
     "Our children will see the masks danced again at the winter ceremony.",
     "The eleven masks had been held in the museum's storage rooms since 1931."),
    ("bakery", "Family Bakery Closes After Ninety Years", "Laura Kim", "January 12, 2025",
     "Owner Frank Esposito", "My grandfather baked the first loaf here in a coal oven.",
     "Rising flour and energy prices made every month harder.", "longtime customer Ruth Feldman",
     "I bought my wedding cake here, and my daughter bought hers here too.",
     "The bakery on Elm Avenue will serve its last customers on Saturday."),
    ("solar", "School District Installs Solar Panels on Twelve Roofs", "Diego Alvarez", "July 22, 2025",
     "District facilities chief Monica Grant", "The panels will cover about forty percent of our electricity.",
     "The savings will go straight back into classrooms.", "physics teacher Arjun Mehta",
     "My students will track the output of the panels as part of their coursework.",
     "Installation on the twelve school roofs is scheduled to finish before classes resume."),
    ("marathon", "City Marathon Draws Record Field", "Hannah Schultz", "November 2, 2025",
     "Race director Carlos Mendes", "We had to close registration a month early this year.",
     "Volunteers will staff water stations every two miles.", "first-time runner Aisha Bello",
     "I started running two years ago to help with my back pain.",
     "More than eighteen thousand runners registered for Sunday's race."),
    ("wetland", "Restored Wetland Brings Back Rare Birds", "Oliver Grant", "December 8, 2025",
     "Ecologist Mei Lin", "We counted bitterns nesting here for the first time in decades.",
     "Restoring the water flow was the key to everything else.", "birdwatcher Thomas Reed",
     "I have walked this marsh every morning for thirty years.",
     "The restoration project reconnected the marsh to the tidal river in 2022."),
]
EDIT = ("\n\u201cWe will publish the full figures next month,\u201d said a spokeswoman for the {key} project. "
        "Officials gave no date for the next review.\n")
EDITED = (0, 5)  # the articles changed between the two runs of the edit scenarios


def article_text(a: tuple) -> str:
    _key, title, author, date, sp1, q1, q2, sp2, q3, fact = a
    return (f"{title}\n\nBy {author}\n\n{date}\n\n"
            f"{fact} The decision followed months of public meetings.\n\n"
            f"\u201c{q1}\u201d said {sp1}. \u201c{q2}\u201d\n\n"
            f"Not everyone agreed with the plan. \u201c{q3}\u201d said {sp2}.\n\n"
            f"{sp1.split()[-1]} said the work would be reviewed again next year.\n")


def edited_text(i: int) -> str:
    return article_text(ARTICLES[i]) + EDIT.format(key=ARTICLES[i][0])


def write_articles(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, a in enumerate(ARTICLES):
        p = folder / f"{i:02d}_{a[0]}.txt"
        p.write_text(article_text(a), encoding="utf-8")
        paths.append(p)
    return paths


# --------------------------------------------------------------------------- shared helpers

class MemoEmbedder(Embedder):
    """The session's real MiniLM, remembering each text's vector: the same vectors, computed once."""

    def __init__(self, base: Embedder):
        super().__init__(base.model_name)
        self.base = base
        self.memo: dict[str, list[float]] = {}

    @property
    def model(self):
        return self.base.model

    def encode(self, texts, batch_size: int = 64, progress: bool = False) -> list[list[float]]:
        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            self.memo.update(zip(todo, self.base.encode(todo, batch_size=batch_size)))
        return [self.memo[t] for t in texts]


@pytest.fixture(scope="module")
def memo(embedder) -> MemoEmbedder:
    return MemoEmbedder(embedder)


def local_settings(store_dir: Path) -> Settings:
    return Settings().with_(store_dir=store_dir, seeds_dir=REPO / "seeds")


def forget_chroma(store_dir: Path) -> None:
    """Close this process's Chroma handle on a folder, as if the process that wrote it had ended."""
    from chromadb.api.shared_system_client import SharedSystemClient

    system = getattr(SharedSystemClient, "_identifier_to_system", {}).pop(str(store_dir), None)
    getattr(SharedSystemClient, "_identifier_to_refcount", {}).pop(str(store_dir), None)
    if system is not None:
        with contextlib.suppress(Exception):
            system.stop()


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def one_error_line(err: str, out: str = "") -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err + out
    return lines[0]


@pytest.fixture
def fast_cli(monkeypatch, memo, nlp, cli_env):
    """main([...]) as a user runs it, but with the session's loaded spaCy pipeline, and the model's vectors
    remembered across tests (the same MiniLM, each text embedded once)."""
    real = Embedder.encode

    def encode(self, texts, batch_size: int = 64, progress: bool = False):
        if self is memo.base or self.model_name != memo.model_name:
            return real(self, texts, batch_size=batch_size, progress=progress)
        return memo.encode(texts, batch_size=batch_size)

    monkeypatch.setattr(Embedder, "encode", encode)
    monkeypatch.setattr(indexing, "load_nlp", lambda: nlp)


# --------------------------------------------------------------------------- store consistency

def check_consistent(store: Store, stale_ok: frozenset[str] = frozenset()) -> dict[str, dict]:
    """No half-visible document: every served document has exactly its units, every served unit is a
    slice of its document's text, and the vector search serves nothing else. Sources in stale_ok may hold
    an older version of a file that has since changed (their units must match the text they were built on).
    Returns the served documents."""
    store.refresh()
    docs = store.documents()
    raw = store.collection.get(include=["metadatas"])
    raw_per_doc = Counter(m["doc_id"] for m in raw["metadatas"])
    texts = {}
    for d, rec in docs.items():
        assert raw_per_doc[d] == rec.units, f"{d} ({rec.path}): {raw_per_doc[d]} units stored, " \
                                               f"record says {rec.units}"
        texts[d] = store.document_text(d)
        source = rec.source
        if str(Path(source).resolve()) not in stale_ok:
            assert Path(rec.path).read_text(encoding="utf-8") == texts[d], f"{d}: stored text is not the file"
    units = store.all_units()
    per_doc = Counter(u.doc_id for u in units)
    assert set(per_doc) <= set(docs), set(per_doc) - set(docs)
    for d, rec in docs.items():
        assert per_doc[d] == rec.units, (d, per_doc[d], rec.units)
    for u in units:
        assert u.text == texts[u.doc_id][u.start:u.end], u.id
        if str(Path(docs[u.doc_id].source).resolve()) not in stale_ok:
            assert u.text == Path(u.document).read_text(encoding="utf-8")[u.start:u.end], u.id
    n = store.count()
    if n:
        hits = store.query(store.embedder.encode_one("What did they say about the plan?"), k=n)
        assert {h.unit.doc_id for h in hits} <= set(docs)
        # nothing unserved is returned, and the served units are reachable by the vector search (HNSW is
        # approximate: after deletions and overwrites a query for every unit comes back some short)
        served = sum(rec.units for rec in docs.values())
        assert 0.8 * served <= len(hits) <= served
    return docs


def check_complete(store: Store, files: list[Path]) -> None:
    docs = check_consistent(store)
    sources = Counter(str(Path(r.source).resolve()) for r in docs.values())
    assert sources == Counter(str(f.resolve()) for f in files), sources
    raw = store.collection.get(include=["metadatas"])
    orphans = Counter(m["doc_id"] for m in raw["metadatas"] if m["doc_id"] not in docs)
    assert not orphans, f"units of no served document left in the store: {dict(orphans)}"


# --------------------------------------------------------------------------- 1. corruption


def build_seed_store(store_dir: Path, memo: Embedder, nlp) -> Store:
    store = Store(local_settings(store_dir), embedder=memo)
    report = indexing.index_paths([REPO / "seeds"], store, progress=False, nlp=nlp)
    assert report.indexed and not report.failed
    return store


def foreign_files(store_dir: Path) -> dict[Path, bytes]:
    """A user's own files beside the store: none of them may be touched."""
    files = {store_dir / "notes.txt": b"my notes, not Chroma's\n",
             store_dir / "photos" / "cat.jpg": b"\xff\xd8\xff\xe0 not really a jpeg",
             store_dir / "backup.sqlite3": b"SQLite format 3\x00 someone else's database"}
    for p, data in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files


def assert_untouched(files: dict[Path, bytes]) -> None:
    for p, data in files.items():
        assert p.is_file(), f"{p} was deleted"
        assert p.read_bytes() == data, f"{p} was changed"


def assert_answers(store_dir: Path) -> None:
    code, out, err = run_cli(["ask", QUESTION, "--json", "--store", str(store_dir)])
    assert code == 0, err
    ans = json.loads(out)
    assert not ans["abstained"], ans
    assert any(MOOLENAAR in q["text"] and "Moolenaar" in q["speaker"] for q in ans["quotes"]), ans
    for q in ans["quotes"]:
        assert q["text"] == Path(q["document"]).read_text(encoding="utf-8")[q["start"]:q["end"]]


def _segments(store_dir: Path) -> list[Path]:
    return [p for p in store_dir.iterdir() if p.is_dir() and len(p.name) == 36 and p.name.count("-") == 4]


def damage(kind: str, store_dir: Path) -> None:
    db = store_dir / "chroma.sqlite3"
    if kind == "garbage-sqlite":
        db.write_bytes(os.urandom(64 * 1024))
    elif kind == "truncated-sqlite":
        data = db.read_bytes()
        db.write_bytes(data[:len(data) // 2])
    elif kind in ("empty-sqlite", "empty-sqlite-alone"):
        db.write_bytes(b"")
    elif kind == "garbage-hnsw-segments":
        segs = _segments(store_dir)
        assert segs
        for seg in segs:
            for f in seg.iterdir():
                f.write_bytes(os.urandom(max(f.stat().st_size, 64)))
    elif kind == "deleted-hnsw-segments":
        segs = _segments(store_dir)
        assert segs
        for seg in segs:
            shutil.rmtree(seg)
    else:  # pragma: no cover
        raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["garbage-sqlite", "truncated-sqlite", "empty-sqlite", "empty-sqlite-alone",
                                  "garbage-hnsw-segments", "deleted-hnsw-segments"])
def test_damaged_store_is_an_error_line_and_rebuild_recovers(kind, tmp_path, memo, nlp, fast_cli):
    store_dir = tmp_path / "chroma"
    if kind == "empty-sqlite-alone":  # no store ever built here: just an empty file of Chroma's name
        store_dir.mkdir()
        (store_dir / "chroma.sqlite3").write_bytes(b"")
    else:
        build_seed_store(store_dir, memo, nlp)
        forget_chroma(store_dir)  # the damage happens while no process has the store open
    mine = foreign_files(store_dir)
    damage(kind, store_dir)

    code, out, err = run_cli(["ask", QUESTION, "--store", str(store_dir)])
    if kind in ("garbage-sqlite", "truncated-sqlite") or code != 0:
        # Chroma cannot read it: one line that says what to do, never a traceback or a wrong answer
        assert code == 1, (code, out, err)
        line = one_error_line(err, out)
        assert "--rebuild" in line, line
        assert str(store_dir) in line, line
        assert out == ""
    else:
        # Chroma copes (an empty file is a new database; lost vector segments are rebuilt): it answers right
        assert MOOLENAAR in out, out
    assert_untouched(mine)

    code, _, err = run_cli(["index", "--rebuild", "--store", str(store_dir)])
    assert code == 0, err
    assert "indexed 1 document(s)" in err, err
    assert_answers(store_dir)
    assert_untouched(mine)
    check_complete(Store(local_settings(store_dir), embedder=memo), sorted((REPO / "seeds").glob("*.txt")))


@pytest.mark.parametrize("field, value", [("model", "some-other-model"), ("schema", SCHEMA_VERSION - 1)])
def test_store_of_another_model_or_schema_is_rebuilt_by_ask(field, value, tmp_path, memo, nlp, fast_cli):
    store_dir = tmp_path / "chroma"
    store = build_seed_store(store_dir, memo, nlp)
    registry = store.client.get_collection(store.settings.collection + REGISTRY_SUFFIX)
    meta = {k: v for k, v in (registry.metadata or {}).items() if not k.startswith("hnsw:")}
    registry.modify(metadata={**meta, field: value})
    stale = Store(local_settings(store_dir), embedder=memo)
    assert stale.manifest()[field] == value
    assert not stale.compatible() and stale.documents() == {}

    assert_answers(store_dir)  # ask finds the store incompatible and rebuilds it from the seeds
    fresh = Store(local_settings(store_dir), embedder=memo)
    assert fresh.compatible()
    assert fresh.manifest()["model"] == fresh._model_key() and fresh.manifest()["schema"] == SCHEMA_VERSION
    check_complete(fresh, sorted((REPO / "seeds").glob("*.txt")))


@pytest.mark.parametrize("rebuild", [False, True], ids=["index", "index-rebuild"])
def test_foreign_directory_keeps_its_files(rebuild, tmp_path, memo, fast_cli):
    store_dir = tmp_path / "my-folder"
    mine = foreign_files(store_dir)
    folder = tmp_path / "articles"
    files = write_articles(folder)[:2]
    argv = ["index", *map(str, files), "--store", str(store_dir)] + (["--rebuild"] if rebuild else [])
    code, _, err = run_cli(argv)
    assert code == 0, err
    assert "indexed 2 document(s)" in err, err
    assert_untouched(mine)
    if rebuild:  # a second --rebuild on a store that now exists
        code, _, err = run_cli(argv)
        assert code == 0, err
        assert "indexed 2 document(s)" in err, err
        assert_untouched(mine)
    check_complete(Store(local_settings(store_dir), embedder=memo), files)
    code, out, err = run_cli(["ask", "What did the port director say about waiting times?", "--json",
                              "--store", str(store_dir)])
    assert code == 0, err
    assert "cut waiting times in half" in out


def test_hard_reset_deletes_only_chroma_files_in_a_foreign_directory(tmp_path, memo, fast_cli):
    """A folder Chroma cannot open (a garbage chroma.sqlite3) that also holds a user's own folder whose name
    happens to be a UUID, like Chroma's segment folders: --rebuild may delete Chroma's files only."""
    store_dir = tmp_path / "exports"
    mine = foreign_files(store_dir)
    uuid_dir = store_dir / "3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
    mine[uuid_dir / "holiday.txt"] = b"a user's file in a UUID-named folder\n"
    uuid_dir.mkdir()
    (uuid_dir / "holiday.txt").write_bytes(mine[uuid_dir / "holiday.txt"])
    (store_dir / "chroma.sqlite3").write_bytes(os.urandom(4096))
    files = write_articles(tmp_path / "articles")[:1]
    code, _, err = run_cli(["index", str(files[0]), "--rebuild", "--store", str(store_dir)])
    assert code == 0, err
    assert_untouched({p: d for p, d in mine.items() if uuid_dir not in p.parents})
    assert_untouched(mine)


# --------------------------------------------------------------------------- 2. Chroma server gone

class ChromaServer:
    def __init__(self, path: Path, log: Path):
        self.path, self.log = path, log
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = Path(sys.executable).with_name("chroma")
        if not exe.exists():
            pytest.skip(f"{exe} is not installed")
        with open(self.log, "ab") as fh:
            self.proc = subprocess.Popen([str(exe), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                          "--port", str(self.port)], stdout=fh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chroma run exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://{self.host}/api/v2/heartbeat", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"chroma run did not answer in 60 s: {self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


SERVER_QUESTIONS = {
    "quote": ("What did the port director say about waiting times?", "cut waiting times in half"),
    "byline": ("Who wrote the article?", "Maria Lopez"),
}


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory, memo, nlp):
    tmp = tmp_path_factory.mktemp("server")
    server = ChromaServer(tmp / "data", tmp / "chroma.log")
    server.start()
    try:
        files = write_articles(tmp / "articles")[:3]
        store = Store(local_settings(tmp / "local").with_(chroma_host=server.host), embedder=memo)
        report = indexing.index_paths(files, store, progress=False, nlp=nlp)
        assert len(report.indexed) == 3, report
        yield server
    finally:
        server.stop()


@pytest.fixture
def server_up(chroma_server):
    if not chroma_server.running:
        chroma_server.start()
    yield chroma_server
    if not chroma_server.running:  # leave it up for the next test
        chroma_server.start()


def server_assistant(server: ChromaServer, memo, tmp_path) -> Assistant:
    return Assistant(Store(local_settings(tmp_path / "local").with_(chroma_host=server.host), embedder=memo))


def assert_server_answer(a: Assistant, which: str) -> None:
    question, expected = SERVER_QUESTIONS[which]
    ans = a.ask(question)
    assert not ans.abstained, ans
    assert any(expected in q.text for q in ans.quotes), ans




@pytest.mark.parametrize("which", SERVER_QUESTIONS)
def test_server_gone_is_a_store_error_that_names_it(which, server_up, memo, tmp_path):
    a = server_assistant(server_up, memo, tmp_path)
    assert_server_answer(a, which)
    server_up.stop()
    with pytest.raises(StoreError) as info:
        a.ask(SERVER_QUESTIONS[which][0])
    msg = str(info.value)
    assert server_up.host in msg, msg
    assert "chroma run" in msg, msg


def test_server_gone_cli_ask_is_one_error_line(server_up, fast_cli):
    server_up.stop()
    code, out, err = run_cli(["ask", SERVER_QUESTIONS["quote"][0], "--chroma-host", server_up.host])
    assert code == 1, (code, out, err)
    line = one_error_line(err, out)
    assert server_up.host in line and "chroma run" in line, line
    assert out == ""


def test_same_assistant_answers_again_when_the_server_is_back(server_up, memo, tmp_path):
    a = server_assistant(server_up, memo, tmp_path)
    for which in SERVER_QUESTIONS:
        assert_server_answer(a, which)
    server_up.stop()
    with pytest.raises(Exception):  # noqa: B017 - which exception is the test above's business
        a.ask(SERVER_QUESTIONS["quote"][0])
    server_up.start()  # the same port and data folder
    for which in SERVER_QUESTIONS:
        assert_server_answer(a, which)


# --------------------------------------------------------------------------- 3. kill tests (last: their
# driver runs in the background while the tests above run)

DRIVER = r'''
import json, os, signal, sys, time
spec = json.load(open(sys.argv[1], encoding="utf-8"))
import chromadb  # noqa: F401  imported once, before the forks
from chromadb.api.models.Collection import Collection
import assistant.minilm  # noqa: F401  torch, imported once, before the forks
import assistant.cli as cli
import assistant.indexing as indexing
import assistant.store as store_mod
from assistant.attribution import load_nlp

NLP = load_nlp()
VECTORS = json.load(open(spec["vectors"], encoding="utf-8"))


def child(step):
    kill = step.get("kill") or {}
    log = open(step["log"], "a", encoding="utf-8")

    def note(msg):
        log.write(msg + "\n")
        log.flush()

    def die(msg):
        note("SIGKILL " + msg)
        os.kill(os.getpid(), signal.SIGKILL)

    load = cli.load_settings
    cli.load_settings = lambda: load().with_(embed_batch_size=spec["batch"], write_batch_size=spec["batch"])
    indexing.load_nlp = lambda: NLP
    indexing.CHUNK_DOCS = spec["chunk"]
    counts = {}
    real_encode = store_mod.Embedder.encode

    def encode(self, texts, *a, **k):
        counts["encode"] = n = counts.get("encode", 0) + 1
        if kill.get("at") == "encode" and n == kill["n"]:
            die(f"at embedding call {n}")
        if all(t in VECTORS for t in texts):
            return [VECTORS[t] for t in texts]
        return real_encode(self, texts, *a, **k)

    store_mod.Embedder.encode = encode

    def hook(op, real):
        def call(self, *a, **k):
            kind = ("registry" if self.name.endswith(store_mod.REGISTRY_SUFFIX) else "units") + op
            counts[kind] = n = counts.get(kind, 0) + 1
            if kill.get("at") == kind + "-before" and n == kill["n"]:
                die(f"before {kind} {n}")
            out = real(self, *a, **k)
            note(f"{kind} {n} {json.dumps(k.get('ids', a[0] if a else None))}")
            if kill.get("at") == kind + "-after" and n == kill["n"]:
                die(f"after {kind} {n}")
            return out
        return call

    Collection.upsert = hook("", Collection.upsert)
    Collection.delete = hook("-delete", Collection.delete)
    return cli.main(step["argv"])


results = {}
for sc in spec["scenarios"]:
    out = []
    for step in sc["steps"]:
        if "edit" in step:
            for path, text in step["edit"].items():
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
            continue
        t = time.time()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                rc = child(step)
            except BaseException:
                import traceback
                traceback.print_exc()
                rc = 99
            os._exit(rc)
        _, status = os.waitpid(pid, 0)
        out.append({"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                    "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                    "seconds": round(time.time() - t, 2)})
    results[sc["id"]] = out
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump(results, fh)
'''

# id -> (kill point, edit scenario?). Unit writes are counted over the whole run (BATCH units each; a chunk
# of CHUNK 12-unit articles takes five); records are the registry writes, one per chunk, the commit point of
# its documents.
KILLS = {
    "embedding-call-1": ({"at": "encode", "n": 1}, False),
    "before-unit-write-1": ({"at": "units-before", "n": 1}, False),
    "after-unit-write-2-doc1-partial": ({"at": "units-after", "n": 2}, False),
    "after-unit-write-8-chunk1-served-doc4-partial": ({"at": "units-after", "n": 8}, False),
    "before-record-1-chunk1-units-complete": ({"at": "registry-before", "n": 1}, False),
    "after-record-3": ({"at": "registry-after", "n": 3}, False),
    "before-record-5-chunk5-units-complete": ({"at": "registry-before", "n": 5}, False),
    "edited-after-new-record-before-old-deleted": ({"at": "registry-after", "n": 1}, True),
    "edited-after-old-record-deleted-before-its-units": ({"at": "registry-delete-after", "n": 1}, True),
}


KILL_TESTS = ("test_kill_during_indexing_leaves_no_half_document", "test_index_again_after_a_kill_completes")


@pytest.fixture(scope="module", autouse=True)
def kill_driver(request, tmp_path_factory, memo, nlp):
    """Starts every kill run, in one driver subprocess, as soon as the module starts, so that it runs while
    the tests above do; the kill tests wait for it. Nothing starts when no kill test is selected."""
    if not hasattr(os, "fork") or not any(getattr(item, "originalname", None) in KILL_TESTS
                                          and item.module is request.module for item in request.session.items):
        yield None
        return
    from assistant.articles import parse_article
    from assistant.attribution import attribute
    from assistant.units import build_units

    root = tmp_path_factory.mktemp("kills")
    base = root / "articles"
    files = write_articles(base)
    # The vectors of every unit the runs will write, by the real model, once.
    texts = []
    for i, f in enumerate(files):
        for body in [f.read_text(encoding="utf-8")] + ([edited_text(i)] if i in EDITED else []):
            art = parse_article(body, str(f))
            texts += [u.text for u in build_units(art, attribute(art, nlp))]
    memo.encode(texts)
    vectors = root / "vectors.json"
    vectors.write_text(json.dumps(memo.memo), encoding="utf-8")

    scenarios, where = [], {}
    for kid, (kill, edit) in KILLS.items():
        folder = base
        if edit:
            folder = root / f"articles-{kid}"
            shutil.copytree(base, folder)
        store_dir = root / f"store-{kid}"
        log = root / f"{kid}.log"
        argv = ["index", str(folder), "--store", str(store_dir)]
        steps = [{"argv": argv, "log": str(log), "kill": kill}]
        if edit:
            steps = [{"argv": argv, "log": str(log)},
                     {"edit": {str(folder / files[i].name): edited_text(i) for i in EDITED}}] + steps
        scenarios.append({"id": kid, "steps": steps})
        where[kid] = (folder, store_dir, log)
    spec = root / "spec.json"
    spec.write_text(json.dumps({"scenarios": scenarios, "batch": BATCH, "chunk": CHUNK, "vectors": str(vectors)}),
                    encoding="utf-8")
    results, errors = root / "results.json", root / "driver.err"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_MIN_CONFIDENCE"] = os.environ["ASSISTANT_MIN_CONFIDENCE"]  # the tests' threshold (conftest)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               TOKENIZERS_PARALLELISM="false")
    with open(errors, "wb") as err:
        # its own process group: the driver and the child it may have forked are stopped together
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(spec), str(results)], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        yield {"proc": proc, "results": results, "errors": errors, "where": where, "done": None}
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def kill_runs(kill_driver):
    """{id: (folder, store_dir, step results, child log, driver stderr)} once the driver has finished."""
    if kill_driver is None:  # pragma: no cover - Linux and macOS have fork
        pytest.skip("the kill driver forks: no os.fork here")
    if kill_driver["done"] is None:
        try:
            code = kill_driver["proc"].wait(timeout=600)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(kill_driver["proc"].pid, signal.SIGKILL)
            raise
        err = kill_driver["errors"].read_text(encoding="utf-8", errors="replace")
        assert code == 0, err[-3000:]
        got = json.loads(kill_driver["results"].read_text(encoding="utf-8"))
        kill_driver["done"] = {kid: (folder, store_dir, got[kid], log.read_text(encoding="utf-8"), err)
                               for kid, (folder, store_dir, log) in kill_driver["where"].items()}
    return kill_driver["done"]


def committed(log: str) -> set[str]:
    """The doc_ids whose record write completed and was not deleted, by the child's own log."""
    ids: set[str] = set()
    for line in log.splitlines():
        kind, _n, rest = line.split(" ", 2) if line.count(" ") >= 2 else (line, "", "")
        if kind == "registry":
            ids |= set(json.loads(rest))
        elif kind == "registry-delete":
            ids -= set(json.loads(rest))
    return ids


def edited_sources(folder: Path) -> frozenset[str]:
    return frozenset(str((folder / f"{i:02d}_{ARTICLES[i][0]}.txt").resolve()) for i in EDITED)


@pytest.mark.parametrize("kid", list(KILLS))
def test_kill_during_indexing_leaves_no_half_document(kid, kill_runs, memo):
    folder, store_dir, result, log, driver_err = kill_runs[kid]
    _kill, edit = KILLS[kid]
    # the child was killed at its kill point (the first run of an edit scenario completed)
    assert result[-1]["signal"] == signal.SIGKILL, (result, log, driver_err[-2000:])
    assert all(r["code"] == 0 for r in result[:-1]), (result, driver_err[-2000:])
    assert log.rstrip().splitlines()[-1].startswith("SIGKILL"), log

    store = Store(local_settings(store_dir), embedder=memo)
    docs = check_consistent(store, stale_ok=edited_sources(folder) if edit else frozenset())
    # exactly the documents whose record write finished are served: no more, no fewer
    assert set(docs) == committed(log), (sorted(docs), sorted(committed(log)))




@pytest.mark.parametrize("kid", KILLS)
def test_index_again_after_a_kill_completes(kid, kill_runs, memo, nlp, tmp_path):
    folder, store_dir, result, _log, _err = kill_runs[kid]
    assert result[-1]["signal"] == signal.SIGKILL
    copy = tmp_path / "store"  # the killed store stays as it was for the test above
    shutil.copytree(store_dir, copy)
    store = Store(local_settings(copy), embedder=memo)
    report = indexing.index_paths([folder], store, progress=False, nlp=nlp)
    assert not report.failed, report.failed
    check_complete(Store(local_settings(copy), embedder=memo), sorted(folder.glob("*.txt")))
