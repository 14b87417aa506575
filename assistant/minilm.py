"""The embedding model's pipeline (tokenizer, transformer, mean pooling, normalisation), loaded for `Embedder`.

A sentence-transformers folder whose pipeline is a BERT encoder, mean pooling and (optionally) normalisation,
as the packaged all-MiniLM-L6-v2 is, runs here with torch, `tokenizers` and `safetensors` alone: importing
sentence-transformers (and with it transformers, scipy, scikit-learn and pandas) took 7-10 s on this 2-core
machine, most of the app's start-up, for a forward pass of about 40 lines. The vectors are the same (a test
holds them to sentence-transformers' own within 1e-5). Any other model goes through sentence-transformers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

_POOLING = "sentence_transformers.models.Pooling"
_TRANSFORMER = "sentence_transformers.models.Transformer"
_NORMALIZE = "sentence_transformers.models.Normalize"


class _Layer(nn.Module):
    """One BERT encoder layer (post-norm), its parameters named as in a BERT checkpoint."""

    def __init__(self, hidden: int, heads: int, inner: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.attn_out, self.attn_norm = nn.Linear(hidden, hidden), nn.LayerNorm(hidden, eps=eps)
        self.inner, self.out = nn.Linear(hidden, inner), nn.Linear(inner, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, h: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, d = h.shape

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.view(b, n, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(self.query(h)), split(self.key(h)), split(self.value(h))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads) + bias
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        h = self.attn_norm(h + self.attn_out(ctx))
        return self.out_norm(h + self.out(F.gelu(self.inner(h))))


class MeanPooledBert(nn.Module):
    """A BERT encoder, then the mean of its last hidden states over the real tokens, normalised to unit length:
    forward(input_ids, attention_mask, token_type_ids) gives one vector per text."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        hidden, eps = config["hidden_size"], config.get("layer_norm_eps", 1e-12)
        self.words = nn.Embedding(config["vocab_size"], hidden)
        self.positions = nn.Embedding(config["max_position_embeddings"], hidden)
        self.types = nn.Embedding(config.get("type_vocab_size", 2), hidden)
        self.norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(_Layer(hidden, config["num_attention_heads"], config["intermediate_size"], eps)
                                    for _ in range(config["num_hidden_layers"]))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        h = self.norm(self.words(input_ids) + self.positions(positions) + self.types(token_type_ids))
        mask = attention_mask.to(h.dtype)
        bias = ((1.0 - mask) * torch.finfo(h.dtype).min)[:, None, None, :]  # padding takes no attention
        for layer in self.layers:
            h = layer(h, bias)
        pooled = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
        return F.normalize(pooled, p=2, dim=1)

    def load_bert(self, weights: dict[str, torch.Tensor]) -> None:
        """Take a BERT checkpoint's weights (with or without the "bert." prefix; the pooler is not used)."""
        names = {"words": "embeddings.word_embeddings", "positions": "embeddings.position_embeddings",
                 "types": "embeddings.token_type_embeddings", "norm": "embeddings.LayerNorm"}
        parts = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
                 "attn_out": "attention.output.dense", "attn_norm": "attention.output.LayerNorm",
                 "inner": "intermediate.dense", "out": "output.dense", "out_norm": "output.LayerNorm"}
        for i in range(len(self.layers)):
            names.update({f"layers.{i}.{ours}": f"encoder.layer.{i}.{theirs}" for ours, theirs in parts.items()})
        weights = {k.removeprefix("bert."): v for k, v in weights.items()}
        own = dict(self.named_parameters())  # an embedding has a weight and no bias
        state = {f"{ours}.{leaf}": weights[f"{theirs}.{leaf}"] for ours, theirs in names.items()
                 for leaf in ("weight", "bias") if f"{ours}.{leaf}" in own}
        self.load_state_dict(state, strict=True)


class Pipeline:
    """What `Embedder` needs of a model: token counts, vectors, and (when it is one) the whole pipeline as a
    module of (input_ids, attention_mask, token_type_ids), which graphs.py can trace, with `tokens` to make
    its inputs."""

    max_seq_length: int
    module: nn.Module | None

    def lengths(self, texts: Sequence[str]) -> list[int]:
        raise NotImplementedError

    def encode(self, texts: Sequence[str], batch_size: int, progress: bool = False) -> np.ndarray:
        raise NotImplementedError


