"""The learned answer model: the committed files, `confidence`, the threshold setting, abstention reasons, and
paraphrased questions over articles written for these tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from assistant.answer import Assistant
from assistant.ranking import CARD_FILE, FEATURES, MODEL_DIR, WEIGHTS_FILE, AnswerModel, Calibrator

# ---------------------------------------------------------------------------------------------- the committed model


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads((MODEL_DIR / CARD_FILE).read_text(encoding="utf-8"))


def test_committed_weights_are_small_and_match_their_card(card):
    weights = MODEL_DIR / WEIGHTS_FILE
    assert weights.stat().st_size <= 25 * 1024 * 1024
    assert card["reranker"]["bytes"] == weights.stat().st_size
    assert card["reranker"]["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()


def test_card_records_how_the_model_was_made_and_its_out_of_sample_figures(card):
    from assistant.training import CONFIGS

    assert card["seed"] == 13
    assert card["features"] == list(CONFIGS[card["feature_set"]])
    assert set(card["features"]) <= set(FEATURES)
    for dataset in ("news", "squad", "seed"):
        figures = card["cv"][dataset]
        for metric in ("strict_accuracy", "hit_at_1", "hit_at_3", "false_abstain_rate", "abstain_accuracy"):
            assert 0.0 <= figures[metric] <= 1.0, (dataset, metric)
        assert 0.0 <= card["ece"][dataset] <= 1.0
    assert 0.0 <= card["threshold"] <= 1.0
    from assistant.training import PRIORS, prior_name

    assert card["prior"] in PRIORS and card["calibrated_on"] == prior_name(card["prior"])
    from assistant.training import TEMPERATURES

    assert card["temperature"] in TEMPERATURES
    # Beside each calibration error, what a perfectly calibrated confidence scores there by chance.
    for dataset in ("news", "squad", "seed"):
        mean, p90 = card["ece_by_chance"][dataset]
        assert 0.0 < mean <= p90 < 1.0
    # Every news article was held out of exactly one fold, and each fold has its own threshold.
    news = card["folds"]["news"]
    assert set(news["fold_of"].values()) == set(range(len(news["thresholds"])))
    assert len(card["folds"]["squad"]) == 8
    assert "SQuAD" in card["credits"]


def test_committed_model_loads_and_scores(settings):
    model = AnswerModel(settings.model)
    scores = model.encoder.score("When will construction begin?",
                                 ["Construction will begin in March, the mayor said.",
                                  "The library lent 300,000 books last year."])
    assert scores.shape == (2,)
    assert scores[0] > scores[1]


def test_missing_model_is_a_clear_error(settings, tmp_path):
    from assistant.errors import StoreError

    with pytest.raises(StoreError, match="assistant train"):
        AnswerModel(settings.model, tmp_path)


def test_card_with_unknown_features_is_refused():
    from assistant.errors import StoreError

    with pytest.raises(StoreError, match="features"):
        Calibrator.from_json({"features": ["wordiness"], "mean": [0], "scale": [1], "coef": [1], "intercept": 0})
    with pytest.raises(StoreError, match="features"):  # a coefficient short
        Calibrator.from_json({"features": ["dense", "coverage"], "mean": [0, 0], "scale": [1, 1], "coef": [1],
                              "intercept": 0})


def test_calibrator_ranks_by_score_and_gives_probabilities():
    n = len(FEATURES)
    cal = Calibrator((0.0,) * n, (1.0,) * n, (1.0,) + (0.0,) * (n - 1), 0.0, FEATURES, (1.0, 0.5, -0.2))
    rows = np.zeros((3, n))
    rows[:, 0] = [-100.0, 0.0, 3.0]
    logits, probs = cal.scores(rows)
    assert list(np.argsort(-logits)) == [2, 1, 0]
    assert probs[0] < 1e-6 and 0.0 < probs[1] < probs[2] < 1.0
    assert Calibrator.from_json(cal.to_json()) == cal


def test_temperature_moves_confidence_toward_even_odds_and_keeps_the_ranking():
    n = len(FEATURES)
    cal = Calibrator((0.0,) * n, (1.0,) * n, (1.0,) + (0.0,) * (n - 1), 0.0, FEATURES, (1.0, 0.5, -0.2))
    rows = np.zeros((4, n))
    rows[:, 0] = [-2.0, 0.0, 1.0, 3.0]
    logits, probs = cal.scores(rows)
    assert cal.tempered(1.0) == cal
    cool_logits, cool = cal.tempered(0.5).scores(rows)
    hot_logits, hot = cal.tempered(1.5).scores(rows)
    assert np.array_equal(cool_logits, logits) and np.array_equal(hot_logits, logits)
    assert list(np.argsort(cool)) == list(np.argsort(probs)) == list(np.argsort(hot))
    assert np.all(np.abs(cool - 0.5) < np.abs(probs - 0.5)) and np.all(np.abs(hot - 0.5) > np.abs(probs - 0.5))
    # Stored as the scaled weights: the card needs no new field to load it.
    assert Calibrator.from_json(cal.tempered(0.5).to_json()).confidence == (0.5, 0.25, -0.1)


def test_calibration_error_by_hand_and_by_chance():
    from assistant.evaluation import calibration, chance_calibration_error

    ece, table = calibration([(0.05, False), (0.15, True), (0.95, True), (0.95, False), (1.0, True)])
    # Bins 0.0-0.1 (0.05 vs 0), 0.1-0.2 (0.15 vs 1) and 0.9-1.0, which holds 1.0 too (0.9667 vs 0.6667).
    assert [(lo, n) for lo, _hi, n, _c, _t in table] == [(0.0, 1), (0.1, 1), (0.9, 3)]
    assert ece == pytest.approx((0.05 + 0.85 + 3 * 0.3) / 5)
    # Sure confidences that come true have no error, by chance or otherwise.
    assert chance_calibration_error([0.0, 1.0] * 50) == (0.0, 0.0)
    # A perfectly calibrated confidence still shows an error by chance, smaller on more questions, and the
    # same on every run.
    few = chance_calibration_error([0.3, 0.6, 0.8] * 10)
    many = chance_calibration_error([0.3, 0.6, 0.8] * 300)
    assert many[0] < few[0] / 3 and few[0] <= few[1]
    assert chance_calibration_error([0.3, 0.6, 0.8] * 10) == few



def _collected(n: int, seed: int = 0) -> list:
    """Invented collected questions: a candidate that holds the answer scores higher on `dense` than the rest,
    and about half the questions have none (unanswerable)."""
    from types import SimpleNamespace

    from assistant.evaluation import GoldRow
    from assistant.training import Asked

    rng = np.random.default_rng(seed)
    out = []
    for q in range(n):
        answerable = bool(rng.random() < 0.5)
        rows = np.zeros((4, len(FEATURES)))
        rows[:, FEATURES.index("dense")] = rng.normal(0.3, 0.15, 4)
        hits = [False] * 4
        if answerable and rng.random() < 0.8:
            rows[0, FEATURES.index("dense")] += 0.3
            hits[0] = True
        row = GoldRow(f"q{q}", f"question {q}?", answerable, (), (), (), ())
        units = [SimpleNamespace(start=i, text=f"passage {i}", id=f"u{q}:{i}") for i in range(4)]
        out.append(Asked(f"a{q % 5}", row, "", None, False, units, [False] * 4, rows, hits, {}))
    return out


def test_confidence_is_calibrated_for_the_chosen_share_of_unanswerable_questions():
    from assistant.training import fit_model, top_of

    asked = _collected(400)
    features = ("dense", "dense_lead")
    by_prior = {p: fit_model(asked, features, prior=p) for p in (None, 0.1, 0.6)}
    # The ranking regression is the same whatever the prior; only the confidence map moves.
    assert len({(m.coef, m.intercept) for m in by_prior.values()}) == 1
    for prior in (0.1, 0.6):
        tops = [top_of(a, by_prior[prior]) for a in asked]
        unanswerable = np.asarray([not a.row.answerable for a in asked])
        weight = np.where(unanswerable, prior / unanswerable.mean(), (1 - prior) / (1 - unanswerable.mean()))
        conf = np.asarray([c for c, _h in tops])
        hit = np.asarray([h for _c, h in tops], dtype=float)
        # A logistic fit with a bias matches its weighted mean prediction to the weighted share of hits (up to
        # its light regularisation).
        assert abs(np.average(conf, weights=weight) - np.average(hit, weights=weight)) < 0.01
    mean = {p: np.mean([top_of(a, m)[0] for a in asked]) for p, m in by_prior.items()}
    assert mean[0.1] > mean[None] > mean[0.6]


# ---------------------------------------------------------------------------------------------- invented articles

# Fictional news, written for these tests: the questions below use other words than the articles do.
COUNCIL = """\
Greenfield Mayor Pledges New Water Plant After Summer Shortages

