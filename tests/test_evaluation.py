"""Evaluation counted the Azure way, checked on the worked example of Microsoft's evaluation-metrics page."""

from __future__ import annotations

import pytest

from emulator.ner import Document, Entity, EvaluationOptions, Label, Region, SplitKind, evaluate

TEXT = (
    "The first party of this contract is John Smith, resident of 5678 Main Rd., City of Frederick, state of "
    "Nebraska. And the second party is Forrest Ray, resident of 123-345 Integer Rd., City of Corona, state of "
    "New Mexico. There is also Fannie Thomas resident of 7890 River Road, city of Colorado Springs, State of "
    "Colorado. 😀"
)


def _at(category: str, phrase: str) -> Label:
    start = TEXT.index(phrase)
    return Label(category, start, start + len(phrase))


GOLD = (
    _at("Person", "John Smith"),
    _at("City", "Frederick"),
    _at("Person", "Forrest Ray"),
    _at("City", "Corona"),
    _at("Person", "Fannie Thomas"),
    _at("City", "Colorado Springs"),
)
# The page's predictions: Frederick as Person, only "Forrest" found and as City, Corona missed.
PREDICTED = (
    _at("Person", "John Smith"),
    _at("Person", "Frederick"),
    _at("City", "Forrest"),
    _at("Person", "Fannie Thomas"),
    _at("City", "Colorado Springs"),
)
DOCUMENT = Document("contract.txt", "en-us", TEXT, (Region(0, len(TEXT), GOLD),), dataset="Test")


def _recognize(text: str) -> list[Entity]:
    return [Entity(x.category, x.start, x.end, text[x.start : x.end], 0.9) for x in PREDICTED]


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return evaluate(_recognize, [DOCUMENT], EvaluationOptions(), SplitKind.MANUAL)


def test_counts_per_entity_match_microsofts_worked_example(report) -> None:  # type: ignore[no-untyped-def]
    person, city = report.categories["Person"], report.categories["City"]
    assert (person.true_positives, person.false_positives, person.false_negatives) == (2, 1, 1)
    assert (city.true_positives, city.false_positives, city.false_negatives) == (1, 1, 2)
    assert person.precision == pytest.approx(2 / 3)
    assert city.recall == pytest.approx(1 / 3)


def test_model_level_figures_are_micro_and_macro(report) -> None:  # type: ignore[no-untyped-def]
    precision, recall, f1 = report.micro
    assert (precision, recall) == (pytest.approx(3 / 5), pytest.approx(3 / 6))
    assert f1 == pytest.approx(2 * 3 / (2 * 3 + 2 + 3))
    person_f1, city_f1 = 2 * 2 / (4 + 1 + 1), 2 * 1 / (2 + 1 + 2)
    assert report.macro[2] == pytest.approx((person_f1 + city_f1) / 2)


def test_confusion_matrix_rows_are_labelled_and_columns_predicted(report) -> None:  # type: ignore[no-untyped-def]
    # Frederick (labelled City, predicted Person) is the only right-span-wrong-category cell.
    assert report.confusion == {"Person": {"Person": 2}, "City": {"City": 1, "Person": 1}}
    assert report.categories["Person"].true_negatives == 1
    assert report.categories["City"].true_negatives == 2


def test_summary_has_the_azure_shape(report) -> None:  # type: ignore[no-untyped-def]
    summary = report.summary_json()
    assert summary["projectKind"] == "CustomEntityRecognition"
    assert summary["evaluationOptions"] == {"kind": "manual"}
    body = summary["customEntityRecognitionEvaluation"]
    assert set(body) == {
        "confusionMatrix",
        "entities",
        "microF1",
        "microPrecision",
        "microRecall",
        "macroF1",
        "macroPrecision",
        "macroRecall",
    }
    assert body["confusionMatrix"]["City"]["Person"] == {"normalizedValue": 50.0, "rawValue": 1.0}
    assert body["entities"]["Person"] == {
        "f1": pytest.approx(2 / 3),
        "precision": pytest.approx(2 / 3),
        "recall": pytest.approx(2 / 3),
        "truePositiveCount": 2,
        "trueNegativeCount": 1,
        "falsePositiveCount": 1,
        "falseNegativeCount": 1,
    }


def test_per_document_results_list_expected_and_predicted_in_utf16(report) -> None:  # type: ignore[no-untyped-def]
    (result,) = report.document_results_json()
    assert result["location"] == "contract.txt"
    assert result["language"] == "en-us"
    (region,) = result["customEntityRecognitionResult"]["entities"]
    # The emoji at the end counts two UTF-16 code units.
    assert (region["regionOffset"], region["regionLength"]) == (0, len(TEXT) + 1)
    assert {"category": "City", "offset": TEXT.index("Forrest"), "length": 7} in region["predictedEntities"]
    assert len(region["expectedEntities"]) == 6


def test_predictions_outside_every_region_are_not_counted() -> None:
    region = Region(0, TEXT.index("And the second"), GOLD[:2])
    document = Document("part.txt", "en", TEXT, (region,))
    report = evaluate(_recognize, [document])
    assert report.categories["Person"].false_positives == 1  # Frederick only; later predictions are outside
    city = report.categories["City"]
    assert (city.true_positives, city.false_positives, city.false_negatives) == (0, 0, 1)


def test_no_test_documents_gives_zero_figures() -> None:
    report = evaluate(_recognize, [])
    assert report.micro == (0.0, 0.0, 0.0)
    assert report.categories == {}
    assert report.confusion == {}
