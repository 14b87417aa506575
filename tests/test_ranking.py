"""Ranking (issue 4): question reading, speaker-aware ranking, claims, answer types, the gate and focused quotes."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer import Answer, Assistant
from assistant.questions import expected_type, metadata_kind, read_question

# ---------------------------------------------------------------------------------------------- question reading

# (question, mode, speaker, topic, answer type)
READINGS = [
    ("What did Smith say about taxes?", "speaker", "Smith", "taxes", None),
    ("What did Mayor Jane Ortiz say about the bridge?", "speaker", "Mayor Jane Ortiz", "the bridge", None),
    ("How does Ortiz describe the plan?", "speaker", "Ortiz", "the plan", None),
    ("Why did the police warn drivers?", "speaker", "the police", "drivers", None),
    ("According to the police, how many people were hurt?", "speaker", "the police", "how many people were hurt",
     "number"),
    ("According to the mayor, when will the bridge reopen?", "speaker", "the mayor", "when will the bridge reopen",
     "date"),
    ("Did Smith say taxes would rise?", "claim", "Smith", "taxes would rise", None),
    ("Did Smith say that taxes would rise?", "claim", "Smith", "taxes would rise", None),
    ("Is it true that Smith said taxes would rise?", "claim", "Smith", "taxes would rise", None),
    ("Has the council claimed the budget is balanced?", "claim", "the council", "the budget is balanced", None),
    ("Who said that the bridge would close?", "who_said", "", "the bridge would close", None),
    ("Who said the bridge would close?", "who_said", "", "the bridge would close", None),
    ("Who warned that prices would rise?", "who_said", "", "prices would rise", None),
    ("Who was quoted as saying the plan failed?", "who_said", "", "the plan failed", None),
    # Negatives: a saying verb or a quoted word does not make a question about a speaker.
    ("What was the colony called?", "", "", "", None),
    ("Who wrote the report?", "", "", "", "person"),
    ("What does 'quid pro quo' mean?", "", "", "", None),
    ("What did it say about the budget?", "", "", "", None),
    ("What is the capital of France?", "", "", "", None),
    ("Who is the mayor?", "", "", "", "person"),
    ("How many arrests did the police make?", "", "", "", "number"),
    ("When did the bridge close?", "", "", "", "date"),
]


@pytest.mark.parametrize("question, mode, speaker, topic, kind", READINGS)
def test_read_question(question: str, mode: str, speaker: str, topic: str, kind: str | None):
    """The mode, speaker, topic and answer type read from the wording alone."""
    r = read_question(question)
    assert (r.mode, r.speaker, r.topic, r.answer_type) == (mode, speaker, topic, kind)
    assert r.text == question


@pytest.mark.parametrize("question, presumes", [
    ("What did Smith say about taxes?", True),
    ("How does Ortiz describe the plan?", True),
    ("According to the police, how many people were hurt?", False),
    ("Did Smith say taxes would rise?", False),
    ("Who said that the bridge would close?", False),
    ("What is the capital of France?", False),
])
def test_presumes_speaker(question: str, presumes: bool):
    """Only "What did X say" presumes that X speaks in the article; "According to X" merely leans on X."""
    assert read_question(question).presumes_speaker is presumes


@pytest.mark.parametrize("question, counted", [
    ("How many arrests did the police make?", "arrests"),
    ("How many people were hurt?", "people"),
    ("How many of the residents did Ortiz say were evacuated?", "residents"),
    ("According to the police, how many people were hurt?", "people"),
    ("How much money does the festival generate?", ""),
    ("When did the bridge close?", ""),
])
def test_counted_noun(question: str, counted: str):
    """"How many arrests ..." names the noun a number in the answer must count."""
    assert read_question(question).counted == counted


@pytest.mark.parametrize("question, kind", [
    ("How much money does the festival generate?", "money"),
    ("How much did the new bridge cost?", "money"),
    ("How many arrests did the police make?", "number"),
    ("How long did the closure last?", "number"),
    ("What percentage of voters backed the plan?", "number"),
    ("When will construction begin?", "date"),
    ("In what year was the bridge built?", "date"),
    ("What year did the library close on Sundays?", "date"),
    ("Who is the mayor?", "person"),
    ("Where did the fire start?", "place"),
    ("In which city is the warehouse?", "place"),
    ("What did Smith say about taxes?", None),
    ("Why was the library closed?", None),
])
def test_expected_type(question: str, kind: str | None):
    """The kind of answer a question asks for."""
    assert expected_type(question) == kind


@pytest.mark.parametrize("question, kind", [
    ("Who wrote the article?", "byline"),
    ("Who is the author of this story?", "byline"),
    ("When was the article published?", "date"),
    ("Who wrote the report?", None),
    ("When was the bridge opened?", None),
    ("What did the author say about the bridge?", None),
])
def test_metadata_kind(question: str, kind: str | None):
    """Only questions about the article itself go to its header lines."""
    assert metadata_kind(question) == kind
    assert read_question(question).metadata == kind


def test_retrieval_searches_what_was_said_without_the_name():
    """A claim's supposed speaker must not pull retrieval toward that speaker's other quotes."""
    assert read_question("Did Smith say taxes would rise?").retrieval_text == "taxes would rise"
    assert read_question("Who said that the bridge would close?").retrieval_text == "the bridge would close"
    # The speaker's passages join the candidates by their labels instead (see the end-to-end tests).
    assert read_question("What did Smith say about taxes?").retrieval_text == "taxes"
    q = "What did Smith say?"
    assert read_question(q).retrieval_text == q


# ---------------------------------------------------------------------------------------------- our own articles

# Fictional local news, written for these tests. Several speakers talk about the same things on purpose.
HARBOR = """\
Riverton Approves Plan to Rebuild Harbor Bridge

