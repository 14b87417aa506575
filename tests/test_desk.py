"""The journalist's desk (issue 15): checking a whole draft, exports, explainable answers, eval bounds and
adding an article, through the library and the CLI.

The archive is a store of its own holding the seed article and an invented one (tests/data/desk/harbour.txt);
the draft (tests/data/desk/draft.md) quotes the invented article once verbatim, once under the wrong name,
once with a changed number, and once with words nobody said.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pytest

from assistant.check import Checker
from assistant.cli import main
from assistant.draft import EXIT_NOT_VERIFIED, check_draft, draft_text, find_quotations
from assistant.errors import ArticleError
from assistant.evaluation import METRICS

DATA = Path(__file__).resolve().parent / "data" / "desk"
HARBOUR = DATA / "harbour.txt"
DRAFT = DATA / "draft.md"
LIBRARY = DATA / "library.txt"

VERIFIED = "We have waited a decade for this terminal, and the families who rely on the ferry deserve better"
REYES = "Every time the harbour grows, the small boats get pushed further out"
CHANGED = "The new berths will carry 15,000 passengers a day by 2030"
INVENTED = "Our town will become the busiest port on the whole western coastline"
EXPECTED = [(VERIFIED, "Kessler", "verified"), (REYES, "Marta Kessler", "misattributed"),
            (CHANGED, "Marta Kessler", "paraphrased"), (INVENTED, "Mayor Dana Whitfield", "not found")]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def desk(tmp_path_factory, embedder, nlp, seed_path):
    """A store over the seed article and the invented harbour article, and a checker over it."""
    from assistant.indexing import index_paths
    from assistant.retrieval import HybridRetriever
    from assistant.settings import Settings
    from assistant.store import Store

    store = Store(Settings().with_(store_dir=tmp_path_factory.mktemp("desk") / "chroma"), embedder=embedder)
    report = index_paths([seed_path, HARBOUR], store, progress=False, nlp=nlp)
    assert not report.failed, report.failed
    return store, Checker(store, HybridRetriever(store))


@pytest.fixture
def desk_dir(desk, cli_env, monkeypatch, tmp_path) -> str:
    """The desk store for the CLI, which answers from it as it is (no seeds folder to add)."""
    monkeypatch.setenv("ASSISTANT_SEEDS", str(tmp_path / "no-seeds"))
    return str(desk[0].settings.store_dir)


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# --------------------------------------------------------------------------- finding a draft's quotations

def test_every_quotation_of_the_draft_is_found_with_its_speaker_and_offsets(nlp):
    text = DRAFT.read_text(encoding="utf-8")
    found = find_quotations(text, "draft.md", nlp)
    assert [(q.text.rstrip(","), q.speaker) for q in found] == [(w, s) for w, s, _v in EXPECTED]
    for q in found:
        assert text[q.start:q.end] == q.text  # offsets are the draft's own, not the parser's


@pytest.mark.parametrize("draft, expected", [
    pytest.param("“These are words with nobody named after them at all.”", [("", "author")], id="unattributed"),
    pytest.param("The plan is what critics call “a gift to developers” and little else.",
                 [("Critics", "anonymous source")], id="partial-quote"),
    pytest.param("The mayor called it “historic” on Monday.", [("The mayor", "public official")], id="scare-quote"),
    pytest.param("The council met on Tuesday and approved the budget.", [], id="no-quote"),
])
def test_find_quotations_table(nlp, draft, expected):
    found = find_quotations(draft, "d.txt", nlp)
    assert [(q.speaker, q.source_type) for q in found] == expected
    for q in found:
        assert draft[q.start:q.end] == q.text


def test_draft_check_gives_exactly_the_four_verdicts(desk, nlp):
    store, checker = desk
    text = DRAFT.read_text(encoding="utf-8")
    report = check_draft(text, checker, "draft.md", nlp=nlp)
    assert [r.verdict.verdict for r in report.rows] == [v for _w, _s, v in EXPECTED]
    assert report.counts == {"verified": 1, "misattributed": 1, "paraphrased": 1, "not found": 1}
    assert not report.all_verified and report.exit_status == EXIT_NOT_VERIFIED
    verified, misattributed, paraphrased, invented = report.rows
    for r in (verified, misattributed, paraphrased):
        p = r.verdict.passage
        assert Path(p.document).name == "harbour.txt"
        assert store.document_text(store.find_document(p.document))[p.start:p.end] == p.text
    assert "Kessler" in verified.verdict.passage.speaker
    assert misattributed.verdict.passage.speaker == "Tomas Reyes"  # who the archive gives the words to
    assert misattributed.verdict.passage.text == REYES
    assert ("-", "15,000") in paraphrased.verdict.diff and ("+", "12,000") in paraphrased.verdict.diff
    assert "12,000" in paraphrased.verdict.passage.text
    assert invented.verdict.passage is None
    j = report.to_json()
    assert j["counts"]["paraphrased"] == 1 and len(j["quotations"]) == 4
    assert set(j["quotations"][1]["passage"]) == {"text", "speaker", "source_type", "document", "start", "end"}


def test_a_draft_of_verified_quotes_passes_and_short_quotes_are_set_aside(desk, nlp):
    _store, checker = desk
    text = f"The chair was “delighted” by the vote.\n\n“{VERIFIED},” Kessler said.\n"
    report = check_draft(text, checker, "ok.txt", nlp=nlp)
    assert [r.verdict.verdict for r in report.rows] == ["verified"]
    assert [q.text for q in report.skipped] == ["delighted"]
    assert report.all_verified and report.exit_status == 0


@pytest.mark.parametrize("raw, name, phrase", [
    pytest.param(b"", "empty.txt", "the draft is empty", id="empty"),
    pytest.param(b"\xff\xfe bad", "latin.txt", "not UTF-8", id="not-utf8"),
    pytest.param(b"x" * 5_000_001, "big.txt", "over the 5,000,000-byte limit", id="too-big"),
    pytest.param(b"words", "draft.pdf", "give a .txt, .md or .html file", id="wrong-type"),
])
def test_bad_drafts_are_refused_with_a_reason(desk, nlp, raw, name, phrase):
    with pytest.raises(ArticleError, match=phrase):
        check_draft(draft_text(raw, name), desk[1], name, nlp=nlp)


# --------------------------------------------------------------------------- the CLI: check --draft

def test_cli_check_draft_readable_and_exit_status(capsys, desk_dir):
    code, out, err = run(capsys, ["check", "--draft", str(DRAFT), "--store", desk_dir])
    assert code == EXIT_NOT_VERIFIED == 3
    blocks = [b for b in out.split("\n") if b[:1].isdigit()]
    assert [b.split()[1] for b in blocks] == ["VERIFIED", "MISATTRIBUTED", "PARAPHRASED", "NOT"]
    assert "archive gives these words to Tomas Reyes (named source)" in out
    assert "[-15,000-] {+12,000+}" in out
    assert "draft.md: 4 quotation(s): 1 verified, 1 misattributed, 1 paraphrased, 1 not found" in err


def test_cli_check_draft_csv_parses_with_one_row_per_quotation(capsys, desk_dir):
    code, out, _ = run(capsys, ["check", "--draft", str(DRAFT), "--format", "csv", "--store", desk_dir])
    assert code == 3
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["verdict"] for r in rows] == ["verified", "misattributed", "paraphrased", "not found"]
    draft = DRAFT.read_text(encoding="utf-8")
    for r in rows:
        assert draft[int(r["draft_start"]):int(r["draft_end"])] == r["quotation"]
        if r["verdict"] != "not found":
            text = Path(r["document"]).read_text(encoding="utf-8")
            assert text[int(r["start"]):int(r["end"])] == r["archive_text"]
    assert rows[1]["claimed_speaker"] == "Marta Kessler" and rows[1]["archive_speaker"] == "Tomas Reyes"
    assert rows[2]["diff"] == "The new berths will carry [-15,000-] {+12,000+} passengers a day by 2030"
    assert rows[3]["archive_text"] == "" and rows[3]["document"] == ""


def test_cli_check_draft_json_and_markdown(capsys, desk_dir):
    code, out, _ = run(capsys, ["check", "--draft", str(DRAFT), "--json", "--store", desk_dir])
    assert code == 3
    j = json.loads(out)
    assert j["all_verified"] is False
    assert [q["verdict"] for q in j["quotations"]] == ["verified", "misattributed", "paraphrased", "not found"]
    assert j["quotations"][1]["draft"]["speaker"] == "Marta Kessler"
    code, out, _ = run(capsys, ["check", "--draft", str(DRAFT), "--format", "md", "--store", desk_dir])
    lines = out.strip().splitlines()
    assert code == 3 and len(lines) == 2 + 4
    assert lines[0].startswith("| draft_start | draft_end | quotation |") and set(lines[1]) <= set("|-")


def test_cli_check_draft_all_verified_exits_zero(capsys, desk_dir, tmp_path):
    ok = tmp_path / "ok.md"
    ok.write_text(f"# Ferry\n\n“{VERIFIED},” Kessler said.\n", encoding="utf-8")
    code, out, err = run(capsys, ["check", "--draft", str(ok), "--store", desk_dir])
    assert code == 0, err
    assert "VERIFIED" in out


@pytest.mark.parametrize("argv, phrase", [
    pytest.param(["check", "--draft", "{tmp}/missing.txt"], "missing.txt", id="missing-file"),
    pytest.param(["check", "--draft", "{tmp}/draft.docx"], "give a .txt, .md or .html file", id="wrong-type"),
    pytest.param(["check", "some words here", "--draft", str(DRAFT)], "not both", id="claim-and-draft"),
    pytest.param(["check"], "--draft FILE", id="nothing-to-check"),
    pytest.param(["check", "--draft", str(DRAFT), "--json", "--format", "csv"], "not both", id="json-and-format"),
])
def test_cli_check_draft_errors_are_one_line(capsys, desk_dir, tmp_path, argv, phrase):
    (tmp_path / "draft.docx").write_bytes(b"PK\x03\x04")
    code, out, err = run(capsys, [a.replace("{tmp}", str(tmp_path)) for a in argv] + ["--store", desk_dir])
    assert code == 1 and out == ""
    assert phrase in one_error_line(err)


def test_cli_single_check_exit_status(capsys, desk_dir):
    assert run(capsys, ["check", REYES, "--speaker", "Reyes", "--store", desk_dir])[0] == 0
    assert run(capsys, ["check", REYES, "--speaker", "Kessler", "--store", desk_dir])[0] == 3
    code, out, _ = run(capsys, ["check", CHANGED, "--speaker", "Kessler", "--format", "csv", "--store", desk_dir])
    assert code == 3
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["verdict"] == "paraphrased" and "{+12,000+}" in row["diff"]


# --------------------------------------------------------------------------- exports and explainable answers

QUOTE_FIELDS = {"text", "speaker", "source_type", "document", "start", "end", "score", "confidence", "doc_id",
                "title", "paragraph"}


def test_ask_json_explains_every_quote(capsys, desk_dir, desk):
    store = desk[0]
    code, out, _ = run(capsys, ["ask", "How many passengers will the new berths carry?", "--document",
                                "harbour.txt", "--json", "--store", desk_dir])
    assert code == 0
    j = json.loads(out)
    assert j["quotes"]
    for q in j["quotes"]:
        assert set(q) == QUOTE_FIELDS
        assert q["doc_id"] == store.find_document("harbour.txt")
        assert q["title"] == "Harbour Board Approves Ferry Terminal Expansion"
        assert isinstance(q["paragraph"], int) and q["paragraph"] >= 1
        assert 0.0 <= q["confidence"] <= 1.0
    assert "12,000 passengers" in j["quotes"][0]["text"] and j["quotes"][0]["paragraph"] == 3


def test_an_abstention_says_why_and_gives_the_best_candidate(desk):
    from assistant.answer import Assistant

    store = desk[0]
    ans = Assistant(store, settings=store.settings.with_(min_confidence=0.99)).ask(
        "What colour are the benches at the ferry terminal?")
    j = ans.to_json()
    assert j["abstained"] is True and j["quotes"] == []
    assert j["reason"] and j["reason"].endswith(".")
    if j["best"] is not None:
        assert set(j["best"]) == QUOTE_FIELDS and 0.0 <= j["best"]["confidence"] <= 1.0


def test_ask_csv_one_row_per_quote(capsys, desk_dir):
    code, out, _ = run(capsys, ["ask", "Who said the small boats get pushed further out?", "--top-k", "2",
                                "--format", "csv", "--store", desk_dir])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert 1 <= len(rows) <= 2 and [r["rank"] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    assert rows[0]["speaker"] == "Tomas Reyes" and rows[0]["title"].startswith("Harbour Board")
    assert rows[0]["doc_id"] and rows[0]["paragraph"] == "4" and rows[0]["abstained"] == "false"


def test_ask_batch_csv_has_one_header(capsys, desk_dir, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Who is Tomas Reyes?\n\nWhat did Kessler say?\n"))
    code, out, _ = run(capsys, ["ask", "--format", "csv", "--top-k", "1", "--store", desk_dir])
    assert code == 1  # the empty line is an error row, and the batch goes on
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "question" and sum(r[0] == "question" for r in rows) == 1
    assert [r[0] for r in rows[1:]] == ["Who is Tomas Reyes?", "", "What did Kessler say?"]
    assert rows[2][-1].startswith("error: ")


def test_sources_corpus_summary(capsys, desk_dir):
    code, out, _ = run(capsys, ["sources", "--store", desk_dir])
    assert code == 0
    harbour = next(line for line in out.splitlines() if line.startswith("Harbour Board"))
    assert harbour.split()[-9:-6] == ["3", "4", "0%"]  # sources, passages, anonymous share
    assert "2 article(s)" in out
    code, out, _ = run(capsys, ["sources", "--format", "csv", "--store", desk_dir])
    rows = {Path(r["document"]).name: r for r in csv.DictReader(io.StringIO(out))}
    assert set(rows) == {"harbour.txt", "000_7582fa84670eba64.txt"}
    h = rows["harbour.txt"]
    assert (h["sources"], h["passages"], h["anonymous_passages"], h["anonymous_share"]) == ("3", "4", "0", "0")
    assert h["public_official"] == "2" and h["named_source"] == "1" and h["official_report"] == "1"
    seed = rows["000_7582fa84670eba64.txt"]
    assert int(seed["anonymous_passages"]) >= 1 and 0 < float(seed["anonymous_share"]) < 1
    total = sum(int(seed[t]) for t in ("official_report", "public_official", "law_enforcement", "named_source",
                                       "anonymous_source", "historical_quote"))
    assert total == int(seed["passages"])


def test_sources_of_one_article_csv_and_md(capsys, desk_dir):
    code, out, _ = run(capsys, ["sources", "harbour.txt", "--format", "csv", "--store", desk_dir])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["source"], r["source_type"], r["passages"]) for r in rows] == [
        ("Marta Kessler, the chair of the harbour board", "public official", "2"),
        ("Tomas Reyes", "named source", "1"),
        ("A report by the Riverton Planning Office", "official report", "1")]
    assert rows[0]["named"] == "true" and rows[0]["paragraphs"] == "2 3"
    code, out, _ = run(capsys, ["sources", "harbour.txt", "--format", "md", "--store", desk_dir])
    assert out.splitlines()[0] == "| document | title | source | source_type | named | passages | cues | paragraphs |"
    assert len(out.splitlines()) == 2 + 3


def test_documents_csv(capsys, desk_dir):
    code, out, _ = run(capsys, ["documents", "--format", "csv", "--store", desk_dir])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["title"] for r in rows} == {"Harbour Board Approves Ferry Terminal Expansion",
                                          "China Quietly Ranks Among World Leaders in Human Trafficking"}
    assert all(r["id"] and int(r["units"]) > 0 for r in rows)


@pytest.mark.parametrize("cells", [
    ["plain", 'with "quotes"', "with, comma", "two\nlines", "pipe | here", 3, 0.25, True, None],
])
def test_export_tables_round_trip(cells):
    from assistant.export import render

    cols = [f"c{i}" for i in range(len(cells))]
    (row,) = list(csv.reader(io.StringIO(render("csv", cols, [cells]))))[1:]
    assert row == ["plain", 'with "quotes"', "with, comma", "two\nlines", "pipe | here", "3", "0.25", "true", ""]
    md = render("md", cols, [cells]).splitlines()
    assert len(md) == 3 and "pipe \\| here" in md[2] and "two lines" in md[2]


@pytest.mark.parametrize("text", [
    "The quay is *not* for sale, and the_old_mill is __ours__",
    "# 1 on the list, she said",
    "Read [the plan](http://example.org) and ![the map](map.png) first",
    "Type `close the gates` or <b>shout</b>, as AT&amp;T &copy; did",
    "Cut ~~the ferry~~ for $5 a head | not a cent more, a back\\slash and a \\| too",
    "No markup at all, just words.",
])
def test_markdown_table_shows_a_quote_as_its_exact_text(text):
    markdown_it = pytest.importorskip("markdown_it")
    from assistant.answer import Answer, Quote
    from assistant.export import ANSWER_COLUMNS, answer_rows, render

    quote = Quote(text, "Ada [Quill]_", "named source", "/tmp/quay_notes.txt", 0, len(text), 1.0, title="*Quay*")
    rows = answer_rows(Answer("What did *Quill* say?", False, (quote,)))
    tokens = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(
        render("md", ANSWER_COLUMNS, rows))
    cells = [t for t in tokens if t.type == "inline"][len(ANSWER_COLUMNS):]  # the body row, after the header
    assert len(cells) == len(ANSWER_COLUMNS)
    shown = {}
    for column, cell in zip(ANSWER_COLUMNS, cells):
        # Plain text only: no emphasis, code, link, image, HTML or strikethrough; escapes and entities as text.
        assert {c.type for c in cell.children or []} <= {"text", "text_special"}, (column, cell.children)
        shown[column] = "".join(c.content for c in cell.children or [])
    assert shown["text"] == text
    assert (shown["question"], shown["speaker"], shown["title"], shown["document"]) == (
        "What did *Quill* say?", "Ada [Quill]_", "*Quay*", "/tmp/quay_notes.txt")


# --------------------------------------------------------------------------- eval

@pytest.fixture
def tiny_gold(tmp_path) -> Path:
    """Two questions: one answerable from the harbour article, one whose evidence is in no article (so its
    hit@1 is 0 whatever the model does)."""
    gold = tmp_path / "tiny.jsonl"
    rows = [{"id": "h1", "question": "Who said the small boats get pushed further out?", "answerable": True,
             "evidence": [REYES], "speaker_any": ["Reyes"], "source_type": ["named source"]},
            {"id": "h2", "question": "What did the ferry captain say about the tides?", "answerable": True,
             "evidence": ["These words appear in no article of the archive at all."],
             "speaker_any": ["Captain"], "source_type": ["named source"]}]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return gold


def test_eval_fail_under(capsys, desk_dir, tiny_gold):
    code, out, err = run(capsys, ["eval", str(tiny_gold), "--store", desk_dir, "--fail-under", "verbatim_rate=1",
                                  "--fail-under", "hit_at_1=0.9"])
    assert code == 1
    assert "eval: hit_at_1 is 0.500, under the bound 0.9" in err or "eval: hit_at_1 is 0.000" in err, err
    assert "verbatim_rate" not in err  # that bound holds
    assert "hit_at_1" in out  # the table is printed all the same
    code, _, err = run(capsys, ["eval", str(tiny_gold), "--store", desk_dir, "--fail-under", "verbatim_rate=1.0",
                                "--fail-under", "hit_at_1=0"])
    assert code == 0, err


@pytest.mark.parametrize("bound, phrase", [
    pytest.param("hit_at_1", "METRIC=VALUE", id="no-value"),
    pytest.param("accuracy=0.5", "no metric called 'accuracy'", id="unknown-metric"),
    pytest.param("mrr=high", "not a number", id="not-a-number"),
    pytest.param("mrr=2", "between 0 and 1", id="out-of-range"),
])
def test_eval_fail_under_bad_bounds(capsys, desk_dir, tiny_gold, bound, phrase):
    code, out, err = run(capsys, ["eval", str(tiny_gold), "--store", desk_dir, "--fail-under", bound])
    assert code == 1 and out == ""
    assert phrase in one_error_line(err)


def test_eval_answers_file_has_the_metrics_of_each_question(capsys, desk_dir, tiny_gold, tmp_path):
    answers = tmp_path / "answers.csv"
    code, out, _ = run(capsys, ["eval", str(tiny_gold), "--store", desk_dir, "--json", "--answers", str(answers)])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(answers.read_text(encoding="utf-8"))))
    assert [r["id"] for r in rows] == ["h1", "h2"]
    assert set(METRICS) <= set(rows[0])
    assert rows[1]["hit_at_1"] == "false" and rows[1]["failure"].startswith("miss")
    assert rows[1]["abstain_accuracy"] == ""  # does not apply to an answerable question
    summary = json.loads(out)["metrics"]
    assert summary["hit_at_1"] == sum(r["hit_at_1"] == "true" for r in rows) / 2
    jsonl = tmp_path / "answers.jsonl"
    run(capsys, ["eval", str(tiny_gold), "--store", desk_dir, "--answers", str(jsonl)])
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in lines] == ["h1", "h2"] and all(set(r["metrics"]) == set(METRICS) for r in lines)


# --------------------------------------------------------------------------- adding an article

def test_index_upload_adds_an_article_and_keeps_the_rest(desk, nlp, tmp_path):
    from assistant.indexing import index_upload

    store = desk[0]
    before = store.documents()
    upload = tmp_path / "gradio-tmp-1234"
    upload.write_bytes(LIBRARY.read_bytes())
    doc_id = index_upload(upload, "library.txt", store, nlp)
    after = store.documents()
    assert set(after) == set(before) | {doc_id}
    assert {d: after[d] for d in before} == before  # nothing already indexed is touched
    assert after[doc_id].title == "Library Opens a Reading Garden"
    assert Path(after[doc_id].path).parent == store.settings.store_dir / "uploads"
    # A different article under the same name is kept beside it, not in its place.
    other = tmp_path / "other.txt"
    other.write_text("Another Story\n\n“The garden closes at dusk every day,” said Priya Anand.\n", encoding="utf-8")
    second = index_upload(other, "library.txt", store, nlp)
    assert second != doc_id and {doc_id, second} <= set(store.documents())
    store.delete_document(doc_id)
    store.delete_document(second)
    assert set(store.documents()) == set(before)


@pytest.mark.parametrize("content, name, phrase", [
    pytest.param(b"", "empty.txt", "the file is empty", id="empty"),
    pytest.param(b"\xff\xfe\x00bad", "bad.txt", "not UTF-8", id="not-utf8"),
    pytest.param(b"%PDF-1.7", "report.pdf", "give a .txt, .md or .html file", id="wrong-type"),
    pytest.param(b"x" * 5_000_001, "huge.txt", "over the 5,000,000-byte limit", id="too-big"),
])
def test_index_upload_refuses_bad_files_as_the_cli_does(capsys, desk, nlp, tmp_path, cli_env, content, name, phrase):
    from assistant.indexing import index_upload

    store = desk[0]
    before = store.documents()
    upload = tmp_path / "upload.bin"
    upload.write_bytes(content)
    with pytest.raises(ArticleError) as exc:
        index_upload(upload, name, store, nlp)
    message = str(exc.value)
    assert message.startswith(f"{name}: ") and phrase in message and "upload.bin" not in message
    assert store.documents() == before
    assert not (store.settings.store_dir / "uploads" / name).exists()
    if name.endswith(".txt"):  # the CLI's `index` gives the same reason for the same file
        same = tmp_path / name
        same.write_bytes(content)
        code, _out, err = run(capsys, ["index", str(same), "--store", str(tmp_path / "cli-store")])
        assert f"skipped {same}: " in err and message.removeprefix(f"{name}: ") in err


@pytest.mark.parametrize("host, auth, choice, allowed", [
    ("127.0.0.1", None, "auto", True),
    ("localhost", None, "auto", True),
    ("0.0.0.0", None, "auto", False),
    ("0.0.0.0", "ed:secret", "auto", True),
    ("127.0.0.1", None, "off", False),
    ("0.0.0.0", None, "on", True),
])
def test_add_article_is_on_for_this_machine_and_off_when_exposed(host, auth, choice, allowed):
    from assistant.app import add_arguments, uploads_allowed

    args = add_arguments(argparse.ArgumentParser()).parse_args(
        ["--host", host, "--uploads", choice] + (["--auth", auth] if auth else []))
    assert uploads_allowed(args) is allowed


# --------------------------------------------------------------------------- drafts as web pages; names

HTML_DRAFT = f"""<html><head><title>Ferry story</title></head><body><article><h1>Ferry terminal to grow</h1>
<p>The harbour board has approved a larger ferry terminal after a long and close vote on Monday night.</p>
<p>“{REYES},” said Tomas Reyes, a fisherman who has worked the harbour for thirty years.</p>
</article></body></html>"""


def test_an_html_draft_is_checked_on_its_text_and_the_name_decides(capsys, desk_dir, tmp_path):
    page = tmp_path / "story.html"
    page.write_text(HTML_DRAFT, encoding="utf-8")
    code, out, err = run(capsys, ["check", "--draft", str(page), "--json", "--store", desk_dir])
    assert code == 0, (out, err)  # the description the draft adds ("a fisherman") is not part of the name
    (q,) = json.loads(out)["quotations"]
    assert q["verdict"] == "verified" and q["draft"]["speaker"].startswith("Tomas Reyes")
    assert q["passage"]["speaker"] == "Tomas Reyes"


@pytest.mark.parametrize("label, name", [
    ("Tomas Reyes, a fisherman", "Tomas Reyes"),
    ("John Moolenaar (R-MI), Chairman of the House Select Committee on China", "John Moolenaar"),
    ("Mayor Dana Whitfield", "Mayor Dana Whitfield"),
    ("Kessler", "Kessler"),
])
def test_claimed_name(label, name):
    from assistant.draft import claimed_name

    assert claimed_name(label) == name
