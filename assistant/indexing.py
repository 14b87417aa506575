"""Build and refresh the index: articles -> attribution -> units -> store."""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from assistant.articles import (HTML_SUFFIXES, Article, find_article_files, html_article_text, load_article,
                                parse_article, read_bytes, require_article_suffix, write_text)
from assistant.attribution import attribute, load_nlp
from assistant.errors import ArticleError, StoreError
from assistant.progress import progress_bar
from assistant.store import Store
from assistant.units import build_units

log = logging.getLogger(__name__)

CHUNK_DOCS = 64  # documents attributed, embedded and written together


@dataclass
class IndexReport:
    """What an indexing run did."""

    indexed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    units: int = 0


def article_record(article: Article, source: str | None = None) -> dict:
    return {"doc_id": article.doc_id, "path": article.path, "source": source or article.path,
            "title": article.title, "author": article.byline or "", "date": article.date or ""}


def load_document(path: Path, documents_dir: Path) -> tuple[Article, str]:
    """An article from any supported file, and its source path. HTML becomes canonical text saved under
    documents_dir, so that every quote's document is a file where text == file[start:end]. Another kind of
    file (a .pdf, say) is an ArticleError, unread."""
    require_article_suffix(path)
    if path.suffix.lower() not in HTML_SUFFIXES:
        article = load_article(path)
        return article, article.path
    text = html_article_text(read_bytes(path), str(path))
    article = parse_article(text, str(path))
    canonical = documents_dir / f"{article.doc_id}.txt"
    if not canonical.exists():
        write_text(canonical, text)
    return dataclasses.replace(article, path=str(canonical.resolve())), str(path.resolve())


def index_paths(paths: list[str | Path], store: Store, rebuild: bool = False, progress: bool = True,
                nlp=None, prune: bool = False) -> IndexReport:
    """Index article files, folders and globs into the store.

    Unchanged documents (same content, same file) are skipped, changed ones replace their old units, and
    with prune=True documents whose files are gone are removed. One writer at a time.
    """
    files = find_article_files(paths)
    report = IndexReport()
    with store.writing():
        if rebuild:
            store.reset(hard=True)
        elif not store.compatible():
            store.reset()
        known = store.documents()
        by_source: dict[str, set[str]] = {}
        for d, info in known.items():
            by_source.setdefault(info.source, set()).add(d)
        # What to index, by path: an article's text is read again when its chunk is parsed, so that a long
        # run holds the texts of a chunk or two, not of every article it indexes.
        todo: list[tuple[Path, str, str]] = []
        pending: dict[str, str] = {}  # doc_id -> the source of what this run will index
        bar = progress_bar(total=len(files), desc="reading", enabled=progress, unit="file")
        for f in files:
            try:
                article, source = load_document(f, store.documents_dir)
            except ArticleError as exc:
                report.failed.append((str(f), str(exc)))
                log.info("%s", exc)  # the caller says it, once (the report holds it)
                _step(bar, f.name)
                continue
            versions = by_source.get(source, set())
            if article.doc_id in versions:
                for stale in versions - {article.doc_id}:  # left by a run that stopped mid-replacement
                    store.delete_document(stale)
                report.skipped.append(source)
                _step(bar, f"{f.name} (unchanged)")
                continue
            twin = known[article.doc_id].source if article.doc_id in known else pending.get(article.doc_id)
            if twin and Path(twin).exists():
                # The same text from another file: indexed once, under the first file.
                log.info("%s has the same text as %s; indexed once", source, twin)
                report.skipped.append(source)
                _step(bar, f"{f.name} (same as another file)")
                continue
            todo.append((Path(f), article.doc_id, source))
            pending[article.doc_id] = source
            _step(bar, f.name)
        bar.close()
        if todo:
            _index_documents(todo, store, nlp or load_nlp(), report, progress)
        if prune:
            keep = {str(Path(f).resolve()) for f in files}
            report.pruned = store.prune(keep)
        if swept := store.sweep():
            log.info("removed %d leftover units of an interrupted run", swept)
    return report


def _step(bar, note: str) -> None:
    bar.set_postfix_str(note[:36], refresh=False)
    bar.update(1)


def _parse_chunk(chunk: list[tuple[Path, str, str]], nlp, documents_dir: Path) -> tuple[list, list]:
    """Attribution and units of a chunk of documents: (article, source, units) each, and (source, why) failures."""
    built, failed = [], []
    for path, _doc_id, source in chunk:
        try:
            # Read again (see index_paths); a file changed meanwhile is indexed as it is now.
            article, source = load_document(path, documents_dir)
        except ArticleError as exc:
            failed.append((source, str(exc)))
            continue
        try:
            built.append((article, source, build_units(article, attribute(article, nlp))))
        except (ValueError, RecursionError, MemoryError) as exc:  # the parser gave up on it
            failed.append((source, f"{source}: cannot be parsed ({exc})"))
    return built, failed