By Lena Marsh

The Riverton city council voted 7 to 2 on Tuesday to rebuild the aging Harbor Bridge, ending months of debate over the crossing that links the east and west sides of town.

“This bridge has carried our families for sixty years, and it deserves a proper replacement,” Mayor Jane Ortiz said after the vote. “Construction will begin in March 2026, and we expect the new span to open by the end of 2028.”

Ortiz said the project would cost about $48 million, most of it covered by a state infrastructure grant.

Councilman Victor Haddad, who voted against the plan, said the city had not studied the traffic effects closely enough. “Closing the bridge for two years will push thousands of cars through the old downtown streets,” Haddad said. “Our shopkeepers will pay the price for a rushed decision.”

Police Sergeant Tom Reyes said the department would add officers at four busy intersections during the closure. “We will have patrols on every detour route from the first day,” Reyes said.

Last month, officers made 12 arrests near the bridge after a series of thefts from parked cars, according to a police report.

The bridge was first opened in 1965 and was last repaired in 2009.

Crews will begin construction on the east bank, where the ground is more stable, city engineer Paul Brandt said.

Residents who spoke at the meeting were divided. “I cross that bridge twice a day to get to the bakery where I work,” said Maria Chen, who lives on the west side. “I am worried the detour will add an hour to my commute.”

Engineers hired by the city found that 3 of the bridge's 14 support columns show serious cracks.

Ortiz said the council would hold a public meeting every three months to report on the progress of the work.
"""

FIRE = """\
Warehouse Fire Forces Evacuation in Millbrook

By Omar Delgado

A fire broke out at a furniture warehouse in Millbrook on Saturday night, forcing the evacuation of about 200 nearby residents.

Fire Chief Dana Whitfield said the blaze started in a storage room at the back of the building shortly after 9 p.m. “The flames spread quickly because of the lacquer and fabric stored inside,” Whitfield said. “Our crews worked through the night to keep it from reaching the houses on Elm Street.”

Whitfield said 45 firefighters from three stations fought the fire, and that the building was empty when it started.

No one was injured, officials said.

Firefighters remained at the scene for 11 hours, until the last hot spots were out.

