"""Check a claimed quote against the indexed articles: verified, misattributed, paraphrased or not found."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import QuestionError
from assistant.kinds import SPOKEN_KINDS as _SPOKEN
from assistant.kinds import UnitKind
from assistant.questions import scrub
from assistant.retrieval import STOPWORDS, HybridRetriever, tokenize
from assistant.source_types import PUBLIC_TITLES, ROLE_TITLES, SourceType
from assistant.store import Store
from assistant.units import Unit

VERDICTS = ("verified", "misattributed", "paraphrased", "not found")
_QUOTE_MARKS = "\"'“”‘’„‟‚‛«»‹›`´"
_DASHES = "‐‑‒–—―"


@dataclass(frozen=True)
class Passage:
    """Where the article has the words: verbatim text with its offsets and its attribution."""

    text: str
    speaker: str
    source_type: str
    document: str
    start: int
    end: int

    def to_json(self) -> dict:
        return {"text": self.text, "speaker": self.speaker, "source_type": self.source_type,
                "document": self.document, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Verdict:
    """The answer to "did this person say these words?"."""

    verdict: str
    claim: str
    claimed_speaker: str | None
    passage: Passage | None
    similarity: float
    diff: tuple[tuple[str, str], ...] = ()  # ("=", words) both, ("-", words) claim only, ("+", words) article only

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "claim": self.claim, "claimed_speaker": self.claimed_speaker,
                "passage": self.passage.to_json() if self.passage else None,
                "similarity": round(self.similarity, 4), "diff": [list(d) for d in self.diff]}


def normalise(text: str) -> tuple[str, list[int]]:
    """Text folded for matching (case, quote marks, dashes, whitespace), with each character's source offset."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch in _QUOTE_MARKS:
            continue
        if ch in _DASHES:
            ch = "-"
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs"):
            if out and out[-1] == " ":
                continue
            ch = " "
        out.append(ch.lower())
        where.append(i)
    return "".join(out), where


def _fold_claim(claim: str) -> str:
    folded, _ = normalise(claim)
    # Trailing (and leading) punctuation is how the claim was cut, not what was said.
    return re.sub(r"^[\s\W_]+|[\s\W_]+$", "", folded)


def speaker_matches(claimed: str, label: str) -> bool:
    """A surname or the full label both count; someone quoted second-hand ("X (quoted by Y)") is X, not Y."""
    head = re.split(r"\s*\(quoted by\b", label, maxsplit=1)[0]
    have = set(tokenize(head))
    want = [t for t in tokenize(claimed) if t not in STOPWORDS]
    if not want:
        return False
    if all(t in have for t in want):
        return True
    # "Jane Doe" claimed against a label that only gives "Doe, the mayor": the surname decides, unless both
    # give a first name and they differ ("John Menon" is not "Rajiv Menon"; "J. Menon" may be "John Menon").
    if not (want[-1] in have and len(want[-1]) > 2):
        return False
    mine, theirs = _given_name(claimed, want[-1]), _given_name(head, want[-1])
    if mine and theirs and mine != theirs:
        return len(mine) == 1 and theirs.startswith(mine) or len(theirs) == 1 and mine.startswith(theirs)
    return True


_NOT_GIVEN_NAMES = {t for title in PUBLIC_TITLES | ROLE_TITLES for t in title.split()} | {
    "mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sir", "dame", "lord", "lady", "chief", "fire", "police",
    "sheriff", "officer", "sgt", "sergeant", "lt", "lieutenant", "capt", "captain", "col", "colonel", "gen",
    "coach", "rev", "reverend", "father", "sister", "brother", "pastor", "rabbi", "imam", "saint", "st", "the",
}


def _given_name(text: str, surname: str) -> str:
    """The capitalised word just before the surname in a name ("Rajiv" in "Councillor Rajiv Menon"), lower
    case; "" when there is none or it is a title ("Mayor Menon")."""
    words = re.findall(r"[\w’'-]+", text)
    for i, w in enumerate(words):
        if i > 0 and tokenize(w) == [surname]:  # the surname as tokenize gives it (stemmed: "Jones" -> "jon")
            prev = words[i - 1]
            if prev[:1].isupper() and prev.lower() not in _NOT_GIVEN_NAMES:
                return prev.lower()
            return ""
    return ""