class LeanPipeline(Pipeline):
    """A mean-pooled BERT sentence-transformers folder, run by MeanPooledBert and a `tokenizers` tokenizer."""

    def __init__(self, folder: Path, config: dict, max_seq_length: int) -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self.max_seq_length = max_seq_length
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.enable_truncation(max_length=max_seq_length)
        pad = self._tok.token_to_id("[PAD]")
        self._pad = 0 if pad is None else pad
        self.module = MeanPooledBert(config).eval()
        self.module.load_bert(load_file(str(folder / "model.safetensors")))

    def _encodings(self, texts: Sequence[str]):
        return self._tok.encode_batch([str(t) for t in texts])

    def tokens(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        enc = self._encodings(texts)
        n = max(len(e.ids) for e in enc)
        ids = torch.full((len(enc), n), self._pad, dtype=torch.long)
        mask = torch.zeros((len(enc), n), dtype=torch.long)
        types = torch.zeros((len(enc), n), dtype=torch.long)
        for i, e in enumerate(enc):
            m = len(e.ids)
            ids[i, :m] = torch.tensor(e.ids)
            mask[i, :m] = 1
            types[i, :m] = torch.tensor(e.type_ids)
        return ids, mask, types

    def lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._encodings(texts)]

    def encode(self, texts: Sequence[str], batch_size: int, progress: bool = False) -> np.ndarray:
        from assistant.progress import progress_bar

        texts = list(texts)
        out = []
        starts = range(0, len(texts), batch_size)
        with torch.inference_mode():
            for s in progress_bar(starts, desc="embedding", enabled=progress and len(starts) > 1, unit="batch"):
                out.append(self.module(*self.tokens(texts[s:s + batch_size])).float().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


class SentenceTransformersPipeline(Pipeline):
    """Any other sentence-transformers model, through the library itself (slower to import)."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.st = SentenceTransformer(model, device="cpu")
        self.max_seq_length = self.st.max_seq_length or 512
        self.module = None  # not traced: its modules may not be a mean-pooled transformer

    def lengths(self, texts: Sequence[str]) -> list[int]:
        ids = self.st.tokenizer(list(texts), add_special_tokens=True, truncation=True,
                                max_length=self.max_seq_length)["input_ids"]
        return [len(x) for x in ids]

    def encode(self, texts: Sequence[str], batch_size: int, progress: bool = False) -> np.ndarray:
        return self.st.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                              show_progress_bar=progress, convert_to_numpy=True)


def lean_config(folder: Path) -> tuple[dict, int] | None:
    """(BERT config, max tokens) when the folder is a sentence-transformers BERT with mean pooling
    and the files the lean pipeline reads; None otherwise."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        kinds = [m.get("type") for m in modules]
        pooling = next(m for m in modules if m.get("type") == _POOLING)
        pool = json.loads((folder / pooling.get("path", "") / "config.json").read_text(encoding="utf-8"))
        st_config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, StopIteration, AttributeError):
        return None
    mean_only = pool.get("pooling_mode_mean_tokens") and not any(
        pool.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                              "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"))
    if (kinds not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]) or not mean_only
            or config.get("model_type") != "bert" or config.get("hidden_act", "gelu") != "gelu"
            or config.get("position_embedding_type", "absolute") != "absolute"
            or not (folder / "tokenizer.json").is_file() or not (folder / "model.safetensors").is_file()):
        return None
    limit = int(st_config.get("max_seq_length") or config.get("max_position_embeddings", 512))
    return config, min(limit, int(config.get("max_position_embeddings", 512)))


def load(model: str) -> Pipeline:
    """The lean pipeline for a mean-pooled BERT folder, else sentence-transformers' own."""
    folder = Path(model)
    found = lean_config(folder) if folder.is_dir() else None
    if found is None:
        return SentenceTransformersPipeline(model)
    return LeanPipeline(folder, *found)
