"""Who said a quoted passage: the cue in its sentence, a tag after it, or the words it sits in.

Cues, in the order they are tried: a title of a work (nobody's speech), a transcript's "NAME:", a dash tag
(“words” ― Name), a roundup's tag (“Words,” Jane Doe, The Daily Ledger), "quoting X", "according to X",
the speech verb that governs the quoted words, the speech verb nearest the quote, a tag in the next
sentence, and another verb right after the quote (“Words,” Smith sings).
"""

from __future__ import annotations

import re

from assistant.articles import Article
from assistant.kinds import UnitKind
from assistant.parsed import ParsedArticle
from assistant.phrases import clean
from assistant.quote_marks import MarkedQuote
from assistant.source_types import SourceType, classify
from assistant.speakers import SpeakerResolver
from assistant.speech import (
    FIRST_PERSON,
    HUMAN_PRONOUNS,
    LABEL_CUES,
    WEAK_SPEECH_VERBS,
    WORK_NOUNS,
    according_source,
    agentive,
    entity_label,
    event_speaker,
    is_speech_verb,
    lemma,
    source_like,
    subject_of,
)

_TRANSCRIPT = re.compile(r"([A-Z][A-Z.'’ -]{1,30}[A-Z.]):\s+")
_DASH_TAG = re.compile(r"[ \t\u00a0]*[―—–]{1,2}[ \t\u00a0]*([A-Z][\w.’'-]*(?:[ \t\u00a0]+[A-Z][\w.’'-]*){0,5})[ \t\u00a0.]*(?:\n|$)")
# A roundup's tag, which closes the paragraph with no verb: “Words,” Jane Doe, The Daily Ledger.
_ROUNDUP_TAG = re.compile(r"[ \t\u00a0]*(?:[―—–-]{1,2}[ \t\u00a0]*)?([A-Z][\w.’'-]*(?:[ \t\u00a0]+[A-Z][\w.’'-]*){0,4})"
                          r"(?:,[ \t\u00a0]+([^\n]{2,100}?))?[ \t\u00a0.]*(?:\n|$)")
# An inverted tag that opens the sentence, the verb before the name: Said Doe: “Words.” / Added Mr. Doe, “Words.”
_INVERTED_TAG = re.compile(r"\s*(Said|Says|Added|Adds|Asked|Asks|Wrote|Writes|Recalled|Recalls|Explained|Explains)"
                           r"[ \t\u00a0]+([A-Z][\w.’'-]*(?:[ \t\u00a0]+[A-Z][\w.’'-]*){0,3})[ \t\u00a0]*[:,][ \t\u00a0]*")


