"""Build and refresh the index: articles -> attribution -> units -> store."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from assistant.articles import Article, find_article_files, load_article
from assistant.attribution import attribute, load_nlp
from assistant.errors import ArticleError
from assistant.store import Store
from assistant.units import build_units

log = logging.getLogger(__name__)


@dataclass
class IndexReport:
    """What an indexing run did."""

    indexed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    units: int = 0


class Progress:
    """A one-line progress bar on stderr, silent when stderr is not a terminal unless forced."""

    def __init__(self, total: int, label: str, enabled: bool = True):
        self.total, self.label, self.done = max(total, 1), label, 0
        self.enabled = enabled

    def step(self, n: int = 1, note: str = "") -> None:
        self.done += n
        if not self.enabled:
            return
        width = 24
        filled = int(width * min(self.done, self.total) / self.total)
        bar = "█" * filled + "·" * (width - filled)
        end = "\n" if self.done >= self.total else ""
        sys.stderr.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {note[:40]:<40}{end}")
        sys.stderr.flush()


def article_record(article: Article) -> dict:
    return {"doc_id": article.doc_id, "path": article.path, "title": article.title,
            "author": article.byline or "", "date": article.date or ""}


def index_paths(paths: list[str | Path], store: Store, rebuild: bool = False, progress: bool = True,
                nlp=None) -> IndexReport:
    """Index article files and folders into the store; unchanged documents are skipped."""
    files = find_article_files(paths)
    report = IndexReport()
    if rebuild or not store.compatible():
        store.reset()
    known = store.documents()
    bar = Progress(len(files), "indexing", enabled=progress)
    for f in files:
        try:
            article = load_article(f)
        except ArticleError as exc:
            report.failed.append((str(f), str(exc)))
            log.warning("%s", exc)
            bar.step(note=f.name)
            continue
        if article.doc_id in known and known[article.doc_id].get("path") == article.path:
            report.skipped.append(article.path)
            bar.step(note=f"{f.name} (unchanged)")
            continue
        units = build_units(article, attribute(article, nlp or load_nlp()))
        store.replace_document(article_record(article), units)
        report.indexed.append(article.path)
        report.units += len(units)
        bar.step(note=f.name)
    return report


def ensure_index(store: Store, seeds: Path, progress: bool = True) -> IndexReport | None:
    """Build the index from the seeds folder when it is missing or older than the seeds."""
    files = find_article_files([seeds])
    if not files:
        raise ArticleError(f"{seeds}: no article files (.txt or .md) to index")
    have = store.documents() if store.compatible() else {}
    if have and store.count() > 0:
        root = seeds.resolve()
        if any(root not in Path(info["path"]).resolve().parents for info in have.values()):
            return None  # a store built from other articles (`index PATH`): answer from it as it is
    want = {load_article(f).doc_id for f in files}
    if want <= set(have) and store.count() > 0:
        return None
    log.info("index is missing or out of date; building it from %s", seeds)
    return index_paths([seeds], store, progress=progress)