By Tessa Morrow

Mayor Alicia Grant pledged on Thursday to build a new water treatment plant before the end of 2027, after two summers in which residents were told to stop watering their lawns.

“No family in Greenfield should open a tap and wonder whether anything will come out,” Grant said at a news conference outside city hall.

The plant is expected to cost $62 million, and the city will borrow most of the money through a bond.

Council member Derek Osei argued that the city should repair its leaking pipes before building anything new. “We lose nearly a third of our treated water underground,” Osei said. “Fixing that is cheaper than any new plant.”

The FBI has opened an investigation into a contractor that billed the city for pipe repairs that were never done, according to two people familiar with the matter.

Grant said the city had stopped all payments to the contractor in May.

Hydrologist Nadia Petrov of Lakeshore University warned that the region's aquifer is falling by about two feet a year. “If nothing changes, the wells that serve the east side could run dry within a decade,” Petrov said.
"""

# (question, words the first quote must hold)
PARAPHRASES = [
    pytest.param("What did the mayor promise to build?", "pledged on Thursday to build a new water treatment plant",
                 marks=pytest.mark.xfail(reason="attribution does not read 'X pledged to build' as X's reported "
                                                "speech (PolNeAR does not count it: read so, its precision fell "
                                                "0.969 -> 0.968), so the mayor's own quote about taps comes first")),
    ("What new facility did the mayor promise?", "pledged on Thursday to build a new water treatment plant"),
    ("Which agency opened an inquiry into the contractor?", "The FBI has opened an investigation"),
    ("What did Osei claim about the city's treated water?", "We lose nearly a third of our treated water"),
    ("How much will the new plant cost?", "$62 million"),
    ("What did the hydrologist say could happen to the wells?", "could run dry within a decade"),
    ("When did the city stop paying the contractor?", "stopped all payments to the contractor in May"),
]

# Questions the article does not answer, though they name its people and topics.
SILENT = [
    "What is the capital of Australia?",
    "Who won the football match on Sunday?",
    "What recipe did the mayor share for apple pie?",
]


@pytest.fixture(scope="module")
def council(tmp_path_factory, settings, embedder, nlp) -> Assistant:
    from assistant.indexing import index_paths
    from assistant.store import Store

    tmp = tmp_path_factory.mktemp("answer_model")
    (tmp / "council.txt").write_text(COUNCIL, encoding="utf-8")
    store = Store(settings.with_(store_dir=tmp / "chroma"), embedder=embedder)
    report = index_paths([tmp / "council.txt"], store, progress=False, nlp=nlp)
    assert not report.failed, report.failed
    return Assistant(store)


@pytest.mark.parametrize("question, words", PARAPHRASES)
def test_paraphrased_questions_are_answered(council: Assistant, question: str, words: str):
    ans = council.ask(question)
    assert not ans.abstained, ans.reason
    assert words in ans.quotes[0].text, [q.text for q in ans.quotes]


@pytest.fixture(scope="module")
def strict_council(council: Assistant) -> Assistant:
    from conftest import STRICT

    return Assistant(council.store, council.retriever, council.settings.with_(min_confidence=STRICT), council.model)


@pytest.mark.parametrize("question", SILENT)
def test_silent_article_abstains_with_a_reason(strict_council: Assistant, question: str):
    council = strict_council
    ans = council.ask(question)
    assert ans.abstained and not ans.quotes
    assert ans.reason
    out = ans.to_json()
    assert out["reason"] == ans.reason
    if out["best"] is not None:
        assert out["best"]["confidence"] < council.min_confidence
        assert f"{out['best']['confidence']:.2f}" in ans.reason


def test_every_quote_has_a_confidence_in_unit_range(council: Assistant):
    # The paraphrases that are answered (the expected failures abstain, and would check nothing).
    for question, _words in (case for case in PARAPHRASES if not hasattr(case, "marks")):
        quotes = council.ask(question).quotes
        assert quotes, question
        for quote in quotes:
            assert 0.0 <= quote.confidence <= 1.0
            assert "confidence" in quote.to_json()


def test_absent_speaker_reason_names_them(council: Assistant):
    ans = council.ask("What did Governor Smith say about the water plant?")
    assert ans.abstained
    assert "Governor Smith" in ans.reason


def test_the_threshold_setting_changes_abstention(council: Assistant):
    """One setting moves the line: at 0 nothing the model scores is refused, at 1 everything is."""
    from assistant.answer import Assistant as A

    never = A(council.store, council.retriever, council.settings.with_(min_confidence=0.0), council.model)
    from conftest import STRICT

    strict = A(council.store, council.retriever, council.settings.with_(min_confidence=STRICT), council.model)
    always = A(council.store, council.retriever, council.settings.with_(min_confidence=1.0), council.model)
    silent = "What recipe did the mayor share for apple pie?"
    assert strict.ask(silent).abstained
    assert not never.ask(silent).abstained
    assert always.ask("How much will the new plant cost?").abstained
    assert not council.ask("How much will the new plant cost?").abstained


def test_min_confidence_comes_from_the_environment(monkeypatch):
    from assistant.errors import AssistantError
    from assistant.settings import load_settings

    monkeypatch.setenv("ASSISTANT_MIN_CONFIDENCE", "0.7")
    assert load_settings().min_confidence == 0.7
    for bad in ("high", "1.5", "-0.1"):
        monkeypatch.setenv("ASSISTANT_MIN_CONFIDENCE", bad)
        with pytest.raises(AssistantError, match="ASSISTANT_MIN_CONFIDENCE"):
            load_settings()
    monkeypatch.delenv("ASSISTANT_MIN_CONFIDENCE")
    assert load_settings().min_confidence is None


def test_ask_json_carries_confidence_and_reason(cli_env, tmp_path, capsys, monkeypatch):
    from assistant.cli import main

    from conftest import STRICT

    monkeypatch.setenv("ASSISTANT_MIN_CONFIDENCE", str(STRICT))
    store = tmp_path / "chroma"
    assert main(["ask", "What did Moolenaar say American companies must do?", "--json", "--store", str(store)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["quotes"] and all(0.0 <= q["confidence"] <= 1.0 for q in out["quotes"]), out
    assert main(["ask", "What is a good recipe for dumplings?", "--json", "--store", str(store)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["abstained"] and out["reason"] and out["quotes"] == []
    assert 0.0 <= out["best"]["confidence"] <= 1.0


def test_model_folder_is_the_settings_default(settings):
    assert Path(settings.answer_model_dir) == MODEL_DIR


# ---------------------------------------------------------------------------------------------- the slot rule

@pytest.mark.parametrize("question, slot", [
    ("How old is the mayor?", "number"),
    ("How many wells could run dry?", "number"),
    ("What share of the water is lost?", "number"),
    ("When will the plant open?", "date"),
    ("What year was the bond approved?", "date"),
    # A date asked for in a prepositional phrase, not only by the first words.
    ("In what year did the council approve the bond?", "date"),
    ("Since which month has the plant stood idle?", "date"),
    ("Which decade saw the most floods?", "date"),
    ("Who opened the investigation?", "name"),
    ("What is the name of the contractor?", "name"),
    ("Which agency opened the inquiry?", "name"),
    ("Where does Petrov teach?", "name"),
    # Negatives: the answer is a statement, not a name, number or date.
    ("What did Osei argue?", None),
    ("Why did the city stop paying?", None),
    ("What will the plant cost?", None),
    ("What did Osei say in what he called a year of reckoning?", None),
])
def test_answer_slot(question: str, slot: str | None):
    from assistant.questions import answer_slot

    assert answer_slot(question) == slot


def _unit(text: str, speaker: str = "Tessa Morrow (author)", stype: str = "author"):
    from assistant.units import Unit

    return Unit("d:0:1", "d", "/tmp/x.txt", "T", text, 0, len(text), speaker, stype, "narration", 1, 1)


@pytest.mark.parametrize("question, text, speaker, stype, filled", [
    ("How old is Derek Osei?", "Derek Osei, 54, argued that the city should repair its pipes.", "", "author", True),
    ("How old is Derek Osei?", "Derek Osei argued that the city should repair its pipes.", "", "author", False),
    # A number the question already holds is no answer.
    ("How many of the 14 columns are cracked?", "Engineers inspected all 14 columns.", "", "author", False),
    ("How many of the 14 columns are cracked?", "Three of the 14 columns show cracks.", "", "author", True),
    ("When did the city stop paying?", "The city stopped all payments in May.", "", "author", True),
    ("When did the city stop paying?", "The city stopped all payments to the contractor.", "", "author", False),
    ("Who opened the investigation?", "The FBI has opened an investigation.", "", "author", True),
    ("Who opened the investigation?", "an investigation was opened, officials said.", "", "author", False),
    # For a quote, the speaker's label is part of what the passage gives.
    ("Who warned about the wells?", "the wells could run dry within a decade", "Nadia Petrov", "named source", True),
    ("Why did the city stop paying?", "No reason was given.", "", "author", True),
])
def test_slot_filled(question: str, text: str, speaker: str, stype: str, filled: bool):
    from assistant.ranking import slot_filled

    unit = _unit(text, speaker or "Tessa Morrow (author)", stype)
    assert slot_filled(question, unit) is filled


@pytest.mark.parametrize("question, wanted", [
    ("Where does Petrov teach?", "where"),
    ("In which town did the pipes burst?", "place"),
    ("Which agency opened the inquiry?", "name"),
    ("Who opened the investigation?", "name"),
    ("When did the city stop paying?", "time"),
    ("How many protesters were arrested?", "amount"),
    ("How many nights did the protests last?", "amount or time"),
    ("How old is the mayor?", "amount or time"),
    ("Why did the city stop paying?", None),
])
def test_answer_entities(question: str, wanted: str | None):
    from assistant.questions import (AMOUNT_ENTITIES, NAMED_ENTITIES, PLACE_ENTITIES, TIME_ENTITIES,
                                     answer_entities)

    expected = {"place": PLACE_ENTITIES, "where": PLACE_ENTITIES | {"ORG", "EVENT"}, "name": NAMED_ENTITIES,
                "time": TIME_ENTITIES, "amount": AMOUNT_ENTITIES, "amount or time": AMOUNT_ENTITIES | TIME_ENTITIES,
                None: None}[wanted]
    assert answer_entities(question) == expected


@pytest.mark.parametrize("question, text, speaker, stype, filled", [
    # A place the question does not name answers "in which town"; a person does not.
    ("In which town in New Jersey did the blast happen?", "The blast happened in Elizabeth, New Jersey, on Sunday.",
     "", "author", True),
    ("In which town in New Jersey did the blast happen?", "Mayor Bill Lyons said a blast happened in New Jersey.",
     "", "author", False),
    # "Where" is answered by an institution as well as a place, never by a person.
    ("Where did Mara Quell donate her fee?", "Mara Quell gave her whole fee to Harbor House, a shelter for veterans.",
     "", "author", True),
    ("Where did Mara Quell donate her fee?", "Mara Quell gave her whole fee to Tom Brandt, her old coach.", "",
     "author", False),
    # "two nights" counts nights, not protesters.
    ("How many protesters were arrested?", "Police arrested 44 protesters over the weekend.", "", "author", True),
    ("How many protesters were arrested?", "Protesters marched for two nights before the arrests.", "", "author",
     False),
    ("How many nights did the protests last?", "Protesters marched for two nights.", "", "author", True),
    ("When did the city stop paying?", "Grant said the city had stopped all payments to the contractor in May.",
     "", "author", True),
    ("When did the city stop paying?", "The city stopped all payments to the contractor.", "", "author", False),
    ("In what year did the council approve the bond?", "The council approved the bond in 2019.", "", "author", True),
    ("In what year did the council approve the bond?", "The council approved the bond after a long debate.", "",
     "author", False),
    ("How much will the plant cost?", "The plant will cost $310 million.", "", "author", True),
    # A year is a date, even in a span the recogniser reads as a number.
    ("When did Voss govern the province?", "Under Voss (1911–1920) the province built its first dams.", "",
     "author", True),
    ("When did Voss govern the province?", "Under Voss the province built its first dams.", "", "author", False),
    # A quote's speaker is a name the passage gives.
    ("Who warned about the wells?", "the wells could run dry within a decade", "Nadia Petrov", "named source", True),
    ("Why did the city stop paying?", "No reason was given.", "", "author", True),
])
def test_slot_filled_by_entities(nlp, question: str, text: str, speaker: str, stype: str, filled: bool):
    from assistant.ranking import slot_filled_by_entities

    unit = _unit(text, speaker or "Tessa Morrow (author)", stype)
    assert slot_filled_by_entities(question, unit, lambda t: [(e.text, e.label_) for e in nlp(t).ents]) is filled


def test_slot_rule_abstains_with_its_reason(council: Assistant):
    """"How old is Osei?": the article names him but gives no age, so the closest passage cannot answer."""
    assert council.model.slot_rule, "the committed model uses the slot rule (see its card)"
    ans = council.ask("How old is Derek Osei?")
    assert ans.abstained
    assert "number" in ans.reason and ans.best is not None
    assert not council.ask("How much will the new plant cost?").abstained


def test_what_someone_said_is_their_words_not_the_tags_around_them(council: Assistant):
    ans = council.ask("What did Osei say?", top_k=5)
    assert any("We lose nearly a third" in q.text for q in ans.quotes), [q.text for q in ans.quotes]
    # "Osei said." is the writer's tag, not Osei's words: it is no answer, whatever its confidence.
    assert not any(q.text.rstrip(".").endswith(" said") for q in ans.quotes), [q.text for q in ans.quotes]
