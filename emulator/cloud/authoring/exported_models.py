"""Exported models: what the Custom NER container downloads (preview api-versions from 2023-04-15-preview).

Exporting copies a trained model's verified artifact to ``projects/<p>/exported-models/<name>``; the
manifest lists its files with download URLs on this emulator (the storage blueprint serves them, behind the
key), as Azure's manifest lists blob URLs. The copy is independent of the trained model, so retraining or
deleting the model does not change what a container already pointed at the export downloads.
"""

from __future__ import annotations

import shutil
from typing import Any

from flask import Response, request

from emulator.ner import ArtifactError, load_model
from emulator.ner.artifact import staged_directory
from emulator.web.errors import NotFound

from ..clock import iso
from ..jobs import JobContext, JobFailedError
from ..layout import ARTIFACT
from ..resource import Resource, current
from ..versions import ApiVersion
from . import lro
from .blueprint import (
    EXPORTED_MODEL,
    MODEL,
    api_version,
    bp,
    existing,
    existing_in_project,
    existing_project,
    json_object,
    listing_page,
    trained_model_label,
    valid_name,
)

EXPORT_MODEL = "exported-model"
LABEL_SPELLINGS = ("trainedModelLabel", "TrainedmodelLabel")
"""The spec's spelling and the one Microsoft's container documentation uses in its example."""


def _exported_models_version() -> ApiVersion:
    version = api_version()
    if not version.exported_models:
        raise NotFound(
            f"Exported models need api-version 2023-04-15-preview or later, not {version.name}.",
            code="NotFound",
            target="api-version",
        )
    return version


@bp.get("/projects/<project>/exported-models")
def list_exported_models(project: str) -> dict[str, Any]:
    return listing_page(EXPORTED_MODEL, project, _exported_models_version())


@bp.get("/projects/<project>/exported-models/<name>")
def get_exported_model(project: str, name: str) -> dict[str, Any]:
    _exported_models_version()
    return existing_in_project(EXPORTED_MODEL, project, name, "exported model")


@bp.put("/projects/<project>/exported-models/<name>")
def export_model(project: str, name: str) -> Response:
    version = _exported_models_version()
    existing_project(project)
    valid_name(name, "exported model name")
    label = trained_model_label(project, json_object(), "export", LABEL_SPELLINGS)
    return lro.start(
        EXPORT_MODEL,
        project,
        name,
        {"action": "export", "trainedModelLabel": label},
        jobs=f"projects/{project}/exported-models/{name}/jobs",
        version=version,
    )


@bp.delete("/projects/<project>/exported-models/<name>")
def delete_exported_model(project: str, name: str) -> Response:
    version = _exported_models_version()
    existing_project(project)
    existing(EXPORTED_MODEL, project, name, "exported model")
    return lro.start(
        EXPORT_MODEL,
        project,
        name,
        {"action": "delete"},
        jobs=f"projects/{project}/exported-models/{name}/jobs",
        version=version,
    )


@bp.get("/projects/<project>/exported-models/<name>/jobs/<job_id>")
def exported_model_job(project: str, name: str, job_id: str) -> Response:
    _exported_models_version()
    return lro.job_state(
        EXPORT_MODEL, valid_name(project, "project name"), valid_name(name, "exported model name"), job_id
    )


@bp.get("/projects/<project>/exported-models/<name>/manifest")
def manifest(project: str, name: str) -> dict[str, Any]:
    _exported_models_version()
    existing_project(project)
    existing(EXPORTED_MODEL, project, name, "exported model")
    base = f"{request.host_url.rstrip('/')}/_emulator/models/{project}/{name}"
    files = sorted(p.name for p in current().layout.exported_model(project, name).iterdir() if p.is_file())
    return {"modelFiles": [{"name": file, "contentUri": f"{base}/{file}"} for file in files]}


def run_model_export(resource: Resource, context: JobContext) -> None:
    store, name = resource.store, context.scope
    target = resource.layout.exported_model(context.project, name)
    if context.input["action"] == "delete":
        store.delete(EXPORTED_MODEL, context.project, name)
        shutil.rmtree(target, ignore_errors=True)
        return
    label = context.input["trainedModelLabel"]
    model = store.get(MODEL, context.project, label)
    source = resource.layout.model(context.project, label) / ARTIFACT
    try:
        if model is None:
            raise ArtifactError(f"the trained model {label!r} was deleted before the export ran")
        load_model(source)  # verify before publishing: a container must never download a damaged model
    except ArtifactError as exc:
        raise JobFailedError([{"code": "InvalidRequest", "message": f"The model cannot be exported: {exc}"}]) from exc
    with staged_directory(target) as staging:
        for file in source.iterdir():
            shutil.copyfile(file, staging / file.name)
    exported = {
        "exportedModelName": name,
        "modelId": model["modelId"],
        "lastTrainedDateTime": model["lastTrainedDateTime"],
        "lastExportedModelDateTime": iso(resource.clock.now()),
        "modelExpirationDate": model["modelExpirationDate"],
        "modelTrainingConfigVersion": model["modelTrainingConfigVersion"],
    }
    store.put(EXPORTED_MODEL, context.project, name, exported, created=resource.clock.now().timestamp())