Police spokesperson Karen Liu said officers closed six roads around the warehouse until Sunday afternoon. “We ask drivers to stay away from the area while the cleanup continues,” Liu said. “Drivers who need to reach Elm Street should use the detour on Oak Avenue.”

The warehouse owner, Peter Novak, said the company had lost most of its stock. “Twenty years of work went up in smoke in a single night,” Novak said. “But I am grateful that none of my workers were there.”

The cause of the fire is still under investigation, Whitfield said.

Neighbor Alice Brennan said she saw smoke from her kitchen window. “It looked like the whole sky was orange,” Brennan said.

The city opened a shelter at Millbrook High School, where 60 people spent the night.
"""

LIBRARY = """\
Oakdale Library to Extend Weekend Hours After Budget Boost

By Priya Natarajan

The Oakdale Public Library will open on Sundays again starting in September, after the county added $1.2 million to its budget for the coming year.

“For five years we have turned families away at the door every Sunday,” library director Samuel Okafor said. “Reopening on weekends is the single most requested change in every survey we run.”

Okafor said the library would hire 9 new staff members with the extra money and buy about 4,000 new books for its children's section.

County finance director Rachel Byrne said the increase came from higher than expected sales tax revenue. “We are confident the money is there this year, but we cannot promise it will be there next year,” Byrne said.

Byrne warned that the county might have to cut the library budget again if the economy slows.

The library closed on Sundays in 2020, when the county reduced its budget by 15 percent.

Teacher Helen Park, who brings her students to the library every week, welcomed the news. “Many of my students have no quiet place at home to read or do homework,” Park said. “A library that is open on Sunday gives them that place.”

Last year the library lent more than 310,000 items, a record for the branch.

Okafor said the library also planned to offer free computer classes for older residents on Sunday mornings.
"""

ARTICLES = {"harbor.txt": HARBOR, "fire.txt": FIRE, "library.txt": LIBRARY}


@pytest.fixture(scope="module")
def news(tmp_path_factory, settings, embedder, nlp) -> Assistant:
    """An Assistant over a real store holding the three articles above."""
    from assistant.indexing import index_paths
    from assistant.store import Store

    tmp = tmp_path_factory.mktemp("ranking")
    folder = tmp / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    s = Store(settings.with_(store_dir=tmp / "chroma"), embedder=embedder)
    report = index_paths([folder], s, progress=False, nlp=nlp)
    assert not report.failed, report.failed
    return Assistant(s)


def xfail(reason: str):
    return pytest.mark.xfail(reason=reason)


CREWS = ("the undated 'Crews will begin construction on the east bank' ranks above 'Construction will begin in "
         "March 2026', and the slot rule refuses a 'When' question whose best passage holds no date")


def by(quote, name: str) -> bool:
    """Whether a quote's speaker label names this person."""
    return name.lower() in quote.speaker.lower()


def shown(ans: Answer) -> list[tuple[str, str]]:
    """The answer in a form that reads well in an assertion message."""
    return [(q.speaker, q.text) for q in ans.quotes]


def file_slice(document: str, start: int, end: int) -> str:
    return Path(document).read_text(encoding="utf-8")[start:end]


