"""Index units: sentences, and quoted passages within them, each with its speaker and offsets."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.articles import Article, split_sentences
from assistant.attribution import Attribution, attribute
from assistant.kinds import UnitKind
from assistant.source_types import SourceType

_TRIM = " \t\n“”\"‘’,;:—–-"


@dataclass(frozen=True)
class Unit:
    """One retrievable passage. `text == article.text[start:end]` always holds."""

    id: str
    doc_id: str
    document: str
    title: str
    text: str
    start: int
    end: int
    speaker: str
    source_type: str
    kind: str  # quote, partial, reported, frame, narration, metadata
    paragraph: int  # 0 for header lines
    sentence: int  # running sentence number in the document, for neighbours
    cue: str = ""


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s] in _TRIM:
        s += 1
    while e > s and (text[e - 1].isspace() or text[e - 1] in "“‘\"(—–-"):
        e -= 1
    # A closing mark that ends a frame piece belongs to the quote, not the frame.
    while e > s and text[e - 1] in "”\"" and text[s:e].count("“") < text[s:e].count("”"):
        e -= 1
    return s, e


def build_units(article: Article, attributions: list[Attribution] | None = None) -> list[Unit]:
    """Cut an article into units: header lines, narration sentences, quote segments and their frames."""
    if attributions is None:
        attributions = attribute(article)
    text = article.text
    author = article.author_label
    units: list[Unit] = []

    def add(s: int, e: int, speaker: str, stype: str, kind: str, para: int, sent: int, cue: str = "") -> None:
        s, e = _trim(text, s, e)
        if e - s < 2 or not any(ch.isalnum() for ch in text[s:e]):
            return
        units.append(Unit(f"{article.doc_id}:{s}:{e}", article.doc_id, article.path, article.title,
                          text[s:e], s, e, speaker, stype, kind, para, sent, cue))

    for kind, s, e in article.header_spans:
        # The cue field names the header line: title, byline or date.
        add(s, e, author, SourceType.AUTHOR, UnitKind.METADATA, 0, 0, kind)

    quotes = [a for a in attributions if a.kind == UnitKind.QUOTE]
    whole = [a for a in attributions if a.kind in (UnitKind.PARTIAL, UnitKind.REPORTED)]
    sent_no = 0
    for p in article.paragraphs:
        for s, e in split_sentences(text, p.start, p.end):
            sent_no += 1
            pieces = sorted(
                (max(a0, s), min(a1, e), a) for a in quotes for a0, a1 in a.spans if a0 < e and a1 > s
            )
            if not pieces:
                owner = next((a for a in whole if a.sentence and a.sentence[0] <= a.spans[0][0] < a.sentence[1]
                              and s <= a.spans[0][0] < e), None)
                if owner is not None:
                    add(s, e, owner.speaker, owner.source_type, owner.kind, p.number, sent_no, owner.cue)
                else:
                    add(s, e, author, SourceType.AUTHOR, UnitKind.NARRATION, p.number, sent_no)
                continue
            cursor = s
            for a0, a1, a in pieces:
                if a0 > cursor:
                    _frame(add, text, cursor, a0, attributions, author, p.number, sent_no)
                add(a0, a1, a.speaker, a.source_type, UnitKind.QUOTE, p.number, sent_no, a.cue)
                cursor = max(cursor, a1)
            if cursor < e:
                _frame(add, text, cursor, e, attributions, author, p.number, sent_no)
    units.sort(key=lambda u: (u.start, u.end))
    return units


def _frame(add, text: str, s: int, e: int, attributions: list[Attribution], author: str, para: int,
           sent: int) -> None:
    """Narration around a quote: it belongs to the quote it attributes, else to the author."""
    owner = next((a for a in attributions if a.frame and a.frame[0] < e and a.frame[1] > s), None)
    if owner is not None:
        add(s, e, owner.speaker, owner.source_type, UnitKind.FRAME, para, sent, owner.cue)
    else:
        add(s, e, author, SourceType.AUTHOR, UnitKind.NARRATION, para, sent)
