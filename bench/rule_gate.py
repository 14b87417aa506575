"""The rule gate that the learned answer model replaced, kept only so that bench/answers.py can compare them.

Its thresholds were set by hand on the 36 dev questions of the seed article (see issue 9); nothing in the
product imports this file.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from dataclasses import asdict, dataclass

import numpy as np

from assistant.questions import AUTHOR_WORDS, Reading, clean_question, read_question
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
    """Thresholds of the answerability gate and of the quote list (tuned on the dev gold only)."""

    min_dense: float = 0.30
    strong_dense: float = 0.55
    certain_dense: float = 0.85
    min_coverage: float = 0.5
    min_score: float = 0.45
    max_unsupported: float = 0.2
    word_support: float = 0.5
    speaker_match: float = 0.5  # share of the asked-about speaker's name that a label must contain
    margin: float = 0.15  # a further quote must score within this of the first to be shown
    statement_margin: float = 0.35  # the same, for another piece of the first quote's statement
    type_penalty: float = 0.15  # for a passage without the kind of thing asked for (a number, a date)


@dataclass(frozen=True)
class Ranked:
    """A candidate unit with the evidence for ranking it."""

    unit: Unit
    score: float
    dense: float  # cosine similarity to the question
    coverage: float  # idf-weighted share of the question's terms in the unit (neighbours count half)
    speaker: float = 0.0  # how well the unit's speaker label matches the speaker asked about


_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
                     r"thousands?|millions?|billions?|several|half)\b", re.I)
_MONEY = re.compile(r"[$€£¥]\s?\d|\d\s?(?:%|percent)?\s*(?:million|billion|trillion)?\s*(?:dollars|euros|pounds|yuan|"
                    r"yen|rupees|francs|USD|EUR)\b|\b(?:USD|EUR|GBP)\s?\d", re.I)
_DATE = re.compile(r"\b(1[0-9]\d\d|20\d\d)s?\b|\b(?:January|February|March|April|May|June|July|August|September|"
                   r"October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                   r"yesterday|today|tomorrow|last (?:year|month|week)|this (?:year|month|week)|earlier this|"
                   r"century|decade|\d+(?:st|nd|rd|th) century|ago)\b", re.I)


# Words of a question that name the kind of answer rather than its topic.
TYPE_WORDS = {
    "money": r"\b(?:money|cash|funds?|funding|amount|sum|cost|price|dollars?)\b",
    "number": r"\b(?:number|amount|total|count|figure|percentage|percent|share)\b",
    "date": r"\b(?:year|date|day|month|time|decade|century)\b",
}


def has_type(text: str, kind: str | None) -> bool:
    """Whether a passage contains something of the kind a question asks for."""
    if kind == "number":
        return bool(_NUMBER.search(text))
    if kind == "money":
        return bool(_MONEY.search(text))
    if kind == "date":
        return bool(_DATE.search(text))
    return True


def counts(text: str, noun: str) -> bool:
    """Whether a number in the text counts the noun ("158 arrests", "four countries")."""
    want = stem(noun)
    toks = tokenize(text)
    for i, t in enumerate(toks):
        if t == want and any(_NUMBER.fullmatch(x) or x[:1].isdigit() for x in toks[max(0, i - 3):i]):
            return True
    return False


_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


@functools.lru_cache(maxsize=1 << 17)
def _token_set(text: str) -> frozenset[str]:
    """The stemmed tokens of a passage; passages recur across questions, so each is tokenized once."""
    return frozenset(tokenize(text))


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


class RuleAssistant:
    """The old answerer: hand-set ranking weights and a rule gate (bench only)."""

    def __init__(self, store: Store, retriever: HybridRetriever | None = None, settings: Settings | None = None,
                 gate: Gate | None = None):
        self.store = store
        self.retriever = retriever or HybridRetriever(store)
        self.settings = settings or store.settings
        self.gate = gate or Gate()
        self._wordvec: dict[str, np.ndarray] = {}
        self._unit_words: dict[str, list[str]] = {}

    def ask(self, question: str, top_k: int | None = None, doc_id: str | None = None) -> Answer:
        """Answer one question with up to top_k quotes, or abstain."""
        q = clean_question(question, self.settings.max_question_chars)
        k = max(1, top_k or self.settings.top_k)
        reading = read_question(q)
        if reading.metadata:
            header = self.store.header_units(doc_id, reading.metadata)
            if header:
                return Answer(q, False, tuple(self._quote(u, 1.0) for u in header[:k]))
        embedding = self.store.embedder.encode_one(reading.retrieval_text)
        hits = self.retriever.search(reading.retrieval_text, embedding=embedding, doc_id=doc_id)
        if reading.mode == "speaker":
            hits += self._speaker_hits(reading.speaker, hits, embedding, doc_id)
        ranked = self.rank(reading, hits)
        if not ranked or not self.answerable(reading, ranked, doc_id):
            return Answer(q, True, (), ABSTAIN_MESSAGE)
        return Answer(q, False, tuple(self._quote(r.unit, r.score) for r in self.compose(reading, ranked, k)))

    def _speaker_hits(self, speaker: str, hits: list[Hit], embedding, doc_id: str | None) -> list[Hit]:
        """Every passage of the asked-about speaker that the search did not bring: they are the candidates."""
        seen = {h.unit.id for h in hits}
        out = []
        for u in self._units_of(speaker, doc_id):
            if u.id in seen or u.kind == "metadata":
                continue
            v = self.store.vector(u.id)
            dense = float(np.dot(embedding, v)) if v is not None else 0.0
            out.append(Hit(u, 0.0, dense, 0.0))
        return out

    # ------------------------------------------------------------------ ranking

    def rank(self, question: str | Reading, hits: list[Hit]) -> list[Ranked]:
        """Re-rank candidates by dense similarity, term coverage, answer type and the speaker asked about."""
        reading = question if isinstance(question, Reading) else read_question(question)
        topic = reading.topic if reading.mode else reading.text
        # "What did X say?" has no topic: X's name is not one, or the bare "X said." would win on it.
        terms = content_terms(topic) if reading.mode else content_terms(topic) or content_terms(reading.text)
        bm = self.retriever.bm25
        weights = {t: bm.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        soft_terms = [(w, bm.idf(st)) for w, st in _raw_terms(topic)]
        qvecs = self._word_vectors([w for w, _ in soft_terms]) if soft_terms else {}
        # A generic question may name a source ("Who is X?"): the label counts. A question about what
        # someone said matches the speaker separately, and a claim is checked on the words alone.
        with_label = not reading.mode
        if soft_terms:  # every candidate's new words in one batch, not one encode per passage
            self._word_vectors([w for h in hits for w in self._words_of(h.unit)])
        out = []
        for h in hits:
            u = h.unit
            toks = _token_set(u.text + (" " + u.speaker if with_label and u.source_type != "author" else ""))
            near = _token_set(" ".join(n.text for n in self.retriever.neighbours(u)))
            own = sum(w for t, w in weights.items() if t in toks) / total
            # Terms found only in the adjacent sentences count half: context, not the answer itself.
            cov = own + 0.5 * sum(w for t, w in weights.items() if t not in toks and t in near) / total
            s = 0.6 * h.dense + 0.4 * cov + 0.4 * self._soft_coverage(soft_terms, qvecs, u)
            kind = reading.answer_type
            if kind and not has_type(u.text, kind):
                s -= self.gate.type_penalty
            if reading.counted and counts(u.text, reading.counted):
                s += 0.1
            if u.kind == "metadata" and kind not in ("date", "person"):
                s -= 0.1
            sp = 0.0
            if reading.mode == "speaker":
                sp = self.speaker_match(reading.speaker, u)
                # Their own words first, whatever else matches the topic; a bare "she said" carries none.
                if sp >= self.gate.speaker_match and u.kind != "frame":
                    s += 1.0
            out.append(Ranked(u, s, h.dense, cov, sp))
        out.sort(key=lambda r: -r.score)
        return out

    def speaker_match(self, speaker: str, unit: Unit) -> float:
        """The idf-weighted share of the asked-about speaker's name found in the unit's speaker label."""
        return self._label_match(speaker, unit.speaker, unit.source_type, unit.kind == "quote")

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - the cache lives as long as the assistant, by design
    def _label_match(self, speaker: str, label: str, source_type: str, is_quote: bool) -> float:
        words = {w.lower() for w in _WORD.findall(speaker)}
        if words & AUTHOR_WORDS and not words - AUTHOR_WORDS - STOPWORDS:
            return 1.0 if source_type == "author" else 0.0
        terms = [t for t in tokenize(speaker) if t not in STOPWORDS]
        if not terms or source_type == "author" and not is_quote:
            return 0.0
        have = set(tokenize(label))
        bm = self.retriever.bm25
        weights = {t: bm.idf(t) for t in terms}
        return sum(w for t, w in weights.items() if t in have) / (sum(weights.values()) or 1.0)

    def _units_of(self, speaker: str, doc_id: str | None) -> list[Unit]:
        """The units in scope attributed to the asked-about speaker, label by label rather than unit by unit."""
        words = {w.lower() for w in _WORD.findall(speaker)}
        terms = [t for t in tokenize(speaker) if t not in STOPWORDS]
        by_label = self.retriever.by_label
        if words & AUTHOR_WORDS or not terms:
            keys = list(by_label)  # "the author" matches by source type, not by a word of the label
        else:
            keys = self.retriever.labels_with(terms)  # a label sharing no word with the name cannot match
        out = []
        for key in keys:
            label, stype, is_quote = key
            if self._label_match(speaker, label, stype, is_quote) >= self.gate.speaker_match:
                out += [u for u in by_label[key] if not doc_id or u.doc_id == doc_id]
        return out

    def _soft_coverage(self, terms: list[tuple[str, float]], qvecs: dict[str, np.ndarray], u: Unit) -> float:
        """How well the unit's words cover the question's, by word embedding: "rescued" is near "freed"."""
        if not terms:
            return 0.0
        words = self._words_of(u)
        if not words:
            return 0.0
        vecs = self._word_vectors(words)
        m = np.stack([vecs[w] for w in words])
        q = np.stack([qvecs[w] for w, _ in terms])
        best = (q @ m.T).max(axis=1)
        wts = np.array([w for _, w in terms])
        return float((best * wts).sum() / (wts.sum() or 1.0))

    def _words_of(self, u: Unit) -> list[str]:
        words = self._unit_words.get(u.id)
        if words is None:
            words = self._unit_words[u.id] = sorted({w for w, _ in _raw_terms(u.text)})
        return words

    def warm(self) -> None:
        """Load what the first question needs: the model, the units and BM25."""
        self.store.embedder.encode_one("warm up")
        _ = self.retriever.bm25

    def warm_words(self, max_words: int = 20000, batch: int = 512) -> None:
        """Embed the articles' words ahead of the questions that would (safe beside questions: the cache
        only grows, and a word embedded twice is the same vector)."""
        words = sorted({w for u in self.retriever.units for w in self._words_of(u)})
        if len(words) <= max_words:
            for i in range(0, len(words), batch):
                self._word_vectors(words[i:i + batch])

    # ------------------------------------------------------------------ the gate

    def answerable(self, question: str | Reading, ranked: list[Ranked], doc_id: str | None = None) -> bool:
        """The gate: does the best passage answer the question?"""
        reading = question if isinstance(question, Reading) else read_question(question)
        top = ranked[0]
        u, g = top.unit, self.gate
        if reading.presumes_speaker and not self._speaker_present(reading.speaker, doc_id):
            # Nobody of that name speaks in the article: whatever else it says, it does not quote them.
            return False
        if reading.mode == "speaker" and not content_terms(reading.topic):
            # "What did X say?" asks for nothing but X's words: any passage of theirs answers it.
            return top.speaker >= g.speaker_match and u.kind != "frame"
        if top.dense < g.min_dense:
            return False
        context = [u] + self.retriever.neighbours(u)
        kind = reading.answer_type
        if kind in ("number", "money", "date") and not any(has_type(c.text, kind) for c in context):
            return False
        asked = reading.topic if reading.mode else reading.text
        if kind in TYPE_WORDS and any(has_type(c.text, kind) for c in context):
            # "How much money ...": an amount in the passage is the money; the word need not be there.
            asked = re.sub(TYPE_WORDS[kind], " ", asked, flags=re.I)
        if top.dense >= g.certain_dense:
            return True
        if self.unsupported_share(asked, context, with_label=not reading.mode) >= g.max_unsupported:
            return False
        if top.dense >= g.strong_dense:
            return True
        return top.coverage >= g.min_coverage and top.score >= g.min_score

    def _speaker_present(self, speaker: str, doc_id: str | None) -> bool:
        """Whether some unit in scope is attributed to the speaker: being named is not being quoted."""
        return bool(self._units_of(speaker, doc_id))

    def unsupported_share(self, question: str, context: list[Unit], with_label: bool = True) -> float:
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
            label = " " + c.speaker if with_label and c.source_type != "author" else ""
            for raw, st in _raw_terms(c.text + label):
                present.add(st)
                words.add(raw)
        weights = {t: bm.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        missing = [t for t in terms if t not in present]
        if not missing or not words:
            return 0.0 if not missing else sum(weights[t] for t in missing) / total
        ordered = sorted(words)
        vecs = self._word_vectors([terms[t] for t in missing] + ordered)
        m = np.stack([vecs[w] for w in ordered])
        unsupported = 0.0
        for t in missing:
            if float((m @ vecs[terms[t]]).max()) < self.gate.word_support:
                unsupported += weights[t]
        return unsupported / total

    def _word_vectors(self, words: list[str]) -> dict[str, np.ndarray]:
        cache = self._wordvec
        todo = [w for w in dict.fromkeys(words) if w not in cache]
        if todo:
            for w, v in zip(todo, self.store.embedder.encode(todo, batch_size=128)):
                cache[w] = np.asarray(v, dtype=np.float32)
        return {w: cache[w] for w in words}

    # ------------------------------------------------------------------ the quotes

    def compose(self, reading: Reading, ranked: list[Ranked], k: int) -> list[Ranked]:
        """The quotes to show: the best passage, the rest of its statement, then others that score close to it.

        A statement split by its attribution ("A," she said. "B.") is one answer to a question about
        what someone said: its relevant pieces come together, in article order.
        """
        first = ranked[0]
        chosen = [first]
        if reading.mode and first.unit.kind == "quote":
            # Another piece joins when it is relevant too; the statement then scores as its best piece.
            by_id = {r.unit.id: r for r in ranked}
            near = [by_id[p.id] for p in self._statement(first.unit)
                    if p.id != first.unit.id and p.id in by_id
                    and by_id[p.id].score >= first.score - self.gate.statement_margin]
            if near:
                group = sorted([first] + near, key=lambda r: r.unit.start)[:k]
                if first not in group:  # k too small for the whole statement: keep the best piece
                    group = sorted([first] + group[: k - 1], key=lambda r: r.unit.start)
                chosen = [dataclasses.replace(r, score=first.score) for r in group]
        taken = {r.unit.id for r in chosen}
        for r in ranked[1:]:
            if len(chosen) >= k or r.score < first.score - self.gate.margin:
                break
            if r.unit.id not in taken and not any(_overlaps(r.unit, c.unit) for c in chosen):
                chosen.append(r)
                taken.add(r.unit.id)
        return chosen

    def _statement(self, unit: Unit) -> list[Unit]:
        """The quoted pieces of one statement: the same speaker's quotes in adjacent sentences of a paragraph."""
        same = [u for u in self.retriever.units
                if u.doc_id == unit.doc_id and u.paragraph == unit.paragraph and u.kind == "quote"
                and u.speaker == unit.speaker and abs(u.sentence - unit.sentence) <= 1]
        return sorted(same, key=lambda u: u.start)

    def _quote(self, u: Unit, score: float) -> Quote:
        document = u.document
        if not os.path.exists(document):  # indexed on another machine (a Chroma server): a local copy
            document = str(self.store.local_path(u.doc_id))
        return Quote(u.text, u.speaker, u.source_type, document, u.start, u.end, round(float(score), 4),
                     u.title, u.paragraph)


def _overlaps(a: Unit, b: Unit) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end