# ("What did X say about T?", X, words of which the first quote must hold one: it is about T)
SPEAKER_CASES = [
    # Haddad and Chen talk about the bridge too.
    pytest.param("What did Ortiz say about the bridge?", "Ortiz", ["bridge"], id="ortiz-bridge"),
    # Chen talks about the detour too.
    pytest.param("What did Reyes say about the detour routes?", "Reyes", ["detour"], id="reyes-detour"),
    # Ortiz talks about construction too.
    pytest.param("What did Brandt say about construction?", "Brandt", ["construction"], id="brandt-construction"),
    pytest.param("What did Ortiz say about construction?", "Ortiz", ["Construction"], id="ortiz-construction"),
    # Okafor and the author talk about the budget too.
    pytest.param("What did Byrne say about the library budget?", "Byrne", ["budget"], id="byrne-budget"),
    pytest.param("What did Okafor say about reopening on Sundays?", "Okafor", ["Reopening", "Sunday"],
                 id="okafor-sundays"),
    # Liu's and Whitfield's quotes both mention Elm Street.
    pytest.param("What did Whitfield say about Elm Street?", "Whitfield", ["Elm Street"], id="whitfield-elm"),
    pytest.param("What did Liu say about drivers?", "Liu", ["drivers", "Drivers"], id="liu-drivers"),
    pytest.param("What did Haddad say about the bridge?", "Haddad", ["bridge"], id="haddad-bridge"),
    pytest.param("What did Maria Chen say about the detour?", "Chen", ["detour"], id="chen-detour"),
    pytest.param("What did Park say about her students?", "Park", ["students"], id="park-students"),
    pytest.param("What did Novak say about his workers?", "Novak", ["workers"], id="novak-workers"),
    # His quote never says "fire" ("went up in smoke"): the word-embedding features carry it.
    pytest.param("What did Novak say about the fire?", "Novak", ["smoke", "workers"], id="novak-fire"),
    pytest.param("What did Park say about her students and the library?", "Park", ["students", "library"],
                 id="park-students-library"),
    pytest.param("What did Okafor say about the library budget?", "Okafor", ["money", "staff"],
                 id="okafor-budget"),
]


@pytest.mark.parametrize("question, name, words", SPEAKER_CASES)
def test_what_did_x_say_about(news: Assistant, question: str, name: str, words: list[str]):
    """The first quote is by the speaker asked about, and it or the rest of its statement is on the topic."""
    ans = news.ask(question, top_k=3)
    assert not ans.abstained, ans.reason
    first = ans.quotes[0]
    assert by(first, name), shown(ans)
    # A split statement comes in article order with one score, so the topic may sit in its second piece.
    statement = [q for q in ans.quotes if q.score == first.score and q.speaker == first.speaker]
    assert any(w in q.text for q in statement for w in words), shown(ans)


# ("Who said ...?", words the first quote must contain, its true speaker)
WHO_SAID = [
    ("Who said that thousands of cars would be pushed through downtown streets?", "thousands of cars", "Haddad"),
    ("Who said the whole sky looked orange?", "whole sky was orange", "Brennan"),
    ("Who said that weekend opening was the most requested change?", "most requested change", "Okafor"),
    ("Who said the money might not be there next year?", "there next year", "Byrne"),
    ("Who said the blaze started in a storage room?", "storage room", "Whitfield"),
]


@pytest.mark.parametrize("question, words, speaker", WHO_SAID)
def test_who_said(news: Assistant, question: str, words: str, speaker: str):
    """The passage with the words comes first, labelled with whoever said them."""
    assert read_question(question).mode == "who_said"
    ans = news.ask(question, top_k=3)
    assert not ans.abstained, ans.reason
    assert words in ans.quotes[0].text, shown(ans)
    assert by(ans.quotes[0], speaker), shown(ans)


# ("Did X say ...?" with another person's words, those words, their true speaker, the X of the question)
CLAIMS = [
    ("Did Ortiz say closing the bridge would push thousands of cars downtown?", "thousands of cars", "Haddad",
     "Ortiz"),
    ("Did Haddad say construction would begin in March 2026?", "March 2026", "Ortiz", "Haddad"),
    ("Did Okafor say the money might not be there next year?", "there next year", "Byrne", "Okafor"),
    ("Did Whitfield say twenty years of work went up in smoke?", "went up in smoke", "Novak", "Whitfield"),
    ("Did Liu say the flames spread quickly?", "flames spread quickly", "Whitfield", "Liu"),
]


@pytest.mark.parametrize("question, words, speaker, claimed", CLAIMS)
def test_claim_shows_the_true_speaker(news: Assistant, question: str, words: str, speaker: str, claimed: str):
    """A misattributed claim is answered with the passage that holds the words, labelled with its real speaker."""
    assert read_question(question).mode == "claim"
    ans = news.ask(question, top_k=3)
    assert not ans.abstained, ans.reason
    assert words in ans.quotes[0].text, shown(ans)
    assert by(ans.quotes[0], speaker), shown(ans)
    # The claimed speaker's quotes about other things must not stand in for the claim: they may follow the
    # true passage as further candidates, never come first.
    assert not by(ans.quotes[0], claimed), shown(ans)


