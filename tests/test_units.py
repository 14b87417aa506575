"""Index units: exact offsets, one speaker per unit, stable ids, idempotent indexing."""

from __future__ import annotations

import shutil

import pytest

from assistant.attribution import SOURCE_TYPES, attribute
from assistant.indexing import index_paths
from assistant.store import Store
from assistant.units import build_units


def test_seed_units_slice_the_article(seed_article, seed_units, seed_path):
    raw = open(seed_path, encoding="utf-8").read()
    assert seed_units
    for u in seed_units:
        assert u.text == seed_article.text[u.start:u.end] == raw[u.start:u.end]
        assert u.text == u.text.strip()
        assert u.document == seed_article.path
        assert u.doc_id == seed_article.doc_id
        assert u.source_type in SOURCE_TYPES


def test_seed_units_do_not_overlap(seed_units):
    for a, b in zip(seed_units, seed_units[1:]):
        assert a.end <= b.start, (a.text, b.text)


def test_seed_units_cover_every_quote(seed_article, seed_attributions, seed_units):
    for a in seed_attributions:
        for s, e in a.spans:
            inside = [u for u in seed_units if u.start < e and u.end > s]
            assert inside, seed_article.text[s:e]
            assert all(u.speaker == a.speaker for u in inside if u.kind == "quote")


def test_header_units_are_metadata(seed_article, seed_units):
    meta = [u for u in seed_units if u.kind == "metadata"]
    assert {u.text for u in meta} >= {seed_article.title, "by Ben Solis"}
    assert all(u.source_type == "author" and u.paragraph == 0 for u in meta)


@pytest.mark.parametrize("body, speakers", [
    ("“The bridge will reopen in March,” Jane Doe said. “Crews are working around the clock.”",
     {"The bridge will reopen in March": "Jane Doe", "Crews are working around the clock": "Jane Doe"}),
    ("“The bridge will reopen in March,” Jane Doe said. “That is far too late,” Mark Rivera replied.",
     {"The bridge will reopen in March": "Jane Doe", "That is far too late": "Mark Rivera"}),
    ("Mark Rivera runs the ferry service. “We have never been busier,” he said. The ferry leaves at noon.",
     {"We have never been busier": "Mark Rivera", "The ferry leaves at noon": "(author)"}),
])
def test_units_never_straddle_two_speakers(make_article, nlp, body, speakers):
    article = make_article(body)
    units = build_units(article, attribute(article, nlp))
    for u in units:
        assert u.text == article.text[u.start:u.end]
    for fragment, speaker in speakers.items():
        holders = [u for u in units if fragment in u.text]
        assert len(holders) == 1, (fragment, [u.text for u in units])
        assert speaker in holders[0].speaker
        # The unit holds no words of another fragment: it does not run across into the next quote.
        others = [f for f in speakers if f != fragment]
        assert not any(f in holders[0].text for f in others)


def test_unit_ids_are_deterministic(seed_article, seed_units, nlp):
    again = build_units(seed_article, attribute(seed_article, nlp))
    assert [u.id for u in again] == [u.id for u in seed_units]
    assert again == seed_units
    ids = [u.id for u in seed_units]
    assert len(ids) == len(set(ids))
    for u in seed_units:
        assert u.id == f"{u.doc_id}:{u.start}:{u.end}"


def test_reindexing_the_same_file_does_not_duplicate(store, settings, seeds_dir, nlp):
    before = store.count()
    docs_before = store.documents()
    report = index_paths([seeds_dir], store, progress=False, nlp=nlp)
    assert report.indexed == []
    assert len(report.skipped) == len(docs_before)
    assert store.count() == before
    assert set(store.documents()) == set(docs_before)


def test_stored_units_match_the_built_units(store, seed_article, seed_units):
    stored = [u for u in store.all_units() if u.doc_id == seed_article.doc_id]
    assert stored == sorted(seed_units, key=lambda u: (u.start, u.end))


def test_rebuild_and_edit_keep_one_copy(tmp_path, seed_path, embedder, settings, nlp):
    """A rebuilt store holds the same units once; an edited file replaces its older version."""
    folder = tmp_path / "articles"
    folder.mkdir()
    copy = folder / seed_path.name
    shutil.copy(seed_path, copy)
    store = Store(settings.with_(store_dir=tmp_path / "chroma"), embedder=embedder)
    first = index_paths([folder], store, progress=False, nlp=nlp)
    n = store.count()
    assert first.units == n > 0
    rebuilt = index_paths([folder], store, rebuild=True, progress=False, nlp=nlp)
    assert rebuilt.units == n
    assert store.count() == n

    copy.write_text(copy.read_text(encoding="utf-8") + "\nOne more sentence from the editor.\n",
                    encoding="utf-8")
    edited = index_paths([folder], store, progress=False, nlp=nlp)
    assert len(edited.indexed) == 1
    assert len(store.documents()) == 1
    assert store.count() == edited.units
    assert any(u.text == "One more sentence from the editor." for u in store.all_units())
