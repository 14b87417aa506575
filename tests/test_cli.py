"""The command line, driven through main([...]) and read as a user reads it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys

import pytest

from assistant.cli import main
from assistant.evaluation import METRICS

QUESTION = "What did Moolenaar say American companies must do?"
QUOTE_KEYS = {"text", "speaker", "source_type", "document", "start", "end", "score", "confidence", "doc_id", "title",
              "paragraph"}


@pytest.fixture
def store_dir(store, settings, cli_env) -> str:
    """The session store, already built, so the CLI does not index again."""
    return str(settings.store_dir)


def file_slice(document: str, start: int, end: int) -> str:
    with open(document, encoding="utf-8") as fh:
        return fh.read()[start:end]


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- ask

def test_ask_json(capsys, store_dir):
    code, out, _ = run(capsys, ["ask", QUESTION, "--json", "--store", store_dir])
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1
    ans = json.loads(lines[0])
    assert set(ans) >= {"question", "abstained", "quotes"}
    assert ans["question"] == QUESTION
    assert ans["abstained"] is False
    assert ans["quotes"]
    for q in ans["quotes"]:
        assert set(q) >= QUOTE_KEYS
        assert q["text"] == file_slice(q["document"], q["start"], q["end"])
        assert isinstance(q["score"], float)
    assert any("Moolenaar" in q["speaker"] for q in ans["quotes"])


def test_ask_json_top_k(capsys, store_dir):
    code, out, _ = run(capsys, ["ask", QUESTION, "--json", "--top-k", "1", "--store", store_dir])
    assert code == 0
    assert len(json.loads(out)["quotes"]) == 1


def test_ask_json_abstains(capsys, store_dir):
    code, out, _ = run(capsys, ["ask", "What is the capital of Australia?", "--json", "--store", store_dir])
    assert code == 0
    ans = json.loads(out)
    assert ans["abstained"] is True
    assert ans["quotes"] == []


def test_ask_batch_from_stdin(capsys, monkeypatch, store_dir):
    questions = [QUESTION, "What is a good recipe for dumplings?", "How many properties did Europol raid?"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(q + "\n" for q in questions)))
    code, out, _ = run(capsys, ["ask", "--json", "--store", store_dir])
    assert code == 0
    answers = [json.loads(line) for line in out.strip().splitlines()]
    assert [a["question"] for a in answers] == questions
    assert [a["abstained"] for a in answers] == [False, True, False]


def test_ask_batch_keeps_a_line_for_a_bad_question(capsys, monkeypatch, store_dir):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{QUESTION}\n\n{QUESTION}\n"))
    code, out, _ = run(capsys, ["ask", "--json", "--store", store_dir])
    assert code == 1
    answers = [json.loads(line) for line in out.strip().splitlines()]
    assert len(answers) == 3
    assert answers[1]["abstained"] is True and answers[1]["quotes"] == []
    assert "empty" in answers[1]["error"]
    assert answers[0]["quotes"] and answers[2]["quotes"]


def test_ask_readable(capsys, store_dir):
    _, out_json, _ = run(capsys, ["ask", QUESTION, "--json", "--store", store_dir])
    quotes = json.loads(out_json)["quotes"]
    code, out, _ = run(capsys, ["ask", QUESTION, "--store", store_dir])
    assert code == 0
    assert QUESTION in out
    lines = out.splitlines()
    for q in quotes:
        at = next(i for i, line in enumerate(lines) if line.endswith(f"“{q['text']}”"))
        label = lines[at + 1].strip()
        # "— speaker (type)", without repeating a type the label already ends with.
        assert label.startswith(f"— {q['speaker']}")
        assert f"({q['source_type']})" in label


def test_ask_readable_author_label_is_not_repeated(capsys, store_dir):
    code, out, _ = run(capsys, ["ask", "How many properties did Europol raid?", "--store", store_dir])
    assert code == 0
    assert "“Europol raided 14 properties in four countries, including Spain and Croatia.”" in out
    assert "— Ben Solis (author)" in out
    assert "(author) (author)" not in out


def test_ask_readable_abstention(capsys, store_dir):
    code, out, _ = run(capsys, ["ask", "What is a good recipe for dumplings?", "--store", store_dir])
    assert code == 0
    assert "does not say" in out
    assert "“" not in out


# --------------------------------------------------------------------------- quotes

def test_quotes_json(capsys, cli_env, seed_path):
    code, out, _ = run(capsys, ["quotes", str(seed_path), "--json"])
    assert code == 0
    recs = [json.loads(line) for line in out.strip().splitlines()]
    assert len(recs) >= 9
    for r in recs:
        assert set(r) >= {"text", "speaker", "source_type", "document", "start", "end", "cue", "kind"}
        assert r["text"] == file_slice(r["document"], r["start"], r["end"])
        assert r["source_type"] != "author"
    assert any("Moolenaar" in r["speaker"] and r["source_type"] == "public official" for r in recs)
    assert [r["start"] for r in recs] == sorted(r["start"] for r in recs)


def test_quotes_readable(capsys, cli_env, seed_path):
    code, out, _ = run(capsys, ["quotes", str(seed_path)])
    assert code == 0
    assert "(historical quote)" in out
    assert "“The criminal world offers methods that the Party must adopt to increase its effectiveness.”" in out


# --------------------------------------------------------------------------- index

def test_index_then_reindex_reports_unchanged(capsys, cli_env, tmp_path):
    target = str(tmp_path / "chroma")
    code, _, err = run(capsys, ["index", "--store", target])
    assert code == 0
    m = re.search(r"indexed (\d+) document\(s\), (\d+) units; (\d+) unchanged; (\d+) pruned; (\d+) failed", err)
    assert m, err
    assert m.group(1) == "1" and int(m.group(2)) > 0 and m.group(3) == "0" and m.group(5) == "0"

    code, _, err = run(capsys, ["index", "--store", target])
    assert code == 0
    m = re.search(r"indexed (\d+) document\(s\), (\d+) units; (\d+) unchanged; (\d+) pruned; (\d+) failed", err)
    assert m, err
    assert m.groups() == ("0", "0", "1", "0", "0")


@pytest.mark.parametrize("name, data", [
    pytest.param("tides.csv", b'speaker,words\nAda Quill,"The tide is late again."\n', id="csv"),
    # A PDF whose bytes happen to be ASCII would parse as an article if it were read as text.
    pytest.param("tides.pdf", b"%PDF-1.4\nHarbour notes\n\n(The tide is late again, Ada Quill said.) Tj\n",
                 id="pdf"),
])
def test_index_refuses_a_named_file_that_is_no_article(capsys, cli_env, tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    code, out, err = run(capsys, ["index", str(path), "--store", str(tmp_path / "chroma")])
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == f"skipped {path}: not an article file this tool reads; give a .txt, .md or .html file"
    assert "indexed 0 document(s)" in lines[-1] and "1 failed" in lines[-1], err


def test_index_says_each_failed_file_once(cli_env, tmp_path):
    # In a process of its own: there the log goes to stderr as a user sees it (under pytest, pytest takes it).
    import assistant

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "quay.txt").write_bytes("Quay notes\n\nThe caf\xe9 by the quay opened.\n".encode("latin-1"))
    (folder / "blank.md").write_bytes(b"")
    env = {**os.environ, "PYTHONUTF8": "1", "PYTHONPATH": os.path.dirname(os.path.dirname(assistant.__file__))}
    argv = [sys.executable, "-m", "assistant", "index", str(folder), "--store", str(tmp_path / "chroma")]
    proc = subprocess.run(argv, capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    for name in ("quay.txt", "blank.md"):
        mine = [line for line in lines if name in line]
        assert len(mine) == 1 and mine[0].startswith(f"skipped {folder / name}: "), proc.stderr
    assert len(lines) == 3 and "2 failed" in lines[-1], proc.stderr


def test_index_draws_no_progress_bar_when_stderr_is_not_a_terminal(capsys, store_dir):
    code, _, err = run(capsys, ["index", "--store", store_dir])
    assert code == 0
    assert "1 unchanged" in err
    assert err.strip().splitlines() == [err.strip()], err


# --------------------------------------------------------------------------- eval

@pytest.fixture(scope="module")
def eval_run(gold_path, store, settings, seeds_dir, tmp_path_factory):
    """One `eval GOLD --json --answers FILE` run, shared: it asks every gold question."""
    answers = tmp_path_factory.mktemp("eval") / "answers.jsonl"
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASSISTANT_SEEDS", str(seeds_dir))
        for var in ("ASSISTANT_STORE", "ASSISTANT_CHROMA_HOST", "ASSISTANT_TOP_K", "ASSISTANT_MODEL"):
            mp.delenv(var, raising=False)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["eval", str(gold_path), "--json", "--store", str(settings.store_dir),
                         "--answers", str(answers)])
    return code, out.getvalue(), err.getvalue(), answers


def test_eval_json(eval_run, gold_path):
    code, out, _, _ = eval_run
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    metrics = result["metrics"]
    n = sum(1 for line in open(gold_path, encoding="utf-8") if line.strip())
    assert metrics["n"] == n
    for k in METRICS:
        assert 0.0 <= metrics[k] <= 1.0, k
    # Every quote is a slice of the article: the one metric with a fixed target.
    assert metrics["verbatim_rate"] == 1.0
    assert isinstance(result["failures"], list)


def test_eval_writes_one_answer_per_question(eval_run, gold_path):
    _, _, _, answers = eval_run
    gold = [json.loads(line) for line in open(gold_path, encoding="utf-8") if line.strip()]
    rows = [json.loads(line) for line in answers.read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in rows] == [g["question"] for g in gold]
    for r in rows:
        # Each row is an answer (the reference scorer reads it) plus the gold id and what it scored.
        assert set(r) == ({"id", "question", "abstained", "quotes", "metrics", "failure"}
                          | ({"reason", "best"} if r["abstained"] else set()))
        assert set(r["metrics"]) == set(METRICS)
        for q in r["quotes"]:
            assert set(q) == QUOTE_KEYS
            assert q["text"] == file_slice(q["document"], q["start"], q["end"])


def test_eval_agrees_with_the_reference_scorer(eval_run, gold_path, scorer_path, seed_path):
    _, out, _, answers = eval_run
    ours = json.loads(out)["metrics"]
    env = {**os.environ, "PYTHONUTF8": "1"}
    proc = subprocess.run([sys.executable, str(scorer_path), str(gold_path), str(answers), str(seed_path)],
                          capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    theirs = json.loads("\n".join(lines[:-1]))  # the last line is a one-line digest
    assert set(theirs) == set(ours)
    for k, v in theirs.items():
        assert ours[k] == pytest.approx(v, abs=1e-9), k


def test_eval_readable(capsys, tmp_path, store_dir):
    # A two-question gold file keeps this fast; the full file is scored once above.
    gold = tmp_path / "tiny.jsonl"
    rows = [
        {"id": "t1", "question": QUESTION, "answerable": True,
         "evidence": ["American companies must do more to comply with the Uyghur Forced Labor Prevention Act"],
         "speaker_any": ["Moolenaar"], "source_type": ["public official"]},
        {"id": "t2", "question": "What is a good recipe for dumplings?", "answerable": False, "evidence": [],
         "speaker_any": [], "source_type": []},
    ]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, out, _ = run(capsys, ["eval", str(gold), "--store", store_dir])
    assert code == 0
    assert re.search(r"^questions\s+2$", out, re.M)
    for k in METRICS:
        assert re.search(rf"^{k}\s+\d\.\d{{3}}$", out, re.M), k
    assert re.search(r"^abstain_accuracy\s+1\.000$", out, re.M)
    assert re.search(r"^verbatim_rate\s+1\.000$", out, re.M)


# --------------------------------------------------------------------------- errors

@pytest.fixture
def binary_file(tmp_path):
    p = tmp_path / "photo.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return p


@pytest.mark.parametrize("argv, name", [
    (["quotes", "{tmp}/missing.txt"], "missing.txt"),
    (["quotes", "{binary}"], "photo.txt"),
    (["quotes", "{binary}", "--json"], "photo.txt"),
    (["index", "{tmp}/missing", "--store", "{tmp}/chroma"], "missing"),
    (["eval", "{tmp}/missing.jsonl", "--store", "{store}"], "missing.jsonl"),
    (["ask", "", "--store", "{store}"], "empty"),
    (["ask", "x" * 2001, "--json", "--store", "{store}"], "2,000"),
    (["index", "{tmp}", "--store", "{binary}"], "cannot be the store folder"),  # a file, not a folder
    (["eval", "{tmp}/empty.jsonl", "--store", "{store}"], "no questions"),
])
def test_errors_are_one_line_without_traceback(capsys, tmp_path, binary_file, store_dir, argv, name):
    argv = [a.format(tmp=tmp_path, binary=binary_file, store=store_dir) for a in argv]
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    code, out, err = run(capsys, argv)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert name in lines[0]
    assert "Traceback" not in err + out
    assert out == ""


def test_bad_gold_row_is_an_error_line(capsys, tmp_path, store_dir):
    gold = tmp_path / "bad.jsonl"
    gold.write_text('{"id": "x1", "question": "Who?"}\n', encoding="utf-8")
    code, out, err = run(capsys, ["eval", str(gold), "--store", store_dir])
    assert code == 1
    assert err.strip().startswith("error: ")
    assert "bad.jsonl:1" in err
    assert "Traceback" not in err


def test_help_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out, _ = capsys.readouterr()
    for command in ("index", "ask", "quotes", "eval"):
        assert command in out


# --------------------------------------------------------------------------- no seeds folder, an empty store

def test_a_store_with_articles_answers_without_a_seeds_folder(capsys, monkeypatch, tmp_path, store_dir):
    monkeypatch.setenv("ASSISTANT_SEEDS", str(tmp_path / "missing"))
    code, out, err = run(capsys, ["ask", QUESTION, "--json", "--store", store_dir])
    assert code == 0, err
    assert json.loads(out)["quotes"]


def test_ask_on_an_empty_store_says_how_to_index(capsys, cli_env, monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_SEEDS", str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    code, out, err = run(capsys, ["ask", QUESTION, "--store", str(empty)])
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: no article is indexed in the store {empty}")
    assert f"'on-the-record index PATH... --store {empty}'" in lines[0]
    assert "missing" not in lines[0]


def test_version(capsys):
    from assistant import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"python -m assistant {__version__}"


def test_serve_help_lists_the_app_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--store", "--chroma-host", "--auth"):
        assert option in out


@pytest.mark.parametrize("value", ["0", "-2", "three"])
def test_a_bad_top_k_is_a_usage_error(capsys, store_dir, value):
    with pytest.raises(SystemExit) as exc:
        main(["ask", "Who spoke?", "--top-k", value, "--store", store_dir])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--top-k" in err and "Traceback" not in err