@pytest.mark.parametrize("question", [
    "What did Governor Paul Kim say about the bridge?",
    "What did Senator Ellen Frost say about the fire?",
    "What did Dr. Nora Quist say about the library budget?",
    "How does Councilwoman Ruth Alder describe the plan?",
])
def test_absent_speaker_abstains(news: Assistant, question: str):
    """Nobody of that name speaks in the articles: no one else's quote answers for them."""
    ans = news.ask(question, top_k=3)
    assert ans.abstained
    assert ans.quotes == ()


def test_split_statement_comes_whole_and_in_order(news: Assistant):
    """“A,” Liu said. “B.”: both pieces answer, in article order, both labelled Liu."""
    ans = news.ask("What did Liu say about drivers?", top_k=3)
    assert not ans.abstained, ans.reason
    liu = [q for q in ans.quotes if by(q, "Liu")]
    assert len(liu) >= 2, shown(ans)
    assert "stay away from the area" in liu[0].text, shown(ans)
    assert "detour on Oak Avenue" in liu[1].text, shown(ans)
    assert ans.quotes[0] == liu[0] and ans.quotes[1] == liu[1], shown(ans)
    assert liu[0].start < liu[1].start
    assert liu[0].document == liu[1].document and liu[0].paragraph == liu[1].paragraph


def test_split_statement_with_top_k_1_keeps_one_piece(news: Assistant):
    """top_k=1 still gives exactly one quote when the best statement has two pieces."""
    ans = news.ask("What did Liu say about drivers?", top_k=1)
    assert len(ans.quotes) == 1
    assert by(ans.quotes[0], "Liu")
    assert "drivers" in ans.quotes[0].text.lower()


@pytest.mark.parametrize("question", [
    "What did Whitfield say about the fire?",
    pytest.param("When will crews begin construction?", marks=xfail(CREWS)),
    "How many arrests did officers make near the bridge?",
])
def test_top_k_1_gives_exactly_one_quote(news: Assistant, question: str):
    """top_k=1 gives one quote, even when more would pass the margin."""
    assert len(news.ask(question, top_k=3).quotes) >= 1
    ans = news.ask(question, top_k=1)
    assert not ans.abstained
    assert len(ans.quotes) == 1


def test_top_k_caps_a_long_list(news: Assistant):
    """Three close Whitfield sentences, but top_k=2 shows two."""
    assert len(news.ask("What did Whitfield say about the fire?", top_k=3).quotes) == 3
    assert len(news.ask("What did Whitfield say about the fire?", top_k=2).quotes) == 2


def ranked_texts(a: Assistant, question: str) -> list[str]:
    """The re-ranked candidate texts for a question, best first."""
    return [c.unit.text for c in a.rank(question).candidates]


# (question, words of the right passage, words of a passage that shares the question's terms but not its answer)
TYPED = [
    pytest.param("How many firefighters fought the fire?", "45 firefighters", "11 hours", id="firefighters"),
    pytest.param("How many arrests did officers make near the bridge?", "12 arrests", "four busy intersections",
                 id="arrests"),
    pytest.param("How many roads did police close?", "six roads", "four busy intersections", id="roads"),
    pytest.param("How many staff members will the library hire?", "9 new staff", "15 percent", id="staff"),
    pytest.param("How many support columns show serious cracks?", "3 of the bridge's 14 support columns",
                 "sixty years", id="columns"),
    pytest.param("When will construction begin?", "March 2026", "Crews will begin construction", id="when-begin"),
    pytest.param("When was the bridge first opened?", "1965", "This bridge has carried", id="when-opened"),
    pytest.param("When did the library close on Sundays?", "in 2020", "every Sunday", id="when-closed"),
    pytest.param("When will crews begin construction?", "March 2026", "Crews will begin construction",
                 id="when-crews",
                 marks=xfail("the undated 'Crews will begin construction on the east bank' (1.014) edges out "
                             "'Construction will begin in March 2026' (0.990): the date penalty is too small")),
]


