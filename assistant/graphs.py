"""A model's forward pass as one traced graph, for the answer path of a long-running process.

Run op by op, a MiniLM forward releases Python's GIL at every one of its ~100 tensor ops and must win it back
after each. In the app, the thread that answers shares the GIL with Gradio's event loop and workers; every
time another thread holds it, the answer waits up to the interpreter's switch interval (5 ms). Measured here:
one query embedding took 17 ms alone and 1.2 s beside a thread running Python; the same forward as one
TorchScript graph (one release for the whole pass) took 12 ms and 0.13 s. Under `bench/load.py`'s 20 clients
the app went from 9-13 to about 20 answers a second.

A graph is only used after it has given the eager model's outputs on batches with and without padding
(`TOLERANCE`); otherwise, or when tracing fails (a torch that no longer has TorchScript, a model it cannot
trace), the caller keeps the eager model and a log line says why.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

TOLERANCE = 1e-4  # largest absolute difference allowed between the graph's outputs and the eager model's
WARM_CALLS = 3  # TorchScript's executor optimises a graph over its first calls; they happen here, not on a question


def trace(module, example: tuple, checks: Sequence[tuple], what: str,
          tolerance: float = TOLERANCE) -> Callable | None:
    """`module` (in eval mode, returning one tensor) traced on `example`, frozen, and checked against the eager
    module on `example` and every batch of `checks` (tuples of the same tensors); None when that fails.

    Trace on a padded batch: the model's mask handling has branches on the mask's values, and a trace keeps the
    branch it saw. With padding it keeps the masked path, which is exact for unpadded batches too; the checks
    include both kinds, so a trace that kept the wrong branch is never used."""
    try:
        import torch

        with warnings.catch_warnings():  # TracerWarning on the mask branches, DeprecationWarning on torch.jit
            warnings.simplefilter("ignore")
            with torch.inference_mode(False), torch.no_grad():
                graph = torch.jit.freeze(torch.jit.trace(module, example, strict=False).eval())
            worst = 0.0
            with torch.inference_mode():
                for inputs in (example, *checks):
                    want, got = module(*inputs), graph(*inputs)
                    if got.shape != want.shape:
                        log.info("%s: the traced graph gives shape %s, not %s; answering with the eager model",
                                 what, tuple(got.shape), tuple(want.shape))
                        return None
                    worst = max(worst, float((got.float() - want.float()).abs().max()))
                for _ in range(WARM_CALLS):
                    for inputs in (example, *checks):
                        graph(*inputs)
    except Exception as exc:  # noqa: BLE001 - any failure to trace only means the eager model answers
        log.info("%s: cannot trace the model (%s: %s); answering with the eager model",
                 what, type(exc).__name__, str(exc).splitlines()[0][:200] if str(exc) else "")
        return None
    if worst > tolerance:
        log.info("%s: the traced graph differs from the model by %.2g; answering with the eager model", what, worst)
        return None
    log.debug("%s: traced (largest difference %.2g)", what, worst)
    return graph


def probe_texts() -> tuple[list[str], list[str]]:
    """Questions and passages of different lengths, for tracing and checking a text model (invented)."""
    questions = ["What did the harbour master say about the storm damage to the east pier?", "Why?"]
    passages = ["“We will rebuild the pier before the summer,” the harbour master said on Tuesday, standing beside "
                "the broken railings.", "No."]
    return questions, passages
