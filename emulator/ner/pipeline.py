"""What a training job does, in one call: split, train, package, evaluate.

The authoring API's ``:train`` job, the ``cner train`` command and the benchmarks all run this sequence,
so it lives here once. Training config versions are the ones Azure lists for Custom NER; a model
records the one it was trained with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from . import naming
from .artifact import Model, ModelInfo
from .errors import TrainingError
from .evaluation import Evaluation, evaluate
from .project import Project
from .splits import EvaluationOptions, Split, split_documents
from .training import Progress, TrainingOptions, train_crf

TRAINING_CONFIG_VERSIONS = ("2022-05-01",)
"""The versions ``global/training-config-versions`` lists for CustomEntityRecognition."""


@dataclass(frozen=True)
class TrainingResult:
    model: Model
    evaluation: Evaluation
    split: Split


def train_project(
    project: Project,
    model_label: str,
    *,
    training_config_version: str = TRAINING_CONFIG_VERSIONS[-1],
    evaluation_options: EvaluationOptions = EvaluationOptions(),
    training_options: TrainingOptions = TrainingOptions(),
    model_id: str | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Train ``project`` into a model labelled ``model_label`` and evaluate it on the test split.

    ``model_id`` defaults to the label plus a hash of the CRF, so the same data gives the same artifact.

    :raises TrainingError: bad label or config version, nothing to train on.
    """
    if not naming.RESOURCE_NAME(model_label):
        raise TrainingError(naming.RESOURCE_NAME.explain(model_label, "model label"))
    if training_config_version not in TRAINING_CONFIG_VERSIONS:
        raise TrainingError(
            f"trainingConfigVersion {training_config_version!r} is not available for Custom NER; "
            f"use one of {', '.join(TRAINING_CONFIG_VERSIONS)}"
        )
    if not project.categories:
        raise TrainingError("the project declares no entity categories; add at least one to assets.entities")
    split = split_documents(project.documents, evaluation_options)
    crf = train_crf(split.train, training_options, progress)
    info = ModelInfo(
        model_id=model_id or f"{model_label}-{hashlib.sha256(crf).hexdigest()[:32]}",
        project_name=project.metadata.project_name,
        model_label=model_label,
        language=project.metadata.language,
        categories=project.categories,
        training_config_version=training_config_version,
    )
    model = Model(info, crf)
    evaluation = evaluate(model.recognizer.recognize, split.test, evaluation_options, split.kind)
    return TrainingResult(model, evaluation, split)
