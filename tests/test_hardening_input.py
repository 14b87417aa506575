"""Hardening against hostile input: arbitrary questions, bad article files, secrets in logs, and basic auth.

Everything runs against the real spaCy pipeline, the real MiniLM model and real Chroma stores (the session
fixtures of conftest.py); the app runs as a subprocess, as tests/test_app.py starts it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import assistant.indexing as indexing_mod
from assistant.cli import main
from assistant.errors import QuestionError

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
MAX_CHARS = 2000
CONTRACT_KEYS = {"question", "abstained", "quotes"}
QUOTE_TYPES = {"text": str, "speaker": str, "source_type": str, "document": str, "start": int, "end": int,
               "score": float, "confidence": float, "doc_id": str, "title": str, "paragraph": int}
# A question about the seed article that the assistant answers (see tests/test_cli.py).
ARRESTS = "How many arrests did the Interpol operation lead to?"

# --------------------------------------------------------------------------- helpers

_FILES: dict[str, str] = {}


def file_text(document: str) -> str:
    if document not in _FILES:
        with open(document, encoding="utf-8") as fh:
            _FILES[document] = fh.read()
    return _FILES[document]


def normalised(question: str) -> str:
    """The question as the contract describes it: control/format characters and runs of whitespace become one
    space, then the ends are trimmed. Written here independently of assistant.questions.clean_question."""
    q = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in question)
    return " ".join(q.split())


def check_answer_json(d: dict, asked: str | None = None) -> None:
    """The ask --json contract, with every quote verbatim in its document."""
    again = json.loads(json.dumps(d, ensure_ascii=False, allow_nan=False))
    assert again == d
    # An abstention also says why, with the passage that came closest (none when a rule decided).
    assert set(d) == CONTRACT_KEYS | ({"reason", "best"} if d["abstained"] else set()), set(d)
    if d["abstained"]:
        assert isinstance(d["reason"], str) and d["reason"]
        assert d["best"] is None or 0.0 <= d["best"]["confidence"] <= 1.0
    assert isinstance(d["question"], str) and d["question"]
    assert len(d["question"]) <= MAX_CHARS
    assert not any(unicodedata.category(c) == "Cc" for c in d["question"]), repr(d["question"])
    if asked is not None:
        assert d["question"] == normalised(asked)
    assert isinstance(d["abstained"], bool)
    assert isinstance(d["quotes"], list)
    if d["abstained"]:
        assert d["quotes"] == []
    else:
        assert d["quotes"], "an answer that does not abstain must quote something"
    for q in d["quotes"]:
        assert set(q) == set(QUOTE_TYPES), set(q)
        for key, kind in QUOTE_TYPES.items():
            assert isinstance(q[key], kind) and not isinstance(q[key], bool), (key, q[key])
        assert 0.0 <= q["confidence"] <= 1.0
        assert 0 <= q["start"] < q["end"]
        assert q["text"] and file_text(q["document"])[q["start"]:q["end"]] == q["text"], q


# --------------------------------------------------------------------------- 1. arbitrary questions

SQLISH = ["'; DROP TABLE units; --", "\" OR 1=1 --", "Robert'); DELETE FROM documents;--", "%' UNION SELECT *",
          "$where: {'$ne': null}", "{\"$contains\": \"x\"}", "../../etc/passwd", "${jndi:ldap://x}"]
HTMLISH = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</textarea><b>bold</b>", "&lt;&amp;&#0;",
           "<!-- -->", "<a href='javascript:alert(1)'>Moolenaar</a>"]
WORDS = ["What", "did", "Moolenaar", "say", "about", "China", "Interpol", "arrests", "Who", "said", "forced",
         "labor", "how", "many", "Xinjiang", "?", "the", "mayor", "Europol", "民主", "Москва", "مرحبا", "😀",
         "👩‍👩‍👧", "e\u0301", "\u200b", "\u202e", "\x00", "\t", "\n", "\r\n", "\u2028", "\ufeff"]

short_text = st.text(max_size=300)
controls = st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=50)
mixed = st.lists(st.sampled_from(WORDS + SQLISH + HTMLISH) | st.text(max_size=12), min_size=1, max_size=15).map(
    " ".join)
# Long strings, around the 2000-character limit and up to 100 kB, built by repetition (fast to generate).
long_text = st.builds(lambda unit, n, pad: (pad + unit * (n // max(1, len(unit)) + 1))[:n],
                      st.sampled_from(["a", "é", "民", "😀", "Moolenaar said ", "<b>x</b>", "\x00", " ", "\u200b"]),
                      st.one_of(st.integers(1990, 2010), st.integers(2011, 100_000)),
                      st.sampled_from(["", "   ", "\n\t", "What did Moolenaar say? "]))
questions = st.one_of(short_text, controls, mixed, long_text)


def report_examples(record_property, capsys, name: str, n: int) -> None:
    """Print (past the capture) and record (in --junitxml) how many examples a property test ran."""
    record_property("hypothesis_examples", n)
    with capsys.disabled():
        print(f"\n[hypothesis] {name}: {n} examples run")


PROPERTY_SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def test_ask_any_question_keeps_the_contract(assistant_, record_property, capsys):
    """Any text is either refused with QuestionError (empty or over 2000 characters after cleaning, and only
    then) or answered with the JSON contract, every quote verbatim in its file."""
    runs = []

    @hsettings(max_examples=150, **PROPERTY_SETTINGS)
    @given(q=questions)
    @example(q="")
    @example(q=" \t\n ")
    @example(q="\x00\x01\x7f\u200b\u2028\u2029\ufeff")
    @example(q="a" * MAX_CHARS)
    @example(q="a" * (MAX_CHARS + 1))
    @example(q="   " + "a" * MAX_CHARS + "\n\n")
    @example(q="x " * 50_000)
    @example(q="é" * 100_000)
    @example(q="What did Moolenaar say?")
    @example(q=ARRESTS)
    @example(q="What did Moolenaar say?\x00<script>alert(1)</script>'; DROP TABLE units; --")
    def prop(q):
        runs.append(q)
        norm = normalised(q)
        try:
            ans = assistant_.ask(q)
        except QuestionError as exc:
            # Only an empty (after cleaning) or over-long question may be refused.
            assert not norm or len(norm) > MAX_CHARS, (q[:80], str(exc))
            assert ("empty" in str(exc)) == (not norm), str(exc)
            return
        assert norm and len(norm) <= MAX_CHARS, f"a {len(norm)}-character question was accepted"
        check_answer_json(ans.to_json(), asked=q)

    prop()
    report_examples(record_property, capsys, "ask", len(runs))
    assert len(runs) >= 20
    assert any(len(q) > 50_000 for q in runs), "no very long question was tried"


@pytest.fixture
def shared_model(monkeypatch, embedder, assistant_):
    """The CLI's Store and Assistant reuse the session's model and word vectors instead of loading their own:
    the same vectors and weights, a few seconds less per main() call. The CLI code path is otherwise untouched."""
    import assistant.cli as cli_mod
    import assistant.store as store_mod

    monkeypatch.setattr(store_mod, "Embedder", lambda model, *a, **kw: embedder)
    real_open = cli_mod.OnTheRecord.open.__func__

    def open_library(cls, settings, progress=True, require_documents=True):
        lib = real_open(cls, settings, progress, require_documents)
        lib.assistant.ranker._words = assistant_.ranker._words  # a cache of word -> vector, the same for any store
        return lib

    monkeypatch.setattr(cli_mod.OnTheRecord, "open", classmethod(open_library))


@pytest.fixture
def store_dir(store, settings, cli_env, shared_model) -> str:
    """The session store, already built, for the CLI."""
    return str(settings.store_dir)


# One stdin line: any text without \\n or \\r (which would make it two lines); \\x0b, \\x85, \\u2028 and the like
# stay inside the line, as they do on a real stdin.
line_text = st.text(alphabet=st.characters(exclude_categories=["Cs"],
                                           exclude_characters="\n\r"),
                    max_size=80)
batch_line = st.one_of(line_text, st.sampled_from(["", "   ", "\t", ARRESTS, "What did Moolenaar say?"] + SQLISH
                                                  + HTMLISH), st.integers(1995, 5000).map(lambda n: "q" * n))


def test_cli_batch_one_json_line_per_input_line(store_dir, capsys, monkeypatch, record_property):
    """`ask --json` over stdin prints exactly one JSON line per input line; bad lines get an error object."""
    runs = []

    @hsettings(max_examples=15, **PROPERTY_SETTINGS)
    @given(lines=st.lists(batch_line, min_size=1, max_size=6))
    @example(lines=["", ARRESTS, "q" * (MAX_CHARS + 1), "<script>alert(1)</script>", "\x00"])
    def prop(lines):
        runs.append(lines)
        monkeypatch.setattr(sys, "stdin", io.StringIO("".join(line + "\n" for line in lines)))
        capsys.readouterr()
        code = main(["ask", "--json", "--store", store_dir])
        out, _err = capsys.readouterr()
        got = out.split("\n")
        assert got[-1] == "", "the output must end with a newline"
        got = got[:-1]
        assert len(got) == len(lines), (lines, got)
        bad = 0
        for line, raw in zip(lines, got):
            d = json.loads(raw)
            norm = normalised(line)
            if "error" in d:
                bad += 1
                assert not norm or len(norm) > MAX_CHARS, (line[:80], d["error"])
                assert d["abstained"] is True and d["quotes"] == [] and d["question"] == line
                assert isinstance(d["error"], str) and d["error"]
            else:
                assert norm and len(norm) <= MAX_CHARS
                check_answer_json(d, asked=line)
        assert code == (1 if bad else 0)

    prop()
    report_examples(record_property, capsys, "cli batch", len(runs))
    assert len(runs) >= 5


# A lone surrogate is what Python makes of an undecodable byte on stdin (errors="surrogateescape", as sys.stdin
# has here) and what a JSON client can send as "\ud800": it is still a str, and must be refused or answered.


@pytest.mark.parametrize("q", ["caf\udce9", "What did Moolenaar say about caf\udce9?", "\ud800",
                               "\ud83d\ude00 How many arrests?"])
def test_ask_lone_surrogate_is_refused_or_answered(assistant_, q):
    try:
        ans = assistant_.ask(q)
    except QuestionError as exc:
        assert str(exc)
        return
    d = ans.to_json()
    json.dumps(d, ensure_ascii=False).encode("utf-8")  # the answer can be written out as UTF-8
    check_answer_json(d)


def test_cli_batch_survives_a_line_that_is_not_utf8(store_dir, capsys, monkeypatch):
    raw = f"{ARRESTS}\n".encode() + "What did the caf\u00e9 owner say?\n".encode("latin-1") + f"{ARRESTS}\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="surrogateescape"))
    main(["ask", "--json", "--store", store_dir])
    out, _err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3, lines
    out.encode("utf-8")  # valid UTF-8 output, whatever came in
    first, middle, last = (json.loads(line) for line in lines)
    check_answer_json(first, asked=ARRESTS)
    check_answer_json(last, asked=ARRESTS)
    assert not first["abstained"] and not last["abstained"]
    assert middle["abstained"] is True and middle["quotes"] == []


# --------------------------------------------------------------------------- 2. bad article files

GOOD = """\
Council approves a park on the old rail yard