@pytest.mark.parametrize("question, right, distractor", TYPED)
def test_answer_type_ranks_first(news: Assistant, question: str, right: str, distractor: str):
    """A number counting the asked noun, or a date for "When", beats a passage on the same words without one."""
    texts = ranked_texts(news, question)
    assert any(distractor in t for t in texts), "the distractor should at least be a candidate"
    ans = news.ask(question, top_k=3)
    assert not ans.abstained, ans.reason
    assert right in ans.quotes[0].text, shown(ans)
    assert distractor not in ans.quotes[0].text


TRAP = ("a trap: it names things the articles hold and asks for a detail they never give; the model scores the "
        "closest passage above the strict threshold (trap detection is the open problem of the answer model)")


@pytest.mark.parametrize("question", [
    "How many victims did the firefighters rescue?",
    pytest.param("How many dogs did the police rescue?", marks=xfail(TRAP)),
    "What did the mayor say about the new stadium?",
    pytest.param("How many columns did the engineers replace?",
                 marks=xfail(TRAP)),
    "What is the capital of Australia?",
])
def test_unanswerable_abstains(news: Assistant, question: str):
    """Numbers and speakers elsewhere in the articles do not answer what they never mention (at a strict
    threshold: see tests/conftest.py)."""
    from conftest import STRICT

    strict = Assistant(news.store, news.retriever, news.settings.with_(min_confidence=STRICT), news.model)
    ans = strict.ask(question, top_k=3)
    assert ans.abstained, shown(ans)
    assert ans.quotes == ()


@pytest.mark.parametrize("question, words", [
    ("How many people spent the night at the shelter?", "60 people"),
    ("According to the police, how many roads were closed?", "six roads"),
    ("How much money will the bridge cost?", "$48 million"),
])
def test_answerable_is_answered(news: Assistant, question: str, words: str):
    """The gate lets through a question the article does answer."""
    ans = news.ask(question, top_k=3)
    assert not ans.abstained, ans.reason
    assert words in ans.quotes[0].text, shown(ans)


FOCUS_QUESTIONS = [
    "What did Ortiz say about the bridge?",
    "What did Whitfield say about the fire?",
    "What did Liu say about drivers?",
    "Who said the whole sky looked orange?",
    "Did Okafor say the money might not be there next year?",
    "How many firefighters fought the fire?",
    pytest.param("When will crews begin construction?", marks=xfail(CREWS)),
    "According to the police, how many roads were closed?",
]


@pytest.mark.parametrize("question", FOCUS_QUESTIONS)
def test_quotes_are_focused_and_verbatim(news: Assistant, question: str):
    """Each quote is one sentence or quoted segment, sliced verbatim from its file; the best comes first."""
    ans = news.ask(question, top_k=3)
    assert not ans.abstained, ans.reason
    assert 1 <= len(ans.quotes) <= 3
    for q in ans.quotes:
        assert q.text == file_slice(q.document, q.start, q.end)
        assert "\n" not in q.text, q.text
        assert q.text == q.text.strip()
        assert q.speaker and q.source_type
        assert q.title == ARTICLES[Path(q.document).name].splitlines()[0]
    assert ans.quotes[0].text == news.rank(question).best.unit.text
    assert len({(q.document, q.start) for q in ans.quotes}) == len(ans.quotes)


@xfail("'9 p.m.' followed by a quote is not taken as a sentence end, so the indirect sentence and the quote "
       "form one 'partial' unit")
def test_quote_after_an_abbreviation_is_its_own_passage(news: Assistant):
    """The quoted segment after "... shortly after 9 p.m." is shown alone, not with the sentence before it."""
    ans = news.ask("What did Whitfield say about the flames?", top_k=3)
    assert not ans.abstained
    first = ans.quotes[0]
    assert "flames spread quickly" in first.text
    assert "storage room" not in first.text, first.text


