"""Find candidate units for a question: dense (Chroma) and lexical (BM25), fused by reciprocal rank."""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from assistant.kinds import UnitKind
from assistant.source_types import SourceType
from assistant.store import Store
from assistant.units import Unit

STOPWORDS = {
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "is",
    "are", "was", "were", "be", "been", "being", "do", "does", "did", "done", "have", "has", "had", "what",
    "which", "who", "whom", "whose", "when", "where", "why", "how", "that", "this", "these", "those", "it", "its",
    "they", "them", "their", "he", "she", "his", "her", "him", "i", "we", "you", "your", "our", "my", "me", "us",
    "about", "into", "than", "then", "there", "so", "such", "not", "no", "can", "could", "would", "should",
    "will", "shall", "may", "might", "must", "any", "some", "all", "each", "more", "most", "other", "also",
    "if", "after", "before", "over", "under", "up", "down", "out", "off", "very", "just", "s", "many", "much",
    "say", "said", "says", "according", "article", "tell", "told",
}
_TOKEN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9'’]|\.(?=[A-Za-z0-9]))*")
# Question words that carry no topic: asking what someone "said" or "concluded" is about the answer's form.
QUESTION_VERBS = {
    "happen", "happened", "use", "used", "mean", "meant", "conclude", "concluded", "claim", "claimed", "argue",
    "argued", "think", "believe", "mention", "mentioned", "describe", "described", "state", "stated", "explain",
    "explained", "call", "called", "name", "named", "known", "kind", "type", "sort", "way", "thing", "things",
    "go", "get", "got", "make", "made", "take", "took", "give", "gave", "come", "came", "involve", "involved",
    "author", "article", "story", "piece", "column", "writer", "text", "passage",
}


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens with a light stem, for lexical matching."""
    out = []
    for m in _TOKEN.finditer(text):
        w = m.group().lower().replace("’", "'").strip(".'-")
        if w.endswith("'s"):
            w = w[:-2]
        w = w.replace(",", "")
        if w:
            out.append(stem(w))
    return out


def stem(w: str) -> str:
    """A tiny suffix stripper; enough to match "arrests" with "arrested" without a dependency."""
    if len(w) <= 3 or w[0].isdigit():
        return w
    for suf in ("ations", "ation", "ings", "ing", "edly", "ies", "ied", "ers", "er", "ed", "es", "ly", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
            break
    # "generate", "generates" and "generated" all become "generat".
    return w[:-1] if w.endswith("e") and len(w) > 4 else w


def content_terms(text: str) -> list[str]:
    """Stemmed tokens that carry meaning: no stop words or question verbs."""
    out = []
    for m in _TOKEN.finditer(text):
        w = m.group().lower().replace("’", "'").strip(".'-")
        if w.endswith("'s"):
            w = w[:-2]
        if w and w not in STOPWORDS and w not in QUESTION_VERBS:
            out.append(stem(w))
    return out


@dataclass
class BM25:
    """Okapi BM25 over unit texts."""

    docs: list[list[str]]
    k1: float = 1.2
    b: float = 0.75
    df: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for d in self.docs:
            self.df.update(set(d))
        self.n = len(self.docs)
        self.avgdl = sum(len(d) for d in self.docs) / max(self.n, 1)
        # Postings: per term, the documents holding it and their term weight (everything but the idf), as
        # arrays, so that a query over tens of thousands of units is a few vector additions.
        rows: dict[str, tuple[list[int], list[float]]] = {}
        for i, d in enumerate(self.docs):
            norm = self.k1 * (1 - self.b + self.b * len(d) / self.avgdl) if self.avgdl else self.k1
            for t, f in Counter(d).items():
                ix, w = rows.setdefault(t, ([], []))
                ix.append(i)
                w.append(f * (self.k1 + 1) / (f + norm))
        self.postings = {t: (np.asarray(ix, dtype=np.int64), np.asarray(w, dtype=np.float64))
                         for t, (ix, w) in rows.items()}

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def score_array(self, query: list[str]) -> np.ndarray:
        """The BM25 score of every document (0 where no term matches)."""
        acc = np.zeros(self.n, dtype=np.float64)
        for t in set(query):
            if t in self.postings:
                ix, w = self.postings[t]
                acc[ix] += self.idf(t) * w
        return acc

    def top(self, query: list[str], k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The k best (document index, score) pairs with a score above 0, best first (ties in document
        order); rows, when given, limits the documents."""
        acc = self.score_array(query)
        cand = rows if rows is not None else np.arange(self.n)
        cand = cand[acc[cand] > 0]
        if len(cand) > k:
            cand = cand[np.argpartition(-acc[cand], k - 1)[:k]]
        cand = cand[np.lexsort((cand, -acc[cand]))]
        return [(int(i), float(acc[i])) for i in cand]


@dataclass(frozen=True)
class Hit:
    """A candidate unit with its fused score and the evidence behind it."""

    unit: Unit
    score: float
    dense: float  # cosine similarity, 0 when not among the dense candidates
    lexical: float  # BM25 score, 0 when no term matched
    dense_rank: int | None = None
    lexical_rank: int | None = None