by Ana Ruiz

The city council voted 7-2 on Tuesday to build a park on the old rail yard north of the river.

“This park will give every child in the east end a safe place to play,” said Mayor Jane Ortiz.

The park will cost $4 million and is due to open in 2027, according to the parks department.
"""
GOOD_QUESTION = "What did Mayor Ortiz say about the park?"
GOOD_QUOTE = "This park will give every child in the east end a safe place to play"

UNBALANCED = """\
Harbour dredging delayed again

The harbour authority said the dredging would start in March. “We are still waiting for the permits, and \
nobody can tell us when they will arrive, said the harbour master, Tom Reyes.

The dredging was first planned for 2023. Boats have run aground twice this year.
"""

SCRIPT_MARKER = "SCRIPTMARKER7731"
PAGE = f"""\
<!doctype html>
<html><head><title>Library reopens after flood repairs</title>
<script>window.__pwned = "{SCRIPT_MARKER}"; document.write("{SCRIPT_MARKER} injected");</script>
<style>body {{ color: red }} /* STYLEMARKER */</style></head>
<body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article>
<h1>Library reopens after flood repairs</h1>
<p>The central library reopened on Monday after eight months of repairs to the flooded basement and the
children's reading room, which lost more than four thousand books to the water last spring.</p>
<script type="text/javascript">var tracker = "{SCRIPT_MARKER}"; alert("{SCRIPT_MARKER}");</script>
<p>“We rebuilt the basement so that the next flood will not reach a single book,” said head librarian
Maria Chen, who led the reopening ceremony in front of about two hundred residents.</p>
<p>The repairs cost the city 2.3 million dollars, most of it covered by the state disaster fund, and the
library will now stay open until nine in the evening on weekdays.</p>
</article>
<script>console.log("{SCRIPT_MARKER}")</script>
</body></html>
"""

LONG_SENTENCE = "The committee reviewed the harbour budget, the ferry timetable and the repairs to the north pier. "
LONG_QUOTE = "“The pier will be rebuilt before the summer season,” said harbour master Tom Reyes. "
# One paragraph of this many characters: big enough to be a long paragraph, small enough to index in seconds.
LONG_PARAGRAPH_CHARS = 20_000

# name -> (bytes, the problem the failure reason must name)
BAD_FILES: dict[str, tuple[bytes, str]] = {
    "empty.txt": (b"", r"empty"),
    "blank.txt": (b"\n  \n\t\n\n", r"empty"),
    "binary.txt": (bytes([0, 159, 146, 150, 0, 255, 254]) + random.Random(7).randbytes(4000), r"not UTF-8|binary"),
    "nul.txt": ("Title line\n\nSome text\x00with a NUL byte in it, said the clerk.\n".encode(), r"binary|NUL"),
    "latin1.txt": ("Café opens\n\nThe café opened on Monday, said the owner.\n".encode("latin-1"), r"not UTF-8"),
    "huge.txt": (b"Huge\n\n" + b"word " * 1_000_000, r"over the .*limit"),
    "vanishes.txt": (GOOD.replace("rail yard", "tram depot").encode(), r"cannot read"),
}


def write_folder(folder: Path, long_paragraph: bool = True, html: bool = True) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    files = {"good.txt": GOOD.encode(), "unbalanced.txt": UNBALANCED.encode()}
    if html:
        files["page.html"] = PAGE.encode()
    if long_paragraph:
        body = LONG_SENTENCE * (LONG_PARAGRAPH_CHARS // len(LONG_SENTENCE) // 2)
        body = body + LONG_QUOTE + body
        files["longpara.txt"] = f"Harbour committee minutes\n\n{body.strip()}\n".encode()
    files.update({name: data for name, (data, _why) in BAD_FILES.items()})
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    assert paths["huge.txt"].stat().st_size > 5_000_000
    return paths


def vanish_on_read(mp: pytest.MonkeyPatch, name: str = "vanishes.txt") -> list[str]:
    """Make `name` disappear between finding the files and reading it, as if deleted mid-run."""
    real = indexing_mod.load_document
    removed: list[str] = []

    def load_document(path, documents_dir):
        p = Path(path)
        if p.name == name and p.exists():
            p.unlink()
            removed.append(str(p))
        return real(path, documents_dir)

    mp.setattr(indexing_mod, "load_document", load_document)
    return removed


def fresh_store(settings, embedder, where: Path):
    from assistant.store import Store

    return Store(settings.with_(store_dir=where / "chroma"), embedder=embedder)


@pytest.fixture(scope="module")
def bad_folder_index(tmp_path_factory, settings, embedder, nlp):
    """One fresh store indexed from a folder of bad files beside good ones: (paths, report, store)."""
    from assistant.indexing import index_paths

    root = tmp_path_factory.mktemp("bad_articles")
    paths = write_folder(root / "articles")
    s = fresh_store(settings, embedder, root)
    with pytest.MonkeyPatch.context() as mp:
        removed = vanish_on_read(mp)
        report = index_paths([root / "articles"], s, progress=False, nlp=nlp)
    assert removed, "the vanishing file was never read"
    return paths, report, s


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_fails_with_a_one_line_reason(bad_folder_index, name):
    paths, report, _s = bad_folder_index
    failed = dict(report.failed)
    path = str(paths[name])
    assert path in failed, f"{name} is not reported as failed: failed={list(failed)}, indexed={report.indexed}"
    why = failed[path]
    assert "\n" not in why and len(why) < 300, why
    assert name in why, f"the reason does not name the file: {why!r}"
    assert re.search(BAD_FILES[name][1], why), f"the reason does not name the problem: {why!r}"
    assert not any(Path(src).name == name for src in report.indexed)


def test_bad_files_do_not_stop_the_good_ones(bad_folder_index):
    paths, report, s = bad_folder_index
    from assistant.answer import Assistant

    assert {Path(p).name for p, _why in report.failed} == set(BAD_FILES)
    indexed = {Path(p).name for p in report.indexed}
    assert {"good.txt", "unbalanced.txt", "page.html", "longpara.txt"} <= indexed, report.failed
    ans = Assistant(s).ask(GOOD_QUESTION)
    check_answer_json(ans.to_json(), asked=GOOD_QUESTION)
    assert not ans.abstained
    assert GOOD_QUOTE in ans.quotes[0].text and "Ortiz" in ans.quotes[0].speaker, ans.quotes[0]


def test_every_unit_of_the_folder_is_verbatim(bad_folder_index):
    _paths, _report, s = bad_folder_index
    units = s.all_units()
    assert units
    for u in units:
        assert u.text and file_text(u.document)[u.start:u.end] == u.text, u


def test_unbalanced_quote_mark_indexes_verbatim(bad_folder_index):
    paths, _report, s = bad_folder_index
    mine = [u for u in s.all_units() if Path(u.document) == paths["unbalanced.txt"].resolve()]
    assert mine, "the article with an unclosed quote mark has no units"
    text = paths["unbalanced.txt"].read_text(encoding="utf-8")
    for u in mine:
        assert text[u.start:u.end] == u.text
    covered = " ".join(u.text for u in mine)
    for words in ("waiting for the permits", "first planned for 2023", "run aground twice"):
        assert words in covered, f"{words!r} was lost: {covered!r}"


def test_html_script_text_never_reaches_a_unit(bad_folder_index):
    paths, report, s = bad_folder_index
    source = str(paths["page.html"].resolve())
    assert source in report.indexed
    doc_id = next(d for d, info in s.documents().items() if info.source == source)
    mine = [u for u in s.all_units() if u.doc_id == doc_id]
    assert mine
    assert any("will not reach a single book" in u.text for u in mine)
    for u in s.all_units():
        for marker in (SCRIPT_MARKER, "__pwned", "alert(", "STYLEMARKER", "<script", "document.write"):
            assert marker not in u.text, (marker, u.text)
    canonical = file_text(mine[0].document)
    assert SCRIPT_MARKER not in canonical and "<" not in canonical


def test_long_paragraph_indexes_verbatim(bad_folder_index):
    paths, _report, s = bad_folder_index
    from assistant.answer import Assistant

    doc = str(paths["longpara.txt"].resolve())
    mine = [u for u in s.all_units() if u.document == doc]
    assert mine
    text = paths["longpara.txt"].read_text(encoding="utf-8")
    assert all(text[u.start:u.end] == u.text for u in mine)
    ans = Assistant(s).ask("What did Tom Reyes say about the pier?")
    check_answer_json(ans.to_json())
    assert not ans.abstained and "pier will be rebuilt" in ans.quotes[0].text, ans


def test_one_megabyte_paragraph_indexes_or_fails_clearly(tmp_path, settings, embedder, nlp):
    """A single 1 MB paragraph must not crash indexing: it is indexed (verbatim) or reported as failed."""
    from assistant.indexing import index_paths

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    body = (LONG_SENTENCE * (1_048_576 // len(LONG_SENTENCE) + 1))[:1_048_576].strip()
    big = folder / "onemeg.txt"
    big.write_text(f"One paragraph\n\n{body}\n", encoding="utf-8")
    s = fresh_store(settings, embedder, tmp_path)
    report = index_paths([folder], s, progress=False, nlp=nlp)
    assert str(folder / "good.txt") in {str(Path(p)) for p in report.indexed} or any(
        Path(p).name == "good.txt" for p in report.indexed)
    failed = dict(report.failed)
    if str(big) in failed:
        assert "onemeg.txt" in failed[str(big)] and "\n" not in failed[str(big)]
    else:
        assert any(Path(p).name == "onemeg.txt" for p in report.indexed)
        for u in s.all_units():
            assert file_text(u.document)[u.start:u.end] == u.text


def test_cli_index_reports_skipped_files_and_exits_0(tmp_path, capsys, cli_env, shared_model, monkeypatch):
    folder = tmp_path / "articles"
    write_folder(folder, long_paragraph=False, html=False)
    removed = vanish_on_read(monkeypatch)
    code = main(["index", str(folder), "--store", str(tmp_path / "chroma")])
    out, err = capsys.readouterr()
    assert removed
    assert code == 0, err
    skipped = [line for line in err.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == len(BAD_FILES), err
    for name, (_data, why) in BAD_FILES.items():
        line = next((ln for ln in skipped if name in ln), None)
        assert line is not None, f"no 'skipped' line names {name}:\n{err}"
        assert re.search(why, line), line
    assert re.search(rf"indexed 2 document\(s\), \d+ units; 0 unchanged; 0 pruned; {len(BAD_FILES)} failed", err), err
    assert "Traceback" not in err

    # The store it built answers about the good article.
    code = main(["ask", GOOD_QUESTION, "--json", "--store", str(tmp_path / "chroma")])
    out, err = capsys.readouterr()
    assert code == 0, err
    ans = json.loads(out)
    check_answer_json(ans, asked=GOOD_QUESTION)
    assert not ans["abstained"] and GOOD_QUOTE in ans["quotes"][0]["text"]


def test_cli_index_of_only_bad_files_exits_1(tmp_path, capsys, cli_env, shared_model):
    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("empty.txt", "latin1.txt", "nul.txt"):
        (folder / name).write_bytes(BAD_FILES[name][0])
    code = main(["index", str(folder), "--store", str(tmp_path / "chroma")])
    _out, err = capsys.readouterr()
    assert code == 1, err
    assert sum(line.startswith("skipped ") for line in err.splitlines()) == 3, err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- 3. no questions in the logs

SECRET = "a secret question about the mayor"


def _mentions(records: list[logging.LogRecord], text: str) -> list[str]:
    found = []
    for r in records:
        try:
            msg = r.getMessage()
        except Exception:  # noqa: BLE001 - a record whose args do not format still counts by its parts
            msg = f"{r.msg} {r.args}"
        if text in msg or text in str(r.args) or text in (r.exc_text or ""):
            found.append(f"{r.levelname} {r.name}: {msg[:200]}")
    return found


def test_question_is_not_logged_at_the_default_level(store_dir, caplog, capsys):
    code = main(["ask", SECRET, "--store", store_dir])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert SECRET in out  # the answer itself repeats the question, on stdout only
    assert not _mentions(caplog.records, SECRET)
    assert SECRET not in err
    assert SECRET not in caplog.text


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_question_is_not_logged_at_verbose_levels(store_dir, caplog, capsys, level):
    # pytest's handlers are already on the root logger, so main()'s basicConfig cannot change its level: do it here.
    caplog.set_level(getattr(logging, level))
    code = main(["--log-level", level, "ask", SECRET, "--json", "--store", store_dir])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["question"] == SECRET
    assert not _mentions(caplog.records, SECRET)
    assert SECRET not in err


# --------------------------------------------------------------------------- 4. basic auth on the app

AUTH_USER, AUTH_PASSWORD = "ed", "secret"


def _app_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_MIN_CONFIDENCE"] = os.environ["ASSISTANT_MIN_CONFIDENCE"]  # the tests' threshold (conftest)
    env.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               ANONYMIZED_TELEMETRY="False", ASSISTANT_SEEDS=str(SEEDS))
    return env


@pytest.fixture(scope="module")
def app_store(tmp_path_factory, store, settings) -> Path:
    """A copy of the session store (already built) for the app subprocesses, so they need not index."""
    target = tmp_path_factory.mktemp("auth_app") / "store"
    shutil.copytree(settings.store_dir, target)
    return target


@pytest.fixture(scope="module")
def _auth_app_launch(app_store):
    """`python app.py --auth ed:secret` started (not yet waited for) on a free port."""
    from test_app import _free_port, _stop  # tests/ is on sys.path: reuse test_app.py's helpers

    port = _free_port()
    log = app_store.parent / "app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--store", str(app_store), "--host", "127.0.0.1",
                                 "--port", str(port), "--auth", f"{AUTH_USER}:{AUTH_PASSWORD}"],
                                cwd=REPO, env=_app_env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}", proc, log
    finally:
        _stop(proc)


@pytest.fixture(scope="module", autouse=True)
def _start_the_app_early(request):
    """The app takes a while to start: when an auth test is selected, launch it with the module's first test, so
    it starts while the other tests run."""
    if any(item.module is request.module and "auth_app" in item.fixturenames for item in request.session.items):
        request.getfixturevalue("_auth_app_launch")


@pytest.fixture(scope="module")
def auth_app(_auth_app_launch) -> str:
    """The URL of the app, once it serves."""
    from test_app import START_TIMEOUT, _log_tail

    url, proc, log = _auth_app_launch
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            pytest.fail(f"app exited with {proc.returncode} before serving:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as resp:
                if resp.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"app did not answer at {url} within {START_TIMEOUT:.0f} s:\n{_log_tail(log)}")
        time.sleep(0.25)
    return url


def _http_status(url: str, data: bytes | None = None) -> int:
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_app_refuses_anonymous_clients(auth_app):
    from gradio_client import Client

    with pytest.raises(Exception, match=r"(?i)credentials|login|auth"):
        Client(auth_app, verbose=False)
    # Nor can a script go around the client: the config and the /ask endpoint itself are closed.
    assert _http_status(auth_app + "/config") == 401
    assert _http_status(auth_app + "/gradio_api/info") == 401
    body = json.dumps({"data": [ARRESTS, 3, ""]}).encode()
    assert _http_status(auth_app + "/gradio_api/call/ask", body) == 401


@pytest.mark.parametrize("auth", [(AUTH_USER, "wrong"), ("someone", AUTH_PASSWORD), (AUTH_USER, AUTH_PASSWORD + " "),
                                  (AUTH_USER.upper(), AUTH_PASSWORD)])
def test_app_refuses_wrong_credentials(auth_app, auth):
    from gradio_client import Client

    with pytest.raises(Exception, match=r"(?i)login|credentials|auth"):
        Client(auth_app, auth=auth, verbose=False)


def test_app_answers_with_the_right_credentials(auth_app):
    from gradio_client import Client

    ans = Client(auth_app, auth=(AUTH_USER, AUTH_PASSWORD), verbose=False).predict(ARRESTS, 3, "", api_name="/ask")
    check_answer_json(ans, asked=ARRESTS)
    assert ans["abstained"] is False
    assert any("158 arrests" in q["text"] for q in ans["quotes"]), ans


def test_app_rejects_a_malformed_auth_option(app_store):
    bad = ["nocolon", f"{AUTH_USER}:"]  # no separator; an empty password (which must not mean "no login")
    procs = [subprocess.Popen([sys.executable, str(REPO / "app.py"), "--store", str(app_store), "--port", "9",
                               "--auth", value], cwd=REPO, env=_app_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for value in bad]
    for value, proc in zip(bad, procs):
        try:
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 1, (value, proc.returncode, err[-500:])
        assert "error:" in err and "USER:PASSWORD" in err, (value, err[-500:])
        assert "Traceback" not in err, err[-2000:]


def _logged_in_opener(url: str) -> urllib.request.OpenerDirector:
    """A urllib opener holding the app's login cookie (Gradio's auth is a login form, then a cookie)."""
    import http.cookiejar
    import urllib.parse

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = urllib.parse.urlencode({"username": AUTH_USER, "password": AUTH_PASSWORD}).encode()
    with opener.open(url + "/login", data=form, timeout=10) as resp:
        assert resp.status == 200
    return opener


def _raw_ask(opener: urllib.request.OpenerDirector, url: str, body: bytes) -> tuple[str, str]:
    """POST a raw JSON body to /ask and read the result stream: (event, data) of its last event."""
    req = urllib.request.Request(url + "/gradio_api/call/ask", data=body, headers={"Content-Type": "application/json"})
    with opener.open(req, timeout=10) as resp:
        event_id = json.loads(resp.read())["event_id"]
    event = data = ""
    with opener.open(f"{url}/gradio_api/call/ask/{event_id}", timeout=60) as resp:
        for raw in resp:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
                if event in ("complete", "error"):
                    break
    return event, data


def test_app_raw_ask_with_login_cookie(auth_app):
    """The same endpoint over plain HTTP, as any script would call it once logged in."""
    event, data = _raw_ask(_logged_in_opener(auth_app), auth_app,
                           json.dumps({"data": [ARRESTS, 3, ""]}).encode())
    assert event == "complete", (event, data)
    ans = json.loads(data)[0]
    check_answer_json(ans, asked=ARRESTS)
    assert not ans["abstained"]


def test_app_ask_with_a_lone_surrogate(auth_app):
    # gradio_client cannot even encode such a string, so the request is sent as raw JSON, with the escape.
    body = json.dumps({"data": ["\ud800 How many arrests did the Interpol operation lead to?", 3, ""]}).encode()
    assert b"\\ud800" in body
    event, data = _raw_ask(_logged_in_opener(auth_app), auth_app, body)
    if event == "error":
        # A refusal is fine if it says what is wrong with the question.
        assert re.search(r"(?i)question", data) and "TextEncodeInput" not in data, data
        return
    assert event == "complete", (event, data)
    check_answer_json(json.loads(data)[0])
