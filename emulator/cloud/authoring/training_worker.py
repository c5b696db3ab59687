"""One training job's work, in its own process: ``python -m emulator.cloud.authoring.training_worker``.

A subprocess because a training must be cancellable and crfsuite swallows exceptions raised in its
progress callback: killing the process is the only reliable stop. The parent reads one JSON object per
line on stdout::

    {"stage": "training", "percent": 42}
    {"stage": "evaluating"}
    {"stage": "done", "trainingDocuments": 80, "testingDocuments": 20}
    {"stage": "error", "code": "InvalidTrainingData", "message": "..."}      (exit status 2)

and finds the model artifact, the evaluation files and the project file it trained on in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from emulator.ner import (
    DirectorySource,
    EngineError,
    EvaluationOptions,
    SplitKind,
    parse_project,
    save_model,
    train_project,
)

from ..layout import ARTIFACT, DOCUMENTS, PROJECT_FILE, RESULTS, SUMMARY

MIN_TRAINING_DOCUMENTS = 10
"""Azure's documented minimum of labelled documents for a Custom NER training (service-limits.md)."""


def _say(**event: Any) -> None:
    print(json.dumps(event), flush=True)


def _train(data: Path, out: Path, label: str, config: str, model_id: str, evaluation: dict[str, Any]) -> None:
    project = parse_project(
        json.loads((data / PROJECT_FILE).read_text(encoding="utf-8")), DirectorySource(data / DOCUMENTS)
    )
    labelled = sum(1 for d in project.documents if d.regions)
    if labelled < MIN_TRAINING_DOCUMENTS:
        raise EngineError(
            f"the project has {labelled} labelled document(s); Custom NER needs at least {MIN_TRAINING_DOCUMENTS}. "
            "Label more documents and import the project again"
        )
    options = EvaluationOptions(
        kind=SplitKind(evaluation.get("kind", SplitKind.PERCENTAGE)),
        training_split_percentage=evaluation.get("trainingSplitPercentage", 80),
        testing_split_percentage=evaluation.get("testingSplitPercentage", 20),
    )
    reported = -1

    def progress(fraction: float) -> None:
        nonlocal reported
        percent = min(99, int(fraction * 100))
        if percent != reported:
            reported = percent
            _say(stage="training", percent=percent)

    result = train_project(
        project, label, training_config_version=config, evaluation_options=options, model_id=model_id, progress=progress
    )
    _say(stage="evaluating")
    save_model(result.model, out / ARTIFACT)
    (out / SUMMARY).write_text(json.dumps(result.evaluation.summary_json()), encoding="utf-8")
    (out / RESULTS).write_text(json.dumps(result.evaluation.document_results_json()), encoding="utf-8")
    shutil.copyfile(data / PROJECT_FILE, out / PROJECT_FILE)
    _say(stage="done", trainingDocuments=len(result.split.train), testingDocuments=len(result.split.test))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="imported project folder (project.json, documents/)")
    parser.add_argument("--out", type=Path, required=True, help="empty folder for the model and its evaluation")
    parser.add_argument("--label", required=True)
    parser.add_argument("--config", required=True, help="training config version")
    parser.add_argument("--model-id", required=True)
    parser.add_argument("--evaluation", default="{}", help="evaluationOptions as JSON")
    args = parser.parse_args(argv)
    try:
        _train(args.data, args.out, args.label, args.config, args.model_id, json.loads(args.evaluation))
    except EngineError as exc:
        _say(stage="error", code="InvalidTrainingData", message=str(exc))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
