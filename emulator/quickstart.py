"""What ``cner up`` brings up: the sample project, its trained model, and a first prediction.

Kept apart from the command line so later stages (the emulated cloud, the container) can be added as
steps here and tested without a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.ner import (
    DirectorySource,
    StringIndexType,
    entities_json,
    load_model,
    parse_project,
    save_model,
    train_project,
    write_archive,
)
from fixtures.sample_project import DEFAULT_SEED, build_project, write_project

SAMPLE_MODEL_LABEL = "SampleModel"


@dataclass(frozen=True)
class Stack:
    """Where ``up`` put things and what the first prediction returned."""

    project_file: Path
    model_dir: Path
    archive: Path
    micro_f1: float
    demo_text: str
    demo_entities: list[dict[str, Any]]


def bring_up(workdir: Path, say: Callable[[str], None] = print) -> Stack:
    """Generate the sample project, train and export its model, and predict on a document it has not seen."""
    say(f"writing the sample project to {workdir / 'sample-project'}")
    project_file = write_project(workdir / "sample-project")
    project = parse_project(json.loads(project_file.read_text(encoding="utf-8")), DirectorySource(project_file.parent))
    say(f"training {SAMPLE_MODEL_LABEL} on {len(project.documents)} documents")
    result = train_project(project, SAMPLE_MODEL_LABEL)
    model_dir = save_model(result.model, workdir / "models" / SAMPLE_MODEL_LABEL, overwrite=True)
    archive = write_archive(model_dir, workdir / "models" / f"{SAMPLE_MODEL_LABEL}.tar.gz")
    say(f"model {result.model.info.model_id}: test micro-F1 {result.evaluation.micro_f1:.3f}, saved to {model_dir}")
    demo_text = build_project(seed=DEFAULT_SEED + 1, documents=1).documents[0].text
    entities = load_model(model_dir).recognizer.recognize(demo_text)
    return Stack(
        project_file=project_file,
        model_dir=model_dir,
        archive=archive,
        micro_f1=result.evaluation.micro_f1,
        demo_text=demo_text,
        demo_entities=entities_json(demo_text, entities, StringIndexType.TEXT_ELEMENTS_V8),
    )
