"""Read a question: what kind of answer it wants, and whether it is about what someone said.

Everything here works from the wording of the question alone, with no knowledge of any article.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from assistant.errors import QuestionError

class Mode(StrEnum):
    """How a question is about what someone said."""

    SPEAKER = "speaker"  # "What did X say (about Y)?", "According to X, ...?"
    CLAIM = "claim"  # "Did X say Y?"
    WHO_SAID = "who_said"  # "Who said Y?"
    NONE = ""  # anything else


class AnswerType(StrEnum):
    """The kind of answer a question asks for, read from its wording (expected_type)."""

    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"


class Slot(StrEnum):
    """What an answer must supply that the question does not (answer_slot), for the slot rule."""

    NAME = "name"
    NUMBER = "number"
    DATE = "date"


# Verbs of saying, in the forms a question uses them ("What did X say", "Who warned that ...").
_SAY = (r"(?:say|says|said|tell|tells|told|claim|claims|claimed|argue|argues|argued|warn|warns|warned|write|"
        r"writes|wrote|add|adds|added|note|notes|noted|describe|describes|described|call|calls|called|think|"
        r"thinks|thought|believe|believes|believed|insist|insists|insisted|suggest|suggests|suggested|explain|"
        r"explains|explained|share|shares|shared|report|reports|reported|state|states|stated|recall|recalls|"
        r"recalled|admit|admits|admitted|announce|announces|announced|accuse|accuses|accused|predict|predicts|"
        r"predicted|promise|promises|promised|confirm|confirms|confirmed|point out|points out|pointed out|"
        r"comment|comments|commented|conclude|concludes|concluded|find|finds|found|allege|alleges|"
        r"alleged|stress|stresses|stressed|tweet|tweets|tweeted|reveal|reveals|revealed)")
_AUX = r"(?:did|does|do|has|have|had|would|will|could|should|might)"
# The asked-about source: a short noun phrase ("Smith", "the former party official"), not a clause.
_SOURCE = r"(?P<speaker>(?:[^\s,;:?]+\s+){0,5}?[^\s,;:?]+)"

# "What did X say ...", "How does X describe ...", "Why did X warn ..." (not "What was X called?").
_SPEAKER_Q = re.compile(rf"^(?:what|how|why|when|where|whom?|which\s+\w+)\s+{_AUX}\s+{_SOURCE}\s+{_SAY}\b"
                        rf"(?:\s+(?:that|about|of|on|regarding))?\s*(?P<rest>.*)$", re.I)
# "According to X, what ...?"
_ACCORDING = re.compile(r"^according to (?P<speaker>[^,]+?),\s*(?P<rest>.+)$", re.I)
# "Did X say (that) Y?" is a claim to check: show where Y is said, by whoever said it.
_CLAIM_Q = re.compile(rf"^(?:did|does|do|has|have|had|is it true that)\s+{_SOURCE}\s+{_SAY}\b"
                      rf"(?:\s+that)?\s*(?P<rest>.+)$", re.I)
# "Who said (that) Y?": the passage containing Y wins, and its speaker is the answer.
_SAY_ONLY = (r"(?:say|says|said|claim|claims|claimed|argue|argues|argued|warn|warns|warned|state|states|stated|"
             r"insist|insists|insisted|add|adds|added|note|notes|noted|suggest|suggests|suggested|assert|asserts|"
             r"asserted|declare|declares|declared|tell|tells|told)")
# "Who wrote the report?" asks for an author, not for a speaker of words: verbs that also take a plain
# object count only with "that".
_WHO_SAID = re.compile(rf"^(?:who|which\s+\w+)\s+(?:(?:{_AUX}|is|was)\s+)?(?:(?:is|was)\s+quoted\s+(?:as\s+)?"
                       rf"(?:saying|describing|calling)|{_SAY_ONLY}\b(?:\s+that)?|{_SAY}\s+that)\s*(?P<rest>.+)$",
                       re.I)

_THIS_ARTICLE = r"(?:the|this) (?:article|story|piece|column|op-ed|post)"
_META_DATE = re.compile(rf"^(?:when|on what (?:date|day)|what (?:date|day)) (?:was|is|were) {_THIS_ARTICLE} "
                        r"(?:published|posted|written|dated|released|updated)\W*$", re.I)
_META_BYLINE = re.compile(rf"^(?:who (?:wrote|writes|authored) {_THIS_ARTICLE}|who is the (?:author|writer) of "
                          rf"{_THIS_ARTICLE}|who (?:is|was) {_THIS_ARTICLE}(?:'s| by) (?:author|writer)?|"
                          rf"who is the (?:author|writer)|whose byline is on {_THIS_ARTICLE})\W*$", re.I)

# Words that name the writer of the piece rather than a source quoted in it.
AUTHOR_WORDS = {"author", "writer", "columnist", "reporter", "journalist", "article", "column", "story", "piece"}


@dataclass(frozen=True)
class Reading:
    """What a question asks for.

    mode is how it is about what someone said (see Mode);
    speaker is the X of the question, and topic the part that names what was said.
    """

    text: str
    answer_type: AnswerType | None
    mode: Mode = Mode.NONE
    speaker: str = ""
    topic: str = ""
    metadata: str | None = None  # "date" or "byline" for questions about the article itself
    counted: str = ""  # "arrests" in "How many arrests ...": the noun a number must count
    # "What did X say?" presumes X speaks in the article; "According to X, ...?" only leans on X.
    presumes_speaker: bool = False

    @property
    def retrieval_text(self) -> str:
        """What to search for: what was said, without the name of who is supposed to have said it.

        For a claim the name must not pull the search aside; for "What did X say about Y?" X's own words
        rarely contain X's name, and X's passages join the candidates by their labels instead.
        """
        return self.topic if self.mode and self.topic else self.text


def scrub(text: str) -> str:
    """A lone surrogate (a stray byte decoded with surrogateescape, say) becomes U+FFFD, which every
    tokenizer accepts."""
    return "".join("\ufffd" if unicodedata.category(c) == "Cs" else c for c in text)


def clean_question(question: str | None, max_chars: int = 2000) -> str:
    """Normalise a question, or raise QuestionError with what is wrong."""
    if question is None:
        raise QuestionError("the question is empty")
    # Control and format characters become spaces.
    q = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in scrub(question))
    q = re.sub(r"\s+", " ", q).strip()
    if not q:
        raise QuestionError("the question is empty; ask something about the article")
    if len(q) > max_chars:
        raise QuestionError(f"the question is {len(q):,} characters long; the limit is {max_chars:,}")
    return q


def expected_type(question: str) -> AnswerType | None:
    """The kind of answer a question asks for: number, money, date, person, place, or None."""
    q = question.lower().strip()
    if re.match(r"(how much (money|cash|revenue|profit|funding)|how much (did|does|do|was|is|were|will) .{0,40}"
                r"(cost|pay|paid|earn|raise|spend|spent|generate|make|worth))", q):
        return AnswerType.MONEY
    if re.match(r"(how (many|much|long|old|far|often|large|big|tall|high)|what (percentage|percent|share|number|"
                r"amount|proportion|fraction))\b", q):
        return AnswerType.NUMBER
    if re.match(r"(when|what (year|date|time|day|month|decade|century))\b", q) or re.search(
            r"\b(in|on|since|by|until) what (year|date|day|month|decade|century)\b", q):
        return AnswerType.DATE
    if re.match(r"(who|whom|whose)\b", q):
        return AnswerType.PERSON
    if re.match(r"where\b", q) or re.search(r"\bin (what|which) (country|city|state|region|town|place)\b", q):
        return AnswerType.PLACE
    return None


_NAME_WORDS = (r"person|official|man|woman|lawmaker|senator|candidate|democrat|republican|reporter|journalist|"
               r"justice|judge|officer|spokes\w+|city|state|town|country|county|place|region|hospital|publication|"
               r"newspaper|agency|company|organization|group")


def answer_slot(question: str) -> Slot | None:
    """What the answer must supply that the question does not: a "name" (who, which official, what is the
    name of, where, in which city), a "number" (how many, how old, what share) or a "date" (when, what year)."""
    q = question.lower().strip()
    if (re.match(r"(who|whom|whose|where)\b", q) or re.search(r"\bwhat (?:is|was) the name\b", q)
            or re.search(rf"\b(?:which|in which|in what|at which|from which) (?:{_NAME_WORDS})\b", q)):
        return Slot.NAME
    if re.match(r"how (many|much|old|long|far|often)\b|what (percentage|percent|share|number|amount|proportion)\b", q):
        return Slot.NUMBER
    if re.match(r"(when|(?:what|which) (year|date|time|day|month|decade|century))\b", q) or _WHEN_PHRASE.search(q):
        return Slot.DATE
    return None


# "In what year did ...", "Since which month ...": a date asked for by a prepositional phrase, anywhere.
_WHEN_PHRASE = re.compile(r"\b(?:in|on|since|by|until|till|during|from|after|before) (?:what|which) "
                          r"(?:year|date|day|month|decade|century)\b")


# spaCy's entity labels, by what the answer must name.
NAMED_ENTITIES = frozenset({"PERSON", "ORG", "NORP", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"})
PLACE_ENTITIES = frozenset({"GPE", "LOC", "FAC"})
WHERE_ALSO = frozenset({"ORG", "EVENT"})
TIME_ENTITIES = frozenset({"DATE", "TIME"})
AMOUNT_ENTITIES = frozenset({"CARDINAL", "MONEY", "PERCENT", "QUANTITY"})
_PLACE_NOUNS = (r"city|state|town|country|county|place|region|village|neighbou?rhood|district|province|venue|"
                r"stadium|location|island|capital|suburb")
_DURATION_NOUNS = re.compile(r"\b(?:days?|nights?|weeks?|months?|years?|hours?|minutes?|seconds?|decades?|"
                             r"centuries|century|times|seasons?|terms?)\b")


def answer_entities(question: str) -> frozenset[str] | None:
    """The kinds of named entity (spaCy's labels) of which an answer must hold one that the question does
    not: places for "where" or "in which city", dates for "when", amounts for "how many", any name for
    "who"; None when the question asks for no such slot (see answer_slot)."""
    kind = answer_slot(question)
    if kind is None:
        return None
    q = question.lower().strip()
    if kind == Slot.NAME:
        # "Where" is answered by an institution or an event as well as a place ("at Phoenix House", "at E3");
        # "in which town" only by a place.
        if re.match(r"where\b", q):
            return PLACE_ENTITIES | WHERE_ALSO
        if re.search(rf"\b(?:which|what) (?:\w+ )?(?:{_PLACE_NOUNS})\b", q):
            return PLACE_ENTITIES
        return NAMED_ENTITIES
    if kind == Slot.DATE:
        return TIME_ENTITIES
    # A number of days or years answers "how long", "how old" and "how many times", never "how many people".
    if re.match(r"how (?:old|long|often)\b", q) or _DURATION_NOUNS.search(q):
        return AMOUNT_ENTITIES | TIME_ENTITIES
    return AMOUNT_ENTITIES


def metadata_kind(question: str) -> str | None:
    """"When was the article published?" asks for the date line; "Who wrote the article?" for the byline.

    Only questions about the article itself count: "Who wrote the report?" goes through retrieval.
    """
    q = question.strip()
    if _META_DATE.match(q):
        return "date"
    if _META_BYLINE.match(q):
        return "byline"
    return None


def _strip(s: str) -> str:
    return s.strip().rstrip("?.! ").strip()


def _counted(text: str) -> str:
    """The noun of "How many arrests did ...": a number in the answer should count it."""
    m = re.match(r"how many (?:of (?:the )?)?(?:[a-z-]+ ){0,2}?([a-z-]+?)\b(?= did| do| does| were| was| are| is| "
                 r"have| has| had| will| would| could)", text.strip(), re.I)
    return m.group(1).lower() if m else ""


def read_question(question: str) -> Reading:
    """Analyse a cleaned question."""
    q = question.strip()
    kind = expected_type(q)
    meta = metadata_kind(q)
    counted = _counted(q)
    if meta:
        return Reading(q, kind, metadata=meta, counted=counted)
    for mode, pattern in ((Mode.WHO_SAID, _WHO_SAID), (Mode.CLAIM, _CLAIM_Q), (Mode.SPEAKER, _ACCORDING),
                          (Mode.SPEAKER, _SPEAKER_Q)):
        m = pattern.match(q)
        if not m:
            continue
        speaker = _strip(m.groupdict().get("speaker") or "")
        topic = _strip(m.group("rest"))
        if mode == Mode.WHO_SAID:
            # "Who said X?" asks for a person; the type check must not demand one in the quote itself.
            return Reading(q, None, Mode.WHO_SAID, "", topic, counted=counted)
        if mode == Mode.SPEAKER and speaker.lower() in ("it", "this", "that", "there"):
            continue
        # "According to the police, how many people died?" wants what its own clause asks for.
        return Reading(q, expected_type(topic) or kind, mode, speaker, topic, counted=counted or _counted(topic),
                       presumes_speaker=pattern is _SPEAKER_Q)
    return Reading(q, kind, counted=counted)
