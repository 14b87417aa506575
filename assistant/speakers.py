"""Who a phrase refers to: the speakers of one article, by name, pronoun or description.

A bare surname takes the fullest form the article gave ("Doe" -> "Jane Doe, senator"); "he" or "she" goes
to the person the text was last about, checked against the genders the article itself shows; "the official"
goes back to the official already quoted. Every label is classified with `source_types.classify`.
"""

from __future__ import annotations

import re

from assistant.articles import Article
from assistant.parsed import ParsedArticle
from assistant.phrases import clean, name_part, surname, words_of
from assistant.source_types import SourceType, classify, has_name
from assistant.speech import (
    FIRST_PERSON,
    HUMAN_PRONOUNS,
    PLURAL_PRONOUNS,
    PRONOUN_GENDER,
    SPEECH_VERBS,
    coordinated,
    entity_label,
)

# A dateline the parser took into the speaker's phrase: "WASHINGTON -- President Doe", "RIVERTON, Ore., May 4
# (UPI) — Mayor Doe". A place in capitals, perhaps a state, a date and an agency, then a dash.
_DATELINE = re.compile(r"[A-Z]{2}[A-Z.'’ -]*(?:,[^—–―\n]{0,40}?)?[ \u00a0]*(?:—|–|―|--)[ \u00a0]*(?=\S)")
_HONORIFIC = re.compile(r"\b(Mr|Mrs|Ms|Miss)\.?\s+((?:[A-Z][\w’'-]+\s+){0,2}[A-Z][\w’'-]+)")


