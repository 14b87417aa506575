"""The library facade: every operation a reader, a journalist or a script asks for, in one place.

`cli.py` and the app are formatting layers over `OnTheRecord`; neither orchestrates the store, the retriever
or the checker itself.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import StoreError
from assistant.registry import DocumentRecord
from assistant.settings import Settings
from assistant.units import Unit

if TYPE_CHECKING:
    from assistant.answer import Answer, Assistant, Prepared
    from assistant.articles import Article
    from assistant.audit import Audit
    from assistant.check import Checker, Verdict
    from assistant.draft import DraftReport
    from assistant.indexing import IndexReport

log = logging.getLogger(__name__)


def where(settings: Settings) -> str:
    """The store in words: a Chroma server or a folder."""
    return f"the Chroma server {settings.chroma_host}" if settings.chroma_host else f"the store {settings.store_dir}"


def empty_store_message(settings: Settings) -> str:
    """What to do when no article is indexed: the command that indexes one into this store."""
    from assistant.settings import load_settings

    if settings.chroma_host:
        target = f" --chroma-host {settings.chroma_host}"
    else:  # the default store (or ASSISTANT_STORE's) needs no option
        target = "" if settings.store_dir == load_settings().store_dir else f" --store {settings.store_dir}"
    return (f"no article is indexed in {where(settings)}; index one first with "
            f"'on-the-record index PATH...{target}' (files or folders of .txt, .md or .html articles)")


def index(paths: list[Path], settings: Settings, rebuild: bool = False, prune: bool = False,
          progress: bool = False) -> IndexReport:
    """Index article files and folders into the store the settings name."""
    from assistant.indexing import index_paths
    from assistant.store import Store

    return index_paths(paths, Store(settings), rebuild=rebuild, progress=progress, prune=prune)


def stored_documents(settings: Settings) -> list[DocumentRecord]:
    """The documents a store serves, by source file, without loading any model."""
    from assistant.store import Store

    return sorted(Store(settings).documents().values(), key=lambda r: r.source)


class OnTheRecord:
    """An open archive: ask, check a quote or a draft, audit sources, list and add articles."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self._checker: Checker | None = None
        self._articles: dict[str, Article] = {}
        self._lock = threading.Lock()  # the checker and article caches are rebuilt under it

    @classmethod
    def open(cls, settings: Settings, progress: bool = True, require_documents: bool = True) -> OnTheRecord:
        """The archive in the settings' store; the seeds, when there is a seeds folder, are indexed first if
        the store lacks them. StoreError when the store is empty and require_documents is set."""
        from assistant.answer import Assistant
        from assistant.indexing import ensure_index
        from assistant.store import Store

        store = Store(settings)
        if settings.seeds_dir is not None:
            ensure_index(store, settings.seeds_dir, progress=progress)
        if not store.documents():
            if require_documents:
                raise StoreError(empty_store_message(settings))
            log.warning("%s", empty_store_message(settings))
        return cls(Assistant(store))

    @property
    def store(self):
        return self.assistant.store

    # ------------------------------------------------------------------ documents

    def documents(self) -> list[DocumentRecord]:
        """Every served document, by source file."""
        return sorted(self.store.documents().values(), key=lambda r: r.source)

    def document(self, doc_id: str) -> DocumentRecord | None:
        return self.store.documents().get(doc_id)

    def find_document(self, ref: str | Path | None) -> str | None:
        """The doc_id of an article named by id, path or file name (None for none); StoreError if unknown."""
        return self.store.find_document(ref) if ref else None

    def units(self, doc_id: str | None = None) -> list[Unit]:
        """The indexed units of one document, or of all, in document order."""
        return [u for u in self.assistant.retriever.units if doc_id is None or u.doc_id == doc_id]

    def article(self, doc_id: str) -> Article | None:
        """The article as indexed (from the store's canonical text), or None when the store cannot give it."""
        from assistant.articles import parse_article
        from assistant.errors import AssistantError

        if doc_id not in self._articles:
            rec = self.document(doc_id)
            if rec is None:
                return None
            try:
                a = parse_article(self.store.document_text(doc_id), rec.path)
            except AssistantError:
                return None
            if a.doc_id != doc_id:
                return None
            self._articles[doc_id] = a
        return self._articles[doc_id]

    def document_texts(self) -> list[str]:
        """The canonical text of every served document (what gold evidence is found in)."""
        return [self.store.document_text(d) for d in self.store.documents()]

    def add_article(self, path: Path, name: str) -> str:
        """Index one article file (ArticleError with the `index` command's reason for a bad one); its doc_id.
        Nothing already indexed is touched, and the next answer sees it."""
        from assistant.attribution import load_nlp
        from assistant.indexing import index_upload

        doc_id = index_upload(Path(path), name, self.store, load_nlp())
        # This process wrote: the store's stamp already matches, so the caches are dropped here.
        self.assistant.retriever.refresh()
        self.assistant.ranker.refresh()
        self.forget()
        return doc_id

    # ------------------------------------------------------------------ answers and checks

    def ask(self, question: str, top_k: int | None = None, doc_id: str | None = None) -> Answer:
        return self.assistant.ask(question, top_k=top_k, doc_id=doc_id or None)

    def prepare(self, question: str) -> Prepared:
        """`ask` in two steps for a server: this one needs no lock (see `Assistant.prepare`), then `answer`."""
        return self.assistant.prepare(question)

    def answer(self, prepared: Prepared, top_k: int | None = None, doc_id: str | None = None) -> Answer:
        return self.assistant.answer(prepared, top_k, doc_id or None)

    def checker(self) -> Checker:
        from assistant.check import Checker

        with self._lock:
            if self._checker is None:
                self._checker = Checker(self.store, self.assistant.retriever)
            return self._checker

    def check(self, claim: str, speaker: str | None = None, doc_id: str | None = None) -> Verdict:
        """Is this quote in the archive, and whose words are they there?"""
        self.sync()
        return self.checker().check(claim, speaker, doc_id or None)

    def check_draft(self, text: str, name: str = "draft", doc_id: str | None = None) -> DraftReport:
        """Every quotation of a draft (never indexed) checked against the archive."""
        from assistant.attribution import load_nlp
        from assistant.draft import check_draft

        nlp = load_nlp()
        self.sync()
        return check_draft(text, self.checker(), name, doc_id or None, nlp)

    def audits(self, doc_id: str | None = None) -> list[Audit]:
        """The source audit of one document, or of each (by source file)."""
        from assistant.audit import audit

        ids = [doc_id] if doc_id else [r.doc_id for r in self.documents()]
        return [audit(self.units(d)) for d in ids if self.document(d) is not None]

    # ------------------------------------------------------------------ keeping up

    @property
    def version(self) -> str:
        """The store's version stamp of the documents as last read."""
        return self.store.version

    def sync(self) -> bool:
        """Pick up documents another process indexed, changed or pruned; True when anything changed."""
        before = self.store.version
        self.assistant.sync()
        if self.store.version != before:
            self.forget()
            return True
        return False

    def forget(self) -> None:
        """Drop what was derived from the documents (after they changed)."""
        with self._lock:
            self._checker = None
            keep = self.store.documents()
            self._articles = {d: a for d, a in self._articles.items() if d in keep}

    def warm(self, graphs: bool = True) -> None:
        """Load the models and caches the first question needs (see `Assistant.warm`)."""
        self.assistant.warm(graphs)

    def compile(self) -> None:
        self.assistant.compile()

    def warm_words(self) -> None:
        self.assistant.warm_words()
