"""A cross-encoder that reads a question and a passage together and scores how well the passage answers it.

It is the packaged MiniLM (all-MiniLM-L6-v2) with its top layers fine-tuned on SQuAD 2.0 question/sentence
pairs and a linear head on the mean of its token states. Only what differs from the packaged model is stored
(the fine-tuned layers and the head, in fp16), so the file stays small and nothing is downloaded.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.errors import StoreError

log = logging.getLogger(__name__)

MAX_TOKENS = 128  # question and passage together; longer passages are cut from the end


def build_model(base: str, trainable_from: int):
    """The packaged MiniLM as a cross-encoder with a fresh head; layers below trainable_from stay frozen."""
    import torch
    from transformers import AutoModel

    class CrossEncoderModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(base)
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)
            torch.nn.init.zeros_(self.head.bias)
            torch.nn.init.normal_(self.head.weight, std=0.02)
            for name, p in self.bert.named_parameters():
                p.requires_grad = _layer_of(name) is not None and _layer_of(name) >= trainable_from

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled).squeeze(-1)

    return CrossEncoderModel()


def _layer_of(name: str) -> int | None:
    """The encoder layer a parameter belongs to ("encoder.layer.3.attention..." -> 3), None for embeddings."""
    parts = name.split(".")
    if "layer" in parts:
        i = parts.index("layer")
        if i + 1 < len(parts) and parts[i + 1].isdigit():
            return int(parts[i + 1])
    return None


def delta_state(model, trainable_from: int) -> dict:
    """The parameters that differ from the packaged model: the fine-tuned layers and the head, in fp16."""
    out = {}
    for name, tensor in model.state_dict().items():
        layer = _layer_of(name)
        if name.startswith("head.") or (name.startswith("bert.") and layer is not None and layer >= trainable_from):
            out[name] = tensor.detach().to("cpu").half().contiguous()
    return out


class CrossEncoder:
    """Scores (question, passage) pairs; loads the packaged MiniLM plus the stored fine-tuned layers on first use."""

    def __init__(self, base: str, weights: Path, max_tokens: int = MAX_TOKENS, quantize: bool = True):
        self.base = base
        self.quantize = quantize
        self.weights = Path(weights)
        self.max_tokens = max_tokens
        self._model = None
        self._tokenizer = None
        self._graph = None  # the model as one traced graph, once `compile` made one
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is not None:
                return
            import torch
            from safetensors.torch import load_file
            from transformers import AutoTokenizer

            if not self.weights.is_file():
                raise StoreError(f"{self.weights}: the answer model is missing; run `python -m assistant train`")
            try:
                delta = load_file(str(self.weights))
                layers = sorted({_layer_of(k) for k in delta if _layer_of(k) is not None})
                model = build_model(self.base, layers[0] if layers else 99)
                missing = set(delta) - set(model.state_dict())
                if missing:
                    raise ValueError(f"unexpected weights {sorted(missing)[:3]}")
                model.load_state_dict({k: v.float() for k, v in delta.items()}, strict=False)
                model.eval()
                if self.quantize:
                    # int8 matrix products: about 1.5x faster on this CPU. The calibrator is fitted on the
                    # scores of this same quantized model, so confidence means the same thing.
                    with warnings.catch_warnings():  # torch marks its quantized tensor constructors deprecated
                        warnings.simplefilter("ignore", UserWarning)
                        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
                self._tokenizer = AutoTokenizer.from_pretrained(self.base)
            except (OSError, ValueError, RuntimeError) as exc:
                raise StoreError(f"cannot load the answer model {self.weights}: {exc}") from exc
            self._model = model

    def compile(self) -> bool:
        """Score with one traced graph from now on (see graphs.py); True when it is in use. The graph must give
        the model's own logits on padded and unpadded batches, or scoring stays as it was."""
        self._load()
        if self._graph is None:  # not under the lock: questions meanwhile are scored by the eager model
            from assistant.graphs import probe_texts, trace

            questions, passages = probe_texts()
            pairs = [self._tokens(questions, passages), self._tokens(questions[:1], passages[:1]),
                     self._tokens(questions[1:] * 2, passages)]
            if any(b[2] is None for b in pairs):
                log.info("the answer model's tokenizer gives no token types: passages are scored op by op")
                return False
            self._graph = trace(self._model, pairs[0], pairs[1:], "the answer model")
        return self._graph is not None

    def _tokens(self, questions: list[str], passages: list[str]) -> tuple:
        """The model's inputs for the pairs: token ids, mask and token types (None if the tokenizer gives none)."""
        batch = self._tokenizer(questions, passages, truncation="only_second", max_length=self.max_tokens,
                                padding=True, return_tensors="pt")
        return batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids")

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One logit per passage: higher means the passage answers the question better."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        self._load()
        import torch

        batch = self._tokens([question] * len(passages), list(passages))
        with torch.inference_mode():
            model = self._graph if self._graph is not None else self._model
            logits = model(*batch)
        return logits.float().numpy()
