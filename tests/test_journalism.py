"""Quote checking and source audits (issue 6): `check` and `sources`, through the library and the CLI."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import pytest

from assistant.audit import Audit, audit
from assistant.check import Checker, Passage, Verdict, normalise, speaker_matches, word_diff
from assistant.cli import main
from assistant.errors import QuestionError

VERDICT_KEYS = {"verdict", "claim", "claimed_speaker", "passage", "similarity", "diff"}
PASSAGE_KEYS = {"text", "speaker", "source_type", "document", "start", "end"}

# Exact strings of the seed article (seeds/000_7582fa84670eba64.txt).
LENIN = "The criminal world offers methods that the Party must adopt"
LENIN_FULL = "The criminal world offers methods that the Party must adopt to increase its effectiveness."
HEINOUS = "Last year, China made billions of dollars off of these heinous acts"
TERRIBLE = "China made billions of dollars from these terrible acts"
FORCED_LABOUR = "3.9 million individuals are exploited by state-imposed forced labor"
WORST = "China is still among the worst offenders when it comes to human trafficking"
MOOLENAAR_THATS = "That’s why American companies must do more"  # curly apostrophe, as in the article


def xfail(reason: str):
    return pytest.mark.xfail(reason=reason)


def file_slice(document: str, start: int, end: int) -> str:
    with open(document, encoding="utf-8") as fh:
        return fh.read()[start:end]


def assert_passage_is_verbatim(v: Verdict) -> None:
    """Whatever the verdict, a passage is the article's own characters at its offsets."""
    p = v.passage
    assert p is not None, v
    assert isinstance(p, Passage)
    assert p.text, v
    assert file_slice(p.document, p.start, p.end) == p.text, v


def shown(v: Verdict) -> dict:
    """The verdict as JSON, readable in an assertion message."""
    return v.to_json()


# ============================================================================================== the seed article

@pytest.fixture(scope="module")
def seed_checker(store) -> Checker:
    from assistant.retrieval import HybridRetriever

    return Checker(store, HybridRetriever(store))


# (claim, claimed speaker, verdict, a name the passage's speaker label must hold)
SEED_ATTRIBUTION = [
    pytest.param(LENIN, "Oleg Gordievsky", "misattributed", "Lenin", id="lenin-as-gordievsky"),
    pytest.param(LENIN, "Gordievsky", "misattributed", "Lenin", id="lenin-as-gordievsky-surname"),
    pytest.param(LENIN, "Lenin", "verified", "Lenin", id="lenin-as-lenin"),
    # Volkogonov quotes Lenin: the label is "Lenin (quoted by Dmitri Volkogonov, ...)", but the words are Lenin's.
    pytest.param(LENIN, "Volkogonov", "misattributed", "Lenin", id="lenin-as-volkogonov"),
    pytest.param(LENIN, "Dmitri Volkogonov", "misattributed", "Lenin", id="lenin-as-volkogonov-full"),
    pytest.param(HEINOUS, "Moolenaar", "verified", "Moolenaar", id="moolenaar-surname"),
    pytest.param(HEINOUS, "John Moolenaar", "verified", "Moolenaar", id="moolenaar-full-name"),
    pytest.param(HEINOUS, "Lenin", "misattributed", "Moolenaar", id="moolenaar-as-lenin"),
    pytest.param("to expand and deepen ties with organized crime groups worldwide", "Gordievsky", "verified",
                 "Gordievsky", id="gordievsky-partial"),
    pytest.param("to expand and deepen ties with organized crime groups worldwide", "Moolenaar", "misattributed",
                 "Gordievsky", id="gordievsky-as-moolenaar"),
]


@pytest.mark.parametrize("claim, speaker, verdict, true_speaker", SEED_ATTRIBUTION)
def test_seed_attribution(seed_checker, claim, speaker, verdict, true_speaker):
    v = seed_checker.check(claim, speaker=speaker)
    assert v.verdict == verdict, shown(v)
    assert v.claim == claim
    assert v.claimed_speaker == speaker
    assert v.similarity == 1.0
    assert v.diff == ()
    assert true_speaker in v.passage.speaker, shown(v)
    assert_passage_is_verbatim(v)
    # Verbatim: the passage is the claim itself, in the article's characters.
    assert normalise(v.passage.text)[0] == normalise(claim)[0]


