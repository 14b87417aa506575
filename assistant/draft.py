"""Check a whole draft: find every quotation in it, who it is given to, and check each against the archive.

The draft is read with the same article parser and attribution as the indexed articles, but it is never
indexed: offsets in a row are offsets in the draft's text, and the archive passage carries its own.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.articles import (ARTICLE_SUFFIXES, HTML_SUFFIXES, MAX_ARTICLE_BYTES, Article, html_article_text,
                                parse_article, read_bytes, read_text)
from assistant.check import VERDICTS, Checker, Verdict
from assistant.errors import ArticleError
from assistant.kinds import UnitKind
from assistant.source_types import SourceType

log = logging.getLogger(__name__)

# A synthetic title line put before the draft, so that the draft's own first block is read as body text
# (a draft often opens with a quotation); every offset is shifted back by its length.
_TITLE = "Draft\n\n"
# Exit statuses of `check` and `check --draft` (1 is an error, 2 a usage error, as argparse gives it).
EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 3


@dataclass(frozen=True)
class DraftQuote:
    """One quotation of the draft: its words, their offsets in the draft, and who the draft gives them to."""

    text: str
    start: int
    end: int
    speaker: str  # "" when the draft names nobody
    source_type: str

    def to_json(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end, "speaker": self.speaker,
                "source_type": self.source_type}


@dataclass(frozen=True)
class DraftRow:
    """A quotation of the draft with its verdict."""

    quote: DraftQuote
    verdict: Verdict

    def to_json(self) -> dict:
        v = self.verdict
        return {"draft": self.quote.to_json(), "claimed_speaker": self.quote.speaker or None,
                "verdict": v.verdict, "similarity": round(v.similarity, 4),
                "passage": v.passage.to_json() if v.passage else None, "diff": [list(d) for d in v.diff]}


@dataclass(frozen=True)
class DraftReport:
    """Every checked quotation of a draft, in draft order, and the ones too short to check."""

    name: str
    rows: tuple[DraftRow, ...]
    skipped: tuple[DraftQuote, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Quotations per verdict, every verdict listed."""
        return {v: sum(r.verdict.verdict == v for r in self.rows) for v in VERDICTS}

    @property
    def all_verified(self) -> bool:
        return all(r.verdict.verdict == "verified" for r in self.rows)

    @property
    def exit_status(self) -> int:
        """EXIT_VERIFIED when every quotation is verified, else EXIT_NOT_VERIFIED."""
        return EXIT_VERIFIED if self.all_verified else EXIT_NOT_VERIFIED

    def to_json(self) -> dict:
        return {"draft": self.name, "counts": self.counts, "all_verified": self.all_verified,
                "quotations": [r.to_json() for r in self.rows],
                "skipped": [q.to_json() for q in self.skipped]}


def verdict_status(verdict: Verdict) -> int:
    """The exit status of a single-quote check, by the same rule as a draft's."""
    return EXIT_VERIFIED if verdict.verdict == "verified" else EXIT_NOT_VERIFIED


def read_draft(path: Path) -> str:
    """A draft file's text: a .txt or .md file as it is, the story of an .html page as text."""
    path = Path(path)
    if path.suffix.lower() not in ARTICLE_SUFFIXES:
        raise ArticleError(f"{path}: not a draft this tool reads; give a .txt, .md or .html file")
    if path.suffix.lower() in HTML_SUFFIXES:
        return html_article_text(read_bytes(path), str(path))
    return read_text(path)


def draft_text(raw: bytes | str, name: str) -> str:
    """A draft from an upload or a paste: its text, with the same limits and messages as a file."""
    suffix = Path(name).suffix.lower()
    if suffix and suffix not in ARTICLE_SUFFIXES:
        raise ArticleError(f"{name}: not a draft this tool reads; give a .txt, .md or .html file")
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleError(f"{name}: {len(data):,} bytes is over the {MAX_ARTICLE_BYTES:,}-byte limit")
    if suffix in HTML_SUFFIXES:
        return html_article_text(data, name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"{name}: not UTF-8 text (byte {exc.start}); convert it to UTF-8") from exc
    if "\x00" in text:
        raise ArticleError(f"{name}: looks binary (NUL bytes), not an article")
    return text


def _article(text: str, name: str) -> Article:
    if not text.strip():
        raise ArticleError(f"{name}: the draft is empty")
    return parse_article(_TITLE + text, name)


def find_quotations(text: str, name: str = "draft", nlp=None) -> list[DraftQuote]:
    """Every quotation of a draft in order, each with the speaker the draft gives it (by the articles'
    attribution); a quotation the draft gives to nobody has speaker ""."""
    from assistant.attribution import attribute, find_quotes

    article = _article(text, name)
    shift = len(_TITLE)
    spans: dict[tuple[int, int], tuple[str, str]] = {}
    for a in attribute(article, nlp):
        if a.kind not in (UnitKind.QUOTE, UnitKind.PARTIAL):
            continue  # reported speech has no quotation marks: nothing verbatim is claimed
        speaker = "" if a.source_type == SourceType.AUTHOR else a.speaker
        for s, e in a.spans:
            spans[(s, e)] = (speaker, a.source_type)
    out = []
    for q in find_quotes(article.text, article.paragraphs):
        # The attribution may trim a quotation's edges (a trailing comma): the one that overlaps most names it.
        owner = max(((min(e, q.end) - max(s, q.start), who) for (s, e), who in spans.items()
                     if s < q.end and q.start < e), default=(0, ("", SourceType.AUTHOR)))[1]
        out.append(DraftQuote(article.text[q.start:q.end], q.start - shift, q.end - shift, *owner))
    return out


def claimed_name(label: str) -> str:
    """The name in a draft's speaker label, without the description the draft adds to it: "Tomas Reyes, a
    fisherman" is checked as Tomas Reyes, whatever words the archive uses to describe him."""
    return re.split(r"\s*[,(]", label, maxsplit=1)[0].strip() or label


def check_draft(text: str, checker: Checker, name: str = "draft", doc_id: str | None = None,
                nlp=None) -> DraftReport:
    """Check every quotation of a draft against the indexed articles (or one of them)."""
    from assistant.check import _fold_claim

    rows, skipped = [], []
    for q in find_quotations(text, name, nlp):
        # What `check` refuses is skipped: a quotation of fewer words is a label or a scare quote (“historic”),
        # not a claim a check can settle, and one longer than a claim may be is a stray mark, not a quote.
        if len(_fold_claim(q.text).split()) < checker.min_words or len(q.text) > checker.max_chars:
            skipped.append(q)
            continue
        rows.append(DraftRow(q, checker.check(q.text, claimed_name(q.speaker) or None, doc_id)))
    log.info("%s: %d quotation(s) checked, %d too short to check", name, len(rows), len(skipped))
    return DraftReport(name, tuple(rows), tuple(skipped))
