"""Attribution keeps nothing alive once an article is done: no Attributor, no spaCy parse, no pipeline."""

from __future__ import annotations

import gc
import weakref

import pytest

from assistant.attribution import Attributor, _needs_parse, attribute

# Invented articles, each with a quote, reported speech and a pronoun, so that every cache gets filled.
BODIES = [
    f"Mark Rivera{i} runs ferry route {i}.\n\n"
    f"“We carried {i} hundred passengers on Sunday,” Rivera{i} said. “The new boats are faster.”\n\n"
    f"He told the harbor board that route {i} would add a stop in June."
    for i in range(12)
]


def live(kind: type) -> int:
    """How many objects of `kind` the garbage collector can still reach."""
    gc.collect()
    return sum(type(o) is kind for o in gc.get_objects())


def test_attributing_articles_keeps_no_attributor_alive(make_article, nlp):
    from assistant.parsed import ParsedArticle
    from assistant.quote_attribution import QuoteAttributor
    from assistant.speakers import SpeakerResolver

    articles = [make_article(b) for b in BODIES]
    parts = (Attributor, ParsedArticle, SpeakerResolver, QuoteAttributor)
    before = [live(kind) for kind in parts]
    found = [attribute(a, nlp) for a in articles]
    assert all(found)  # the articles did hold attributions, so the quote caches were used
    assert [live(kind) for kind in parts] == before


def test_attributing_articles_keeps_no_parse_alive(make_article, nlp):
    from spacy.tokens import Doc

    articles = [make_article(b) for b in BODIES]
    attribute(articles[0], nlp)  # the first call may set up lazy, process-wide state
    before = live(Doc)
    for a in articles:
        attribute(a, nlp)
    assert live(Doc) == before


def test_a_dropped_attributor_is_freed(make_article, nlp):
    """An Attributor that ran, and the parses it made, go as soon as the last reference does."""
    attributor = Attributor(make_article(BODIES[0]), nlp)
    assert attributor.run()
    ref = weakref.ref(attributor)
    parses = [weakref.ref(d) for _p, d in attributor.doc.docs if d is not None]
    assert parses
    del attributor
    gc.collect()
    assert ref() is None
    assert all(r() is None for r in parses)


def test_the_speech_form_table_does_not_keep_a_pipeline_alive():
    spacy = pytest.importorskip("spacy")
    pipeline = spacy.blank("en")
    assert _needs_parse("Jane Doe will say so.", pipeline)  # a blank pipeline has no lemmatizer: base forms only
    ref = weakref.ref(pipeline)
    del pipeline
    gc.collect()
    assert ref() is None