def word_diff(claim: str, passage: str) -> tuple[tuple[str, str], ...]:
    """Word-level differences between the claim and the article's words."""
    a, b = claim.split(), passage.split()
    key = lambda w: re.sub(r"[^\w%$.,]", "", w.lower()).strip(".,")  # noqa: E731 - a local key
    sm = difflib.SequenceMatcher(a=[key(w) for w in a], b=[key(w) for w in b], autojunk=False)
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(b[j1:j2])))
            continue
        if i2 > i1:
            out.append(("-", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("+", " ".join(b[j1:j2])))
    return tuple(out)


class Checker:
    """Checks claimed quotes against every indexed article (or one)."""

    def __init__(self, store: Store, retriever: HybridRetriever | None = None, min_words: int | None = None,
                 paraphrase_ratio: float | None = None, paraphrase_similarity: float | None = None):
        settings = store.settings  # the limits and thresholds not given here
        self.store = store
        self.retriever = retriever or HybridRetriever(store)
        self.min_words = settings.check_min_words if min_words is None else min_words
        self.max_chars = settings.max_claim_chars
        self.paraphrase_ratio = settings.paraphrase_ratio if paraphrase_ratio is None else paraphrase_ratio
        self.paraphrase_similarity = (settings.paraphrase_similarity if paraphrase_similarity is None
                                      else paraphrase_similarity)
        self._texts: dict[str, tuple[str, str, list[int]]] = {}  # doc_id -> (text, folded, offsets)

    def _doc(self, doc_id: str) -> tuple[str, str, list[int]] | None:
        if doc_id not in self._texts:
            if doc_id not in self.store.documents():
                return None
            text = self.store.document_text(doc_id)
            self._texts[doc_id] = (text, *normalise(text))
        return self._texts[doc_id]

    def _units(self, doc_id: str) -> list[Unit]:
        return [u for u in self.retriever.units if u.doc_id == doc_id]

    def attribution(self, doc_id: str, start: int, end: int) -> Unit | None:
        """The unit that says most of [start, end): spoken units first, then narration."""
        best, best_key = None, None
        for u in self._units(doc_id):
            ov = min(u.end, end) - max(u.start, start)
            if ov <= 0 or u.kind == UnitKind.METADATA:
                continue
            key = (u.kind in _SPOKEN and u.kind != UnitKind.FRAME, ov)
            if best_key is None or key > best_key:
                best, best_key = u, key
        return best

    def check(self, claim: str, speaker: str | None = None, doc_id: str | None = None) -> Verdict:
        """The verdict on a claimed quote, with the article's words and who the article gives them to."""
        if claim is None or not claim.strip():
            raise QuestionError("the claimed quote is empty")
        if len(claim) > self.max_chars:
            raise QuestionError(f"the claimed quote is {len(claim):,} characters long; the limit is {self.max_chars:,}")
        claim = scrub(claim)
        speaker = scrub(speaker or "").strip() or None
        folded = _fold_claim(claim)
        if len(folded.split()) < self.min_words:
            raise QuestionError(f"give at least {self.min_words} words of the quote to check")
        docs = [doc_id] if doc_id else sorted(self.store.documents())
        found: list[Passage] = []
        for d in docs:
            doc = self._doc(d)
            if doc is None:
                continue
            text, norm, where = doc
            i = norm.find(folded)
            while i != -1:
                if _whole(norm, i, i + len(folded)):
                    s, e = where[i], where[i + len(folded) - 1] + 1
                    found.append(self._passage(d, text, s, e))
                i = norm.find(folded, i + 1)
        if found:
            if speaker is None:
                return Verdict("verified", claim, None, found[0], 1.0)
            for p in found:
                if speaker_matches(speaker, p.speaker):
                    return Verdict("verified", claim, speaker, p, 1.0)
            return Verdict("misattributed", claim, speaker, found[0], 1.0)
        return self._closest(claim, folded, speaker, docs)

    def _passage(self, doc_id: str, text: str, s: int, e: int) -> Passage:
        u = self.attribution(doc_id, s, e)
        path = str(self.store.path_holding(doc_id, s, e, text[s:e]))
        return Passage(text[s:e], u.speaker if u else "", u.source_type if u else SourceType.AUTHOR, path, s, e)

    def _closest(self, claim: str, folded: str, speaker: str | None, docs: list[str]) -> Verdict:
        """The nearest passage by characters (rapidfuzz) or meaning (MiniLM), if it is near enough."""
        from rapidfuzz import fuzz

        best = (0.0, None, 0, 0)  # (similarity, doc_id, start, end)
        for d in docs:
            doc = self._doc(d)
            if doc is None:
                continue
            text, norm, where = doc
            # Paragraph by paragraph keeps the alignment local; a window of two covers a claim that crosses.
            paras = [m.span() for m in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text)]
            spans = paras + [(a[0], b[1]) for a, b in zip(paras, paras[1:])]
            for ps, pe in spans:
                lo = _index_at(where, ps)
                hi = _index_at(where, pe)
                seg = norm[lo:hi]
                if not seg:
                    continue
                al = fuzz.partial_ratio_alignment(folded, seg, score_cutoff=best[0] * 100)
                if al is None or al.score / 100 <= best[0]:
                    continue
                s = where[lo + al.dest_start]
                e = where[min(lo + al.dest_end, len(where)) - 1] + 1
                best = (al.score / 100, d, *_clause(text, *_words(text, s, e)))
        sim, d, s, e = best
        semantic = self._nearest_unit(claim, docs)
        if semantic and (d is None or semantic[0] > sim and sim < self.paraphrase_ratio):
            sim_sem, unit = semantic
            if sim_sem >= self.paraphrase_similarity:
                sim, d, s, e = sim_sem, unit.doc_id, unit.start, unit.end
        if d is None or sim < min(self.paraphrase_ratio, self.paraphrase_similarity):
            return Verdict("not found", claim, speaker, None, sim)
        text = self._doc(d)[0]
        p = self._passage(d, text, s, e)
        return Verdict("paraphrased", claim, speaker, p, sim, word_diff(claim, p.text))

    def _nearest_unit(self, claim: str, docs: list[str]) -> tuple[float, Unit] | None:
        v = self.store.embedder.encode_one(claim)
        where = {"doc_id": docs[0]} if len(docs) == 1 else None
        hits = [h for h in self.store.query(v, 5, where=where) if h.unit.kind != UnitKind.METADATA]
        return (hits[0].similarity, hits[0].unit) if hits else None