def test_seed_volkogonov_label_names_him_as_the_one_quoting(seed_checker):
    """The misattribution to Volkogonov is not an accident of a label that omits him: it says he quoted Lenin."""
    v = seed_checker.check(LENIN, speaker="Volkogonov")
    assert v.passage.speaker.startswith("Lenin")
    assert "quoted by" in v.passage.speaker and "Volkogonov" in v.passage.speaker
    assert v.passage.source_type == "historical quote"


def test_seed_verified_without_speaker_says_who_said_it(seed_checker):
    v = seed_checker.check(HEINOUS)
    assert v.verdict == "verified", shown(v)
    assert v.claimed_speaker is None
    assert "Moolenaar" in v.passage.speaker
    assert v.passage.source_type == "public official"
    assert_passage_is_verbatim(v)


def test_seed_paraphrase_shows_the_articles_words_and_the_diff(seed_checker):
    v = seed_checker.check(TERRIBLE, speaker="Moolenaar")
    assert v.verdict == "paraphrased", shown(v)
    assert_passage_is_verbatim(v)
    assert "heinous" in v.passage.text
    assert "Moolenaar" in v.passage.speaker
    assert ("-", "terrible") in v.diff
    assert ("+", "heinous") in v.diff
    assert 0.0 < v.similarity < 1.0
    # The diff rebuilds both sides: "=" and "-" give the claim, "=" and "+" the article's passage.
    assert " ".join(w for op, w in v.diff if op in "=-").split() == TERRIBLE.split()
    assert " ".join(w for op, w in v.diff if op in "=+").split() == v.passage.text.split()


# (claim, what the claim says, what the article says)
SEED_CHANGED = [
    pytest.param("3.8 million individuals are exploited by state-imposed forced labor", "3.8", "3.9",
                 id="number"),
    pytest.param("China is not among the worst offenders when it comes to human trafficking", "not", "still",
                 id="negation"),
    pytest.param("make sure their supply chains are using products made with forced labor", None, "not",
                 id="dropped-negation"),
    pytest.param("leading to 185 arrests and the identification of an additional 205 perpetrators", "185", "158",
                 id="swapped-digits"),
]


@pytest.mark.parametrize("claim, claim_word, article_word", SEED_CHANGED)
def test_seed_changed_number_or_negation_is_never_verified(seed_checker, claim, claim_word, article_word):
    v = seed_checker.check(claim)
    assert v.verdict == "paraphrased", shown(v)
    assert_passage_is_verbatim(v)
    if claim_word:
        assert ("-", claim_word) in v.diff, shown(v)
    assert ("+", article_word) in v.diff, shown(v)


def test_seed_number_cut_inside_a_word_is_not_verified(seed_checker):
    v = seed_checker.check("194 victims were identified, leading to 158 arrests")
    assert v.verdict != "verified", shown(v)


# Variants of the Lenin quote that differ only in what matching ignores.
NORMALISED = [
    pytest.param(LENIN_FULL, id="exact-with-period"),
    pytest.param(f'"{LENIN_FULL}"', id="straight-quotes"),
    pytest.param(f"“{LENIN_FULL}”", id="curly-quotes"),
    pytest.param(f"‘{LENIN}’", id="single-curly-quotes"),
    pytest.param(LENIN.upper(), id="upper-case"),
    pytest.param(LENIN.lower() + ".", id="lower-case-trailing-period"),
    pytest.param("  The criminal   world offers\nmethods that  the Party\tmust adopt  ", id="whitespace"),
    pytest.param(LENIN + "!?", id="trailing-punctuation"),
    pytest.param(LENIN + "...", id="trailing-ellipsis"),
]


@pytest.mark.parametrize("claim", NORMALISED)
def test_seed_normalisation_still_verifies(seed_checker, claim):
    v = seed_checker.check(claim, speaker="Lenin")
    assert v.verdict == "verified", shown(v)
    assert_passage_is_verbatim(v)
    assert v.passage.text.startswith("The criminal world offers methods")
    # The passage is the article's words, not the claim's spelling of them.
    assert "  " not in v.passage.text and not v.passage.text.isupper()


@pytest.mark.parametrize("claim", [
    pytest.param("That's why American companies must do more", id="straight-apostrophe"),
    pytest.param(MOOLENAAR_THATS, id="curly-apostrophe"),
    pytest.param("THAT'S WHY AMERICAN COMPANIES MUST DO MORE.", id="upper-case-period"),
])
def test_seed_apostrophes_are_folded(seed_checker, claim):
    v = seed_checker.check(claim, speaker="Moolenaar")
    assert v.verdict == "verified", shown(v)
    assert v.passage.text == MOOLENAAR_THATS
    assert_passage_is_verbatim(v)


