"""The language of speech: speech verbs, the words around them, and the syntax that finds who speaks.

Word lists and functions of spaCy tokens only; nothing here knows an article or keeps state.
"""

from __future__ import annotations

from assistant.source_types import ANON_HEADS, DOCUMENT_WORDS, LAW_ENFORCEMENT, PUBLIC_TITLES

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
# Occasions of speech: "according to a speech Doe gave" is Doe's word, not the speech's.
SPEECH_EVENTS = {"speech", "speeches", "remarks", "interview", "interviews", "address", "testimony", "statement",
                 "statements", "essay", "op-ed", "column", "post", "tweet", "letter", "email", "e-mail"}
LABEL_CUES = {"dubbed", "so-called", "called", "label", "labeled", "labelled", "term", "termed", "named",
              "titled", "entitled", "known", "word", "words", "phrase", "slogan", "nicknamed", "branded",
              "brand", "banner", "motto", "name", "tagline", "hashtag", "moniker"}
# Nouns that name a work: “Title Case Words” right after one of them is its title, nobody's speech.
WORK_NOUNS = {"book", "books", "novel", "memoir", "biography", "song", "songs", "anthem", "hymn", "album", "single",
              "film", "movie", "documentary", "show", "series", "sitcom", "episode", "play", "musical", "opera",
              "poem", "painting", "exhibit", "exhibition", "headline", "podcast", "essay", "bestseller",
              "best-seller", "track", "video", "game", "chapter"}
HUMAN_PRONOUNS = {"he", "she", "him", "her"}
PRONOUN_GENDER = {"he": "m", "him": "m", "his": "m", "himself": "m",
                  "she": "f", "her": "f", "hers": "f", "herself": "f"}
PLURAL_PRONOUNS = {"they", "them"}
FIRST_PERSON = {"i", "we", "me", "us"}


def lemma(t) -> str:
    """The lower-cased lemma of a token, or its text when it has none."""
    lem = (t.lemma_ or t.text).lower()
    return lem


def is_speech_verb(t) -> bool:
    """Whether a token is a verb of speech ("said", "told", "as Doe put it")."""
    if t.pos_ not in ("VERB", "AUX") and t.tag_ not in ("VBD", "VBZ", "VBP", "VBN", "VBG", "VB"):
        return False
    # "As Doe put it, ..." and "Doe put it bluntly:" are idioms of speech; "put it to a vote" is not.
    if lemma(t) == "put" and any(c.dep_ == "dobj" and c.lower_ == "it" for c in t.children):
        deps = {c.dep_ for c in t.children}
        return any(c.dep_ == "mark" and c.lower_ == "as" for c in t.children) or (
            "prep" not in deps and bool(deps & {"advmod", "npadvmod"}))
    return lemma(t) in SPEECH_VERBS


def subject_of(verb, skip=None):
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
                    return named_antecedent(v.head)
                return c
        if v.dep_ == "relcl" or (v.dep_ == "acl" and v.head.pos_ in ("NOUN", "PROPN")):
            return named_antecedent(v.head)
        if v.dep_ in ("advcl", "xcomp", "conj", "acl", "pcomp", "prep", "advmod", "npadvmod") and v.head is not v:
            v = v.head
            continue
        break
    return None


def named_antecedent(head):
    """The name a relative clause is about when it hangs on a description of that name: in "Doe, now the
    majority leader, who said ...", the one who said is Doe, not "now the majority leader"."""
    if head.dep_ == "appos" and head.head.pos_ == "PROPN":
        return head.head
    return head


def agentive(head) -> bool:
    """A person, an organisation or a document can make a statement; an abstract noun cannot."""
    if head.lower_ in HUMAN_PRONOUNS or head.lower_ in PLURAL_PRONOUNS:
        return True
    if entity_label(head) in ("PERSON", "ORG", "NORP", "GPE"):
        return True
    low = head.lower_
    return low in DOCUMENT_WORDS or low in ANON_HEADS or low in LAW_ENFORCEMENT or low in PUBLIC_TITLES


def speakerlike(head) -> bool:
    """Whether a subject can be a speaker: a name, a pronoun, an agent, or a plural of people."""
    if head.pos_ in ("PROPN", "PRON"):
        return True
    return agentive(head) or head.tag_ in ("NNS",) and head.lower_ not in ("things", "results")


def entity_label(tok) -> str:
    """The entity type of a token, or of the name it heads ("Acme spokesman" -> ORG)."""
    if tok.ent_type_:
        return tok.ent_type_
    for c in tok.children:
        if c.dep_ == "compound" and c.ent_type_:
            return c.ent_type_
    return ""


def source_like(head) -> bool:
    """Whether "according to" names a source: someone, something written, or a body; not "according to plan",
    "legend" or "tradition", a bare singular noun."""
    if head.pos_ in ("PROPN", "PRON", "NUM") or head.tag_ in ("NNS", "NNPS"):
        return True
    if any(c.dep_ in ("det", "poss", "compound", "nummod", "amod") for c in head.children):
        return True
    low = head.lower_
    return low in DOCUMENT_WORDS or low in ANON_HEADS or low in LAW_ENFORCEMENT or low in PUBLIC_TITLES


def according_source(tok):
    """The source that "according to X" names, given the token "according": the head of X, or None.

    The parser sometimes reads a noun of X as a verb ("according to show insiders": "show" a verb, "insiders"
    its object); then X's head is that object, when the two make one unbroken phrase that ends X."""
    if tok.lower_ != "according" or tok.i + 1 >= len(tok.doc) or tok.nbor(1).lower_ != "to":
        return None
    to = tok.nbor(1)
    objs = [c for c in to.children if c.dep_ == "pobj"]
    if objs:
        return objs[0]
    for c in to.children:
        if c.dep_ != "pcomp" or c.i != to.i + 1 or not c.text.islower():
            continue
        kids = list(c.children)
        if len(kids) == 1 and kids[0].dep_ == "dobj" and kids[0].pos_ in ("NOUN", "PROPN"):
            span = sorted(x.i for x in kids[0].subtree)
            if span[0] == c.i + 1 and span == list(range(span[0], span[-1] + 1)):
                return kids[0]
    return None


def event_speaker(head):
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


def coordinated(head) -> bool:
    """Whether a noun phrase joins two or more ("Mr. Hale and Mr. Lusk"): a plural, whatever its head."""
    return any(c.dep_ == "conj" for c in head.children)
