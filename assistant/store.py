"""Embeddings and the Chroma store, behind one small interface."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from assistant.errors import StoreError
from assistant.locking import write_lock
from assistant.projection import PROJECTION_FILE, Projection, model_key
from assistant.registry import REGISTRY_SUFFIX, SCHEMA_VERSION, SERVER_HINT, DocumentRecord, Registry, failed
from assistant.settings import Settings, offline_environment
from assistant.units import Unit
from assistant.kinds import UnitKind

log = logging.getLogger(__name__)

READ_PAGE = 1000  # units per read when loading them all


# The committed projection of the packaged model's embeddings (see projection.py).
DEFAULT_PROJECTION = Path(__file__).resolve().parent / "model" / PROJECTION_FILE


class Embedder:
    """A sentence-transformers model (run by minilm.py), loaded on first use, that returns unit-length vectors:
    projected to fewer dimensions when a projection fitted for this model is given (by default the committed
    one)."""

    def __init__(self, model: str, projection: Path | None = DEFAULT_PROJECTION):
        self.model_name = model
        self._model = None
        self._threads: int | None = None  # torch's own default (the cores), read before we ever change it
        self._projection_path = projection
        self._projection: Projection | None = None
        self._projection_read = False
        self._graph = None  # the query path as one traced graph, once `compile` made one

    @property
    def projection(self) -> Projection | None:
        """The projection applied to every vector, or None (no file, or one fitted for another model)."""
        if not self._projection_read:
            path = self._projection_path
            if path is not None and Path(path).is_file():
                try:
                    proj = Projection.load(Path(path))
                except Exception as exc:  # noqa: BLE001 - a damaged file is a clear store problem
                    raise StoreError(f"cannot read the embedding projection {path}: {exc}") from exc
                if proj.model == model_key(self.model_name):
                    self._projection = proj
                else:
                    log.info("the projection %s is for %s, not %s: vectors keep their dimensions", path,
                             proj.model, self.model_name)
            self._projection_read = True
        return self._projection

    @property
    def key(self) -> str:
        """The model and projection, as the store records them: vectors of another key are not comparable."""
        proj = self.projection
        return model_key(self.model_name) + (f"+{proj.tag}" if proj is not None else "")

    @property
    def model(self):
        if self._model is None:
            with _LOAD_LOCK:  # a server embeds questions outside its own lock: load once, not once per thread
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        offline_environment()
        from assistant.minilm import load

        return_freed_memory()
        try:
            return load(self.model_name)
        except Exception as exc:  # noqa: BLE001 - any load failure is a user-facing store problem
            raise StoreError(f"cannot load the embedding model {self.model_name!r}: {exc}") from exc

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> list[list[float]]:
        """Unit-length embeddings, one per text."""
        if not texts:
            return []
        import torch

        if self._threads is None:
            self._threads = _default_threads(torch)
        # One short query gains nothing from a second thread, and on a busy 2-core machine the
        # threads' contention makes it 40x slower; batches use every core.
        threads = 1 if len(texts) <= QUERY_TEXTS else self._threads
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        texts = list(texts)
        if self._graph is not None and len(texts) <= QUERY_TEXTS:
            return self._encode_graph(texts)
        out: list[list[float] | None] = [None] * len(texts)
        for idx, size in self._batches(texts, batch_size):
            vecs = self.model.encode([texts[i] for i in idx], size, progress)
            if self.projection is not None:
                vecs = self.projection.apply(vecs)
            for i, v in zip(idx, vecs.tolist(), strict=True):
                out[i] = v
        return out  # type: ignore[return-value]

    def compile(self) -> bool:
        """Run short encodes (a question, a few words) as one traced graph from now on (see graphs.py); True
        when it is in use. Only for a model minilm.py runs itself (a mean-pooled BERT) and only when the graph
        gives the same vectors; otherwise encodes stay as they were."""
        if self._graph is not None:
            return True
        from assistant.graphs import probe_texts, trace

        pipeline = self.model
        if pipeline.module is None:
            log.info("%s is not a mean-pooled BERT: questions are embedded op by op", self.model_name)
            return False
        questions, passages = probe_texts()
        batches = [pipeline.tokens(questions), pipeline.tokens(questions[:1]), pipeline.tokens(passages[:1])]
        graph = trace(pipeline.module, batches[0], batches[1:], "the embedding model")
        if graph is None:
            return False
        self._graph = graph
        return True

    def _encode_graph(self, texts: list[str]) -> list[list[float]]:
        import torch

        with torch.inference_mode():
            vecs = self._graph(*self.model.tokens(texts)).numpy()
        if self.projection is not None:
            vecs = self.projection.apply(vecs)
        return vecs.tolist()

    def _batches(self, texts: list[str], batch_size: int) -> list[tuple[list[int], int]]:
        """The texts in groups of like length, each with the batch size that keeps a batch within
        TOKENS_PER_BATCH tokens: (indices, batch size) per group.

        A batch's activations grow with its size times the square of its longest text, so 64 texts of 256
        tokens take about 0.3 GB for a moment where 64 short ones take a few MB. Long texts go in smaller
        batches; short ones keep the full batch_size. The vectors are the same either way."""
        if len(texts) <= 1:
            return [(list(range(len(texts))), batch_size)]
        lengths = self.model.lengths(texts)  # truncated at the limit, as the encoder truncates
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        groups: list[tuple[list[int], int]] = []
        for i in order:
            size = max(1, min(batch_size, TOKENS_PER_BATCH // max(lengths[i], 1)))
            if groups and groups[-1][1] == size:
                groups[-1][0].append(i)
            else:
                groups.append(([i], size))
        return groups

    def encode_one(self, text: str) -> list[float]:
        return self.encode([text])[0]


_TORCH_THREADS: list[int] = []
_LOAD_LOCK = threading.Lock()

# At most this many texts go through the traced graph (Embedder.compile) in one call; more are a batch.
QUERY_TEXTS = 8

# At most this many tokens in one encoder batch (64 texts of 64 tokens): see Embedder._batches.
TOKENS_PER_BATCH = 64 * 64

# Allocations at least this large get their own mapping, which goes back to the system when freed.
MMAP_THRESHOLD = 256 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def return_freed_memory() -> bool:
    """Make large freed blocks go back to the system at once (glibc only); True when the setting took.

    glibc raises its mmap threshold each time a large mapped block is freed, so after the first batches
    the model's activations (tens of MB each) come from the heap instead; freed there, they stay in the
    process. A long build or a long-lived app then keeps the largest batch's memory, plus the fragments,
    for good: 0.3-0.5 GB here. A fixed threshold stops that (and glibc's own trim threshold stays fixed too).
    """
    import ctypes
    import ctypes.util
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False


def _default_threads(torch) -> int:
    """torch's thread count as it was before any Embedder changed it (a short query sets it to 1)."""
    if not _TORCH_THREADS:
        _TORCH_THREADS.append(max(1, torch.get_num_threads()))
    return _TORCH_THREADS[0]


@dataclass(frozen=True)
class StoredHit:
    """A unit found by a vector query, with its cosine similarity."""

    unit: Unit
    similarity: float


def _unit_metadata(u: Unit) -> dict:
    return {
        "doc_id": u.doc_id, "document": u.document, "title": u.title, "start": u.start, "end": u.end,
        "speaker": u.speaker, "source_type": u.source_type, "kind": u.kind, "paragraph": u.paragraph,
        "sentence": u.sentence, "cue": u.cue,
    }


def _to_units(ids: Iterable[str], docs: Iterable[str], metas: Iterable[dict]) -> list[Unit]:
    """The one place where Chroma's parallel result lists become records."""
    out = []
    for uid, text, m in zip(ids, docs, metas):
        out.append(Unit(uid, m["doc_id"], m["document"], m["title"], text, int(m["start"]), int(m["end"]),
                        m["speaker"], m["source_type"], m["kind"], int(m["paragraph"]), int(m["sentence"]),
                        m.get("cue", "")))
    return out


def open_client(settings: Settings):
    """A Chroma client: a server when a host is set, else the embedded store on disk."""
    offline_environment()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            host, _, port = settings.chroma_host.partition(":")
            return chromadb.HttpClient(host=host, port=int(port or 8000), settings=chroma_settings)
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except Exception as exc:  # noqa: BLE001
        if settings.chroma_host:
            raise StoreError(f"cannot reach the Chroma server at {settings.chroma_host} ({exc}); "
                             f"{SERVER_HINT}") from exc
        raise StoreError(f"cannot open the Chroma store at {settings.store_dir}: {exc}; "
                         "run 'python -m assistant index --rebuild' to rebuild it") from exc


class Store:
    """Units in a Chroma collection, with the registry of the documents it serves (registry.py)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, client=None):
        self.settings = settings
        self.embedder = embedder or Embedder(settings.model, settings.answer_model_dir / PROJECTION_FILE)
        self._client = client
        self._collection = None
        self.registry = Registry(settings, lambda: self.client, self._model_key())
        self._count: int | None = None
        self._units: list[Unit] | None = None

    # ------------------------------------------------------------------ plumbing

    @property
    def client(self):
        if self._client is None:
            self._client = open_client(self.settings)
        return self._client

    @property
    def collection(self):
        if self._collection is None:
            try:
                self._collection = self.client.get_or_create_collection(
                    self.settings.collection,
                    metadata={"hnsw:space": "cosine", "schema": SCHEMA_VERSION, "model": self._model_key()},
                    embedding_function=None,
                )
            except Exception as exc:  # noqa: BLE001
                raise StoreError(f"cannot open the collection {self.settings.collection!r}: {exc}; "
                                 "try --rebuild") from exc
        return self._collection

    def _model_key(self) -> str:
        return self.embedder.key

    # ------------------------------------------------------------------ the documents (see Registry)

    @property
    def documents_dir(self) -> Path:
        """Where the canonical text of converted documents (HTML) lives: the text their offsets refer to."""
        return self.registry.documents_dir

    def manifest(self) -> dict:
        """Which documents the store holds, and with which model and schema it was built (cached until refresh)."""
        return self.registry.manifest()

    def stamp(self) -> str:
        """A cheap version stamp of the served documents, read from the store now (see Registry.stamp)."""
        return self.registry.stamp()

    @property
    def version(self) -> str:
        """The stamp of the documents as this Store last read them (see `stamp`)."""
        return self.registry.version

    def changed(self) -> bool:
        """True when another writer has indexed, changed or pruned documents since this Store read them."""
        return self.registry.changed()

    def compatible(self) -> bool:
        """True when the store was built by this schema and embedding model."""
        return self.registry.compatible()

    def documents(self) -> dict[str, DocumentRecord]:
        """doc_id -> the record of every served document."""
        return self.registry.documents()

    def document_text(self, doc_id: str) -> str:
        """The canonical text of a document, as its offsets refer to it."""
        return self.registry.text(doc_id)

    def local_path(self, doc_id: str) -> Path:
        """A local file holding the document's canonical text (written from the store when missing)."""
        return self.registry.local_path(doc_id)

    def path_holding(self, doc_id: str, start: int, end: int, text: str) -> Path:
        """A local file that holds `text` at [start:end] (see Registry.path_holding)."""
        return self.registry.path_holding(doc_id, start, end, text)

    def find_document(self, ref: str | Path) -> str:
        """The doc_id of an indexed article named by its id, its path, or its file name; StoreError if none."""
        return self.registry.find(ref)

    def refresh(self, handles: bool = False) -> None:
        """Forget cached reads, after another process may have written; handles=True also reopens the
        collections (another process may have rebuilt them)."""
        self.registry.refresh(handles)
        self._count = None
        self._units = None
        if handles:
            self._collection = None

    def reopen(self) -> None:
        """Forget cached reads and reopen the collections, after another process wrote. An embedded store
        also gets a new Chroma client: the one Chroma keeps per folder in a process caches what it read of
        the folder's segments, and does not see what another process added."""
        self.refresh(handles=True)
        if not self.settings.chroma_host:
            _forget_embedded(self.settings.store_dir)
            self._client = None

    # ------------------------------------------------------------------ writing

    def reset(self, hard: bool = False) -> None:
        """Drop every unit and document record. hard=True also recovers an embedded store that Chroma
        cannot open (garbage or a foreign format): its Chroma files are deleted, and nothing else."""
        if hard and not self.settings.chroma_host:
            try:
                _ = self.client
            except StoreError as exc:
                log.warning("%s; deleting its Chroma files to rebuild", exc)
                self._wipe_embedded()
        for name in (self.settings.collection, self.registry.name):
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - a missing collection is already reset
                pass
        self.refresh(handles=True)
        legacy = self.settings.store_dir / "manifest.json"
        if not self.settings.chroma_host and legacy.exists():
            legacy.unlink()

    def _wipe_embedded(self) -> None:
        import re
        import shutil

        root = self.settings.store_dir
        uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        ours = re.compile(r"^[0-9a-f]{16}\.(?:txt|tmp)$")
        # Only what Chroma or we wrote: a vector segment folder holds nothing but HNSW files, and our
        # documents folder nothing but <id>.txt. Anything else in the folder is the user's, and stays.
        segment_files = {"header.bin", "data_level0.bin", "length.bin", "link_lists.bin", "index_metadata.pickle"}
        for p in root.iterdir() if root.exists() else ():
            if p.is_dir() and uuid.match(p.name) and all(f.name in segment_files for f in p.iterdir()):
                shutil.rmtree(p)
            elif p.is_dir() and p.name == "documents" and all(ours.match(f.name) for f in p.iterdir()):
                shutil.rmtree(p)
            elif p.is_file() and (p.name.startswith("chroma.sqlite3") or p.name == "manifest.json"):
                p.unlink()
        self._client = None
        self._collection = None
        self.registry.refresh(handles=True)

    def replace_documents(self, items: list[tuple[dict, list[Unit], str, Sequence]], progress=None) -> None:
        """Store documents: all their units, then their records (the commit point), then drop what they replace.

        items are (record, units, canonical text, the units' vectors). A document is served only once its
        record is written, which happens after every unit of every document in items is: a process killed
        before that leaves units that no record serves (sweep() removes them), never half a document.
        """
        if not items:
            return
        col = self.collection
        pairs = [(u, v) for _doc, units, _text, vecs in items for u, v in zip(units, vecs, strict=True)]
        bs = max(1, self.settings.write_batch_size)
        for i in range(0, len(pairs), bs):
            batch = pairs[i:i + bs]
            col.upsert(ids=[u.id for u, _v in batch], embeddings=[v for _u, v in batch],
                       documents=[u.text for u, _v in batch], metadatas=[_unit_metadata(u) for u, _v in batch])
            if progress is not None:
                progress(len(batch))
        ids = [doc["doc_id"] for doc, *_rest in items]
        keep = {u.id for _doc, units, *_rest in items for u in units}
        # Units a killed run left under the same ids (a document whose units changed with the code).
        old = col.get(where={"doc_id": {"$in": ids}} if len(ids) > 1 else {"doc_id": ids[0]}, include=[])["ids"]
        if extra := [i for i in old if i not in keep]:
            col.delete(ids=extra)
        now = time.time()
        records = [{k: v for k, v in {**doc, "units": len(units), "indexed_at": now}.items() if v is not None}
                   for doc, units, _text, _vecs in items]
        self.registry.write(records, [text for _d, _u, text, _v in items])
        self.refresh()
        new = {(doc.get("source") or doc.get("path")): doc["doc_id"] for doc, *_rest in items}
        stale = [d for d, info in self.documents().items() if new.get(info.source, d) != d]
        for d in stale:  # an older version of the same file
            self.delete_document(d)

    def delete_document(self, doc_id: str) -> None:
        """Remove a document: its record first (it is no longer served), then its units."""
        self.registry.delete(doc_id)
        self.collection.delete(where={"doc_id": doc_id})
        self.refresh()

    def prune(self, keep_sources: set[str]) -> list[str]:
        """Remove documents whose source file is gone or not among keep_sources; returns their sources."""
        gone = []
        for d, info in self.documents().items():
            source = info.source
            if source not in keep_sources and not Path(source).exists():
                self.delete_document(d)
                gone.append(source)
        return gone

    def writing(self):
        """Hold the store's write lock: one writer at a time on an embedded store (a server needs none)."""
        return write_lock(self.settings)

    # ------------------------------------------------------------------ reading

    def count(self) -> int:
        """How many units the collection holds (cached until refresh or a write)."""
        if self._count is not None:
            return self._count
        try:
            self._count = self.collection.count()
            return self._count
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise failed(self.settings, "counting the units", exc) from exc

    def sweep(self) -> int:
        """Delete units that belong to no served document (left by a run that was killed); returns how many."""
        served = list(self.documents())
        try:
            where = {"doc_id": {"$nin": served}} if served else None
            ids = self.collection.get(where=where, include=[])["ids"]
            if ids:
                self.collection.delete(ids=ids)
        except Exception as exc:  # noqa: BLE001
            raise failed(self.settings, "removing leftover units", exc) from exc
        self._units = None
        self._count = None
        return len(ids)

    def all_units(self) -> list[Unit]:
        """Every stored unit, in document order; cached until the next write."""
        if self._units is None:
            import numpy as np

            try:
                ids = self.collection.get(include=[])["ids"]
            except StoreError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise failed(self.settings, "reading the units", exc) from exc
            served = self.documents()
            units: list[Unit] = []
            # One float32 matrix, not a list of floats per unit. Read a page of units at a time: Chroma hands
            # embeddings over as Python floats, then float64, which for 30,000 units at once peaked 1.2 GB
            # above the matrix (and the process kept much of it).
            matrix = np.zeros((len(ids), 0), dtype=np.float32)
            rows: dict[str, int] = {}
            for at in range(0, len(ids), READ_PAGE):
                page = ids[at:at + READ_PAGE]
                try:
                    got = self.collection.get(ids=page, include=["documents", "metadatas", "embeddings"])
                except Exception as exc:  # noqa: BLE001
                    raise failed(self.settings, "reading the units", exc) from exc
                embs = got.get("embeddings")
                if embs is not None and len(embs):
                    embs = np.asarray(embs, dtype=np.float32)
                    if matrix.shape[1] != embs.shape[1]:
                        matrix = np.zeros((len(ids), embs.shape[1]), dtype=np.float32)
                    for uid, vec in zip(got["ids"], embs):
                        rows[uid] = len(rows)
                        matrix[rows[uid]] = vec
                units += [u for u in _to_units(got["ids"], got["documents"], got["metadatas"]) if u.doc_id in served]
                del got, embs
            self._matrix = matrix[:len(rows)]
            self._rows = rows
            units.sort(key=lambda u: (u.document, u.start, u.end))
            self._units = units
        return self._units

    def vector(self, unit_id: str):
        """The stored embedding of a unit (a float32 row), from the cache that all_units() fills; None if unknown."""
        self.all_units()
        row = self._rows.get(unit_id)
        return None if row is None else self._matrix[row]

    def header_units(self, doc_id: str | None, kind: str) -> list[Unit]:
        """The header line units (date or byline) of one document, or of every document."""
        try:
            got = self.collection.get(where={"kind": UnitKind.METADATA.value}, include=["documents", "metadatas"])
        except Exception as exc:  # noqa: BLE001
            raise failed(self.settings, "reading the header lines", exc) from exc
        units = _to_units(got["ids"], got["documents"], got["metadatas"])
        served = self.documents()
        units = [u for u in units if u.cue == kind and (doc_id is None or u.doc_id == doc_id) and u.doc_id in served]
        return sorted(units, key=lambda u: (u.document, u.start))

    def query(self, embedding: list[float], k: int, where: dict | None = None) -> list[StoredHit]:
        """The k units nearest to an embedding, by cosine similarity."""
        n = self.count()
        if n == 0:
            return []
        try:
            res = self.collection.query(query_embeddings=[embedding], n_results=min(k, n), where=where,
                                        include=["documents", "metadatas", "distances"])
        except Exception as exc:  # noqa: BLE001
            raise failed(self.settings, "a query", exc) from exc
        units = _to_units(res["ids"][0], res["documents"][0], res["metadatas"][0])
        served = self.documents()  # units of a document whose record is not (yet) written are not served
        return [StoredHit(u, 1.0 - float(d)) for u, d in zip(units, res["distances"][0]) if u.doc_id in served]


def _forget_embedded(folder: Path) -> None:
    """Make the next client on this folder a new one. Chroma shares one system per folder and process; clients
    made before keep theirs (it is not stopped under them), new ones get a fresh view of the folder."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient
    except ImportError:  # pragma: no cover - a chromadb without the shared cache shares nothing
        return
    for cache in ("_identifier_to_system", "_identifier_to_refcount"):
        getattr(SharedSystemClient, cache, {}).pop(str(folder), None)


def content_fingerprint(paths: Iterable[Path]) -> str:
    """A hash of the article files' contents, to tell when the index is out of date."""
    h = hashlib.sha256()
    for p in sorted(paths, key=str):
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()[:16]