# Quotes that cross a sentence boundary inside one speaker's quoted words.
CROSSING = [
    pytest.param("billions of dollars off of these heinous acts. That’s why American companies must do more",
                 "Moolenaar", "Moolenaar", id="moolenaar"),
    pytest.param("heinous acts. That's why American companies", "Moolenaar", "Moolenaar", id="moolenaar-short"),
    pytest.param("in China and several other countries. That exploitation generates an estimated $236 billion",
                 "State Department", "State Department", id="state-department"),
]


@pytest.mark.parametrize("claim, speaker, true_speaker", CROSSING)
def test_seed_quote_across_a_sentence_boundary_is_verified(seed_checker, claim, speaker, true_speaker):
    v = seed_checker.check(claim, speaker=speaker)
    assert v.verdict == "verified", shown(v)
    assert true_speaker in v.passage.speaker
    assert_passage_is_verbatim(v)
    assert ". That" in v.passage.text


def test_seed_quote_across_a_speaker_frame_is_not_verified(seed_checker):
    """The end of one Moolenaar quote and the start of the next are split by "..., he said": not verbatim."""
    v = seed_checker.check("forced into labor camps. Last year, China made billions", speaker="Moolenaar")
    assert v.verdict != "verified", shown(v)


# Fragments of about five words, each with its speaker.
FRAGMENTS = [
    pytest.param("made billions of dollars off", "Moolenaar", id="moolenaar"),
    pytest.param("Chinese who replicate Soviet models", "official", id="anonymous-official"),
    pytest.param("methods that the Party must", "Lenin", id="lenin"),
    pytest.param("expand and deepen ties with", "Gordievsky", id="gordievsky"),
]


@pytest.mark.parametrize("claim, speaker", FRAGMENTS)
def test_seed_five_word_fragment(seed_checker, claim, speaker):
    assert len(claim.split()) == 5
    v = seed_checker.check(claim, speaker=speaker)
    assert v.verdict == "verified", shown(v)
    assert v.passage.text == claim
    assert_passage_is_verbatim(v)
    # Without a speaker the fragment is still verified and the label says whose words they are.
    anon = seed_checker.check(claim)
    assert anon.verdict == "verified"
    assert speaker_matches(speaker, anon.passage.speaker), shown(anon)


@pytest.mark.parametrize("claim", [
    "The moon is made of green cheese and nobody knows",
    "The city council approved a new budget for public libraries on Monday",
    "We will win the championship next season",
])
def test_seed_not_found(seed_checker, claim):
    v = seed_checker.check(claim, speaker="Moolenaar")
    assert v.verdict == "not found", shown(v)
    assert v.passage is None
    assert v.diff == ()
    assert v.similarity < 1.0
    assert v.to_json()["passage"] is None


@pytest.mark.parametrize("claim", [
    pytest.param("", id="empty"),
    pytest.param("   \n\t ", id="whitespace"),
    pytest.param("heinous acts", id="two-words"),
    pytest.param("“heinous.”", id="one-word-quoted"),
    pytest.param('" ... "', id="punctuation-only"),
    pytest.param("x " * 3000, id="too-long"),
])
def test_unusable_claim_raises_question_error(seed_checker, claim):
    with pytest.raises(QuestionError):
        seed_checker.check(claim)


def test_three_words_are_enough(seed_checker):
    v = seed_checker.check("these heinous acts")
    assert v.verdict == "verified", shown(v)


def test_verdict_json_contract(seed_checker):
    for claim, speaker in ((LENIN, "Gordievsky"), (TERRIBLE, "Moolenaar"), ("We will win the championship", None)):
        j = seed_checker.check(claim, speaker=speaker).to_json()
        assert set(j) == VERDICT_KEYS
        assert j["passage"] is None or set(j["passage"]) == PASSAGE_KEYS
        assert all(isinstance(d, list) and len(d) == 2 and d[0] in "=-+" for d in j["diff"])
        assert json.loads(json.dumps(j)) == j


