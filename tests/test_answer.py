"""Answers over the real store: verbatim quotes with offsets, abstention, bad questions, LangChain."""

from __future__ import annotations

import pytest

from assistant.answer import Answer, Assistant, clean_question
from assistant.errors import QuestionError


def file_slice(document: str, start: int, end: int) -> str:
    with open(document, encoding="utf-8") as fh:
        return fh.read()[start:end]


# (question, words the answer must quote, speaker substring of that quote, its source type)
ANSWERABLE = [
    ("What did Moolenaar say American companies must do?", "American companies must do more", "Moolenaar",
     "public official"),
    ("How many people are exploited by state-imposed forced labor?", "3.9 million individuals",
     "State Department", "official report"),
    ("Who said that the criminal world offers methods that the Party must adopt?", "The criminal world offers",
     "Lenin", "historical quote"),
    ("How many properties did Europol raid?", "Europol raided 14 properties", "author", "author"),
]


@pytest.mark.parametrize("question, words, speaker, stype", ANSWERABLE)
def test_answer_quotes_are_verbatim_and_attributed(assistant_, question, words, speaker, stype):
    ans = assistant_.ask(question)
    assert isinstance(ans, Answer)
    assert not ans.abstained
    assert 1 <= len(ans.quotes) <= assistant_.settings.top_k
    for q in ans.quotes:
        assert q.text == file_slice(q.document, q.start, q.end)
        assert q.speaker and q.source_type
    scores = [q.score for q in ans.quotes]
    assert scores == sorted(scores, reverse=True)
    holding = [q for q in ans.quotes if words in q.text]
    assert holding, [q.text for q in ans.quotes]
    assert speaker.lower() in holding[0].speaker.lower()
    assert holding[0].source_type == stype


def test_top_k_limits_the_quotes(assistant_):
    ans = assistant_.ask("What did Moolenaar say American companies must do?", top_k=1)
    assert len(ans.quotes) == 1


def test_answer_json_shape(assistant_):
    d = assistant_.ask("What did Moolenaar say American companies must do?").to_json()
    assert set(d) == {"question", "abstained", "quotes"}
    assert d["quotes"]
    for q in d["quotes"]:
        assert set(q) == {"text", "speaker", "source_type", "document", "start", "end", "score", "confidence",
                          "doc_id", "title", "paragraph"}


@pytest.mark.parametrize("question", [
    "What is the capital of Australia?",
    "What is a good recipe for dumplings?",
])
def test_abstains_when_the_article_does_not_say(strict_assistant, question):
    ans = strict_assistant.ask(question)
    assert ans.abstained is True
    assert ans.quotes == ()
    assert ans.to_json()["quotes"] == []


@pytest.mark.parametrize("question, words", [
    ("Who wrote the article?", "Ben Solis"),
    ("When was the article published?", "November 28, 2025"),
])
def test_answers_questions_about_the_article_itself(assistant_, question, words):
    ans = assistant_.ask(question)
    assert not ans.abstained
    assert any(words in q.text for q in ans.quotes)


HEADER_LINES = {"by Ben Solis", "Posted on Friday, November 28, 2025"}


@pytest.mark.parametrize("question", [
    "Who wrote the Uyghur Forced Labor Prevention Act?",
    "Who is the author of the State Department report?",
    "When was the State Department report released?",
])
def test_questions_about_other_documents_do_not_get_the_articles_header(strict_assistant, question):
    ans = strict_assistant.ask(question)
    assert not any(q.text in HEADER_LINES for q in ans.quotes), [q.text for q in ans.quotes]


def test_confidence_separates_an_answered_question_from_an_off_topic_one(assistant_):
    good = assistant_.rank("What did Moolenaar say American companies must do?").best
    bad = assistant_.rank("What is a good recipe for dumplings?").best
    assert 0.0 <= bad.confidence < good.confidence <= 1.0
    assert good.confidence >= assistant_.min_confidence


@pytest.mark.xfail(reason="a trap: the seed names the act and the report but not who wrote them; the model's "
                          "confidence in the closest passage is above even the strict threshold")
