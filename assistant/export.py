"""Tables for export: answers, verdicts, a draft's check, source audits and documents as CSV or Markdown.

Each record type has one list of columns and one function giving its rows; `render` writes them with the
standard `csv` module (a header row, then one row per quote, passage or source) or as a Markdown table.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from assistant.source_types import SOURCE_TYPES, SourceType

FORMATS = ("csv", "md")

ANSWER_COLUMNS = ["question", "abstained", "rank", "text", "speaker", "source_type", "doc_id", "title",
                  "paragraph", "document", "start", "end", "confidence", "reason"]
VERDICT_COLUMNS = ["claim", "claimed_speaker", "verdict", "similarity", "archive_text", "archive_speaker",
                   "archive_source_type", "document", "start", "end", "diff"]
DRAFT_COLUMNS = ["draft_start", "draft_end", "quotation", "claimed_speaker", "verdict", "similarity",
                 "archive_text", "archive_speaker", "archive_source_type", "document", "start", "end", "diff"]
SOURCE_COLUMNS = ["document", "title", "source", "source_type", "named", "passages", "cues", "paragraphs"]
_TYPES = [t for t in SOURCE_TYPES if t != SourceType.AUTHOR]
CORPUS_COLUMNS = (["document", "title", "sources", "passages", "anonymous_passages", "anonymous_share"]
                  + [t.replace(" ", "_") for t in _TYPES])
DOCUMENT_COLUMNS = ["id", "title", "author", "date", "units", "source", "text"]


def diff_text(diff: Iterable[Sequence[str]]) -> str:
    """A word diff in one line: [-only in the claim-] {+only in the archive+}."""
    return " ".join(w if op == "=" else f"[-{w}-]" if op == "-" else f"{{+{w}+}}" for op, w in diff)


def answer_rows(ans) -> list[list]:
    """One row per quote of an answer; an abstention is one row with its reason and no quote."""
    if not ans.quotes:
        return [[ans.question, True, "", "", "", "", "", "", "", "", "", "", "", ans.reason]]
    return [[ans.question, ans.abstained, i, q.text, q.speaker, q.source_type, q.doc_id, q.title, q.paragraph,
             q.document, q.start, q.end, q.confidence, ""] for i, q in enumerate(ans.quotes, 1)]


def _passage_cells(v) -> list:
    p = v.passage
    if p is None:
        return ["", "", "", "", "", ""]
    return [p.text, p.speaker, p.source_type, p.document, p.start, p.end]


def verdict_rows(v) -> list[list]:
    """A single-quote check as one row."""
    return [[v.claim, v.claimed_speaker or "", v.verdict, round(v.similarity, 4), *_passage_cells(v),
             diff_text(v.diff)]]


def draft_rows(report) -> list[list]:
    """One row per quotation of a draft: where it is in the draft, who it is given to, and the verdict."""
    return [[r.quote.start, r.quote.end, r.quote.text, r.quote.speaker, r.verdict.verdict,
             round(r.verdict.similarity, 4), *_passage_cells(r.verdict), diff_text(r.verdict.diff)]
            for r in report.rows]


def source_rows(audit) -> list[list]:
    """One row per source of an article."""
    return [[audit.document, audit.title, s.speaker, s.source_type, s.named, len(s.passages), "; ".join(s.cues),
             " ".join(str(p) for p in dict.fromkeys(p for p, _s, _e in s.passages))] for s in audit.sources]


def corpus_rows(audits) -> list[list]:
    """One row per article: its sources, passages, share of anonymous passages and passages by type."""
    return [[a.document, a.title, len(a.sources), a.passages, a.anonymous_passages, round(a.anonymous_share, 4)]
            + [a.by_type.get(t, 0) for t in _TYPES] for a in audits]


def document_rows(records: Iterable[dict]) -> list[list]:
    """One row per indexed document (records as `documents --json` gives them)."""
    return [[r[c] for c in DOCUMENT_COLUMNS] for r in records]


def to_csv(columns: Sequence[str], rows: Iterable[Sequence], header: bool = True) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if header:
        w.writerow(columns)
    w.writerows([_cell(c) for c in row] for row in rows)
    return out.getvalue()


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return "" if value is None else str(value)


# What Markdown would read as markup (emphasis, code, links, HTML, entities, strikethrough, headings, math)
# rather than as the article's words; a backslash before each makes it render as itself.
_MD_MARKUP = re.compile(r"([\\`*_\[\]<>&~#$|])")


def _md(value) -> str:
    # A cell is one line; a pipe would end it.
    return _MD_MARKUP.sub(r"\\\1", " ".join(_cell(value).split()))


def to_markdown(columns: Sequence[str], rows: Iterable[Sequence], header: bool = True) -> str:
    lines = []
    if header:
        lines += ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return "".join(line + "\n" for line in lines)


def render(fmt: str, columns: Sequence[str], rows: Iterable[Sequence], header: bool = True) -> str:
    """The rows as CSV ("csv") or a Markdown table ("md")."""
    if fmt == "csv":
        return to_csv(columns, rows, header)
    if fmt == "md":
        return to_markdown(columns, rows, header)
    raise ValueError(f"unknown export format {fmt!r}")


def write(path: Path, fmt: str, columns: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """Write a table to a file (for the app's downloads); the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(fmt, columns, rows), encoding="utf-8", newline="")
    return path