# Timing: the brief asks for < 100 ms median when warm. Measured here: ~0.1 ms verbatim, ~20 ms paraphrase,
# so 100 ms is a 5x margin for the paraphrase even on a loaded machine.
@pytest.mark.parametrize("claim, speaker, verdict", [
    pytest.param(HEINOUS, "Moolenaar", "verified", id="verbatim"),
    pytest.param(TERRIBLE, "Moolenaar", "paraphrased", id="paraphrase"),
])
def test_warm_check_is_fast(seed_checker, claim, speaker, verdict):
    assert seed_checker.check(claim, speaker=speaker).verdict == verdict  # warm-up
    times = []
    for _ in range(5):
        t = time.perf_counter()
        v = seed_checker.check(claim, speaker=speaker)
        times.append(time.perf_counter() - t)
        assert v.verdict == verdict
    assert statistics.median(times) < 0.1, times


# ============================================================================================== helpers

@pytest.mark.parametrize("claimed, label, match", [
    ("Moolenaar", "John Moolenaar (R-MI), Chairman of the House Select Committee on China", True),
    ("John Moolenaar", "John Moolenaar (R-MI), Chairman of the House Select Committee on China", True),
    ("moolenaar", "John Moolenaar (R-MI), Chairman of the House Select Committee on China", True),
    ("Lenin", "Lenin (quoted by Dmitri Volkogonov, former Soviet Army General)", True),
    ("Volkogonov", "Lenin (quoted by Dmitri Volkogonov, former Soviet Army General)", False),
    ("Ortiz", "Mayor Helen Ortiz", True),  # the surname decides
    ("Mayor Ortiz", "Helen Ortiz", True),  # a title is no first name
    ("Jane Ortiz", "Ortiz, the mayor", True),  # the label gives no first name
    ("H. Ortiz", "Mayor Helen Ortiz", True),  # an initial
    ("Jane Ortiz", "Mayor Helen Ortiz", False),  # two first names: two people
    ("Tom Jones", "Sen. Bob Jones, D-Ohio", False),
    ("Helen Brandt", "Mayor Helen Ortiz", False),
    ("Ortiz", "Samuel Brandt, council treasurer", False),
    ("the", "Mayor Helen Ortiz", False),
])
def test_speaker_matches(claimed, label, match):
    assert speaker_matches(claimed, label) is match


def test_normalise_maps_back_to_source_offsets():
    text = "He said: “Hello   World” — fine."
    folded, where = normalise(text)
    assert folded == "he said: hello world - fine."
    assert len(where) == len(folded)
    assert all(text[i].lower() == c or c in " -" for c, i in zip(folded, where))


def test_word_diff_ops():
    d = word_diff("we will raise taxes", "we will not raise taxes")
    assert d == (("=", "we will"), ("+", "not"), ("=", "raise taxes"))
    assert word_diff("a b c", "a b c") == (("=", "a b c"),)
    assert word_diff("a x c", "a y c") == (("=", "a"), ("-", "x"), ("+", "y"), ("=", "c"))


# ============================================================================================== own articles

BRIDGE = """Riverside Council Approves New Footbridge

The Riverside town council voted on Tuesday to build a pedestrian footbridge across the Alder River, ending two years of debate.

“The footbridge will open to the public in the spring of 2027,” Mayor Helen Ortiz said after the vote.

“We will not raise local taxes to pay for this project,” said council treasurer Samuel Brandt.

The bridge is expected to cost 4.2 million dollars, with most of the money coming from a regional transport grant. The council will notify nearby households before work begins.

Ortiz said the design had been chosen by a panel of local architects. “Residents told us they wanted a safe way to cross the river on foot,” she said.

Brandt added that construction would begin in the autumn. “The grant covers 80 percent of the total cost and the rest comes from reserves,” he said.
"""

# Six paragraphs: Moreau quoted twice, one anonymous resident, one police report, Chen once, narration around them.
BAKERY = """Fire Damages Bakery on Market Street

A fire broke out early on Sunday at a bakery on Market Street in the town of Ellsworth. Nobody was injured.

“The town will help the owners rebuild as quickly as possible,” Mayor Daniel Moreau said.

“Firefighters kept the flames away from the neighbouring flats,” Moreau said.

A resident who asked not to be named said the alarm had been ringing for an hour before firefighters arrived.

According to a police report, the fire started in an electrical panel behind the ovens.

“We will reopen as soon as the building is safe,” said Laura Chen, who owns the bakery. The bakery has served the neighbourhood since 1998.
"""

OWN = {"bridge.txt": BRIDGE, "bakery.txt": BAKERY}


