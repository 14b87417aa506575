"""assistant/minilm.py: the packaged MiniLM run with torch alone gives sentence-transformers' own tokens and
vectors, other models still go through sentence-transformers, and answering never imports it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.minilm import LeanPipeline, lean_config, load
from assistant.settings import Settings
from tests.conftest import REPO, SEED

# Invented and edge-case texts: empty, one word, accents and other scripts, curly quotes, and one far past the
# model's 256 tokens (truncated the same way).
TEXTS = ["", "pier", "What did the harbour master promise to rebuild before the summer season?",
         "“We will rebuild,” said Ana Ruiz-Ødegård, the café’s owner — 北京 🙂.",
         "The council voted 7–2 on Tuesday to close the library at 5 p.m.",
         " ".join(f"token{i} and more words" for i in range(300))]


@pytest.fixture(scope="module")
def reference():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(Settings().model, device="cpu")


@pytest.fixture(scope="module")
def lean():
    pipeline = load(Settings().model)
    assert isinstance(pipeline, LeanPipeline), "the packaged MiniLM should run without sentence-transformers"
    return pipeline


def _texts():
    lines = [x for x in SEED.read_text(encoding="utf-8").splitlines() if x.strip()]
    return TEXTS + lines[:30]


def test_vectors_are_sentence_transformers_own(lean, reference):
    texts = _texts()
    for batch in (1, 7, 64):  # one text a batch, and batches that pad
        got = lean.encode(texts, batch)
        want = reference.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)
        assert got.shape == want.shape == (len(texts), 384)
        assert np.abs(got - want).max() < 1e-5


def test_tokens_and_lengths_are_the_tokenizers_own(lean, reference):
    texts = _texts()
    want = reference.tokenizer(texts, truncation=True, max_length=256, padding=True, return_tensors="pt")
    for got, name in zip(lean.tokens(texts), ("input_ids", "attention_mask", "token_type_ids"), strict=True):
        assert got.shape == want[name].shape and bool((got == want[name]).all()), name
    assert lean.lengths(texts) == want["attention_mask"].sum(1).tolist()
    assert lean.max_seq_length == 256 and max(lean.lengths(texts)) == 256  # the long text, truncated


def _copy(tmp_path, **changes):
    """The packaged model's small files in a folder of its own (no weights unless asked), then edited."""
    src = Path(Settings().model)
    dst = tmp_path / "model"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "README.md"))
    for rel, edit in changes.items():
        path = dst / rel.replace("__", "/")
        data = json.loads(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(json.dumps(data), encoding="utf-8")
    return dst


def test_only_a_mean_pooled_bert_runs_without_sentence_transformers(tmp_path):
    packaged = Path(Settings().model)
    assert lean_config(packaged) is not None
    assert lean_config(_copy(tmp_path / "a")) is None  # no weights file
    with_weights = _copy(tmp_path / "b")
    (with_weights / "model.safetensors").symlink_to(packaged / "model.safetensors")
    config, limit = lean_config(with_weights)
    assert limit == 256 and config["num_hidden_layers"] == 6
    cls = _copy(tmp_path / "c", **{"1_Pooling__config.json": lambda d: d.update(pooling_mode_cls_token=True,
                                                                                 pooling_mode_mean_tokens=False)})
    other = _copy(tmp_path / "d", **{"config.json": lambda d: d.update(model_type="mpnet")})
    dense = _copy(tmp_path / "e", **{"modules.json": lambda d: d.append(
        {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"})})
    for folder in (cls, other, dense):
        (folder / "model.safetensors").symlink_to(packaged / "model.safetensors")
        assert lean_config(folder) is None, folder
    assert lean_config(tmp_path / "nowhere") is None


def test_another_model_goes_through_sentence_transformers(tmp_path, monkeypatch):
    import assistant.minilm as minilm

    made = []
    monkeypatch.setattr(minilm, "SentenceTransformersPipeline", lambda name: made.append(name) or "st")
    assert load(str(tmp_path)) == "st" and load("some-hub-name") == "st"
    assert made == [str(tmp_path), "some-hub-name"]


def test_answering_never_imports_sentence_transformers():
    """The point of minilm.py: an embedder that indexes and answers loads neither sentence-transformers nor
    transformers (7-10 s of imports on this machine)."""
    code = ("import sys; from assistant.settings import Settings; from assistant.store import Embedder; "
            "e = Embedder(Settings().model); e.encode(['a question?']); e.encode(['a'] * 20); e.compile(); "
            "e.encode(['another?']); "
            "print(sorted(m for m in ('sentence_transformers', 'transformers', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_sentence_transformers_pipeline_gives_the_same_vectors_and_lengths(lean, reference):
    """The path any other model takes, run on the packaged one: what the Embedder reads of it agrees."""
    from assistant.minilm import SentenceTransformersPipeline

    other = SentenceTransformersPipeline(Settings().model)
    texts = _texts()
    assert other.module is None and other.max_seq_length == lean.max_seq_length
    assert other.lengths(texts) == lean.lengths(texts)
    assert np.abs(other.encode(texts, 16) - lean.encode(texts, 16)).max() < 1e-5
