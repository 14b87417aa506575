"""Turn a question into an answer: a few verbatim quotes, best first, each with a confidence, or an abstention
that says why.

The ranking and the confidence come from the learned answer model (`assistant.ranking`); what stays here is
logic, not tuning: questions about the article itself are answered from its header lines, "What did X say?"
abstains when nobody called X speaks in the article, and a quote split by its attribution comes whole.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from assistant.questions import Mode, Reading, answer_slot, clean_question, read_question
from assistant.ranking import AnswerModel, Candidate, Ranker, Ranking
from assistant.retrieval import HybridRetriever, content_terms
from assistant.settings import Settings
from assistant.store import Store
from assistant.units import Unit
from assistant.kinds import UnitKind

log = logging.getLogger(__name__)

ABSTAIN_MESSAGE = "The article does not say."

_QUOTE_FIELDS = ("text", "speaker", "source_type", "document", "start", "end", "score", "confidence", "doc_id",
                 "title", "paragraph")


@dataclass(frozen=True)
class Quote:
    """One verbatim passage of an answer."""

    text: str
    speaker: str
    source_type: str
    document: str
    start: int
    end: int
    score: float
    title: str = ""
    paragraph: int = 0
    confidence: float = 0.0  # calibrated probability that this passage answers the question
    doc_id: str = ""

    def to_json(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in _QUOTE_FIELDS}


@dataclass(frozen=True)
class Answer:
    """The answer to one question: quotes, or an abstention with its reason and the passage that came closest."""

    question: str
    abstained: bool
    quotes: tuple[Quote, ...] = ()
    note: str = ""
    reason: str = ""
    best: Quote | None = None  # for an abstention: the best candidate, not shown as an answer

    def to_json(self) -> dict:
        out = {"question": self.question, "abstained": self.abstained, "quotes": [q.to_json() for q in self.quotes]}
        if self.abstained:
            out["reason"] = self.reason
            out["best"] = self.best.to_json() if self.best else None
        return out


@dataclass(frozen=True)
class Prepared:
    """A question made ready to answer (`Assistant.prepare`): cleaned, read, and embedded for retrieval."""

    question: str
    reading: Reading
    embedding: list[float] | None  # None for a question about the article itself, which needs no search


class Assistant:
    """Answers questions over a store, only with verbatim quotes."""

    def __init__(self, store: Store, retriever: HybridRetriever | None = None, settings: Settings | None = None,
                 model: AnswerModel | None = None):
        self.store = store
        self.settings = settings or store.settings
        self.retriever = retriever or HybridRetriever(store)
        self.model = model or AnswerModel(self.settings.model, self.settings.answer_model_dir)
        self.ranker = Ranker(self.retriever, self.model, store.embedder, candidates=self.settings.rerank_candidates)

    @property
    def min_confidence(self) -> float:
        """The abstention threshold: the setting when given, else the one chosen with the model."""
        s = self.settings.min_confidence
        return self.model.threshold if s is None else s

    def sync(self) -> bool:
        """Pick up documents that another process indexed, changed or pruned since they were read; True when
        there were any. One cheap check of the store's version stamp; the caches reload only on a change."""
        if not self.store.changed():
            return False
        log.info("the store's documents changed; reloading its units")
        self.store.reopen()
        self.retriever.refresh()
        self.ranker.refresh()
        return True

    def ask(self, question: str, top_k: int | None = None, doc_id: str | None = None) -> Answer:
        """Answer one question with up to top_k quotes, or abstain (from the documents the store serves now)."""
        return self.answer(self.prepare(question), top_k, doc_id)

    def prepare(self, question: str) -> Prepared:
        """The first step of `ask`, which reads nothing that the documents or the caches hold: clean and read
        the question and embed it (QuestionError for a bad one). A server runs it outside the lock it answers
        under, so that one question's embedding (a model forward with the GIL released) runs beside another's
        answer on the second core."""
        q = clean_question(question, self.settings.max_question_chars)
        reading = read_question(q)
        embedding = None if reading.metadata else self.store.embedder.encode_one(reading.retrieval_text)
        return Prepared(q, reading, embedding)

    def answer(self, prepared: Prepared, top_k: int | None = None, doc_id: str | None = None) -> Answer:
        """The rest of `ask`: the answer to a prepared question from the documents the store serves now."""
        self.sync()
        q, reading = prepared.question, prepared.reading
        k = max(1, top_k or self.settings.top_k)
        ruled = self.by_rule(q, reading, k, doc_id)
        if ruled is not None:
            return ruled
        return self.decide(q, reading, self.rank(reading, doc_id, prepared.embedding), k)

    def by_rule(self, q: str, reading: Reading, k: int, doc_id: str | None) -> Answer | None:
        """The answers that logic gives before any ranking: the article's own header lines for a question
        about the article, and an abstention when the speaker asked about is never quoted."""
        if reading.metadata:
            header = self.store.header_units(doc_id, reading.metadata)
            if header:
                return Answer(q, False, tuple(self._quote(u, 1.0, 1.0) for u in header[:k]))
        if reading.presumes_speaker and not self.ranker.units_of(reading.speaker, doc_id):
            return Answer(q, True, (), ABSTAIN_MESSAGE,
                          f"Nobody called “{reading.speaker}” is quoted in the article.")
        return None

    def decide(self, q: str, reading: Reading, ranking: Ranking, k: int,
               min_confidence: float | None = None) -> Answer:
        """Quotes from a ranking, or an abstention when its best passage is not confident enough."""
        threshold = self.min_confidence if min_confidence is None else min_confidence
        best = ranking.best
        if best is None:
            return Answer(q, True, (), ABSTAIN_MESSAGE, "No passage of the article matches the question.")
        if not self.exempt(reading, ranking):
            if best.confidence < threshold:
                return Answer(q, True, (), ABSTAIN_MESSAGE,
                              f"The closest passage has confidence {best.confidence:.2f}, below the threshold "
                              f"{threshold:.2f}.", self._quote(best.unit, best.score, best.confidence))
            if self.ranker.slot_missing(reading.text, best.unit, self.model.slot_rule):
                return Answer(q, True, (), ABSTAIN_MESSAGE,
                              f"The question asks for a {answer_slot(q)} and the closest passage gives none.",
                              self._quote(best.unit, best.score, best.confidence))
        chosen = self.compose(reading, ranking, k)
        return Answer(q, False, tuple(self._quote(c.unit, c.score, c.confidence) for c in chosen))

    @staticmethod
    def exempt(reading: Reading, ranking: Ranking) -> bool:
        """"What did X say?" asks for nothing but X's words: any passage of theirs answers it."""
        best = ranking.best
        return bool(best and best.speaker and reading.mode == Mode.SPEAKER and not content_terms(reading.topic))

    def rank(self, question: str | Reading, doc_id: str | None = None, embedding: list[float] | None = None) -> Ranking:
        """The candidates for a question, best first, each with its confidence (`embedding`: of the question's
        retrieval text, when already made)."""
        reading = question if isinstance(question, Reading) else read_question(question)
        if embedding is None:
            embedding = self.store.embedder.encode_one(reading.retrieval_text)
        hits = self.retriever.search(reading.retrieval_text, embedding=embedding, doc_id=doc_id)
        return self.ranker.rank(reading, self.ranker.pool(reading, hits, embedding, doc_id))

    def compose(self, reading: Reading, ranking: Ranking, k: int) -> list[Candidate]:
        """The quotes to show (see `compose`)."""
        return compose(reading.mode, ranking.candidates, self.statement, k)

    def statement(self, unit: Unit) -> list[Unit]:
        """The quoted pieces of one statement: the same speaker's quotes in adjacent sentences of a paragraph."""
        near = [unit] + self.retriever.neighbours(unit)
        same = {u.id: u for u in near if u.paragraph == unit.paragraph and u.kind == UnitKind.QUOTE
                and u.speaker == unit.speaker and abs(u.sentence - unit.sentence) <= 1}
        return sorted(same.values(), key=lambda u: u.start)

    def warm(self, graphs: bool = True) -> None:
        """Load what the first question needs: the models, the units and BM25, and with `graphs` the models as
        traced graphs (`compile`). For a process that answers many questions; one `ask` does not need it."""
        if graphs:
            self.compile()
        self.store.embedder.encode_one("warm up")
        if self.model.uses_encoder:
            self.model.encoder.score("warm up", ["warm up"])
        if self.model.slot_rule == "entities":
            self.ranker.entities.warm()
        _ = self.retriever.bm25

    def compile(self) -> None:
        """Run the models of the answer path as traced graphs from now on (see graphs.py); safe beside questions,
        which use the eager models until a graph is ready."""
        self.store.embedder.compile()
        if self.model.uses_encoder:
            self.model.encoder.compile()

    def warm_words(self) -> None:
        """Embed the articles' words before questions need them (the app does this after `warm`)."""
        self.ranker.warm_words()

    def _quote(self, u: Unit, score: float, confidence: float) -> Quote:
        # The article's file while it still holds the quote; else (edited since, or indexed on another machine
        # through a Chroma server) a local copy of the indexed text.
        document = str(self.store.path_holding(u.doc_id, u.start, u.end, u.text))
        return Quote(u.text, u.speaker, u.source_type, document, u.start, u.end, round(float(score), 4),
                     u.title, u.paragraph, round(float(confidence), 4), u.doc_id)


