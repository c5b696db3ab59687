"""Prediction without crfsuite's tagger must give the tagger's tags and marginals: the weights read from the
model file, the per-token sums of ``emissions`` and the compiled Viterbi and forward-backward of ``decoding``
are held here to ``pycrfsuite.Tagger`` on the same model and texts."""

from __future__ import annotations

import contextlib
import struct

import numpy as np
import pycrfsuite
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.ner import ArtifactError, Model, Recognizer
from emulator.ner import emissions as emissions_module
from emulator.ner.crf_weights import read_crf
from emulator.ner.decoding import marginals, viterbi
from emulator.ner.features import Featurizer
from emulator.ner.tokens import tokenize
from emulator.ner.training import INSIDE, OUTSIDE
from fixtures.sample_project import DEFAULT_SEED, build_project

UNSEEN = [d.text for d in build_project(seed=DEFAULT_SEED + 11, documents=10).documents]


def _tagger(model: Model) -> pycrfsuite.Tagger:
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(model.crf)
    return tagger


def _crfsuite_entities(model: Model, text: str) -> list[tuple[str, int, int, float]]:
    """What the recognizer returned when it asked crfsuite: runs of one tag, min marginal of the run."""
    tagger = _tagger(model)
    tokens = tokenize(text)
    if not len(tokens):
        return []
    featurizer = Featurizer(frozenset(attr for attr, _ in tagger.info().state_features))
    tagger.set(pycrfsuite.ItemSequence(featurizer.items(text, tokens)))
    tags = tagger.tag()
    found = []
    i = 0
    while i < len(tags):
        j = i + 1
        while j < len(tags) and tags[j] == tags[i]:
            j += 1
        if tags[i] != OUTSIDE:
            confidence = min(tagger.marginal(tags[i], k) for k in range(i, j))
            found.append((tags[i].removeprefix(INSIDE), tokens.starts[i], tokens.ends[j - 1], confidence))
        i = j
    return found


def _assert_same_as_crfsuite(model: Model, recognizer: Recognizer, text: str) -> None:
    expected = _crfsuite_entities(model, text)
    got = recognizer.recognize(text)
    assert [(e.category, e.start, e.end) for e in got] == [x[:3] for x in expected]
    for entity, (*_, confidence) in zip(got, expected, strict=True):
        assert entity.confidence == pytest.approx(confidence, abs=1e-9)


def test_weights_read_from_the_file_are_the_taggers_own(sample_model: Model) -> None:
    tagger = _tagger(sample_model)
    info = tagger.info()  # rounded to 6 decimals: crfsuite's text dump
    weights = read_crf(sample_model.crf)
    assert list(weights.labels) == tagger.labels()
    label = {name: k for k, name in enumerate(weights.labels)}
    read = {(a.decode(), name): weights.state[a][k] for a in weights.state for name, k in label.items()}
    assert {key for key, w in read.items() if w} == set(info.state_features)
    for key, value in info.state_features.items():
        assert read[key] == pytest.approx(value, abs=1e-6)
    for (source, target), value in info.transitions.items():
        assert weights.transitions[label[source], label[target]] == pytest.approx(value, abs=1e-6)


def test_entities_and_confidences_are_crfsuites_on_unseen_invoices(sample_model: Model) -> None:
    for text in UNSEEN:
        _assert_same_as_crfsuite(sample_model, sample_model.recognizer, text)


_pieces = st.sampled_from(
    ["Invoice", "INV-2024-001", "Total", "EUR", "1,250.00", "Due", "06/29/2018", "\r\n", "\n", " ", ":", "Ltd", "é"]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_pieces | st.text(max_size=8), max_size=60).map(" ".join))
def test_any_text_decodes_as_crfsuite_decodes_it(sample_model: Model, text: str) -> None:
    _assert_same_as_crfsuite(sample_model, sample_model.recognizer, text)


def test_a_word_table_that_starts_over_changes_no_result(sample_model: Model, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-thread table of word rows is bounded: starting it over mid-stream must not mix up rows."""
    monkeypatch.setattr(emissions_module, "MAX_WORDS", 300)
    recognizer = Recognizer(sample_model.crf, sample_model.info.categories)
    for text in UNSEEN * 2:
        _assert_same_as_crfsuite(sample_model, recognizer, text)


def test_viterbi_breaks_ties_towards_the_lowest_label_as_crfsuite_does() -> None:
    scores = np.zeros((3, 2))
    transitions = np.zeros((2, 2))
    assert viterbi(scores, transitions).tolist() == [0, 0, 0]
    scores[1, 1] = 1.0
    assert viterbi(scores, transitions).tolist() == [0, 1, 0]


def test_marginals_are_probabilities_even_for_extreme_scores() -> None:
    scores = np.array([[800.0, -800.0], [-800.0, 800.0], [0.0, 0.0]] * 50)
    probabilities = marginals(scores, np.array([[5.0, -5.0], [-5.0, 5.0]]))
    assert np.all(np.isfinite(probabilities))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities[0, 0] == pytest.approx(1.0)


def _with(data: bytes, offset: int, fmt: str, value: int | bytes) -> bytes:
    patched = bytearray(data)
    struct.pack_into(fmt, patched, offset, value)
    return bytes(patched)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[:-10], id="truncated"),
        pytest.param(lambda b: b"xCRF" + b[4:], id="magic"),
        pytest.param(lambda b: _with(b, 20, "<I", 10**6), id="label-count"),
        pytest.param(lambda b: _with(b, struct.unpack_from("<I", b, 28)[0], "<4s", b"XXXX"), id="feature-chunk"),
        pytest.param(lambda b: b[:48], id="header-only"),
        pytest.param(lambda b: b"", id="empty"),
    ],
)
def test_a_damaged_model_file_is_an_artifact_error(sample_model: Model, damage) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ArtifactError):
        Recognizer(damage(sample_model.crf), sample_model.info.categories)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_any_flipped_byte_gives_a_recognizer_or_an_artifact_error(sample_model: Model, data: st.DataObject) -> None:
    """Never another exception (struct, index, memory): the artifact loader turns ArtifactError into its answer."""
    crf = bytearray(sample_model.crf)
    position = data.draw(st.integers(0, len(crf) - 1))
    crf[position] ^= data.draw(st.integers(1, 255))
    with contextlib.suppress(ArtifactError):
        Recognizer(bytes(crf), sample_model.info.categories)
