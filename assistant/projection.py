"""A fixed linear projection of the sentence embeddings to fewer dimensions (principal components).

Chroma holds every unit's vector in its in-memory HNSW index, about 2 KB a unit at MiniLM's 384 dimensions,
in every process that writes or queries the store: at 3,000 articles that is 0.2 GB, and it grows with the
archive. The top PROJECTED_DIMS principal components of MiniLM's embeddings of SQuAD training sentences and
questions keep 92% of their variance; on the news gold, sentence retrieval by cosine ranks the answer nearly
as well with them as with all 384 (see README, "How the model is made" and "Scaling"). Every vector (units, questions, words) goes through the same
projection and is made unit length again, so cosines stay cosines.

The projection is fitted by `python -m assistant train` (stage 1b, `fit`) and committed beside the answer model
(`assistant/model/projection.npz`, 0.3 MB). It records the embedding model it was fitted for; another model
gets no projection.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROJECTION_FILE = "projection.npz"
PROJECTED_DIMS = 192


@dataclass(frozen=True)
class Projection:
    """x -> normalise((x - mean) @ components.T)."""

    mean: np.ndarray  # (d,)
    components: np.ndarray  # (k, d), orthonormal rows
    model: str  # the embedding model's name (its folder name) it was fitted for

    @property
    def dims(self) -> int:
        return int(self.components.shape[0])

    @property
    def tag(self) -> str:
        """Names this projection in the store's model key: a store built with another one is rebuilt."""
        h = hashlib.sha256(self.mean.tobytes() + self.components.tobytes()).hexdigest()[:8]
        return f"pca{self.dims}-{h}"

    def apply(self, vectors) -> np.ndarray:
        x = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        y = (x - self.mean) @ self.components.T
        norms = np.linalg.norm(y, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (y / norms).astype(np.float32)

    def save(self, path: Path) -> None:
        with open(path, "wb") as f:  # np.savez would add ".npz" to a name without it
            np.savez(f, mean=self.mean.astype(np.float32), components=self.components.astype(np.float32),
                     model=np.asarray(self.model))

    @classmethod
    def load(cls, path: Path) -> "Projection":
        with np.load(path, allow_pickle=False) as z:
            return cls(z["mean"].astype(np.float32), z["components"].astype(np.float32), str(z["model"]))


def fit(vectors, k: int, model: str) -> Projection:
    """The top k principal components of the (unit-length) vectors. Deterministic: an SVD of the centred
    matrix, each component's sign fixed so that its largest coordinate is positive."""
    x = np.asarray(vectors, dtype=np.float64)
    mean = x.mean(axis=0)
    _u, _s, vt = np.linalg.svd(x - mean, full_matrices=False)
    comps = vt[:k]
    signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
    comps = comps * signs[:, None]
    return Projection(mean.astype(np.float32), comps.astype(np.float32), model)


def model_key(model_name: str) -> str:
    """How a projection names the embedding model: its folder name, as the store does."""
    return Path(model_name).name or model_name