@pytest.fixture(scope="module")
def own(tmp_path_factory, settings, embedder, nlp):
    """A real store over the two articles above: (store, retriever, checker, folder, store dir)."""
    from assistant.indexing import index_paths
    from assistant.retrieval import HybridRetriever
    from assistant.store import Store

    tmp = tmp_path_factory.mktemp("journalism")
    folder = tmp / "articles"
    folder.mkdir()
    for name, text in OWN.items():
        (folder / name).write_text(text, encoding="utf-8")
    s = Store(settings.with_(store_dir=tmp / "chroma"), embedder=embedder)
    report = index_paths([folder], s, progress=False, nlp=nlp)
    assert not report.failed, report.failed
    r = HybridRetriever(s)
    return s, r, Checker(s, r), folder, tmp / "chroma"


@pytest.fixture(scope="module")
def own_checker(own) -> Checker:
    return own[2]


def doc_id_of(own, name: str) -> str:
    return own[0].find_document(name)


OPEN_2027 = "The footbridge will open to the public in the spring of 2027"
NO_TAXES = "We will not raise local taxes to pay for this project"

# (claim, claimed speaker, verdict, who the article gives the words to)
OWN_CASES = [
    pytest.param(OPEN_2027, "Ortiz", "verified", "Ortiz", id="surname"),
    pytest.param(OPEN_2027, "Helen Ortiz", "verified", "Ortiz", id="full-name"),
    pytest.param(OPEN_2027, "Mayor Helen Ortiz", "verified", "Ortiz", id="full-label"),
    pytest.param(NO_TAXES, "Brandt", "verified", "Brandt", id="surname-2"),
    pytest.param(NO_TAXES, "Samuel Brandt", "verified", "Brandt", id="full-name-2"),
    pytest.param(OPEN_2027, "Brandt", "misattributed", "Ortiz", id="ortiz-as-brandt"),
    pytest.param(OPEN_2027, "Samuel Brandt", "misattributed", "Ortiz", id="ortiz-as-samuel-brandt"),
    pytest.param(NO_TAXES, "Ortiz", "misattributed", "Brandt", id="brandt-as-ortiz"),
    pytest.param(NO_TAXES, "Helen Ortiz", "misattributed", "Brandt", id="brandt-as-helen-ortiz"),
    pytest.param("The town will help the owners rebuild", "Moreau", "verified", "Moreau", id="other-article"),
    pytest.param("The town will help the owners rebuild", "Laura Chen", "misattributed", "Moreau",
                 id="other-article-misattributed"),
    pytest.param("We will reopen as soon as the building is safe", "Chen", "verified", "Chen",
                 id="speaker-after-verb"),
]


@pytest.mark.parametrize("claim, speaker, verdict, true_speaker", OWN_CASES)
def test_own_attribution(own_checker, claim, speaker, verdict, true_speaker):
    v = own_checker.check(claim, speaker=speaker)
    assert v.verdict == verdict, shown(v)
    assert true_speaker in v.passage.speaker, shown(v)
    assert v.passage.text == claim
    assert_passage_is_verbatim(v)


# (claim, claimed speaker, word only the claim has, word only the article has)
OWN_CHANGED = [
    pytest.param(OPEN_2027.replace("2027", "2028"), "Ortiz", "2028", "2027", id="year"),
    pytest.param("The grant covers 90 percent of the total cost", None, "90", "80", id="percent"),
    pytest.param("expected to cost 4.5 million dollars", None, "4.5", "4.2", id="decimal"),
    pytest.param("We will raise local taxes to pay for this project", "Brandt", None, "not", id="negation-dropped"),
    pytest.param("The footbridge will not open to the public in the spring of 2027", "Ortiz", "not", None,
                 id="negation-added"),
]


@pytest.mark.parametrize("claim, speaker, claim_word, article_word", OWN_CHANGED)
def test_own_changed_number_or_negation(own_checker, claim, speaker, claim_word, article_word):
    v = own_checker.check(claim, speaker=speaker)
    assert v.verdict == "paraphrased", shown(v)
    assert_passage_is_verbatim(v)
    if claim_word:
        assert ("-", claim_word) in v.diff, shown(v)
    if article_word:
        assert ("+", article_word) in v.diff, shown(v)


def test_a_changed_claim_is_shown_against_the_whole_clause(own_checker):
    # The alignment is as long as the claim; the passage shown runs on to the clause's end, so that it does
    # not stop inside what the article says ("We will not raise local taxes" and no more).
    v = own_checker.check("We will raise local taxes", speaker="Brandt")
    assert v.verdict == "paraphrased", shown(v)
    assert_passage_is_verbatim(v)
    assert v.passage.text.endswith("to pay for this project"), shown(v)