@pytest.mark.parametrize("question", ["Who wrote the Uyghur Forced Labor Prevention Act?",
                                      "Who is the author of the State Department report?"])
def test_questions_about_an_unnamed_author_abstain(strict_assistant, question):
    assert strict_assistant.ask(question).abstained


def test_langchain_retriever_returns_nothing_when_the_article_is_silent(strict_assistant):
    from assistant.answer import as_langchain_retriever

    assert as_langchain_retriever(strict_assistant).invoke("What is a good recipe for dumplings?") == []


@pytest.mark.xfail(reason="at the default threshold (chosen for <= 10% false abstentions on the news gold, where the "
                          "model tells answerable from unanswerable poorly) an off-topic question still gets the "
                          "closest passage, with a low confidence")
def test_default_threshold_refuses_an_off_topic_question(assistant_):
    assert assistant_.ask("What is a good recipe for dumplings?").abstained


@pytest.mark.parametrize("question", ["", "   ", "\n\t \u200b", None])
def test_empty_question_raises(assistant_, question):
    with pytest.raises(QuestionError, match="empty"):
        assistant_.ask(question)


def test_overlong_question_raises(assistant_):
    with pytest.raises(QuestionError, match="2,000"):
        assistant_.ask("why " * 501)
    with pytest.raises(QuestionError):
        assistant_.ask("x" * 2001)


def test_clean_question_normalises_whitespace():
    assert clean_question("  What   did\n Moolenaar\tsay? ") == "What did Moolenaar say?"
    assert len(clean_question("x" * 2000)) == 2000


def test_question_is_echoed_cleaned(assistant_):
    ans = assistant_.ask("  What did Moolenaar say   American companies must do? ")
    assert ans.question == "What did Moolenaar say American companies must do?"


def test_langchain_retriever_returns_documents(assistant_):
    from langchain_core.documents import Document

    from assistant.answer import as_langchain_retriever

    retriever = as_langchain_retriever(assistant_, k=2)
    docs = retriever.invoke("What did Moolenaar say about the Uyghur Forced Labor Prevention Act?")
    assert 1 <= len(docs) <= 2
    for d in docs:
        assert isinstance(d, Document)
        for key in ("speaker", "source_type", "start", "end", "document", "confidence"):
            assert key in d.metadata
        assert 0.0 <= d.metadata["confidence"] <= 1.0
        assert d.page_content == file_slice(d.metadata["document"], d.metadata["start"], d.metadata["end"])
    assert any("Moolenaar" in d.metadata["speaker"] for d in docs)


def test_an_article_edited_after_indexing_sends_readers_to_a_copy_that_holds_the_quote(settings, embedder, tmp_path):
    from assistant.check import Checker
    from assistant.indexing import index_paths
    from assistant.store import Store

    art = tmp_path / "pier.txt"
    art.write_text("Pier Plan Approved\n\nBy Ann Lee\n\nThe council approved the pier plan on Monday.\n\n"
                   "“We will rebuild the pier before summer,” Mayor Jo Kim said.\n", encoding="utf-8")
    store = Store(settings.with_(store_dir=tmp_path / "chroma"), embedder=embedder)
    index_paths([art], store, progress=False)
    assistant = Assistant(store)

    def holds(doc: str, start: int, end: int, text: str) -> bool:
        return open(doc, encoding="utf-8").read()[start:end] == text

    q = assistant.ask("What did Mayor Kim say about the pier?").quotes[0]
    assert q.document == str(art) and holds(q.document, q.start, q.end, q.text)
    art.write_text("EDITED: " + art.read_text(encoding="utf-8"), encoding="utf-8")  # not indexed again
    q = assistant.ask("What did Mayor Kim say about the pier?").quotes[0]
    assert q.document != str(art) and holds(q.document, q.start, q.end, q.text)
    v = Checker(store).check("We will rebuild the pier before summer", "Kim")
    assert v.verdict == "verified" and v.passage.document != str(art)
    assert holds(v.passage.document, v.passage.start, v.passage.end, v.passage.text)