def _whole(norm: str, i: int, j: int) -> bool:
    """Whether norm[i:j] starts and ends on word boundaries: "will not" is not in "will notify", and "194"
    is not in "1,194" nor "4" in "4.2"."""
    if i > 0 and norm[i].isalnum():
        before = norm[i - 1]
        if before.isalnum() or (norm[i].isdigit() and before in ".," and i > 1 and norm[i - 2].isdigit()):
            return False
    if j < len(norm) and norm[j - 1].isalnum():
        after = norm[j]
        if after.isalnum() or (norm[j - 1].isdigit() and after in ".," and j + 1 < len(norm)
                               and norm[j + 1].isdigit()):
            return False
    return True


def _index_at(where: list[int], offset: int) -> int:
    """The first folded index whose source offset is at or after `offset`."""
    import bisect

    return bisect.bisect_left(where, offset)


_CLAUSE_END = ".;!?\n\"“”„«»"  # no apostrophes: "the city's" goes on


def _clause(text: str, s: int, e: int, reach: int = 80) -> tuple[int, int]:
    """Widen an aligned span to the end of its clause, when that is near: the alignment is as long as the
    claim, and "is realistic" aligned in "is simply not realistic." would stop at "is simply not" and misstate
    what the article says."""
    end = e
    while end < len(text) and end - e < reach and text[end] not in _CLAUSE_END:
        end += 1
    if end < len(text) and end - e < reach:
        e = _words(text, s, end)[1]
        while e > s and text[e - 1] in ",;:":  # "2027,” she said": the comma is the tag's
            e -= 1
    return s, e


def _words(text: str, s: int, e: int) -> tuple[int, int]:
    """Widen [s, e) to whole words, then trim spaces and quote marks at the edges."""
    while s > 0 and text[s - 1].isalnum():
        s -= 1
    while e < len(text) and text[e].isalnum():
        e += 1
    while s < e and (text[s].isspace() or text[s] in _QUOTE_MARKS):
        s += 1
    while e > s and (text[e - 1].isspace() or text[e - 1] in _QUOTE_MARKS):
        e -= 1
    return s, e
