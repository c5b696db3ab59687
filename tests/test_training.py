"""CRF training: tags from labels, determinism, and the errors for nothing to learn from."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from emulator.ner import (
    Document,
    EvaluationOptions,
    Label,
    Project,
    Region,
    SplitKind,
    TrainingError,
    TrainingOptions,
    split_documents,
    train_crf,
    train_project,
)
from emulator.ner.tokens import _ONE, tokenize
from emulator.ner.training import io_tags


def test_labels_map_to_tokens_by_overlap_even_when_spans_are_sloppy() -> None:
    text = "mailing address of 2948 Ben Street, Dallas"
    tokens = tokenize(text)
    # The gold span starts in the middle of "address" and ends inside "Street": whole tokens are tagged.
    start = text.index("ress")
    end = text.index("Street") + 3
    assert io_tags(tokens, [Label("Address", start, end)]) == [
        "O",
        "I-Address",
        "I-Address",
        "I-Address",
        "I-Address",
        "I-Address",
        "O",
        "O",
    ]


def test_tokens_keep_numbers_words_and_combining_marks_together() -> None:
    tokens = tokenize("Pay €1,250.00 on 6/29/2018 to Cafe\u0301 O'Brien-Smith.")
    assert tokens.words == [
        "Pay",
        "€",
        "1,250.00",
        "on",
        "6/29/2018",
        "to",
        "Cafe\u0301",
        "O'Brien-Smith",
        ".",
    ]


_token_text = st.lists(
    st.sampled_from(["1,250.00", "6/29/", "O'Brien", "-", "’", "e\u0301", "\u0915\u094d", " ", "\r\n", "\t", "_", "."])
    | st.text(max_size=4),
    max_size=40,
).map("".join)


@given(_token_text, st.data())
def test_tokens_are_what_scanning_for_one_token_at_a_time_finds(text: str, data: st.DataObject) -> None:
    """``tokenize`` takes every token in one match (``captures``); a plain scan with the token pattern is the
    reference, over the whole text and over any region of it."""
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    for region in ((0, None), (start, end)):
        tokens = tokenize(text, *region)
        scan = list(regex.finditer(_ONE, text, pos=region[0], endpos=len(text) if region[1] is None else region[1]))
        assert tokens.words == [m.group() for m in scan]
        assert (tokens.starts, tokens.ends) == ([m.start() for m in scan], [m.end() for m in scan])


def test_same_documents_give_a_byte_identical_model(small_sample: Project) -> None:
    documents = small_sample.documents[:10]
    options = TrainingOptions(max_iterations=30)
    assert train_crf(documents, options) == train_crf(documents, options)


def test_progress_is_reported_up_to_one(small_sample: Project) -> None:
    seen: list[float] = []
    train_crf(small_sample.documents[:5], TrainingOptions(max_iterations=10), progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 1.0


def test_unlabelled_documents_cannot_train() -> None:
    unlabelled = Document("a.txt", "en", "no labels here")
    with pytest.raises(TrainingError, match="label at least one document"):
        train_crf([unlabelled])


def test_manual_split_follows_dataset_and_percentage_split_is_seeded(small_sample: Project) -> None:
    manual = split_documents(small_sample.documents)
    assert manual.kind is SplitKind.MANUAL
    assert {d.dataset for d in manual.test} == {"Test"}
    assert len(manual.test) == 8
    options = EvaluationOptions(SplitKind.PERCENTAGE, 75, 25)
    first, second = (
        split_documents(small_sample.documents, options),
        split_documents(small_sample.documents, options),
    )
    assert first == second
    assert (len(first.train), len(first.test)) == (30, 10)


def test_documents_without_dataset_split_at_random_80_20(small_sample: Project) -> None:
    bare = [Document(d.location, d.language, d.text, d.regions) for d in small_sample.documents]
    split = split_documents(bare)
    assert split.kind is SplitKind.PERCENTAGE
    assert (len(split.train), len(split.test)) == (32, 8)


def test_split_percentages_must_add_up_to_100() -> None:
    with pytest.raises(TrainingError, match="add up to 100"):
        EvaluationOptions(SplitKind.PERCENTAGE, 70, 20)


def test_a_manual_split_with_only_test_documents_cannot_train() -> None:
    document = Document("a.txt", "en", "Contoso", (Region(0, 7, (Label("Org", 0, 7),)),), dataset="Test")
    with pytest.raises(TrainingError, match="no labelled document is left for training"):
        split_documents([document])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_label": "bad label"}, "naming rule"),
        ({"model_label": "m", "training_config_version": "2099-01-01"}, "not available"),
    ],
)
def test_train_project_validates_its_arguments(small_sample: Project, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(TrainingError, match=message):
        train_project(small_sample, **kwargs)  # type: ignore[arg-type]
