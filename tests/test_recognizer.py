"""Prediction with a trained model: entities, confidences, offsets in every unit, threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pycrfsuite
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.ner import Model, StringIndexType, TextIndex, entities_json
from emulator.ner.features import Featurizer
from emulator.ner.tokens import tokenize
from fixtures.sample_project import DEFAULT_SEED, build_project

from .unicode_reference import slice_in_unit

UNSEEN = build_project(seed=DEFAULT_SEED + 7, documents=12).documents


def test_recognizes_most_labelled_entities_of_unseen_invoices(sample_model: Model) -> None:
    gold = {(d.location, x.category, x.start, x.end) for d in UNSEEN for x in d.labels}
    found = {
        (d.location, e.category, e.start, e.end) for d in UNSEEN for e in sample_model.recognizer.recognize(d.text)
    }
    f1 = 2 * len(gold & found) / (len(gold) + len(found))
    assert f1 > 0.9


def test_entities_carry_their_text_and_a_confidence_between_0_and_1(sample_model: Model) -> None:
    for document in UNSEEN:
        for entity in sample_model.recognizer.recognize(document.text):
            assert entity.text == document.text[entity.start : entity.end]
            assert entity.text.strip() == entity.text
            assert 0.0 <= entity.confidence <= 1.0


def test_filtering_unknown_features_changes_no_tag(sample_model: Model) -> None:
    """Prediction drops features the model does not know, for speed; the tags must be exactly the same."""
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(sample_model.crf)
    full = Featurizer()
    known = Featurizer(frozenset(attr for attr, _ in tagger.info().state_features))
    for document in UNSEEN:
        tokens = tokenize(document.text)
        assert tagger.tag(pycrfsuite.ItemSequence(full.items(document.text, tokens))) == tagger.tag(
            pycrfsuite.ItemSequence(known.items(document.text, tokens))
        )


def test_empty_and_symbol_only_texts_give_no_entities(sample_model: Model) -> None:
    assert sample_model.recognizer.recognize("") == []
    assert sample_model.recognizer.recognize("   \r\n ") == []
    assert all(e.text for e in sample_model.recognizer.recognize("😀👍🇪🇺 ..."))


def test_threads_share_a_recognizer_safely(sample_model: Model) -> None:
    texts = [d.text for d in UNSEEN] * 4
    recognizer = sample_model.recognizer
    expected = [recognizer.recognize(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(recognizer.recognize, texts)) == expected


_noise = st.lists(
    st.sampled_from(["😀", "👩\u200d💼", "e\u0301", "\r\n", "\u200b", " ", "Ł", "\u05d0"]), max_size=6
).map("".join)


@settings(max_examples=40)
@given(st.sampled_from(UNSEEN), _noise, _noise)
def test_entity_text_is_the_slice_at_its_offset_in_every_unit(sample_model: Model, document, before, after) -> None:  # type: ignore[no-untyped-def]
    text = before + document.text + after
    entities = sample_model.recognizer.recognize(text)
    for unit in StringIndexType:
        for entity in entities_json(TextIndex(text), entities, unit):
            assert slice_in_unit(text, unit, entity["offset"], entity["length"]) == entity["text"]  # type: ignore[arg-type]
