"""Score answers against a gold Q&A file, by the metrics of shared/gold/README.md."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError

METRICS = ("hit_at_1", "hit_at_3", "mrr", "label_accuracy", "abstain_accuracy", "false_abstain_rate",
           "verbatim_rate", "evidence_precision", "strict_accuracy")


@dataclass(frozen=True)
class GoldRow:
    id: str
    question: str
    answerable: bool
    evidence: tuple[str, ...]
    speaker_any: tuple[str, ...]
    speaker_none: tuple[str, ...]
    source_type: tuple[str, ...]
    document: str = ""  # the article the question is about, relative to the gold file; "" for any


def load_gold(path: str | Path) -> list[GoldRow]:
    """Read a gold JSON Lines file."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"{path}: cannot read the gold file ({exc.strerror or exc})") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            rows.append(GoldRow(str(r["id"]), r["question"], bool(r["answerable"]), tuple(r.get("evidence", [])),
                                tuple(r.get("speaker_any", [])), tuple(r.get("speaker_none", [])),
                                tuple(r.get("source_type", [])), str(r.get("document") or "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise AssistantError(f"{path}:{n}: not a gold row ({exc})") from exc
    if not rows:
        raise AssistantError(f"{path}: no questions in the gold file (one JSON object per line: see the README)")
    return rows


def _spans(text: str, docs: list[str]) -> list[tuple[int, int, int]]:
    out = []
    if not text:
        return out
    for i, d in enumerate(docs):
        s = d.find(text)
        while s != -1:
            out.append((i, s, s + len(text)))
            s = d.find(text, s + 1)
    return out


def _overlap(a, b) -> int:
    if a[0] != b[0]:
        return 0
    return max(0, min(a[2], b[2]) - max(a[1], b[1]))


def _any_hit(quote_spans, gold_spans) -> bool:
    """A quote hits when it overlaps a gold span by at least min(half the span, 80% of the quote) and at least
    15 characters (or the whole span when it is shorter)."""
    for a in quote_spans:
        for g in gold_spans:
            ov, glen, qlen = _overlap(a, g), g[2] - g[1], a[2] - a[1]
            if ov >= min(15, glen) and ov >= min(0.5 * glen, 0.8 * qlen):
                return True
    return False


def hits(row: GoldRow, text: str, docs: list[str]) -> bool:
    """Whether a quote's text answers a gold row, by the rule of hit@1."""
    return _any_hit(_spans(text, docs), [s for e in row.evidence for s in _spans(e, docs)])


def label_ok(row: GoldRow, quote: dict) -> bool:
    """The quote's speaker and source type match the gold labels."""
    sp = (quote.get("speaker") or "").lower()
    if row.speaker_any and not any(a.lower() in sp for a in row.speaker_any):
        return False
    if any(a.lower() in sp for a in row.speaker_none):
        return False
    st = (quote.get("source_type") or "").lower().strip()
    return not (row.source_type and st not in [t.lower() for t in row.source_type])


def score_question(row: GoldRow, ans: dict, docs: list[str], k: int = 3) -> tuple[dict, list[tuple]]:
    """What one answer scored: its tallies (summed by `score`) and its failures as (id, reason, detail)."""
    m = dict(answerable=0, unanswerable=0, hit1=0, hit3=0, rr=0.0, label_ok=0, abstain_ok=0, false_abstain=0,
             quotes=0, verbatim=0, prec_num=0, prec_den=0, strict_ok=0)
    fails = []
    quotes = ans.get("quotes") or []
    for qt in quotes:
        m["quotes"] += 1
        t = qt.get("text", "")
        if t.strip() and _spans(t, docs):
            m["verbatim"] += 1
    if not row.answerable:
        m["unanswerable"] += 1
        ok = not quotes and bool(ans.get("abstained", False))
        m["abstain_ok"] += ok
        m["strict_ok"] += ok
        if not ok:
            fails.append((row.id, "should abstain", quotes[0]["text"][:80] if quotes else ""))
        return m, fails
    m["answerable"] += 1
    if not quotes:
        m["false_abstain"] += 1
    gspans = [s for e in row.evidence for s in _spans(e, docs)]
    first_hit = None
    for i, qt in enumerate(quotes):
        qs = _spans(qt.get("text", ""), docs)
        hit = _any_hit(qs, gspans)
        if i < k and qs:
            covered = max((sum(_overlap(a, g) for g in gspans) for a in qs), default=0)
            m["prec_num"] += min(covered, qs[0][2] - qs[0][1])
            m["prec_den"] += qs[0][2] - qs[0][1]
        if hit and first_hit is None:
            first_hit = i
    if first_hit is None:
        fails.append((row.id, "miss", quotes[0]["text"][:80] if quotes else "(abstained)"))
        return m, fails
    m["rr"] += 1 / (first_hit + 1)
    m["hit1"] += first_hit == 0
    m["hit3"] += first_hit < k
    lab = label_ok(row, quotes[first_hit]) if first_hit < k else False
    m["label_ok"] += lab
    m["strict_ok"] += lab
    if not lab:
        q = quotes[first_hit]
        fails.append((row.id, "label", f"{q.get('speaker')} / {q.get('source_type')}"))
    return m, fails


def _summary(m: dict, n: int) -> dict:
    a, u = max(m["answerable"], 1), max(m["unanswerable"], 1)
    return dict(
        n=n, hit_at_1=m["hit1"] / a, hit_at_3=m["hit3"] / a, mrr=m["rr"] / a,
        label_accuracy=m["label_ok"] / a, abstain_accuracy=m["abstain_ok"] / u,
        false_abstain_rate=m["false_abstain"] / a, verbatim_rate=m["verbatim"] / max(m["quotes"], 1),
        evidence_precision=m["prec_num"] / max(m["prec_den"], 1), strict_accuracy=m["strict_ok"] / max(n, 1),
    )


def question_metrics(row: GoldRow, ans: dict, docs: list[str], k: int = 3) -> dict:
    """The metrics one question scored, as `eval --answers` writes them: those that do not apply to it
    (hit@1 for a question that should be refused, say) are None."""
    m, fails = score_question(row, ans, docs, k)
    answerable = row.answerable
    out = {
        "hit_at_1": bool(m["hit1"]) if answerable else None,
        "hit_at_3": bool(m["hit3"]) if answerable else None,
        "mrr": round(m["rr"], 4) if answerable else None,
        "label_accuracy": bool(m["label_ok"]) if answerable else None,
        "abstain_accuracy": None if answerable else bool(m["abstain_ok"]),
        "false_abstain_rate": bool(m["false_abstain"]) if answerable else None,
        "verbatim_rate": round(m["verbatim"] / m["quotes"], 4) if m["quotes"] else None,
        "evidence_precision": round(m["prec_num"] / m["prec_den"], 4) if answerable and m["prec_den"] else None,
        "strict_accuracy": bool(m["strict_ok"]),
    }
    return {"metrics": out, "failure": (fails[0][1] + (f": {fails[0][2]}" if fails[0][2] else "")) if fails else ""}


def score(gold: list[GoldRow], answers: list[dict], docs: list[str], k: int = 3) -> tuple[dict, list[tuple]]:
    """Metrics over all questions, plus the failures as (id, reason, detail)."""
    if len(answers) != len(gold):
        raise AssistantError(f"{len(answers)} answers for {len(gold)} gold questions")
    total = dict(answerable=0, unanswerable=0, hit1=0, hit3=0, rr=0.0, label_ok=0, abstain_ok=0, false_abstain=0,
                 quotes=0, verbatim=0, prec_num=0, prec_den=0, strict_ok=0)
    fails = []
    for row, ans in zip(gold, answers):
        m, f = score_question(row, ans, docs, k)
        for key, value in m.items():
            total[key] += value
        fails += f
    return _summary(total, len(gold)), fails


# Metrics where less is better: `--fail-under` fails when they are above the bound, not below.
LOWER_IS_BETTER = ("false_abstain_rate",)


def parse_bound(text: str) -> tuple[str, float]:
    """A `--fail-under METRIC=VALUE` bound; AssistantError names what is wrong with it."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep:
        raise AssistantError(f"--fail-under {text}: give METRIC=VALUE, e.g. hit_at_1=0.5")
    if name not in METRICS:
        raise AssistantError(f"--fail-under {text}: no metric called {name!r}; the metrics are {', '.join(METRICS)}")
    try:
        bound = float(value)
    except ValueError:
        raise AssistantError(f"--fail-under {text}: {value!r} is not a number") from None
    if not 0.0 <= bound <= 1.0:
        raise AssistantError(f"--fail-under {text}: give a value between 0 and 1")
    return name, bound


def shortfalls(summary: dict, bounds: list[tuple[str, float]]) -> list[str]:
    """The bounds a run's metrics miss, one sentence each (empty when every bound holds)."""
    out = []
    for name, bound in bounds:
        value = summary[name]
        if name in LOWER_IS_BETTER and value > bound:
            out.append(f"{name} is {value:.3f}, above the limit {bound:g}")
        elif name not in LOWER_IS_BETTER and value < bound:
            out.append(f"{name} is {value:.3f}, under the bound {bound:g}")
    return out


def calibration(points: list[tuple[float, bool]], bins: int = 10) -> tuple[float, list[tuple]]:
    """Expected calibration error of (confidence, came true) pairs over equal-width bins, and the table behind it:
    (low, high, count, mean confidence, share that came true) for each bin that holds any."""
    table, ece = [], 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(c, h) for c, h in points if lo <= c < hi or (b == bins - 1 and c == hi)]
        if not inside:
            continue
        mean_conf = sum(c for c, _ in inside) / len(inside)
        came_true = sum(bool(h) for _, h in inside) / len(inside)
        table.append((lo, hi, len(inside), mean_conf, came_true))
        ece += len(inside) / len(points) * abs(mean_conf - came_true)
    return ece, table


def chance_calibration_error(confidences: list[float], bins: int = 10, rounds: int = 1000,
                             seed: int = 0) -> tuple[float, float]:
    """The calibration error a perfectly calibrated model scores by chance alone with these confidences: each
    outcome drawn true with its own confidence, `rounds` times. Returns the mean and the 90th percentile.
    On a few hundred questions it is about 0.05, so an error near it is as good as a sample that size shows."""
    rng = random.Random(seed)
    errors = sorted(calibration([(c, rng.random() < c) for c in confidences], bins)[0] for _ in range(rounds))
    if not errors:
        return 0.0, 0.0
    return sum(errors) / len(errors), errors[min(len(errors) - 1, int(0.9 * len(errors)))]
