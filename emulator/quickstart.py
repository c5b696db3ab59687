"""What ``cner up`` brings up: the sample project published through the emulated cloud, its exported model,
and a first prediction.

Kept apart from the command line so later stages (the container) can be added as steps here and tested
without a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.cloud.app import close_app, create_app
from emulator.cloud.client import AuthoringClient
from emulator.cloud.resource import CloudConfig
from emulator.ner import StringIndexType, entities_json, load_model, write_archive
from emulator.ner.artifact import staged_directory
from emulator.web.server import BackgroundServer
from fixtures.sample_project import DEFAULT_SEED, PROJECT_NAME, build_project, write_project

SAMPLE_MODEL_LABEL = "SampleModel"
SAMPLE_DEPLOYMENT = "production"
LOCAL_KEY = "local-dev-key"
"""The key ``cner up`` gives the local resource; a development default, never a real Azure key."""


@dataclass(frozen=True)
class Stack:
    """Where ``up`` put things and what the first prediction returned."""

    project_file: Path
    cloud_dir: Path
    model_dir: Path
    archive: Path
    micro_f1: float
    demo_text: str
    demo_entities: list[dict[str, Any]]


def bring_up(workdir: Path, say: Callable[[str], None] = print, key: str = LOCAL_KEY) -> Stack:
    """Publish the sample project through the emulated cloud, export its model as a container would get it,
    and predict on a document it has not seen.

    The cloud runs on a loopback port for the duration and keeps its state in ``workdir/cloud``, so
    ``cner cloud --data-dir workdir/cloud`` serves the trained sample afterwards.
    """
    project_file = write_project(workdir / "sample-project")
    say(f"wrote the sample project to {project_file.parent}")
    config = CloudConfig(workdir / "cloud", (key,), retry_after=0.2)
    app = create_app(config)
    try:
        with BackgroundServer(app) as server:
            say(f"emulated Language resource at {server.url} (data in {config.data_dir})")
            client = AuthoringClient(server.url, key)
            micro_f1 = publish_sample(client, project_file, say)
            _download(client, workdir / "models")
    finally:
        close_app(app)
    model_dir = workdir / "models" / SAMPLE_MODEL_LABEL
    archive = write_archive(model_dir, workdir / "models" / f"{SAMPLE_MODEL_LABEL}.tar.gz")
    demo_text = build_project(seed=DEFAULT_SEED + 1, documents=1).documents[0].text
    entities = load_model(model_dir).recognizer.recognize(demo_text)
    return Stack(
        project_file=project_file,
        cloud_dir=config.data_dir,
        model_dir=model_dir,
        archive=archive,
        micro_f1=micro_f1,
        demo_text=demo_text,
        demo_entities=entities_json(demo_text, entities, StringIndexType.TEXT_ELEMENTS_V8),
    )


def publish_sample(client: AuthoringClient, project_file: Path, say: Callable[[str], None]) -> float:
    """Upload, import, train, deploy and export the sample model through ``client``; returns its micro-F1."""
    body = json.loads(project_file.read_text(encoding="utf-8"))
    client.upload_documents(body, project_file.parent)
    client.run("POST", f"projects/{PROJECT_NAME}/:import", body)
    say(f"imported {PROJECT_NAME} ({len(body['assets']['documents'])} documents); training {SAMPLE_MODEL_LABEL}")
    training = {
        "modelLabel": SAMPLE_MODEL_LABEL,
        "trainingConfigVersion": "2022-05-01",
        "evaluationOptions": {"kind": "manual"},
    }
    client.run("POST", f"projects/{PROJECT_NAME}/:train", training)
    _, summary, _ = client.authoring(
        "GET", f"projects/{PROJECT_NAME}/models/{SAMPLE_MODEL_LABEL}/evaluation/summary-result"
    )
    micro_f1 = float(summary["customEntityRecognitionEvaluation"]["microF1"])
    client.run(
        "PUT", f"projects/{PROJECT_NAME}/deployments/{SAMPLE_DEPLOYMENT}", {"trainedModelLabel": SAMPLE_MODEL_LABEL}
    )
    client.run(
        "PUT",
        f"projects/{PROJECT_NAME}/exported-models/{SAMPLE_MODEL_LABEL}",
        {"trainedModelLabel": SAMPLE_MODEL_LABEL},
    )
    say(f"model {SAMPLE_MODEL_LABEL}: test micro-F1 {micro_f1:.3f}; deployed as {SAMPLE_DEPLOYMENT!r} and exported")
    return micro_f1


def _download(client: AuthoringClient, models: Path) -> None:
    _, manifest, _ = client.authoring("GET", f"projects/{PROJECT_NAME}/exported-models/{SAMPLE_MODEL_LABEL}/manifest")
    with staged_directory(models / SAMPLE_MODEL_LABEL) as staging:
        for file in manifest["modelFiles"]:
            (staging / file["name"]).write_bytes(client.fetch("GET", file["contentUri"])[1])
        load_model(staging)