def _index_documents(todo: list[tuple[Path, str, str]], store: Store, nlp, report: IndexReport, progress: bool) -> None:
    """Parse, embed and write documents, a chunk at a time.

    Embedding batches span a chunk's documents (the real cost), and each chunk is written as it is done, so a
    long run that stops keeps its finished documents. The next chunk is parsed on a second thread while
    this one is embedded: the parser is single-threaded, and it fills the gaps the encoder leaves (about a
    tenth off the build time here).
    """
    embedding = progress_bar(total=1, desc="embedding", enabled=progress, unit="unit")
    chunks = [todo[c:c + CHUNK_DOCS] for c in range(0, len(todo), CHUNK_DOCS)]
    pool = ThreadPoolExecutor(1, thread_name_prefix="attribution")
    try:
        ahead = pool.submit(_parse_chunk, chunks[0], nlp, store.documents_dir)
        done_docs = 0
        for n in range(len(chunks)):
            built, failed = ahead.result()
            if n + 1 < len(chunks):
                ahead = pool.submit(_parse_chunk, chunks[n + 1], nlp, store.documents_dir)
            for source, why in failed:
                report.failed.append((source, why))
                log.info("%s", why)
            done_docs += len(chunks[n])
            texts = [u.text for _a, _s, units in built for u in units]
            # The total is known chunk by chunk: the rest is estimated from the units per document so far.
            per_doc = (embedding.n + len(texts)) / max(done_docs, 1)
            embedding.total = max(1, embedding.n + len(texts) + round(per_doc * (len(todo) - done_docs)))
            embedding.refresh()
            vectors: list[list[float]] = []
            # Large calls: sentence-transformers sorts a call's texts by length, so less padding.
            step = max(store.settings.embed_batch_size, 2048)
            for i in range(0, len(texts), step):
                vectors += store.embedder.encode(texts[i:i + step], batch_size=store.settings.embed_batch_size)
                embedding.update(len(texts[i:i + step]))
            items, at = [], 0
            for article, source, units in built:
                items.append((article_record(article, source), units, article.text, vectors[at:at + len(units)]))
                at += len(units)
            try:
                store.replace_documents(items)
            except OSError as exc:  # e.g. the disk filled up; the store still serves what it had
                names = [source for _a, source, _u in built]
                what = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
                raise StoreError(f"writing {what} to the index failed: {exc}") from exc
            for _article, source, units in built:
                report.indexed.append(source)
                report.units += len(units)
    finally:
        embedding.close()
        pool.shutdown(wait=True, cancel_futures=True)


def ensure_index(store: Store, seeds: Path, progress: bool = True) -> IndexReport | None:
    """Build the index from the seeds folder when it is missing or older than the seeds.

    The store comes first: one that already serves articles is used as it is when the seeds folder is gone
    or holds no article, and an empty store with no seeds to read is left empty (the caller says what to do).
    """
    have = store.documents() if store.compatible() else {}
    served = bool(have) and store.count() > 0
    try:
        files = find_article_files([seeds])
    except ArticleError as exc:
        log.info("no seeds to index: %s", exc)
        return None
    if not files:
        log.info("%s: no article files (.txt, .md, .html) to index", seeds)
        return None
    if served:
        root = seeds.resolve()
        sources = [Path(info.source).resolve() for info in have.values()]
        if any(root not in src.parents for src in sources):
            return None  # a store built from other articles (`index PATH`): answer from it as it is
    want = set()
    for f in files:
        try:
            want.add(load_document(f, store.documents_dir)[0].doc_id)
        except ArticleError:
            continue  # index_paths reports it
    if want <= set(have) and served:
        return None
    log.info("index is missing or out of date; building it from %s", seeds)
    report = index_paths([seeds], store, progress=progress)
    for _source, why in report.failed:  # no one else reports them: the caller wanted answers, not a report
        log.warning("%s", why)
    return report


def index_upload(src: Path, name: str, store: Store, nlp=None) -> str:
    """Index one article file handed over from elsewhere (the app's "Add article"); its doc_id.

    The file is kept under the store's uploads folder, by a name no other document uses, so indexing it never
    replaces an article already indexed. A bad file raises ArticleError with the reason `index` gives for it,
    naming the file as the user called it, and leaves the store as it was.
    """
    import hashlib
    import shutil

    from assistant.articles import MAX_ARTICLE_BYTES

    shown = Path(name).name or "upload"
    suffix = Path(shown).suffix.lower()
    require_article_suffix(shown)
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise ArticleError(f"{shown}: cannot read ({exc.strerror or exc})") from exc
    if size > MAX_ARTICLE_BYTES:
        raise ArticleError(f"{shown}: {size:,} bytes is over the {MAX_ARTICLE_BYTES:,}-byte limit")
    data = src.read_bytes()
    folder = store.settings.store_dir / "uploads"
    dest = folder / shown
    if dest.exists() and dest.read_bytes() != data:  # another article by that name: keep both
        dest = folder / f"{Path(shown).stem}-{hashlib.sha256(data).hexdigest()[:8]}{suffix}"
    created = not dest.exists()

    def fail(why: str):
        if created:
            dest.unlink(missing_ok=True)
        return ArticleError(why.replace(str(dest.resolve()), shown).replace(str(dest), shown))

    folder.mkdir(parents=True, exist_ok=True)
    if created:
        shutil.copyfile(src, dest)
    try:
        article, _source = load_document(dest, store.documents_dir)  # the checks `index` makes, first
    except ArticleError as exc:
        raise fail(str(exc)) from exc
    report = index_paths([dest], store, progress=False, nlp=nlp)
    if report.failed:
        raise fail(report.failed[0][1])
    log.info("added %s as %s", shown, article.doc_id)
    return article.doc_id
