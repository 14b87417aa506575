"""Source types: the one vocabulary of who a passage's words come from, and the classifier that assigns them.

`SourceType` holds each type with what belongs to it (what it means, its badge colours, whether it is a
person or body speaking for itself); the UI, the audit and the attribution all import it from here, so
adding a type is one edit. `classify` reads a speaker phrase's head noun, titles and determiners.
"""

from __future__ import annotations

import re
from enum import StrEnum

from assistant.phrases import contains, words_of


class SourceType(StrEnum):
    """Who a passage's words come from. Members are strings: "named source" == SourceType.NAMED."""

    # (name, description, badge background, badge text colour, person)
    AUTHOR = ("author", "the writer's own words", "#e5e7eb", "#1f2937", False)
    OFFICIAL_REPORT = ("official report", "a report, study or official document", "#dbeafe", "#1e3a8a", False)
    PUBLIC_OFFICIAL = ("public official", "an elected or appointed official, or a spokesperson",
                       "#ede9fe", "#4c1d95", True)
    LAW_ENFORCEMENT = ("law enforcement", "police, prosecutors or investigators", "#fee2e2", "#7f1d1d", True)
    NAMED = ("named source", "a person or organisation named in the article", "#dcfce7", "#14532d", True)
    ANONYMOUS = ("anonymous source", "a source the article does not name", "#fef3c7", "#78350f", True)
    HISTORICAL = ("historical quote", "words quoted from the past, through someone else", "#fce7f3", "#831843",
                  False)

    description: str
    background: str  # the badge's background colour, readable in light and dark themes alike
    colour: str  # the badge's text colour
    person: bool  # a person or body speaking for itself, not the writer, a document or a voice from the past

    def __new__(cls, value: str, description: str, background: str, colour: str, person: bool):
        member = str.__new__(cls, value)
        member._value_ = value
        member.description, member.background, member.colour, member.person = description, background, colour, person
        return member

    @property
    def named(self) -> bool:
        """True when a source of this type is identifiable by name."""
        return self not in (SourceType.ANONYMOUS, SourceType.AUTHOR)


# The names as plain strings, in legend order (plain, so that they serve as keys of JSON objects too).
SOURCE_TYPES: tuple[str, ...] = tuple(t.value for t in SourceType)

# --------------------------------------------------------------------------- the words the classifier reads

DOCUMENT_WORDS = {
    "report", "reports", "finding", "findings", "study", "studies", "survey", "poll", "filing", "filings",
    "document", "documents", "memo", "memorandum", "analysis", "audit", "review", "data", "record", "records",
    "indictment", "complaint", "lawsuit", "ruling", "assessment", "estimate", "estimates", "paper",
    "statement", "letter", "release", "bulletin", "transcript", "census", "index", "research", "investigation",
    "affidavit", "court papers", "testimony", "guidance", "order", "budget", "figures", "statistics",
    "database", "databases", "tally",
}
# Occasions of speech: "according to a speech Doe gave" is Doe's word, not the speech's.
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

# --------------------------------------------------------------------------- the classifier

def classify(phrase: str, head, words: set[str] | None = None) -> SourceType:
    """The source type of a speaker phrase, from its head noun, titles and determiners."""
    low = phrase.lower()
    words = words or set(words_of(phrase))
    head_low = head.lower_ if head is not None else (phrase.split()[-1].lower() if phrase.split() else "")
    head_is_name = head is not None and head.pos_ == "PROPN"
    named = head_is_name or has_name(head) if head is not None else any(w[:1].isupper() for w in phrase.split())
    if head_low in DOCUMENT_WORDS or (head is not None and head.lemma_.lower() in DOCUMENT_WORDS):
        return SourceType.OFFICIAL_REPORT
    first = low.split()[0] if low.split() else ""
    # The head noun names the source's role: "police said", "a spokeswoman said".
    if head_low in LAW_ENFORCEMENT:
        return SourceType.LAW_ENFORCEMENT
    if head_low in ("spokesperson", "spokesman", "spokeswoman", "spokespeople", "spokesmen", "spokeswomen"):
        if any(contains(low, w) for w in LAW_ENFORCEMENT):
            return SourceType.LAW_ENFORCEMENT
        return SourceType.NAMED if _private(low, head) else SourceType.PUBLIC_OFFICIAL
    if head is not None and not head_is_name:
        det = [c.lower_ for c in head.children if c.dep_ in ("det", "nummod", "amod") and c.i < head.i]
        bare_plural = head.tag_ == "NNS" and not any(c.dep_ in ("det", "poss") for c in head.children)
        # "A lawyer for the family, Jane Doe," names the source after all.
        appos_name = any(c.dep_ == "appos" and c.pos_ == "PROPN" and c.ent_type_ in ("PERSON", "")
                         for c in head.children)
        if not appos_name and (first in INDEFINITE or (det and det[0] in INDEFINITE) or bare_plural
                               or head_low in ("sources", "source")):
            if head_low in ANON_HEADS or head.lemma_.lower() in ANON_HEADS or bare_plural or first in INDEFINITE:
                return SourceType.ANONYMOUS
    if head is None and (first in INDEFINITE or low.startswith(("sources", "people"))):
        return SourceType.ANONYMOUS
    roles = _roles(phrase, head)
    # Police, prosecutors: not "a former FBI director" or "a retired police officer", who speak for themselves.
    if any(not _NO_LONGER.search(roles[:m.start()]) for w in LAW_ENFORCEMENT
           for m in re.finditer(rf"(?<![\w-]){re.escape(w)}(?![\w-])", roles)):
        return SourceType.LAW_ENFORCEMENT
    if re.search(r"\([RDI]-[A-Z.]{2,6}\)", phrase) or _holds_office(roles, head):
        return SourceType.PUBLIC_OFFICIAL
    if not named and head is not None and head.pos_ == "NOUN" and head_low in ANON_HEADS:
        return SourceType.ANONYMOUS
    return SourceType.NAMED


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
    if any(contains(low, w) for w in GOVERNMENT_BODIES):
        return False
    if any(contains(low, w) for w in PRIVATE_BODIES):
        return True
    if head is None:
        return False
    # An acronym ("EPA", "NATO") is as often an agency as a company: it is no cue either way.
    orgs = {e.text for e in head.doc.ents if e.label_ == "ORG" and e.text.lower() in low
            and head.left_edge.i <= e.start and e.end <= head.right_edge.i + 1}
    return any(not o.isupper() and not any(contains(o.lower(), w) for w in PUBLIC_TITLES | GOVERNMENT_BODIES)
               for o in orgs)


def has_name(head) -> bool:
    """Whether the phrase of head is or holds a proper name."""
    if head is None:
        return False
    return any(c.pos_ == "PROPN" and c.dep_ in ("compound", "appos", "flat") for c in head.children) or (
        head.pos_ == "PROPN"
    )
