"""The projection of the embeddings to fewer dimensions: its arithmetic, the committed file, and the store's
vectors and model key."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.projection import PROJECTED_DIMS, PROJECTION_FILE, Projection, fit, model_key
from assistant.ranking import CARD_FILE, MODEL_DIR


def _unit_rows(n: int, d: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)) * np.linspace(3, 0.1, d)  # a few strong directions
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_fit_keeps_the_strongest_directions_and_gives_unit_vectors(tmp_path):
    x = _unit_rows(500, 24)
    p = fit(x, 6, "some-model")
    assert p.components.shape == (6, 24) and p.dims == 6
    np.testing.assert_allclose(p.components @ p.components.T, np.eye(6), atol=1e-5)  # orthonormal
    y = p.apply(x)
    assert y.shape == (500, 6) and y.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), 1.0, atol=1e-5)
    # The top components hold more of the variance than any other 6 directions, e.g. the first 6 axes.
    c = x - x.mean(0)
    kept = ((c @ p.components.T.astype(np.float64)) ** 2).sum()
    assert kept >= (c[:, :6] ** 2).sum() - 1e-6
    # Deterministic, and a round trip through the file changes nothing.
    assert fit(x, 6, "some-model").tag == p.tag
    p.save(tmp_path / "p.npz")
    q = Projection.load(tmp_path / "p.npz")
    assert q.tag == p.tag and q.model == "some-model"
    np.testing.assert_array_equal(q.apply(x), y)


def test_cosines_survive_the_projection_of_nearby_vectors():
    x = _unit_rows(400, 32, seed=1)
    p = fit(x, 16, "m")
    near = x[:50] + 0.05 * _unit_rows(50, 32, seed=2)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    # Each vector's projected nearest neighbour among the perturbed copies is still its own copy.
    sims = p.apply(x[:50]) @ p.apply(near).T
    assert (sims.argmax(axis=1) == np.arange(50)).mean() >= 0.95


def test_committed_projection_is_for_the_packaged_model_and_recorded_in_the_card():
    import hashlib

    from assistant.settings import Settings

    path = MODEL_DIR / PROJECTION_FILE
    p = Projection.load(path)
    assert p.model == model_key(Settings().model)
    assert p.dims == PROJECTED_DIMS and p.components.shape[1] == 384
    card = json.loads((MODEL_DIR / CARD_FILE).read_text(encoding="utf-8"))["projection"]
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["tag"] == p.tag and card["dims"] == PROJECTED_DIMS
    assert 0.85 <= card["variance_kept"] <= 1.0


def test_a_projection_for_another_model_is_not_applied(tmp_path):
    from assistant.store import Embedder

    fit(_unit_rows(100, 8), 4, "another-model").save(tmp_path / "p.npz")
    e = Embedder("/some/where/all-MiniLM-L6-v2", projection=tmp_path / "p.npz")
    assert e.projection is None and e.key == "all-MiniLM-L6-v2"
    assert Embedder("/x/all-MiniLM-L6-v2", projection=None).key == "all-MiniLM-L6-v2"


def test_the_store_holds_projected_vectors_under_a_key_that_names_the_projection(settings, embedder, tmp_path):
    from assistant.indexing import index_paths
    from assistant.store import Store

    art = tmp_path / "a.txt"
    art.write_text("Harbor Plan Approved\n\nBy Ann Lee\n\n“We will rebuild the pier,” Mayor Jo Kim said.\n",
                   encoding="utf-8")
    store = Store(settings.with_(store_dir=tmp_path / "chroma"), embedder=embedder)
    index_paths([art], store, progress=False)
    assert embedder.projection is not None
    assert store.manifest()["model"] == f"{model_key(settings.model)}+{embedder.projection.tag}"
    units = store.all_units()
    vec = store.vector(units[0].id)
    assert vec.shape == (PROJECTED_DIMS,)
    assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-4
    q = np.asarray(embedder.encode_one("What will the mayor rebuild?"))
    assert q.shape == (PROJECTED_DIMS,)


@pytest.mark.parametrize("name", ["/a/b/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"])
def test_model_key_is_the_folder_name(name):
    assert model_key(name) == "all-MiniLM-L6-v2"
