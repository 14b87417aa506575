"""The store's memory: loading every unit costs about what the units and their matrix hold, and memory that
the embedding model frees goes back to the system.

No model is needed for the first test: the units are written with random vectors.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import Settings
from assistant.store import Embedder, Store
from assistant.units import Unit

REPO = Path(__file__).resolve().parent.parent
UNITS = 4000
DIM = 384


def _store(tmp_path: Path) -> Store:
    settings = Settings(store_dir=tmp_path / "store")
    return Store(settings, embedder=Embedder(settings.model))  # the model is never loaded here


def _fill(store: Store) -> None:
    rng = np.random.default_rng(0)
    doc = "0123456789abcdef"
    path = str(store.settings.store_dir / "article.txt")
    units = [Unit(f"{doc}:{i}", doc, path, "Title", f"Sentence number {i} of the article.", i * 40, i * 40 + 35,
                  "Jane Doe", "named source", "quote", i // 10, i % 10, "said") for i in range(UNITS)]
    vecs = rng.standard_normal((UNITS, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    record = {"doc_id": doc, "path": path, "source": path, "title": "Title", "author": "", "date": ""}
    with store.writing():
        store.replace_documents([(record, units, "text", vecs)])


def test_loading_every_unit_peaks_near_what_it_keeps(tmp_path, monkeypatch):
    """Chroma returns embeddings as Python floats, then float64: read all at once, 4,000 units peaked at about
    70 MB of Python objects for a 6 MB matrix. Read a page at a time, the peak stays near what is kept."""
    import assistant.store

    monkeypatch.setattr(assistant.store, "READ_PAGE", 500)
    _fill(_store(tmp_path))
    store = _store(tmp_path)  # a fresh reader, as the app opens it
    _ = store.documents(), store.collection  # the manifest and the handles are not what is measured
    tracemalloc.start()
    try:
        units = store.all_units()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(units) == UNITS
    matrix = UNITS * DIM * 4
    assert peak < 5 * matrix, f"loading {UNITS} units peaked at {peak / 1e6:.1f} MB for a {matrix / 1e6:.1f} MB matrix"
    # And nothing was lost on the way: every unit's vector is the stored one.
    got = store.collection.get(ids=[units[0].id, units[-1].id], include=["embeddings"])
    for uid, vec in zip(got["ids"], got["embeddings"]):
        assert np.allclose(store.vector(uid), vec, atol=1e-6)


def test_memory_freed_after_the_model_loads_goes_back_to_the_system():
    """glibc raises its mmap threshold after a large block is freed, and later blocks of that size come from
    the heap and stay in the process. Once the Embedder has loaded its model, freed blocks are returned."""
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's allocator only")
    script = textwrap.dedent("""
        import numpy as np
        from assistant.settings import Settings
        from assistant.store import Embedder
        Embedder(Settings().model).model

        def rss():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024

        a = np.ones(16 << 20, dtype=np.uint8)  # freed, this raises glibc's dynamic threshold to 16 MB
        del a
        before = rss()
        blocks = [np.ones(2 << 20, dtype=np.uint8) for _ in range(12)]  # 24 MB in 2 MB blocks
        during = rss()
        del blocks
        print(before, during, rss())
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr[-2000:]
    before, during, after = map(int, out.stdout.split()[-3:])
    assert during - before >= 20  # the blocks were really held
    assert after - before <= 4, f"RSS {before} -> {during} -> {after} MB: the freed blocks stayed in the process"


class _CountingCollection:
    """A Chroma collection that records how many records each read returns with their metadata."""

    def __init__(self, col):
        self._col = col
        self.sizes: list[int] = []

    def __getattr__(self, name):
        return getattr(self._col, name)

    def get(self, *args, **kwargs):
        got = self._col.get(*args, **kwargs)
        if kwargs.get("include"):
            self.sizes.append(len(got["ids"]))
        return got


def test_the_registry_reads_its_records_a_page_at_a_time(tmp_path, monkeypatch):
    """One read of every record made Chroma hand over every document's text at once (64 MB at 3,000
    articles, read again after each chunk an index run writes). The records come a page at a time."""
    import assistant.registry

    monkeypatch.setattr(assistant.registry, "RECORDS_PAGE", 10)
    store = _store(tmp_path)
    records = [{"doc_id": f"doc{i:03d}", "path": f"/articles/{i}.txt", "source": f"/articles/{i}.txt",
                "title": f"Article {i}", "units": 3} for i in range(35)]
    with store.writing():
        store.registry.write(records, ["A sentence of text. " * 500] * len(records))
    reader = _store(tmp_path).registry
    spy = _CountingCollection(reader._existing())
    monkeypatch.setattr(reader, "_existing", lambda: spy)
    docs = reader.documents()
    assert sorted(docs) == [r["doc_id"] for r in records]
    assert docs["doc007"].title == "Article 7" and docs["doc007"].units == 3
    assert spy.sizes and max(spy.sizes) <= 10, f"records read {spy.sizes} at a time"


def test_long_texts_are_embedded_in_smaller_batches_with_the_same_vectors(embedder):
    """A batch's activations grow with its size times its longest text squared: long texts go in smaller
    batches, within TOKENS_PER_BATCH tokens, and every text still gets its own vector, in the order given."""
    from assistant.store import TOKENS_PER_BATCH

    long = [" ".join(f"word{i}x{j}" for j in range(120)) for i in range(40)]
    short = [f"A short sentence, number {i}." for i in range(100)]
    texts = [t for pair in zip(long, short, strict=False) for t in pair] + short[len(long):]
    groups = embedder._batches(texts, 64)
    assert sorted(i for idx, _size in groups for i in idx) == list(range(len(texts)))
    lengths = embedder.model.lengths(texts)  # in tokens, truncated at the model's limit
    limit = embedder.model.max_seq_length
    assert max(lengths) == limit
    for idx, size in groups:
        assert size * max(lengths[i] for i in idx) <= max(TOKENS_PER_BATCH, limit)
    assert {size for idx, size in groups if idx[0] < 80 and idx[0] % 2 == 0} != {64}  # the long ones: smaller
    assert max(size for _idx, size in groups) == 64  # the short ones keep the full batch
    got = np.array(embedder.encode(texts, batch_size=64))
    one_by_one = np.array([embedder.encode([t] * 9)[0] for t in texts[:6]])  # 9 texts: past the short-query path
    assert np.allclose(got[:6], one_by_one, atol=1e-5)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