class SpeakerResolver:
    """The speakers of one article, as its attribution meets them, and the people it names."""

    def __init__(self, article: Article, doc: ParsedArticle):
        self.article = article
        self.text = article.text
        self.doc = doc
        self.known: list[tuple[int, str, str, object]] = []  # (position, label, type, head token)
        self.persons: list[tuple[int, str]] = []  # (position, PERSON entity text)
        # Named subjects of speech verbs anywhere ("Ortiz said the plan ..."), so that a pronoun can find
        # its speaker before the pass that attributes that sentence has run.
        self.sayers: list[tuple[int, int, object]] = []  # (position, paragraph index, subject token)
        self._persons_read: set[int] = set()  # paragraphs whose PERSON entities are in self.persons
        self._gender_cache: dict[str, str] | None = None  # surname -> "m" or "f", built on first use
        for pi, (p, d) in enumerate(self.doc.docs):
            if d is None:
                continue  # no speech verb, so no sayer; its persons are read when a name or pronoun needs them
            self._read_persons(pi)
            for t in d:
                if (t.dep_ == "nsubj" and t.head.lemma_.lower() in SPEECH_VERBS and t.pos_ == "PROPN"
                        and t.tag_ != "NNPS" and t.ent_type_ in ("PERSON", "")):
                    self.sayers.append((p.start + t.idx, pi, t))

    def _read_persons(self, pi: int) -> None:
        """Add the PERSON entities of paragraph pi to self.persons, once."""
        if pi in self._persons_read:
            return
        self._persons_read.add(pi)
        p, parsed = self.doc.docs[pi]
        ents = self.doc.entities(pi)
        if parsed is None and any(e.label_ == "PERSON" and e.start > 0 and not e.doc[e.start - 1].is_stop
                                  and e.doc[e.start - 1].text.rstrip(".").isalpha() for e in ents):
            parsed = self.doc.parse(pi)  # the word before a name may end its title: the parse tells
            ents = parsed.ents
        for ent in ents:
            if ent.label_ == "PERSON":
                name = clean(ent.text)
                if parsed is not None:  # "Mayor Jane Doe": the title the parse joins to the name comes with it
                    title = clean(ent.doc[_titled_start(ent):ent.start].text)
                    # As a speaker's own phrase is written (_name_first): "Jane Doe, Council member".
                    name = (f"{name}, {title}" if len(title.split()) >= 2 else f"{title} {name}") if title else name
                self.persons.append((p.start + ent.start_char, name))
        self.persons.sort(key=lambda x: x[0])

    def _persons_before(self, pos: int, key: str | None = None, within: int | None = None) -> list[tuple[int, str]]:
        """The PERSON entities before pos: all, or those of paragraphs holding key, or starting within reach."""
        for pi, (p, d) in enumerate(self.doc.docs):
            if p.start >= pos:
                break
            if pi in self._persons_read or (within is not None and p.end <= pos - within):
                continue
            if key is not None and key not in p.text.lower():
                continue  # no entity here can end in the surname
            self._read_persons(pi)
        return [(p, n) for p, n in self.persons if p < pos]

    def speaker_of(self, pi: int, head) -> tuple[str | None, str]:
        """Label and source type for the noun phrase headed by `head`, resolving references."""
        pos = self.doc.tok_start(pi, head)
        low = head.lower_
        if low in HUMAN_PRONOUNS or low in PLURAL_PRONOUNS or low == "it":
            ref = self._resolve_pronoun(pos, low)
            if ref and low in HUMAN_PRONOUNS:
                # The next "he" or "she" most likely continues the same person.
                self.remember(pos, ref[0], ref[1], head)
            return ref if ref else (None, "")
        if low in FIRST_PERSON:
            return self.article.author_label, SourceType.AUTHOR
        phrase = without_dateline(clean(self.doc.span_text(pi, head, exclude_rel=True)))
        if not phrase or not any(ch.isalpha() for ch in phrase):
            return None, ""
        words = set(words_of(phrase))
        # A definite description ("the official", "the senator") refers back to a speaker we know.
        det = [c.lower_ for c in head.children if c.dep_ in ("det", "poss")]
        if head.pos_ == "NOUN" and (det and det[0] in ("the", "this", "that")) and not has_name(head):
            for _, label, stype, _h in reversed(self.known):
                if head.lemma_.lower() in words_of(label) or head.lower_ in words_of(label):
                    self.remember(pos, label, stype, head)
                    return label, stype
        # A bare surname ("Doe said") takes the fullest form the article gave.
        if head.pos_ == "PROPN" or self._personlike(pi, head):
            phrase = self.resolve_name(phrase, pos)
            phrase = _name_first(head, phrase, self.doc.span_text(pi, head, exclude_rel=True))
        stype = classify(phrase, head, words)
        label = phrase[0].upper() + phrase[1:]
        self.remember(pos, label, stype, head)
        return label, stype

    def remember(self, pos: int, label: str, stype: str, head) -> None:
        """Note a speaker met at pos, for later names, pronouns and descriptions to refer to."""
        self.known.append((pos, label, stype, head))

    def resolve_name(self, phrase: str, pos: int) -> str:
        """The fullest form of a name the article gave before pos: "Jane Doe, senator" for "Doe"."""
        toks = phrase.split()
        if len(toks) > 3 or not toks:
            return phrase
        key = toks[-1].strip(",.").lower()
        best = phrase
        for _, label, _t, _h in self.known:
            if _ends_in(label, key) and len(label) > len(best):
                best = label
        if best == phrase:
            for p, name in self._persons_before(pos, key=key):
                if _ends_in(name, key) and len(name) > len(best):
                    best = name
        return best

    def _resolve_pronoun(self, pos: int, low: str) -> tuple[str, str] | None:
        plural = low in PLURAL_PRONOUNS
        gender = PRONOUN_GENDER.get(low)
        tok, para = None, None
        for pi, (p, d) in enumerate(self.doc.docs):
            if p.start <= pos < p.end:
                para = pi
                tok = next((t for t in d if p.start + t.idx == pos), None) if d is not None else None
                break
        if low in HUMAN_PRONOUNS and tok is not None:
            # A person named earlier in the same sentence, as its subject, comes first.
            for t in tok.sent:
                if t.i >= tok.i:
                    break
                if (t.dep_ in ("nsubj", "nsubjpass") and t.ent_type_ == "PERSON" and self._agrees(t.text, gender)
                        and not self.doc.in_quote(para, t)):
                    return self.speaker_of(para, t)
        person = not plural and low != "it"
        sayer = None
        if person:
            # Only within the pronoun's own paragraph: "Ortiz said the plan ... “...,” she said."
            sayer = next(((sp, spi, t) for sp, spi, t in reversed(self.sayers)
                          if sp < pos and spi == para and not self.doc.in_quote(spi, t)
                          and self._agrees(t.text, gender) and not coordinated(t)), None)
            # The person the sentence before was about, as its subject, is the likeliest "he" or "she":
            # "Rivera, who runs the ferry, criticised the plan. “It is a mess,” he said."
            topic = self._previous_subject(para, tok) if tok is not None else None
            if topic is not None and self._agrees(topic[2].text, gender) and (sayer is None or topic[0] > sayer[0]):
                sayer = topic
        for p, label, stype, head in sorted(self.known, key=lambda x: -x[0]):
            if p >= pos or stype == SourceType.AUTHOR:
                continue
            if pos - p > 3000:
                break
            if sayer is not None and sayer[0] > p:
                break  # someone named said something after this speaker spoke: the pronoun is theirs
            is_plural = head is not None and (head.tag_ in ("NNS", "NNPS") or coordinated(head))
            is_org = head is not None and entity_label(head) in ("ORG", "GPE", "NORP")
            if plural and (is_plural or is_org):
                return label, stype
            if low == "it" and (is_org or stype == SourceType.OFFICIAL_REPORT):
                return label, stype
            if person and not is_plural and not is_org and self._agrees(label, gender):
                return label, stype
        if sayer is not None:
            return self.speaker_of(sayer[1], sayer[2])
        if low in HUMAN_PRONOUNS:
            # Names inside quote marks are what a speaker talked about, not who spoke.
            prior = [(p, n) for p, n in self._persons_before(pos, within=1500)
                     if pos - p < 1500 and not self.doc.in_quote_at(p) and self._agrees(n, gender)]
            if prior:
                name = max((n for p, n in prior if surname(n) == surname(prior[-1][1])), key=len)
                return name, classify(name, None, set(words_of(name)))
        return None

    def _previous_subject(self, pi: int, tok) -> tuple[int, int, object] | None:
        """The named person who is the main subject of the sentence before tok's, as (position, paragraph,
        token). Sentences wholly inside quote marks are passed over, and the sentence may end the paragraph
        before (parsed now if it was skipped). None when that sentence names no such person."""
        sent, prev_pi = tok.sent, pi
        for _ in range(8):
            doc = sent.doc
            if sent.start > 0:
                sent = doc[sent.start - 1].sent
            elif prev_pi > 0 and len(self.doc.parse(prev_pi - 1)):
                prev_pi -= 1
                prev_doc = self.doc.docs[prev_pi][1]
                sent = prev_doc[len(prev_doc) - 1].sent
            else:
                return None
            if any(not t.is_punct and not self.doc.in_quote(prev_pi, t) for t in sent):
                break
        else:
            return None
        people = [t for t in sent if self._personlike(prev_pi, t) and not coordinated(t)
                  and t.dep_ not in ("compound", "flat") and not self.doc.in_quote(prev_pi, t)]
        for t in people:
            if t.dep_ in ("nsubj", "nsubjpass") and t.head.dep_ == "ROOT":
                return self.doc.tok_start(prev_pi, t), prev_pi, t
        # Failing a subject, a person introduced with a description: "..., which worries Jo Roe, a pastor."
        for t in people:
            if any(c.dep_ == "appos" and c.pos_ == "NOUN" for c in t.children):
                return self.doc.tok_start(prev_pi, t), prev_pi, t
        return None

    def _personlike(self, pi: int, t) -> bool:
        """A person's name: so tagged, or a capitalised word that ends a person's name seen earlier in the
        article (the recognizer often misses a lone surname: "Roe called on the council ...")."""
        if t.pos_ == "PROPN" and t.ent_type_ == "PERSON":
            return True
        if not t.text[:1].isupper() or t.pos_ not in ("PROPN", "NOUN") or t.ent_type_ in ("GPE", "NORP", "LOC"):
            return False
        key = t.text.lower()
        pos = self.doc.tok_start(pi, t)
        return any(_ends_in(n, key) for _p, n in self._persons_before(pos, key=key))

    def _agrees(self, label: str, gender: str | None) -> bool:
        """False only when the article shows the person named in label to be of the other gender."""
        if gender is None:
            return True
        known = self._genders().get(surname(label))
        return known is None or known == gender

    def _genders(self) -> dict[str, str]:
        """Surname -> "m" or "f", from the article's own cues: an honorific (Mr., Ms.), or a sentence that names
        one person and refers back with pronouns of only one gender. Surnames with mixed evidence are left out."""
        if self._gender_cache is not None:
            return self._gender_cache
        votes: dict[str, list[int]] = {}

        def vote(name: str, g: str, n: int = 1) -> None:
            key = surname(name)
            if key:
                votes.setdefault(key, [0, 0])[g == "f"] += n

        for m in _HONORIFIC.finditer(self.text):
            vote(m.group(2), "m" if m.group(1) == "Mr" else "f", 3)
        for pi, (p, d) in enumerate(self.doc.docs):
            if d is None:
                continue
            for sent in d.sents:
                people = [e for e in sent.ents if e.label_ == "PERSON" and not self.doc.in_quote(pi, e[0])]
                names = {surname(e.text) for e in people} - {""}
                if len(names) != 1:
                    continue
                # "Doe said she would ...": the one person named is the subject, and the pronouns after it
                # are of one gender. A pronoun that is itself the subject points elsewhere ("He praised Doe").
                subj = [t for e in people for t in e if t.dep_ in ("nsubj", "nsubjpass")]
                if not subj:
                    continue
                # Another name the recognizer missed ("Doe told Roe, after he admitted ...") could be the referent.
                inside = {t.i for e in people for t in e}
                if any(t.tag_ == "NNP" and t.ent_type_ in ("", "PERSON") and t.i not in inside
                       and not self.doc.in_quote(pi, t) for t in sent):
                    continue
                pron = {PRONOUN_GENDER[t.lower_] for t in sent if t.lower_ in PRONOUN_GENDER and t.i > subj[0].i
                        and t.dep_ in ("nsubj", "nsubjpass", "poss") and not self.doc.in_quote(pi, t)
                        # "..., who began his speech": a clause about someone else
                        and not any(a.dep_ in ("relcl", "acl", "appos") for a in t.ancestors)}
                if len(pron) == 1:
                    vote(next(iter(names)), pron.pop())
        # A surname counts only when its evidence mostly agrees (three to one or better).
        self._gender_cache = {k: ("m" if m > f else "f") for k, (m, f) in votes.items()
                              if m != f and min(m, f) * 3 < max(m, f)}
        return self._gender_cache


