"""Turn retrieved units into an answer: a few verbatim quotes, best first, or an abstention."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field

from assistant.errors import QuestionError
from assistant.retrieval import QUESTION_VERBS, STOPWORDS, Hit, HybridRetriever, content_terms, stem, tokenize
from assistant.settings import Settings
from assistant.store import Store
from assistant.units import Unit

ABSTAIN_MESSAGE = "The article does not say."


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

    def to_json(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in ("text", "speaker", "source_type", "document", "start", "end", "score")}


@dataclass(frozen=True)
class Answer:
    """The answer to one question: quotes, or an abstention."""

    question: str
    abstained: bool
    quotes: tuple[Quote, ...] = ()
    note: str = ""

    def to_json(self) -> dict:
        return {"question": self.question, "abstained": self.abstained,
                "quotes": [q.to_json() for q in self.quotes]}


@dataclass(frozen=True)
class Gate:
    """Thresholds of the answerability gate (tuned on the dev gold only)."""

    min_dense: float = 0.30
    strong_dense: float = 0.55
    certain_dense: float = 0.85
    min_coverage: float = 0.5
    min_score: float = 0.45
    max_unsupported: float = 0.2
    word_support: float = 0.5


def clean_question(question: str, max_chars: int = 2000) -> str:
    """Normalise a question, or raise QuestionError with what is wrong."""
    if question is None:
        raise QuestionError("the question is empty")
    q = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in question)
    q = re.sub(r"\s+", " ", q).strip()
    if not q:
        raise QuestionError("the question is empty; ask something about the article")
    if len(q) > max_chars:
        raise QuestionError(f"the question is {len(q):,} characters long; the limit is {max_chars:,}")
    return q


_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|billion)\b", re.I)
_DATE = re.compile(r"\b(1[6-9]\d\d|20\d\d)\b|\b(?:January|February|March|April|May|June|July|August|September|"
                   r"October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                   r"yesterday|today|last year|this year|earlier this|past)\b", re.I)


def expected_type(question: str) -> str | None:
    """The kind of answer a question asks for: number, date, person, or None."""
    q = question.lower()
    if re.match(r"\s*(how (many|much|long|old|far|often|large|big)|what (percentage|share|number|amount))", q):
        return "number"
    if re.match(r"\s*(when|what (year|date|time|day|month))\b", q) or "in what year" in q:
        return "date"
    if re.match(r"\s*(who|whom|whose)\b", q):
        return "person"
    return None


_THIS_ARTICLE = r"(?:the|this) (?:article|story|piece|column|op-ed|post)"
_META_DATE = re.compile(rf"^(?:when|on what (?:date|day)|what (?:date|day)) (?:was|is|were) {_THIS_ARTICLE} "
                        r"(?:published|posted|written|dated|released|updated)\W*$", re.I)
_META_BYLINE = re.compile(rf"^(?:who (?:wrote|writes|authored) {_THIS_ARTICLE}|who is the (?:author|writer) of "
                          rf"{_THIS_ARTICLE}|who (?:is|was) {_THIS_ARTICLE}(?:'s| by) (?:author|writer)?|"
                          rf"who is the (?:author|writer)|whose byline is on {_THIS_ARTICLE})\W*$", re.I)


def metadata_kind(question: str) -> str | None:
    """"When was the article published?" asks for the date line; "Who wrote the article?" for the byline.

    Only questions about the article itself count: "Who wrote the report?" goes through retrieval.
    """
    q = question.strip()
    if _META_DATE.match(q):
        return "date"
    if _META_BYLINE.match(q):
        return "byline"
    return None


def has_type(text: str, kind: str | None) -> bool:
    if kind == "number":
        return bool(_NUMBER.search(text))
    if kind == "date":
        return bool(_DATE.search(text))
    return True


_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def _raw_terms(text: str) -> list[tuple[str, str]]:
    """(word, stem) pairs of the content words of a text."""
    out = []
    for m in _WORD.finditer(text):
        w = m.group().lower().replace("’", "'").strip("'-")
        if w.endswith("'s"):
            w = w[:-2]
        if len(w) > 1 and w not in STOPWORDS and w not in QUESTION_VERBS:
            out.append((w, stem(w)))
    return out


class Assistant:
    """Answers questions over a store, only with verbatim quotes."""

    def __init__(self, store: Store, retriever: HybridRetriever | None = None, settings: Settings | None = None,
                 gate: Gate | None = None):
        self.store = store
        self.retriever = retriever or HybridRetriever(store)
        self.settings = settings or store.settings
        self.gate = gate or Gate()
        self._wordvec: dict[str, list[float]] = {}

    def ask(self, question: str, top_k: int | None = None, doc_id: str | None = None) -> Answer:
        """Answer one question with up to top_k quotes, or abstain."""
        q = clean_question(question, self.settings.max_question_chars)
        k = max(1, top_k or self.settings.top_k)
        meta = metadata_kind(q)
        if meta:
            header = self.store.header_units(doc_id, meta)
            if header:
                return Answer(q, False, tuple(self._quote(u, 1.0) for u in header[:k]))
        hits = self.retriever.search(q, doc_id=doc_id)
        ranked = self.rank(q, hits)
        if not ranked or not self.answerable(q, ranked):
            return Answer(q, True, (), ABSTAIN_MESSAGE)
        chosen = ranked[:k]
        return Answer(q, False, tuple(self._quote(u, s) for u, s, _d, _c in chosen))

    # ------------------------------------------------------------------ ranking

    def rank(self, question: str, hits: list[Hit]) -> list[tuple[Unit, float, float, float]]:
        """Re-rank candidates by dense similarity, term coverage and answer type."""
        terms = content_terms(question)
        kind = expected_type(question)
        bm = self.retriever.bm25
        weights = {t: bm.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        out = []
        for h in hits:
            u = h.unit
            toks = set(tokenize(u.text + " " + (u.speaker if u.source_type != "author" else "")))
            near = set(tokenize(" ".join(n.text for n in self.retriever.neighbours(u))))
            own = sum(w for t, w in weights.items() if t in toks) / total
            # Terms found only in the adjacent sentences count half: context, not the answer itself.
            cov = own + 0.5 * sum(w for t, w in weights.items() if t not in toks and t in near) / total
            s = 0.6 * h.dense + 0.4 * cov
            if kind and not has_type(u.text, kind):
                s -= 0.15
            if u.kind == "metadata" and kind not in ("date", "person"):
                s -= 0.1
            out.append((u, s, h.dense, cov))
        out.sort(key=lambda x: -x[1])
        return out

    def answerable(self, question: str, ranked: list[tuple[Unit, float, float, float]]) -> bool:
        """The gate: does the best passage (unit, score, dense similarity, coverage) answer the question?"""
        u, score, dense, cov = ranked[0]
        g = self.gate
        if dense < g.min_dense:
            return False
        context = [u] + self.retriever.neighbours(u)
        kind = expected_type(question)
        if kind in ("number", "date") and not any(has_type(c.text, kind) for c in context):
            return False
        if dense >= g.certain_dense:
            return True
        if self.unsupported_share(question, context) >= g.max_unsupported:
            return False
        if dense >= g.strong_dense:
            return True
        return cov >= g.min_coverage and score >= g.min_score

    def unsupported_share(self, question: str, context: list[Unit]) -> float:
        """The idf-weighted share of question terms that nothing in the passage or its neighbours supports.

        A term is supported when it occurs there, or when a word there is close to it in embedding
        space ("money" and "proceeds"). A question about a "tier" the article never mentions is not.
        """
        bm = self.retriever.bm25
        terms = {stem_: raw for raw, stem_ in _raw_terms(question)}
        if not terms:
            return 0.0
        present = set()
        words: set[str] = set()
        for c in context:
            for raw, st in _raw_terms(c.text + " " + (c.speaker if c.source_type != "author" else "")):
                present.add(st)
                words.add(raw)
        weights = {t: bm.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        missing = [t for t in terms if t not in present]
        if not missing:
            return 0.0
        vecs = self._word_vectors([terms[t] for t in missing] + sorted(words))
        unsupported = 0.0
        for t in missing:
            v = vecs[terms[t]]
            best = max((sum(a * b for a, b in zip(v, vecs[w])) for w in words), default=0.0)
            if best < self.gate.word_support:
                unsupported += weights[t]
        return unsupported / total

    def _word_vectors(self, words: list[str]) -> dict[str, list[float]]:
        cache = self._wordvec
        todo = [w for w in dict.fromkeys(words) if w not in cache]
        if todo:
            for w, v in zip(todo, self.store.embedder.encode(todo, batch_size=128)):
                cache[w] = v
        return {w: cache[w] for w in words}

    def _quote(self, u: Unit, score: float) -> Quote:
        return Quote(u.text, u.speaker, u.source_type, u.document, u.start, u.end, round(float(score), 4),
                     u.title, u.paragraph)