class QuoteAttributor:
    """Attributes the quoted passages of one article, one at a time, through its speaker resolver."""

    def __init__(self, article: Article, doc: ParsedArticle, speakers: SpeakerResolver):
        self.article = article
        self.text = article.text
        self.doc = doc
        self.speakers = speakers

    def attribute(self, q: MarkedQuote, pi: int, sents) -> None:
        """Attribute quote q of paragraph pi from a cue in or right after its sentence; q stays undone if none."""
        text = self.text
        if self._is_title(q, pi):
            q.speaker, q.source_type, q.cue, q.kind, q.done = (self.article.author_label, SourceType.AUTHOR, "",
                                                               UnitKind.PARTIAL, True)
            return
        before = text[:q.open].rstrip()
        prev_char = before[-1] if before else ""
        sent = next(((a, b) for a, b in sents if a <= q.open < b), None) or (q.open, q.close)
        at_sentence_start = before == "" or q.open <= sent[0] or prev_char in ",:;—–(" or prev_char in "“”\""
        q.kind = UnitKind.QUOTE if at_sentence_start else UnitKind.PARTIAL
        if self._tagged(q, pi) or self._inverted_tag(q, sent):
            return
        s0 = sent[0]
        s1 = max((b for a, b in sents if a < q.end), default=sent[1])
        s1 = max(s1, sent[1])
        frame_tokens = [t for t in self.doc.tokens(pi, s0, s1) if not self.doc.in_quote(pi, t)]
        if self._quoting(q, pi, frame_tokens) or self._according_to(q, pi, frame_tokens):
            return
        if self._speech_verb(q, pi, frame_tokens):
            return
        self._tag_after(q, pi, sents, frame_tokens)

    def _tagged(self, q: MarkedQuote, pi: int) -> bool:
        """A tag that names the speaker with no verb: a transcript's "NAME:", a dash tag or a roundup's tag."""
        text = self.text
        # Transcript style: "NAME: words" inside the quote.
        m = _TRANSCRIPT.match(text, q.start, q.end)
        if m and q.kind == UnitKind.QUOTE:
            name = m.group(1).strip()
            q.start = m.end()
            q.speaker = self.speakers.resolve_name(name.title() if name.isupper() else name, q.open)
            q.source_type = classify(q.speaker, None)
            q.cue, q.done = f"{name}:", True
            self.speakers.remember(q.open, q.speaker, q.source_type, None)
            return True
        # Dash attribution: “words” ― Name
        m = _DASH_TAG.match(text, q.close + 1)
        if m and q.closed:
            name = clean(m.group(1))
            q.speaker = self.speakers.resolve_name(name, q.open)
            q.source_type = classify(q.speaker, None)
            q.cue, q.done = "― " + name, True
            q.frame = (m.start(1), m.end(1))
            self.speakers.remember(q.open, q.speaker, q.source_type, None)
            return True
        return self._roundup_tag(q, pi)

    def _inverted_tag(self, q: MarkedQuote, sent: tuple[int, int]) -> bool:
        """Said Doe: “Words.” The parser reads "Said Doe" as one name, so the tag is matched as written."""
        m = _INVERTED_TAG.fullmatch(self.text, sent[0], q.open)
        if m is None or q.kind != UnitKind.QUOTE:
            return False
        name = clean(m.group(2))
        full = self.speakers.resolve_name(name, q.open)
        # The recogniser itself may read the verb as a first name ("Said Doe"): the tag's name stands then.
        q.speaker = name if full.split()[0] == m.group(1) else full
        q.source_type = classify(q.speaker, None)
        q.cue, q.done = clean(f"{m.group(1).lower()} {name}"), True
        q.frame = (m.start(1), m.end(2))
        self.speakers.remember(q.open, q.speaker, q.source_type, None)
        return True

    def _quoting(self, q: MarkedQuote, pi: int, frame_tokens) -> bool:
        """"quoting X": nested attribution of a historical figure."""
        for t in frame_tokens:
            if t.lower_ == "quoting" and self.doc.tok_end(pi, t) <= q.open:
                objs = [c for c in t.children if c.dep_ in ("dobj", "pobj", "attr", "npadvmod", "appos")]
                if not objs:
                    nxt = t.nbor(1) if t.i + 1 < len(t.doc) else None
                    objs = [nxt] if nxt is not None and nxt.pos_ == "PROPN" else []
                if objs:
                    who = clean(self.doc.span_text(pi, objs[0], exclude_rel=True))
                    who = self.speakers.resolve_name(who, self.doc.tok_start(pi, objs[0]))
                    carrier = subject_of(t)
                    by = self.speakers.speaker_of(pi, carrier)[0] if carrier is not None else None
                    q.speaker = f"{who} (quoted by {by})" if by else who
                    q.source_type = SourceType.HISTORICAL
                    q.cue = clean(self.doc.cue_text(pi, t, q))
                    q.frame = self._frame_span(frame_tokens, pi, q)
                    q.done = True
                    self.speakers.remember(q.open, q.speaker, q.source_type, objs[0])
                    return True
        return False

    def _according_to(self, q: MarkedQuote, pi: int, frame_tokens) -> bool:
        """"According to X, ...": True once X is found, even when X gives no speaker (the quote stays undone)."""
        for t in frame_tokens:
            src = according_source(t)
            if src is not None and source_like(src):
                self._set_from_head(q, pi, event_speaker(src) or src, f"according to {self.doc.span_text(pi, src)}",
                                    frame_tokens)
                return True
        return False

    def _speech_verb(self, q: MarkedQuote, pi: int, frame_tokens) -> bool:
        """The speech verb that governs the quoted words, or failing that the one nearest the quote."""
        quote_toks = [t for t in self.doc.tokens(pi, q.start, q.end)]
        # The speech verb that governs the quoted words; the outermost one reports them.
        governing = []
        for qt in quote_toks[:1] + [t for t in quote_toks if t.dep_ == "ROOT" or t.head.i < quote_toks[0].i
                                    or t.head.i > quote_toks[-1].i][:3]:
            for anc in qt.ancestors:
                if not self.doc.in_quote(pi, anc) and is_speech_verb(anc) and anc not in governing:
                    governing.append(anc)
        governing.sort(key=lambda t: len(list(t.ancestors)))
        for v in governing:
            if self._try_verb(q, pi, v, frame_tokens):
                return True
        # Otherwise the speech verb nearest to the quote in its sentence.
        return self._try_verbs(q, pi, frame_tokens, frame_tokens)

    def _tag_after(self, q: MarkedQuote, pi: int, sents, frame_tokens) -> None:
        """A tag after the quote: in the next sentence (“Words?” Smith asked.) or with another verb."""
        text = self.text
        # A tag in the next sentence: “Words?” Smith asked.
        nxt = next(((a, b) for a, b in sents if a >= q.close), None)
        if nxt is not None and q.closed and text[q.close + 1:nxt[0]].strip() == "":
            toks = [t for t in self.doc.tokens(pi, nxt[0], nxt[1]) if not self.doc.in_quote(pi, t)][:8]
            if self._try_verbs(q, pi, toks, toks):
                return
        # A tag with another verb right after the quote: “Words,” Smith sings.
        after = [t for t in frame_tokens if self.doc.tok_start(pi, t) > q.close][:4]
        for t in after:
            if t.pos_ == "VERB":
                subj = subject_of(t)
                if subj is not None and subj in after and (subj.pos_ == "PROPN" or subj.lower_ in HUMAN_PRONOUNS):
                    self._set_from_head(q, pi, subj, t.text, frame_tokens)
                    if q.done:
                        return

    def _is_title(self, q: MarkedQuote, pi: int) -> bool:
        """A title in capitals right after a noun for a work: "his book, “Make Your Kid a Millionaire,”"."""
        words = self.text[q.start:q.end].strip(",.;:!? ").split()
        if not 1 <= len(words) <= 10 or not words[0][:1].isupper():
            return False
        if sum(w[:1].isupper() for w in words) * 2 < len(words) + 1:
            return False
        before = [t for t in self.doc.tokens(pi, self.article.paragraphs[pi].start, q.open) if not t.is_punct][-2:]
        return any(t.lower_ in WORK_NOUNS for t in before)

    def _roundup_tag(self, q: MarkedQuote, pi: int) -> bool:
        """A quote that opens its paragraph and is closed by a name, perhaps with an outlet or a title, and
        nothing else: “Words,” Jane Doe, The Daily Ledger. Roundups of reactions are written so."""
        p = self.article.paragraphs[pi]
        if not q.closed or q.open != p.start or self.text[q.end - 1] not in ",.!?":
            return False
        m = _ROUNDUP_TAG.match(self.text, q.close + 1, p.end)
        if m is None or m.end() < p.end and self.text[m.end() - 1] != "\n":
            return False
        tail = [t for t in self.doc.tokens(pi, m.start(1), m.end()) if not t.is_punct]
        name = [t for t in self.doc.tokens(pi, m.start(1), m.end(1))]
        if (not name or any(t.pos_ != "PROPN" for t in name) or len(name) < 2 and not m.group(2)
                or any(t.pos_ in ("VERB", "AUX") for t in tail)):
            return False
        # Words someone said make a clause; a list of works (“War and Peace,” Leo Tolstoy.) does not.
        words = self.doc.tokens(pi, q.start, q.end)
        if len(words) < 4 or not any(t.pos_ in ("VERB", "AUX") for t in words):
            return False
        who = self.speakers.resolve_name(clean(m.group(1)), q.open)
        q.speaker = clean(f"{who}, {m.group(2)}") if m.group(2) else who
        q.source_type = classify(q.speaker, None)
        end = m.end(2) if m.group(2) else m.end(1)
        q.cue, q.done = clean(self.text[m.start(1):end]), True
        q.frame = (m.start(1), end)
        self.speakers.remember(q.open, q.speaker, q.source_type, None)
        return True

    def _try_verbs(self, q: MarkedQuote, pi: int, verbs_from, frame_tokens) -> bool:
        verbs = [t for t in verbs_from if is_speech_verb(t)]

        def dist(t):
            pos = self.doc.tok_start(pi, t)
            return min(abs(pos - q.open), abs(pos - q.close))

        return any(self._try_verb(q, pi, v, frame_tokens) for v in sorted(verbs, key=dist))

    def _try_verb(self, q: MarkedQuote, pi: int, v, frame_tokens) -> bool:
        subj = subject_of(v, skip=lambda t: self.doc.in_quote(pi, t))
        if subj is None or self.doc.in_quote(pi, subj) or subj.lower_ in FIRST_PERSON:
            return False
        if lemma(v) in WEAK_SPEECH_VERBS and not agentive(subj):
            return False
        self._set_from_head(q, pi, subj, self.doc.cue_text(pi, v, q), frame_tokens)
        return q.done

    def _set_from_head(self, q: MarkedQuote, pi: int, head, cue: str, frame_tokens) -> None:
        label, stype = self.speakers.speaker_of(pi, head)
        if not label:
            return
        q.speaker, q.source_type, q.cue, q.done = label, stype, clean(cue), True
        q.frame = self._frame_span(frame_tokens, pi, q)

    def _frame_span(self, frame_tokens, pi, q: MarkedQuote) -> tuple[int, int] | None:
        side = [t for t in frame_tokens if self.doc.tok_end(pi, t) <= q.open] if q.kind == UnitKind.QUOTE else []
        after = [t for t in frame_tokens if self.doc.tok_start(pi, t) > q.close]
        toks = after if after and not (side and q.open > 0 and self.text[q.open - 2:q.open].strip() in (",", ":")) else side
        if not toks:
            return None
        return self.doc.tok_start(pi, toks[0]), self.doc.tok_end(pi, toks[-1])

    def introducer(self, pi: int, sent: tuple[int, int]) -> tuple[str, str] | None:
        """The speaker of a sentence that introduces a quote with a colon: "Smith said:"."""
        toks = [t for t in self.doc.tokens(pi, *sent) if not self.doc.in_quote(pi, t)]
        verbs = [t for t in toks if is_speech_verb(t)] or [t for t in toks if t.pos_ == "VERB"]
        for v in reversed(verbs):
            subj = subject_of(v)
            if subj is None or subj.lower_ in FIRST_PERSON or not (agentive(subj) or subj.pos_ == "PROPN"):
                continue
            label, stype = self.speakers.speaker_of(pi, subj)
            if label and stype != SourceType.AUTHOR:
                return label, stype
        return None

    def partial_without_cue(self, q: MarkedQuote, pi: int, sents) -> None:
        """A quote no cue claimed: the words of the subject of the verb it sits in, or the author's scare quotes."""
        words = len(self.text[q.start:q.end].split())
        sent = next(((a, b) for a, b in sents if a <= q.open < b), None)
        author = self.article.author_label
        q.speaker, q.source_type, q.cue, q.done = author, SourceType.AUTHOR, "", True
        if sent is None or words < 2:
            return
        toks = self.doc.tokens(pi, sent[0], q.open)
        if any(t.lower_ in LABEL_CUES for t in toks[-4:]):
            return
        qt = [t for t in self.doc.tokens(pi, q.start, q.end)]
        if not qt:
            return
        # Walk up from the quoted words to the verb that governs them.
        h = qt[0]
        for _ in range(8):
            if h.pos_ in ("VERB", "AUX") and not self.doc.in_quote(pi, h):
                break
            if h.head is h:
                break
            h = h.head
        if h.lower_ in LABEL_CUES or h.dep_ == "acl":
            return
        subj = subject_of(h)
        if subj is None or self.doc.in_quote(pi, subj):
            return
        if subj.lower_ not in HUMAN_PRONOUNS and (
                subj.pos_ != "PROPN" or entity_label(subj) not in ("PERSON", "ORG", "NORP")):
            return
        label, stype = self.speakers.speaker_of(pi, subj)
        if label:
            q.speaker, q.source_type, q.kind = label, stype, UnitKind.PARTIAL
            q.cue = clean(self.doc.cue_text(pi, h, q))
