"""The traced graphs of the answer path (assistant/graphs.py): the same numbers as the eager models, a refusal
when a trace would not give them, and `prepare` + `answer` as `ask` (the app's many clients at once are
tests/test_app.py's)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from assistant.graphs import trace
from assistant.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class _Branchy(torch.nn.Module):
    """A module whose result depends on a Python branch on its input's values: a trace keeps one branch."""

    def forward(self, x, mask, types):
        return x.float() * 2 if bool(mask.all()) else x.float() * 3


def _batch(ids, mask):
    ids, mask = torch.tensor(ids), torch.tensor(mask)
    return ids, mask, torch.zeros_like(ids)


def test_trace_refuses_a_graph_that_differs_from_the_model():
    unpadded, padded = _batch([[1, 2]], [[1, 1]]), _batch([[1, 2]], [[1, 0]])
    assert trace(_Branchy(), unpadded, [padded], "branchy") is None  # traced on the all-ones branch
    assert trace(_Branchy(), unpadded, [unpadded], "branchy") is not None  # never shown the other branch


def test_trace_refuses_a_module_it_cannot_trace():
    class Listy(torch.nn.Module):
        def forward(self, x, mask, types):
            return [x]  # not a tensor

    assert trace(Listy(), _batch([[1]], [[1]]), [], "listy") is None


def _sharing(embedder):
    """Another embedder over the session's model (which a test here may compile, or not)."""
    from assistant.store import Embedder

    e = Embedder(Settings().model)
    e._model = embedder.model
    return e


@pytest.fixture(scope="module")
def eager(embedder):
    return _sharing(embedder)


@pytest.fixture(scope="module")
def compiled(embedder):
    e = _sharing(embedder)
    assert e.compile(), "the packaged MiniLM should trace"
    return e


TEXTS = ["Who opened the inquiry?", "What did the harbour master promise to rebuild before the summer season?",
         "pier", "“We will rebuild,” she said."]


def test_traced_query_vectors_are_the_models(eager, compiled):
    assert compiled._graph is not None and eager._graph is None
    for texts in ([TEXTS[0]], TEXTS[:2], TEXTS):  # one text, and batches that pad
        want = np.array(eager.encode(texts))
        got = np.array(compiled.encode(texts))
        assert got.shape == want.shape == (len(texts), want.shape[1])
        assert np.abs(got - want).max() < 1e-5
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_a_batch_stays_on_the_eager_path(compiled, monkeypatch):
    from assistant.store import QUERY_TEXTS

    calls = []
    monkeypatch.setattr(compiled, "_encode_graph", lambda texts: calls.append(len(texts)) or [])
    compiled.encode(TEXTS[:1])
    compiled.encode(["word"] * (QUERY_TEXTS + 1))
    assert calls == [1]


def test_traced_answer_model_scores_are_the_models(settings):
    from assistant.ranking import WEIGHTS_FILE
    from assistant.reranker import CrossEncoder

    eager = CrossEncoder(settings.model, settings.answer_model_dir / WEIGHTS_FILE)
    traced = CrossEncoder(settings.model, settings.answer_model_dir / WEIGHTS_FILE)
    assert traced.compile() and traced._graph is not None
    passages = ["The council voted on Tuesday to close the library.", "No.",
                "“It is a sad day for the town,” said the mayor, who had opposed the plan for months."]
    for ps in (passages[:1], passages):
        want = eager.score("What did the council decide?", ps)
        got = traced.score("What did the council decide?", ps)
        assert np.abs(got - want).max() < 1e-4


QUESTIONS = ["Who is quoted about the budget?", "What did the mayor say?", "When was the vote?",
             "What is the capital of Australia?", "Who wrote the article?", "How many people were hurt?"]


def test_prepare_then_answer_is_ask(assistant_):
    for q in QUESTIONS:
        prepared = assistant_.prepare(q)
        assert (prepared.embedding is None) == bool(prepared.reading.metadata)
        assert assistant_.answer(prepared).to_json() == assistant_.ask(q).to_json()


def test_the_apps_warm_up_traces_the_query_embedder(store):
    from assistant.answer import Assistant
    from assistant.library import OnTheRecord
    from assistant.web import Reader

    reader = Reader(OnTheRecord(Assistant(store)))
    reader.warm()
    assert store.embedder._graph is not None
    assert not reader.ask("What did the mayor say?").to_json().get("error")


def test_a_model_minilm_does_not_run_itself_stays_eager(embedder):
    """Only the mean-pooled BERT that minilm.py runs is traced: another pipeline (no module) stays op by op."""

    class Other:  # sentence-transformers' pipeline, as far as compile can tell
        module = None

        def __init__(self, real):
            self.real, self.max_seq_length = real, real.max_seq_length

        def __getattr__(self, name):
            return getattr(self.real, name)

    e = _sharing(embedder)
    e._model = Other(embedder.model)
    assert not e.compile() and e._graph is None
    assert np.allclose(np.linalg.norm(np.array(e.encode(TEXTS)), axis=1), 1.0, atol=1e-5)