def test_source_types_of_our_speakers(news: Assistant):
    """The labels the ranking tests rely on: an official, a police spokesperson, a resident."""
    ortiz = news.ask("What did Ortiz say about the bridge?", top_k=1).quotes[0]
    assert ortiz.source_type == "public official"
    liu = news.ask("According to the police, how many roads were closed?", top_k=1).quotes[0]
    assert by(liu, "Liu") and liu.source_type == "law enforcement"
    brennan = news.ask("Who said the whole sky looked orange?", top_k=1).quotes[0]
    assert brennan.source_type == "named source"


# ---------------------------------------------------------------------------------------------- the seed article

# ("Did X say ...?" with someone else's words, those words, a word of the true speaker's label, X)
SEED_CLAIMS = [
    ("Did Moolenaar say the CCP caused a moral disaster?", "moral disaster", "official", "Moolenaar"),
    ("Did Moolenaar say the CCP replicates Soviet models?", "replicate Soviet models", "official", "Moolenaar"),
    ("Did Gordievsky say China made billions of dollars off of these heinous acts?", "billions of dollars",
     "Moolenaar", "Gordievsky"),
]


@pytest.mark.parametrize("question, words, speaker, claimed", SEED_CLAIMS)
def test_seed_claim_shows_the_true_speaker(assistant_: Assistant, question: str, words: str, speaker: str,
                                           claimed: str):
    """In the seed, a claim put in the wrong mouth comes back with its real speaker."""
    ans = assistant_.ask(question, top_k=3)
    assert not ans.abstained, ans.reason
    first = ans.quotes[0]
    assert words in first.text, shown(ans)
    assert by(first, speaker), shown(ans)
    assert not by(first, claimed), shown(ans)


@pytest.mark.parametrize("question, words, speaker, stype", [
    ("What did Moolenaar say American companies must do?", "American companies must do more", "Moolenaar",
     "public official"),
    ("Who said that China's genocide in Xinjiang is a human trafficking nightmare?", "human trafficking nightmare",
     "Moolenaar", "public official"),
    ("What did the former CCP official say about Soviet models?", "replicate Soviet models", "official",
     "anonymous source"),
    ("Did Lenin say the criminal world offers methods the Party must adopt?", "The criminal world offers",
     "Lenin", "historical quote"),
])
def test_seed_speaker_questions(assistant_: Assistant, question: str, words: str, speaker: str, stype: str):
    """Speaker and who-said questions on the seed: the right passage, the right label."""
    ans = assistant_.ask(question, top_k=3)
    assert not ans.abstained, ans.reason
    first = ans.quotes[0]
    assert words in first.text, shown(ans)
    assert by(first, speaker), shown(ans)
    assert first.source_type == stype


@pytest.mark.parametrize("question", [
    "What did Xi Jinping say in response to the State Department report?",
    "What did Joe Biden say about human trafficking?",
    pytest.param("What did Biden say about human trafficking?"),
])
def test_seed_unquoted_speaker_abstains(assistant_: Assistant, question: str):
    """Someone the seed never quotes gets no quotes put in their mouth."""
    ans = assistant_.ask(question, top_k=3)
    assert ans.abstained, shown(ans)
    assert ans.quotes == ()


@pytest.mark.parametrize("question", [
    pytest.param("How much money does forced labor generate?",
                 marks=xfail("the '3.9 million individuals' sentence ranks above '$236 billion in illegal "
                             "proceeds': its neighbour holds the amount, so the money check passes for it too")),
    pytest.param("How much money does state-imposed forced labor generate?",
                 marks=xfail("the '3.9 million individuals' sentence, which holds no money, ranks above "
                             "'$236 billion in illegal proceeds'")),
])
def test_seed_money_question(assistant_: Assistant, question: str):
    """"How much money ..." is answered by the sentence with the amount."""
    ans = assistant_.ask(question, top_k=3)
    assert not ans.abstained, ans.reason
    assert "$236 billion" in ans.quotes[0].text, shown(ans)
