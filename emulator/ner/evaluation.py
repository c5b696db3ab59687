"""Model evaluation reported the way Azure reports it.

Matching is exact: a prediction is a true positive when a labelled entity has the same start, end and
category. A span found with the wrong category counts as a false positive of the predicted category and a
false negative of the labelled one (Microsoft's evaluation-metrics page). Micro figures come from the
summed counts, macro figures are the mean over the categories that occur in the test set (labelled or
predicted); a ratio with a zero denominator is 0.

The confusion matrix is keyed ``[labelled category][predicted category]`` over entities whose span was
found exactly (diagonal: true positives; off-diagonal: right span, wrong category); ``normalizedValue``
is the cell's share of its row in percent. A category's true negatives are the matrix cells that involve
it neither as labelled nor as predicted category.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .offsets import TextIndex
from .project import Document, Label, Region, label_json, region_json
from .recognizer import Entity
from .splits import EvaluationOptions, SplitKind

Recognize = Callable[[str], list[Entity]]


@dataclass(frozen=True)
class CategoryMetrics:
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int


@dataclass(frozen=True)
class RegionResult:
    """Labelled and predicted entities of one region, code points."""

    region: Region
    predicted: tuple[Label, ...]


@dataclass(frozen=True)
class DocumentResult:
    document: Document
    regions: tuple[RegionResult, ...]


@dataclass(frozen=True)
class Evaluation:
    options: EvaluationOptions
    kind: SplitKind
    categories: dict[str, CategoryMetrics]
    micro: tuple[float, float, float]
    macro: tuple[float, float, float]
    confusion: dict[str, dict[str, int]]
    documents: tuple[DocumentResult, ...]

    @property
    def micro_f1(self) -> float:
        return self.micro[2]

    def summary_json(self) -> dict[str, Any]:
        """The ``CustomEntityRecognitionEvaluationSummary`` body of ``evaluation/summary-result``."""
        options: dict[str, Any] = {"kind": self.kind.value}
        if self.kind is SplitKind.PERCENTAGE:
            options["trainingSplitPercentage"] = self.options.training_split_percentage
            options["testingSplitPercentage"] = self.options.testing_split_percentage
        return {
            "projectKind": "CustomEntityRecognition",
            "evaluationOptions": options,
            "customEntityRecognitionEvaluation": {
                "confusionMatrix": {
                    expected: {
                        predicted: {
                            "normalizedValue": 100.0 * raw / sum(row.values()),
                            "rawValue": float(raw),
                        }
                        for predicted, raw in sorted(row.items())
                    }
                    for expected, row in sorted(self.confusion.items())
                },
                "entities": {
                    name: {
                        "f1": m.f1,
                        "precision": m.precision,
                        "recall": m.recall,
                        "truePositiveCount": m.true_positives,
                        "trueNegativeCount": m.true_negatives,
                        "falsePositiveCount": m.false_positives,
                        "falseNegativeCount": m.false_negatives,
                    }
                    for name, m in sorted(self.categories.items())
                },
                "microF1": self.micro[2],
                "microPrecision": self.micro[0],
                "microRecall": self.micro[1],
                "macroF1": self.macro[2],
                "macroPrecision": self.macro[0],
                "macroRecall": self.macro[1],
            },
        }

    def document_results_json(self) -> list[dict[str, Any]]:
        """``DocumentEvaluationResult`` items of ``evaluation/result`` (offsets in UTF-16 code units)."""
        return [_document_json(result) for result in self.documents]


def _document_json(result: DocumentResult) -> dict[str, Any]:
    index = TextIndex(result.document.text)

    return {
        "projectKind": "CustomEntityRecognition",
        "location": result.document.location,
        "language": result.document.language,
        "customEntityRecognitionResult": {
            "entities": [
                {
                    **region_json(index, r.region),
                    "expectedEntities": [label_json(index, x) for x in r.region.labels],
                    "predictedEntities": [label_json(index, x) for x in r.predicted],
                }
                for r in result.regions
            ]
        },
    }


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return precision, recall, f1


def evaluate(
    recognize: Recognize,
    documents: Sequence[Document],
    options: EvaluationOptions = EvaluationOptions(),
    kind: SplitKind = SplitKind.PERCENTAGE,
) -> Evaluation:
    """Predict every test document with ``recognize`` and compare with its labels, region by region."""
    results = tuple(_predict_regions(recognize, document) for document in documents)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        for region in result.regions:
            expected = {(x.start, x.end): x.category for x in region.region.labels}
            predicted = {(x.start, x.end): x.category for x in region.predicted}
            for span, category in expected.items():
                found = predicted.get(span)
                if found == category:
                    tp[category] += 1
                else:
                    fn[category] += 1
                if found is not None:
                    confusion[category][found] += 1
            for span, category in predicted.items():
                if expected.get(span) != category:
                    fp[category] += 1
    total = sum(sum(row.values()) for row in confusion.values())
    categories: dict[str, CategoryMetrics] = {}
    for name in sorted(set(tp) | set(fp) | set(fn)):
        involved = sum(confusion[name].values()) + sum(row[name] for row in confusion.values()) - confusion[name][name]
        precision, recall, f1 = _prf(tp[name], fp[name], fn[name])
        categories[name] = CategoryMetrics(precision, recall, f1, tp[name], fp[name], fn[name], total - involved)
    micro = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    count = len(categories)
    macro = (
        _ratio(sum(m.precision for m in categories.values()), count),
        _ratio(sum(m.recall for m in categories.values()), count),
        _ratio(sum(m.f1 for m in categories.values()), count),
    )
    matrix = {expected: {p: n for p, n in row.items() if n} for expected, row in confusion.items()}
    return Evaluation(options, kind, categories, micro, macro, {k: v for k, v in matrix.items() if v}, results)


def _predict_regions(recognize: Recognize, document: Document) -> DocumentResult:
    entities = recognize(document.text)
    regions = tuple(
        RegionResult(
            region,
            tuple(
                Label(e.category, e.start, e.end) for e in entities if region.start <= e.start and e.end <= region.end
            ),
        )
        for region in document.regions
    )
    return DocumentResult(document, regions)