class HybridRetriever:
    """Dense plus BM25 candidates over one store, fused by reciprocal rank."""

    def __init__(self, store: Store, candidates: int = 40, rrf_k: int = 60):
        self.store = store
        self.candidates = candidates
        self.rrf_k = rrf_k
        self._bm25: BM25 | None = None
        self._units: list[Unit] | None = None
        self._loading = threading.Lock()

    def refresh(self) -> None:
        """Forget cached units, after the store changed."""
        with self._loading:  # not halfway through a load on another thread
            self._bm25 = None
            self._units = None

    @property
    def units(self) -> list[Unit]:
        if self._units is None:
            with self._loading:  # a warm-up thread and the first question may both get here
                if self._units is None:
                    units = self.store.all_units()
                    by_sentence: dict[tuple[str, int], list[Unit]] = {}
                    for u in units:
                        if u.sentence:
                            by_sentence.setdefault((u.doc_id, u.sentence), []).append(u)
                    self._by_sentence = by_sentence
                    by_label: dict[tuple[str, str, bool], list[Unit]] = {}
                    for u in units:
                        by_label.setdefault((u.speaker, u.source_type, u.kind == UnitKind.QUOTE), []).append(u)
                    self._by_label = by_label
                    label_terms: dict[str, list[tuple[str, str, bool]]] = {}
                    for key in by_label:  # in by_label's order
                        for t in dict.fromkeys(tokenize(key[0])):
                            label_terms.setdefault(t, []).append(key)
                    self._label_terms = label_terms
                    self._label_order = {key: n for n, key in enumerate(by_label)}
                    doc_rows: dict[str, list[int]] = {}
                    for i, u in enumerate(units):
                        doc_rows.setdefault(u.doc_id, []).append(i)
                    self._doc_rows = {d: np.asarray(r, dtype=np.int64) for d, r in doc_rows.items()}
                    self._bm25 = BM25([tokenize(u.text + " " + _speaker_terms(u)) for u in units])
                    self._units = units
        return self._units

    @property
    def bm25(self) -> BM25:
        _ = self.units
        assert self._bm25 is not None
        return self._bm25

    def search(self, question: str, k: int | None = None, embedding: list[float] | None = None,
               doc_id: str | None = None) -> list[Hit]:
        """Candidates for a question, best first."""
        k = k or self.candidates
        units = self.units
        if not units:
            return []
        if embedding is None:
            embedding = self.store.embedder.encode_one(question)
        where = {"doc_id": doc_id} if doc_id else None
        dense = self.store.query(embedding, k, where=where)
        lex_ranked = self.bm25.top(tokenize(question), k, self._doc_rows.get(doc_id, _NO_ROWS) if doc_id else None)
        fused: dict[str, dict] = {}
        for r, h in enumerate(dense):
            e = fused.setdefault(h.unit.id, {"unit": h.unit, "dense": 0.0, "lexical": 0.0, "dr": None, "lr": None})
            e["dense"], e["dr"] = h.similarity, r
        for r, (i, s) in enumerate(lex_ranked):
            u = units[i]
            e = fused.setdefault(u.id, {"unit": u, "dense": None, "lexical": 0.0, "dr": None, "lr": None})
            e["lexical"], e["lr"] = s, r
        hits = []
        # Lexical-only candidates still need a dense similarity: use their stored vectors.
        for e in fused.values():
            if e["dense"] is None:
                v = self.store.vector(e["unit"].id)
                if v is None:
                    v = self.store.embedder.encode_one(e["unit"].text)
                e["dense"] = float(np.dot(embedding, v))
        for e in fused.values():
            score = 0.0
            if e["dr"] is not None:
                score += 1.0 / (self.rrf_k + e["dr"] + 1)
            if e["lr"] is not None:
                score += 1.0 / (self.rrf_k + e["lr"] + 1)
            hits.append(Hit(e["unit"], score, float(e["dense"]), float(e["lexical"]), e["dr"], e["lr"]))
        hits.sort(key=lambda h: -h.score)
        return hits

    @property
    def by_label(self) -> dict[tuple[str, str, bool], list[Unit]]:
        """Units grouped by (speaker label, source type, is a direct quote)."""
        _ = self.units
        return self._by_label

    def labels_with(self, terms: list[str]) -> list[tuple[str, str, bool]]:
        """The by_label keys whose speaker label holds any of these (tokenized) terms, in by_label's order."""
        _ = self.units
        keys = {key for t in terms for key in self._label_terms.get(t, ())}
        return sorted(keys, key=self._label_order.__getitem__)

    def neighbours(self, unit: Unit) -> list[Unit]:
        """Units of the same and the adjacent sentences of the same document."""
        _ = self.units
        out = []
        for n in (unit.sentence - 1, unit.sentence, unit.sentence + 1):
            out += [u for u in self._by_sentence.get((unit.doc_id, n), ()) if u.id != unit.id]
        return out


_NO_ROWS = np.zeros(0, dtype=np.int64)


def _speaker_terms(u: Unit) -> str:
    # The speaker's name is searchable ("What did Smith say ..."), the author's label is not.
    return "" if u.source_type == SourceType.AUTHOR else u.speaker
