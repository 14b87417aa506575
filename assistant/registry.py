"""The document registry: which documents a store serves, their records and canonical text, and a version stamp.

It is a Chroma collection of its own (one record per document), so a Chroma server carries it to every client.
A document is served only once its record is written, after all its units: a process killed mid-document
leaves nothing half-visible.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from assistant.errors import StoreError
from assistant.settings import Settings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
RECORDS_PAGE = 200  # records per read: Chroma's reply to one read of every record holds each document's text
REGISTRY_SUFFIX = "__documents"
SERVER_HINT = "start it with 'chroma run --path DIR --host HOST --port PORT', or check --chroma-host"


def failed(settings: Settings, what: str, exc: Exception) -> StoreError:
    """A Chroma call that failed, as a message that says where and what to do."""
    if settings.chroma_host:
        return StoreError(f"the Chroma server at {settings.chroma_host} did not answer {what} ({exc}); "
                          f"{SERVER_HINT}; answers resume when it is back")
    return StoreError(f"the Chroma store at {settings.store_dir} failed {what} ({exc}); "
                      "run 'python -m assistant index --rebuild' if it keeps failing")


@dataclass(frozen=True)
class DocumentRecord:
    """One served document, as its registry record holds it."""

    doc_id: str
    path: str  # the canonical text its offsets refer to (the file itself, or the converted text of an HTML file)
    source: str  # the file it was indexed from
    title: str = ""
    author: str = ""
    date: str = ""
    units: int = 0
    indexed_at: float = 0.0

    @classmethod
    def from_metadata(cls, doc_id: str, meta: dict) -> DocumentRecord:
        path = str(meta.get("path") or "")
        return cls(doc_id, path, str(meta.get("source") or path), str(meta.get("title") or ""),
                   str(meta.get("author") or ""), str(meta.get("date") or ""), int(meta.get("units") or 0),
                   float(meta.get("indexed_at") or 0.0))

    @property
    def label(self) -> str:
        """The title, or the file name when it has none."""
        return self.title or Path(self.path).name

    def to_json(self) -> dict:
        """The record as `documents --json` prints it."""
        return {"id": self.doc_id, "title": self.title, "author": self.author, "date": self.date,
                "units": self.units, "source": self.source, "text": self.path}


class Registry:
    """The documents collection of a store, with what it caches of it until `refresh`."""

    def __init__(self, settings: Settings, client: Callable[[], object], model_key: str):
        self.settings = settings
        self._client = client  # the store's client, opened when first needed
        self.model_key = model_key
        self._collection = None
        self._docs: dict[str, DocumentRecord] | None = None
        self._manifest: dict | None = None
        self._seen = ""  # the stamp of the documents as last read

    @property
    def name(self) -> str:
        return self.settings.collection + REGISTRY_SUFFIX

    @property
    def documents_dir(self) -> Path:
        """Where the canonical text of converted documents (HTML) lives: the text their offsets refer to."""
        return self.settings.store_dir / "documents"

    @property
    def collection(self):
        """The documents collection, created when missing."""
        if self._collection is None:
            try:
                self._collection = self._client().get_or_create_collection(
                    self.name, metadata={"hnsw:space": "cosine", "schema": SCHEMA_VERSION, "model": self.model_key},
                    embedding_function=None)
            except Exception as exc:  # noqa: BLE001
                raise StoreError(f"cannot open the document registry: {exc}; try --rebuild") from exc
        return self._collection

    # ------------------------------------------------------------------ reading

    def manifest(self) -> dict:
        """Which documents the store holds, and with which model and schema it was built (cached until refresh)."""
        if self._manifest is None:
            col = self._existing()
            if col is None:
                self._seen = stamp_of(None, ())
                self._manifest = {}
            else:
                meta = col.metadata or {}
                docs = self._records(col)
                self._seen = stamp_of(col, docs)
                self._manifest = {"schema": meta.get("schema"), "model": meta.get("model"), "documents": docs}
        return self._manifest

    def _existing(self):
        """The documents collection as it is now, or None when there is none yet (an empty store)."""
        try:
            return self._client().get_collection(self.name, embedding_function=None)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - no registry yet: an empty (or pre-registry) store
            if self.settings.chroma_host and "does not exist" not in str(exc).lower():
                raise failed(self.settings, "opening the document registry", exc) from exc
            return None

    def _records(self, col) -> dict[str, DocumentRecord]:
        if self._docs is None:
            # The ids first, then the records a page at a time: one read of every record made the reading
            # process hold a reply as large as all the documents' texts (64 MB at 3,000 articles), and an
            # indexing run reads the records after each chunk it writes.
            docs: dict[str, DocumentRecord] = {}
            try:
                ids = col.get(include=[])["ids"]
                for at in range(0, len(ids), RECORDS_PAGE):
                    got = col.get(ids=ids[at:at + RECORDS_PAGE], include=["metadatas"])
                    docs.update((i, DocumentRecord.from_metadata(i, m or {}))
                                for i, m in zip(got["ids"], got["metadatas"]))
            except Exception as exc:  # noqa: BLE001
                raise failed(self.settings, "reading the document registry", exc) from exc
            self._docs = docs
        return self._docs

    def stamp(self) -> str:
        """A cheap version stamp of the served documents, read from the store now: the registry's identity
        and the ids it holds. An id is a hash of the document's text, so indexing a new or changed document,
        pruning one or rebuilding the store changes the stamp; reading ids without records is one small call."""
        col = self._existing()
        if col is None:
            return stamp_of(None, ())
        try:
            ids = col.get(include=[])["ids"]
        except Exception as exc:  # noqa: BLE001
            raise failed(self.settings, "reading the document registry", exc) from exc
        return stamp_of(col, ids)

    @property
    def version(self) -> str:
        """The stamp of the documents as last read (see `stamp`)."""
        self.manifest()
        return self._seen

    def changed(self) -> bool:
        """True when another writer has indexed, changed or pruned documents since they were read."""
        if self._manifest is None:
            return False  # nothing is cached: the next read is fresh anyway
        return self.stamp() != self._seen

    def compatible(self) -> bool:
        """True when the store was built by this schema and embedding model."""
        m = self.manifest()
        return m.get("schema") == SCHEMA_VERSION and m.get("model") == self.model_key

    def documents(self) -> dict[str, DocumentRecord]:
        """doc_id -> the record of every served document."""
        if not self.compatible():
            return {}
        return dict(self.manifest().get("documents", {}))

    def refresh(self, handles: bool = False) -> None:
        """Forget cached reads; handles=True also forgets the collection handle (it may have been rebuilt)."""
        self._docs = None
        self._manifest = None
        if handles:
            self._collection = None

    def text(self, doc_id: str) -> str:
        """The canonical text of a document, as its offsets refer to it."""
        try:
            got = self.collection.get(ids=[doc_id], include=["documents"])
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"cannot read document {doc_id}: {exc}") from exc
        if not got["ids"]:
            raise StoreError(f"{doc_id}: no such document in the index")
        return got["documents"][0]

    def local_path(self, doc_id: str) -> Path:
        """A local file holding the document's canonical text (written from the store when missing)."""
        info = self.documents().get(doc_id)
        if info is None:
            raise StoreError(f"{doc_id}: no such document in the index")
        path = Path(info.path)
        if not path.exists():
            path = self.documents_dir / f"{doc_id}.txt"
            if not path.exists():
                from assistant.articles import write_text

                write_text(path, self.text(doc_id))
        return path

    def path_holding(self, doc_id: str, start: int, end: int, text: str) -> Path:
        """A local file whose text (as `open(path, encoding="utf-8").read()` gives it) holds `text` at
        [start:end]: the article's own file while it is unchanged, else the copy of the indexed text kept in
        the store folder (written from the store when missing). An article edited since it was indexed must not
        send a reader to offsets that no longer hold the quote."""
        info = self.documents().get(doc_id)
        if info is None:
            raise StoreError(f"{doc_id}: no such document in the index")
        path = Path(info.path)
        if _holds(path, start, end, text):
            return path
        copy = self.documents_dir / f"{doc_id}.txt"
        if not _holds(copy, start, end, text):
            from assistant.articles import write_text

            write_text(copy, self.text(doc_id))
        return copy

    def find(self, ref: str | Path) -> str:
        """The doc_id of an indexed article named by its id, its path, or its file name; StoreError if none."""
        docs = self.documents()
        ref = str(ref)
        if ref in docs:
            return ref
        target = Path(ref).expanduser()

        def names(info: DocumentRecord) -> list[Path]:  # the text the offsets refer to, and the file it came from
            return [Path(info.path), Path(info.source)]

        by_path = [d for d, info in docs.items() if target.resolve() in names(info)]
        if by_path:
            return by_path[0]
        by_name = list(dict.fromkeys(d for d, info in docs.items() for n in names(info) if n.name == target.name))
        if len(by_name) == 1:
            return by_name[0]
        if by_name:  # the same file name in several folders: the paths and ids tell them apart
            listed = "; ".join(f"{docs[d].source} (id {d})" for d in sorted(by_name, key=lambda d: docs[d].source))
            raise StoreError(f"{ref}: several indexed articles have that file name: {listed}; give the path or "
                             "the id")
        listed = ", ".join(sorted(Path(info.source).name for info in docs.values())[:5])
        raise StoreError(f"{ref}: no indexed article matches it (indexed: {listed or 'none'}"
                         f"{', …' if len(docs) > 5 else ''})")

    # ------------------------------------------------------------------ writing

    def write(self, records: list[dict], texts: list[str]) -> None:
        """Write documents' records with their canonical text: the commit point that serves them."""
        self.collection.upsert(ids=[r["doc_id"] for r in records], documents=texts,
                               embeddings=[[1.0]] * len(records), metadatas=records)
        self.refresh()

    def delete(self, doc_id: str) -> None:
        """Stop serving a document (its units are the store's to remove)."""
        self.collection.delete(ids=[doc_id])
        self.refresh()


def stamp_of(registry, ids: Iterable[str]) -> str:
    """The version stamp of a registry collection holding these document ids ("" for no registry)."""
    if registry is None:
        return ""
    h = hashlib.sha256(f"{registry.id}|{sorted((registry.metadata or {}).items())!r}".encode())
    for i in sorted(ids):
        h.update(i.encode("utf-8") + b"\0")
    return h.hexdigest()[:16]


def _holds(path: Path, start: int, end: int, text: str) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()[start:end] == text
    except (OSError, UnicodeDecodeError):
        return False