def compose(mode: str, candidates: tuple[Candidate, ...] | list[Candidate], statement_of, k: int) -> list[Candidate]:
    """The quotes to show: the best passage with the rest of its statement, then the next best passages.

    A statement split by its attribution ("A," she said. "B.") is one answer to a question about what someone
    said (any question with a mode): its other pieces (`statement_of(unit)`) follow the best one, in article
    order. To such a question, an attribution tag is no further answer.
    """
    first = candidates[0]
    chosen = [first]
    if mode and first.unit.kind == UnitKind.QUOTE:
        by_id = {c.unit.id: c for c in candidates}
        rest = [by_id.get(p.id) or Candidate(p, first.score, first.confidence, first.speaker)
                for p in statement_of(first.unit) if p.id != first.unit.id]
        chosen += rest[: k - 1]
    for c in candidates[1:]:
        if len(chosen) >= k:
            break
        # After the first, a bare attribution tag ("Castillo said.") adds nothing to what someone said: it is
        # the writer's words, and would show as the speaker's.
        if mode and c.unit.kind == UnitKind.FRAME:
            continue
        if not any(_overlaps(c.unit, x.unit) for x in chosen):
            chosen.append(c)
    return chosen


def _overlaps(a: Unit, b: Unit) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


def as_langchain_retriever(assistant: Assistant, k: int = 3, doc_id: str | None = None):
    """The assistant as a LangChain `BaseRetriever`: the answer's quotes as `Document`s, with their speaker,
    source type, offsets and confidence in the metadata, and no documents when the article is silent."""
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class QuoteRetriever(BaseRetriever):
        """Verbatim, attributed passages that answer a query."""

        k: int = 3

        def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun):
            answer = assistant.ask(query, top_k=self.k, doc_id=doc_id)
            return [Document(page_content=q.text, id=f"{q.document}:{q.start}:{q.end}",
                             metadata={"speaker": q.speaker, "source_type": q.source_type, "document": q.document,
                                       "start": q.start, "end": q.end, "score": q.score,
                                       "confidence": q.confidence, "title": q.title, "paragraph": q.paragraph})
                    for q in answer.quotes]

    return QuoteRetriever(k=k)