def test_own_negation_that_prefixes_a_word_is_not_verified(own_checker):
    v = own_checker.check("The council will not")
    assert v.verdict != "verified", shown(v)


def test_own_number_cut_short_is_not_verified(own_checker):
    v = own_checker.check("The bridge is expected to cost 4")
    assert v.verdict != "verified", shown(v)


@pytest.mark.parametrize("claim, speaker, article_has", [
    pytest.param("We won't increase local taxes to fund this project", "Brandt", "raise", id="wording"),
    pytest.param("The footbridge is going to open to everyone in spring 2027", "Ortiz", "public", id="rephrased"),
])
def test_own_paraphrase(own_checker, claim, speaker, article_has):
    v = own_checker.check(claim, speaker=speaker)
    assert v.verdict == "paraphrased", shown(v)
    assert_passage_is_verbatim(v)
    assert speaker_matches(speaker, v.passage.speaker), shown(v)
    assert article_has in v.passage.text
    assert any(op == "+" and article_has in w for op, w in v.diff), shown(v)
    assert any(op == "-" for op, _ in v.diff)


def test_own_document_scope(own, own_checker):
    """A quote from one article is not verified when the check is limited to the other."""
    claim = "The town will help the owners rebuild"
    bridge, bakery = doc_id_of(own, "bridge.txt"), doc_id_of(own, "bakery.txt")
    assert own_checker.check(claim, doc_id=bakery).verdict == "verified"
    v = own_checker.check(claim, doc_id=bridge)
    assert v.verdict != "verified", shown(v)
    assert v.passage is None or Path(v.passage.document).name == "bridge.txt"


# Pronoun resolution inside a paragraph that starts with the other speaker's reported speech.
def test_own_pronoun_after_reported_speech_is_verified(own_checker):
    v = own_checker.check("Residents told us they wanted a safe way to cross the river", speaker="Ortiz")
    assert v.verdict == "verified", shown(v)


def test_own_pronoun_after_reported_speech_is_verified_2(own_checker):
    v = own_checker.check("The grant covers 80 percent of the total cost", speaker="Brandt")
    assert v.verdict == "verified", shown(v)


# ============================================================================================== audit

@pytest.fixture(scope="module")
def bakery_audit(own) -> Audit:
    _s, r, _c, _f, _d = own
    d = doc_id_of(own, "bakery.txt")
    return audit([u for u in r.units if u.doc_id == d])


def test_audit_sources(bakery_audit):
    a = bakery_audit
    # (speaker must contain, source type, named, paragraphs of its passages, a phrase its first passage holds)
    want = [
        ("Moreau", "public official", True, (2, 3), "help the owners rebuild"),
        ("resident", "anonymous source", False, (4,), "alarm had been ringing"),
        ("police report", "official report", True, (5,), "electrical panel"),
        ("Chen", "named source", True, (6,), "We will reopen"),
    ]
    got = [(s.speaker, s.source_type, s.named, tuple(p for p, _s, _e in s.passages)) for s in a.sources]
    assert len(a.sources) == len(want), got
    for s, (name, stype, named, paras, phrase) in zip(a.sources, want):
        assert name.lower() in s.speaker.lower(), got
        assert (s.source_type, s.named) == (stype, named), got
        assert tuple(p for p, _s, _e in s.passages) == paras, got
        assert phrase in file_slice(a.document, s.passages[0][1], s.passages[0][2])
        assert s.cues, s
    assert "according to" in a.sources[2].cues[0].lower()
    assert a.sources[0].cues == ("said",)


def test_audit_summary(bakery_audit):
    a = bakery_audit
    assert Path(a.document).name == "bakery.txt"
    assert a.title == "Fire Damages Bakery on Market Street"
    # Sentences: 2 narration in ¶1, one each in ¶2-¶5, a quote and a narration sentence in ¶6.
    assert a.sentences == 8
    assert a.attributed_sentences == 5
    assert a.author_share == pytest.approx(3 / 8)
    assert a.attributed_share == pytest.approx(5 / 8)
    assert a.anonymous_passages == 1
    assert a.by_type == {"official report": 1, "public official": 2, "law enforcement": 0, "named source": 1,
                         "anonymous source": 1, "historical quote": 0}