def _ends_in(label: str, surname: str) -> bool:
    """Whether a label's name part ends in the (lower-case) surname: "Jane Doe, senator" and "Dr. Jane Doe of
    Ohio State" (the name part before "of") for "doe"."""
    name = name_part(label)
    return any(part.split() and part.lower().split()[-1].strip(".’'") == surname
               for part in (name, name.split(" of ")[0]))


_NO_LONGER_WORDS = {"former", "retired", "ex"}


def _titled_start(ent) -> int:
    """Where a PERSON entity starts with the title words the parse joins to it as compounds: "Mayor" in "Mayor
    Jane Doe", "Council member" in "Council member Jane Doe" (no other person's name, and a capitalised first
    word: "Trump adviser Jane Doe" keeps "Jane Doe")."""
    doc, start = ent.doc, ent.start
    while (start > 0 and doc[start - 1].dep_ == "compound" and start - 1 < doc[start - 1].head.i < ent.end
           and doc[start - 1].ent_type_ != "PERSON" and doc[start - 1].text[:1].isalpha()
           and doc[start - 1].sent == ent.sent):
        start -= 1
    if start == ent.start:
        return start
    # A whole title only ("Mayor", "Council member"), not the tail of one ("adviser" of "Trump adviser"), and
    # no plural ("Residents Maria Lopez and Tom Becker").
    last = doc[ent.start - 1].text.lower()
    if not doc[start].text[:1].isupper() or last.endswith("s") and not last.endswith(("ss", "us")):
        return ent.start
    # An office no longer held says so: "Former President Jane Doe"; "Then-Sen. Jane Doe" keeps the bare name.
    if start > 1 and doc[start - 1].text in ("-", "–") and doc[start - 2].lower_ == "then":
        return ent.start
    if start > 0 and doc[start - 1].lower_ in _NO_LONGER_WORDS and doc[start - 1].sent == ent.sent:
        start -= 1
    return start


def _name_first(head, phrase: str, raw: str) -> str:
    """Put the name before a title: "former Army Colonel Jane Doe" -> "Jane Doe, former Army Colonel"."""
    if phrase != clean(raw):
        return phrase
    if "," in phrase or "(" in phrase:
        return phrase
    if head.ent_type_ != "PERSON":
        return phrase
    doc = head.doc
    i = head.i
    while i - 1 >= 0 and doc[i - 1].ent_type_ == "PERSON" and doc[i - 1].ent_iob_ != "O":
        i -= 1
        if doc[i].ent_iob_ == "B":
            break
    name = doc[i:head.i + 1].text
    prefix = phrase[: phrase.rfind(name)].strip() if name in phrase else ""
    if len(prefix.split()) >= 2 and not prefix.lower().startswith(("the ", "a ", "an ")):
        return f"{name}, {prefix}"
    return phrase


def without_dateline(phrase: str) -> str:
    """A speaker's phrase without a dateline before it: "WASHINGTON -- President Doe" is "President Doe"."""
    m = _DATELINE.match(phrase)
    return phrase[m.end():] if m and any(ch.islower() for ch in phrase[m.end():]) else phrase
