"""Which documents train the model and which evaluate it, the way Azure decides.

``evaluationOptions.kind`` is ``percentage`` (a random split, 80/20 by default) or ``manual`` (each
document's ``dataset``). When the caller does not say, a project whose documents carry ``dataset`` is
split by it and one without is split at random, so Microsoft's sample (no ``dataset``) and our fixtures
(with it) both evaluate without extra options. The random split is seeded from the document locations,
so the same project always splits the same way.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from .errors import TrainingError
from .project import Document


class SplitKind(StrEnum):
    PERCENTAGE = "percentage"
    MANUAL = "manual"


@dataclass(frozen=True)
class EvaluationOptions:
    """``evaluationOptions`` of a training job; ``kind=None`` picks manual or percentage from the data."""

    kind: SplitKind | None = None
    training_split_percentage: int = 80
    testing_split_percentage: int = 20

    def __post_init__(self) -> None:
        train, test = self.training_split_percentage, self.testing_split_percentage
        if not (1 <= train <= 99 and 1 <= test <= 99 and train + test == 100):
            raise TrainingError(
                f"trainingSplitPercentage ({train}) and testingSplitPercentage ({test}) must each "
                "be between 1 and 99 and add up to 100"
            )


@dataclass(frozen=True)
class Split:
    kind: SplitKind
    train: tuple[Document, ...]
    test: tuple[Document, ...]


def split_documents(documents: Sequence[Document], options: EvaluationOptions = EvaluationOptions()) -> Split:
    """Labelled documents divided into a training and a testing set (unlabelled ones are left out)."""
    labelled = [d for d in documents if d.regions]
    kind = options.kind or (SplitKind.MANUAL if any(d.dataset is not None for d in labelled) else SplitKind.PERCENTAGE)
    if kind is SplitKind.MANUAL:
        train = tuple(d for d in labelled if d.dataset != "Test")
        test = tuple(d for d in labelled if d.dataset == "Test")
    else:
        seed = hashlib.sha256("\n".join(d.location for d in labelled).encode()).digest()
        order = list(range(len(labelled)))
        random.Random(seed).shuffle(order)  # noqa: S311 - a reproducible split, not a secret
        n_test = round(len(labelled) * options.testing_split_percentage / 100)
        if len(labelled) > 1:
            n_test = min(max(n_test, 1), len(labelled) - 1)
        chosen = set(order[:n_test])
        train = tuple(d for i, d in enumerate(labelled) if i not in chosen)
        test = tuple(d for i, d in enumerate(labelled) if i in chosen)
    if not train:
        raise TrainingError(
            "no labelled document is left for training; label more documents or assign some to the 'Train' dataset"
        )
    return Split(kind, train, test)