def test_audit_json(bakery_audit):
    j = bakery_audit.to_json()
    assert set(j) == {"document", "title", "sources", "summary"}
    assert [s["passages"] for s in j["sources"]] == [2, 1, 1, 1]
    assert [s["named"] for s in j["sources"]] == [True, False, True, True]
    assert j["sources"][0]["positions"][1]["paragraph"] == 3
    assert j["summary"] == {
        "sentences": 8, "author_sentences": 3, "attributed_sentences": 5, "author_share": 0.375,
        "attributed_share": 0.625, "passages": 5, "anonymous_passages": 1, "anonymous_share": 0.2,
        "passages_by_type": {"official report": 1, "public official": 2, "law enforcement": 0, "named source": 1,
                             "anonymous source": 1, "historical quote": 0},
    }
    assert json.loads(json.dumps(j)) == j


def test_audit_bridge_pronouns(own):
    _s, r, _c, _f, _d = own
    d = doc_id_of(own, "bridge.txt")
    a = audit([u for u in r.units if u.doc_id == d])
    paras = {s.speaker.split(",")[0]: tuple(p for p, _s, _e in s.passages) for s in a.sources}
    assert paras == {"Mayor Helen Ortiz": (2, 5, 5), "Samuel Brandt": (3, 6, 6)}


def test_audit_seed(store):
    from assistant.retrieval import HybridRetriever

    a = audit(HybridRetriever(store).units)
    by_name = {s.speaker: s for s in a.sources}
    moolenaar = next(s for name, s in by_name.items() if "Moolenaar" in name)
    assert (moolenaar.source_type, moolenaar.named, len(moolenaar.passages)) == ("public official", True, 3)
    assert moolenaar.cues == ("said in response to the report",)
    lenin = next(s for name, s in by_name.items() if name.startswith("Lenin"))
    assert lenin.source_type == "historical quote" and len(lenin.passages) == 1
    # The former CCP official (two quotes) and "Chinese dissidents I interviewed" are not named.
    assert a.anonymous_passages == 3
    assert sum(not s.named for s in a.sources) == 2
    assert a.by_type["historical quote"] == 1
    assert a.by_type["anonymous source"] == 3
    assert a.by_type["public official"] >= 3  # Moolenaar's three, at least
    assert 0 < a.attributed_sentences < a.sentences


def test_audit_of_nothing():
    a = audit([])
    assert a.sources == () and a.sentences == 0 and a.anonymous_passages == 0
    assert a.author_share == 0.0 and a.attributed_share == 0.0
    assert set(a.by_type) == {"official report", "public official", "law enforcement", "named source",
                              "anonymous source", "historical quote"}


# ============================================================================================== CLI

@pytest.fixture
def store_dir(store, settings, cli_env) -> str:
    """The session store, already built, so the CLI does not index again (as in test_cli)."""
    return str(settings.store_dir)


@pytest.fixture
def own_dir(own, cli_env) -> str:
    """The store over the module's own articles; the CLI answers from it as it is."""
    return str(own[4])


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("claim, speaker, verdict", [
    pytest.param(LENIN, "Gordievsky", "misattributed", id="misattributed"),
    pytest.param(LENIN, "Lenin", "verified", id="verified"),
    pytest.param(HEINOUS, None, "verified", id="verified-no-speaker"),
    pytest.param(TERRIBLE, "Moolenaar", "paraphrased", id="paraphrased"),
    pytest.param("The moon is made of green cheese and nobody knows", None, "not found", id="not-found"),
])
def test_cli_check_json(capsys, store_dir, claim, speaker, verdict):
    argv = ["check", claim, "--json", "--store", store_dir] + (["--speaker", speaker] if speaker else [])
    code, out, err = run(capsys, argv)
    assert code == (0 if verdict == "verified" else 3), err  # 3: not verified (see `check --help`)
    lines = out.strip().splitlines()
    assert len(lines) == 1
    j = json.loads(lines[0])
    assert set(j) == VERDICT_KEYS
    assert j["verdict"] == verdict
    assert j["claim"] == claim
    assert j["claimed_speaker"] == speaker
    assert isinstance(j["similarity"], float) and 0.0 <= j["similarity"] <= 1.0
    assert isinstance(j["diff"], list)
    if verdict == "not found":
        assert j["passage"] is None
    else:
        assert set(j["passage"]) == PASSAGE_KEYS
        p = j["passage"]
        assert file_slice(p["document"], p["start"], p["end"]) == p["text"]
    if verdict == "misattributed":
        assert "Lenin" in j["passage"]["speaker"]
    if verdict == "paraphrased":
        assert ["-", "terrible"] in j["diff"] and ["+", "heinous"] in j["diff"]


