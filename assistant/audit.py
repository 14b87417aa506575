"""Audit an article's sourcing: who it quotes or reports, how, how often, and how much is the author's own."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from assistant.kinds import PASSAGE_KINDS, SPOKEN_KINDS, UnitKind
from assistant.source_types import SOURCE_TYPES, SourceType
from assistant.units import Unit


@dataclass(frozen=True)
class Source:
    """One source of an article, with every passage the article gives it."""

    speaker: str
    source_type: str
    named: bool
    cues: tuple[str, ...]  # how the words reached the article: "said in response to the report", ...
    passages: tuple[tuple[int, int, int], ...]  # (paragraph, start, end)

    def to_json(self) -> dict:
        return {"speaker": self.speaker, "source_type": self.source_type, "named": self.named,
                "cues": list(self.cues), "passages": len(self.passages),
                "positions": [{"paragraph": p, "start": s, "end": e} for p, s, e in self.passages]}


@dataclass(frozen=True)
class Audit:
    """The sourcing of one article."""

    document: str
    title: str
    sources: tuple[Source, ...]
    sentences: int  # body sentences
    attributed_sentences: int  # sentences holding someone's words or the attribution of them
    anonymous_passages: int
    by_type: dict[str, int]  # attributed passages by source type, every type but the author listed

    @property
    def author_share(self) -> float:
        return (self.sentences - self.attributed_sentences) / self.sentences if self.sentences else 0.0

    @property
    def attributed_share(self) -> float:
        return self.attributed_sentences / self.sentences if self.sentences else 0.0

    @property
    def passages(self) -> int:
        """Attributed passages of every source type."""
        return sum(self.by_type.values())

    @property
    def anonymous_share(self) -> float:
        """The share of the attributed passages whose source is not named."""
        return self.anonymous_passages / self.passages if self.passages else 0.0

    def to_json(self) -> dict:
        return {"document": self.document, "title": self.title,
                "sources": [s.to_json() for s in self.sources],
                "summary": {"sentences": self.sentences, "author_sentences": self.sentences - self.attributed_sentences,
                            "attributed_sentences": self.attributed_sentences,
                            "author_share": round(self.author_share, 4),
                            "attributed_share": round(self.attributed_share, 4),
                            "passages": self.passages, "anonymous_passages": self.anonymous_passages,
                            "anonymous_share": round(self.anonymous_share, 4), "passages_by_type": self.by_type}}


def audit(units: list[Unit]) -> Audit:
    """The audit of one document's units (as indexed)."""
    if not units:
        return Audit("", "", (), 0, 0, 0, {t: 0 for t in SOURCE_TYPES if t != SourceType.AUTHOR})
    doc = units[0]
    groups: dict[tuple[str, str], list[Unit]] = {}
    for u in sorted(units, key=lambda u: u.start):
        if u.kind in PASSAGE_KINDS and u.source_type != SourceType.AUTHOR:
            groups.setdefault((u.speaker, u.source_type), []).append(u)
    sources = []
    for (speaker, stype), us in groups.items():
        cues = tuple(dict.fromkeys(u.cue for u in us if u.cue))
        sources.append(Source(speaker, stype, stype != SourceType.ANONYMOUS, cues,
                              tuple((u.paragraph, u.start, u.end) for u in us)))
    sources.sort(key=lambda s: (-len(s.passages), s.passages[0][1]))
    body = [u for u in units if u.kind != UnitKind.METADATA and u.sentence]
    sentences = {u.sentence for u in body}
    attributed = {u.sentence for u in body if u.source_type != SourceType.AUTHOR and u.kind in SPOKEN_KINDS}
    by_type = Counter(s.source_type for s in sources for _ in s.passages)
    return Audit(doc.document, doc.title or Path(doc.document).name, tuple(sources), len(sentences),
                 len(attributed), by_type.get(SourceType.ANONYMOUS, 0),
                 {t: by_type.get(t, 0) for t in SOURCE_TYPES if t != SourceType.AUTHOR})