def test_cli_check_readable_misattributed_names_the_true_speaker(capsys, store_dir):
    code, out, _ = run(capsys, ["check", LENIN, "--speaker", "Oleg Gordievsky", "--store", store_dir])
    assert code == 3
    assert "MISATTRIBUTED" in out
    gives = next(line for line in out.splitlines() if "gives them to" in line)
    assert "Lenin" in gives and "not Oleg Gordievsky" in gives
    assert "000_7582fa84670eba64.txt" in out


def test_cli_check_readable_paraphrase_shows_the_diff(capsys, store_dir):
    code, out, _ = run(capsys, ["check", TERRIBLE, "--speaker", "Moolenaar", "--store", store_dir])
    assert code == 3
    assert "PARAPHRASED" in out
    assert "[-terrible-]" in out and "{+heinous+}" in out
    assert "“China made billions of dollars off of these heinous acts”" in out


def test_cli_check_readable_verified_says_who(capsys, store_dir):
    code, out, _ = run(capsys, ["check", HEINOUS, "--store", store_dir])
    assert code == 0
    assert "VERIFIED" in out and "Moolenaar" in out


@pytest.mark.parametrize("claim, phrase", [
    pytest.param("", "empty", id="empty"),
    pytest.param("two words", "at least 3 words", id="too-short"),
])
def test_cli_check_bad_claim(capsys, store_dir, claim, phrase):
    code, out, err = run(capsys, ["check", claim, "--store", store_dir])
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert phrase in lines[0]
    assert "Traceback" not in err


def test_cli_check_document_scope(capsys, own_dir):
    claim = "The town will help the owners rebuild"
    code, out, _ = run(capsys, ["check", claim, "--speaker", "Chen", "--document", "bakery.txt", "--json",
                                "--store", own_dir])
    assert code == 3
    j = json.loads(out)
    assert j["verdict"] == "misattributed"
    assert "Moreau" in j["passage"]["speaker"]
    assert Path(j["passage"]["document"]).name == "bakery.txt"
    code, out, _ = run(capsys, ["check", claim, "--document", "bridge.txt", "--json", "--store", own_dir])
    assert code == 3
    assert json.loads(out)["verdict"] != "verified"


def test_cli_sources_json(capsys, store_dir, store):
    code, out, err = run(capsys, ["sources", "--json", "--store", store_dir])
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == len(store.documents())
    for line in lines:
        j = json.loads(line)
        assert {"sources", "summary"} <= set(j)
        assert j["sources"]
        for s in j["sources"]:
            assert {"speaker", "source_type", "named", "cues", "passages", "positions"} <= set(s)
            assert s["passages"] == len(s["positions"])
        assert j["summary"]["sentences"] == j["summary"]["author_sentences"] + j["summary"]["attributed_sentences"]
    assert any("Moolenaar" in s["speaker"] for s in json.loads(lines[0])["sources"])


def test_cli_sources_one_document_matches_the_library(capsys, own_dir, bakery_audit):
    code, out, err = run(capsys, ["sources", "bakery.txt", "--json", "--store", own_dir])
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == bakery_audit.to_json()


def test_cli_sources_every_document(capsys, own_dir):
    code, out, _ = run(capsys, ["sources", "--json", "--store", own_dir])
    assert code == 0
    names = [Path(json.loads(line)["document"]).name for line in out.strip().splitlines()]
    assert sorted(names) == ["bakery.txt", "bridge.txt"]


def test_cli_sources_readable(capsys, own_dir):
    code, out, _ = run(capsys, ["sources", "bakery.txt", "--store", own_dir])
    assert code == 0
    assert "Fire Damages Bakery on Market Street" in out
    moreau = next(line for line in out.splitlines() if "Moreau" in line)
    assert "public official" in moreau and "yes" in moreau and "¶2, ¶3" in moreau
    resident = next(line for line in out.splitlines() if line.startswith("A resident"))
    assert "anonymous source" in resident and " no " in resident
    assert "sentences: 8; the author's own: 3 (38%); attributed to someone: 5 (62%)" in out
    assert "anonymous passages: 1" in out


def test_cli_sources_unknown_document(capsys, store_dir):
    code, out, err = run(capsys, ["sources", "nonexistent.txt", "--store", store_dir])
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "nonexistent.txt" in lines[0] and "no indexed article" in lines[0]
    assert "Traceback" not in err
