"""Projects: create/update (PATCH), get, list, delete (LRO), ``:import`` and ``:export`` (LROs).

A project's labelled data is what its last successful import left in ``projects/<name>/data``: the
normalised project file and a copy of every text, so later changes to the storage container do not change
a project (Azure also snapshots the blobs at import). ``:import`` checks the body at once (400 for what
the body itself shows) and reads the texts in the job, which reports missing or unreadable files as job
errors naming them, as the service does.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from typing import Any

from flask import Response, jsonify, request

from emulator.ner import DirectorySource, ProjectError, parse_metadata, parse_project, project_to_json
from emulator.ner.artifact import staged_directory
from emulator.web.errors import BadRequest, NotFound, invalid

from ..clock import iso
from ..jobs import JobContext, JobFailedError
from ..layout import DOCUMENTS, PROJECT_FILE
from ..paging import page
from ..resource import Resource, current
from . import lro
from .blueprint import PROJECT, api_version, bp, existing_project, issue_json, json_object, valid_name

IMPORT, EXPORT, DELETION = "import", "export", "deletion"
_IMMUTABLE = ("projectKind", "projectName")
SERVER_FIELDS = ("createdDateTime", "lastModifiedDateTime", "lastTrainedDateTime", "lastDeployedDateTime")
"""Fields the service sets; neither a PATCH body nor a project file can."""
_MISSING_TEXT = frozenset({"DocumentNotFound"})


def _metadata_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The ``CreateProjectOptions`` part of a stored project, as a metadata object to validate."""
    keys = (
        "projectKind",
        "storageInputContainerName",
        "projectName",
        "multilingual",
        "description",
        "language",
        "settings",
    )
    return {k: body[k] for k in keys if k in body}


def _metadata_of(stored: dict[str, Any] | None) -> dict[str, Any]:
    """Everything of a stored project but the service's own timestamps."""
    return {k: v for k, v in (stored or {}).items() if k not in SERVER_FIELDS}


def _with_metadata(stored: dict[str, Any] | None, metadata: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The project record for ``metadata``: the timestamps of ``stored`` kept, modified (or created) ``now``."""
    kept = {k: v for k, v in (stored or {}).items() if k in SERVER_FIELDS}
    return {"createdDateTime": iso(now), **kept, **metadata, "lastModifiedDateTime": iso(now)}


def _validate_metadata(metadata: dict[str, Any]) -> None:
    try:
        parse_metadata(metadata, "")
    except ProjectError as exc:
        raise BadRequest(
            "The project metadata is not valid: " + "; ".join(i.message for i in exc.issues),
            inner="InvalidParameterValue",
            target=exc.issues[0].target.lstrip("."),
            details=[issue_json(i) for i in exc.issues],
        ) from exc


@bp.get("/projects")
def list_projects() -> dict[str, Any]:
    return page(current().store.listing(PROJECT), api_version())


@bp.get("/projects/<project>")
def get_project(project: str) -> dict[str, Any]:
    return existing_project(project)


@bp.patch("/projects/<project>")
def create_or_update_project(project: str) -> tuple[dict[str, Any], int]:
    """JSON merge patch (RFC 7386) of the project's metadata: 201 when created, 200 when updated."""
    valid_name(project, "project name")
    patch = {k: v for k, v in json_object().items() if k not in SERVER_FIELDS}
    if "projectName" in patch and patch["projectName"] != project:
        raise invalid(
            f"projectName {patch['projectName']!r} in the body differs from {project!r} in the URL; make them equal",
            target="projectName",
        )
    resource = current()
    now = resource.clock.now()

    def patched(stored: dict[str, Any] | None) -> dict[str, Any]:
        if stored is not None:
            for key in _IMMUTABLE:
                if key in patch and patch[key] != stored[key]:
                    raise invalid(f"{key} cannot change once a project exists (it is {stored[key]!r})", target=key)
        merged = {**_metadata_of(stored), **patch, "projectName": project}
        merged = {k: v for k, v in merged.items() if v is not None}
        _validate_metadata(_metadata_fields(merged))
        merged.setdefault("multilingual", False)
        return _with_metadata(stored, merged, now)

    before, after = resource.store.modify(PROJECT, "", project, patched, created=now.timestamp())
    assert after is not None
    return after, 200 if before else 201


@bp.delete("/projects/<project>")
def delete_project(project: str) -> Response:
    version = api_version()
    existing_project(project)
    return lro.start(DELETION, project, project, {}, jobs="projects/global/deletion-jobs", version=version)


@bp.get("/projects/global/deletion-jobs/<job_id>")
def deletion_job(job_id: str) -> Response:
    return lro.job_state(DELETION, None, None, job_id)


def run_deletion(resource: Resource, context: JobContext) -> None:
    resource.store.delete_project(context.project)
    shutil.rmtree(resource.layout.project(context.project), ignore_errors=True)


@bp.post("/projects/<project>/:import")
def import_project(project: str) -> Response:
    version = api_version()
    valid_name(project, "project name")
    fmt = request.headers.get("format", "json")
    if fmt.lower() != "json":
        raise invalid(
            f"format {fmt!r} is not supported by this emulator; send the project file as JSON", target="format"
        )
    body = json_object()
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and metadata.get("projectName") not in (None, project):
        raise invalid(
            f"metadata.projectName {metadata.get('projectName')!r} differs from {project!r} in the URL; "
            "make them equal",
            target="metadata.projectName",
        )
    _check_body(body)
    return lro.start(
        IMPORT, project, project, {"projectFile": body}, jobs=f"projects/{project}/import/jobs", version=version
    )


def _source(body: dict[str, Any]) -> DirectorySource:
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    container = str(metadata.get("storageInputContainerName", ""))  # type: ignore[union-attr]
    return DirectorySource(current().layout.container(container))


def _check_body(body: dict[str, Any]) -> None:
    """400 for every problem of the project file that does not depend on reading a text that is missing."""
    try:
        parse_project(body, _source(body))
    except ProjectError as exc:
        problems = [i for i in exc.issues if i.code not in _MISSING_TEXT]
        if problems:
            raise BadRequest(
                f"The project file has {len(problems)} problem(s); the first: {problems[0]}",
                inner="InvalidParameterValue",
                target=problems[0].target,
                details=[issue_json(i) for i in problems],
            ) from exc


def run_import(resource: Resource, context: JobContext) -> None:
    body = context.input["projectFile"]
    source = DirectorySource(resource.layout.container(body["metadata"]["storageInputContainerName"]))
    try:
        project = parse_project(body, source)
    except ProjectError as exc:
        raise JobFailedError([issue_json(i) for i in exc.issues]) from exc
    with staged_directory(resource.layout.data(context.project)) as staging:
        file = project_to_json(project)
        (staging / PROJECT_FILE).write_text(json.dumps(file, ensure_ascii=False), encoding="utf-8")
        for document in project.documents:
            path = staging.joinpath(DOCUMENTS, *document.location.split("/"))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(document.text, encoding="utf-8", newline="")
    now = resource.clock.now()
    metadata = {k: v for k, v in file["metadata"].items() if not (k == "description" and v == "")}

    def imported(stored: dict[str, Any] | None) -> dict[str, Any]:
        return _with_metadata(stored, {**_metadata_of(stored), **metadata}, now)

    resource.store.modify(PROJECT, "", context.project, imported, created=now.timestamp())


@bp.get("/projects/<project>/import/jobs/<job_id>")
def import_job(project: str, job_id: str) -> Response:
    return lro.job_state(IMPORT, valid_name(project, "project name"), None, job_id)


@bp.post("/projects/<project>/:export")
def export_project(project: str) -> Response:
    version = api_version()
    existing_project(project)
    index_type = request.args.get("stringIndexType")
    if index_type != "Utf16CodeUnit":
        raise invalid(
            "stringIndexType=Utf16CodeUnit is required: project files count offsets in UTF-16 code units",
            target="stringIndexType",
        )
    label = request.args.get("trainedModelLabel")
    if label is not None:
        if not version.export_of_trained_model:
            raise invalid(
                f"trainedModelLabel needs api-version 2022-10-01-preview or later, not {version.name}",
                target="trainedModelLabel",
            )
        if not (current().layout.model(project, valid_name(label, "trained model label")) / PROJECT_FILE).is_file():
            raise NotFound(
                f"The trained model {label!r} does not exist in project {project!r}.",
                code="NotFound",
                target="trainedModelLabel",
            )
    elif not (current().layout.data(project) / PROJECT_FILE).is_file():
        raise invalid(f"The project {project!r} has no data yet; import a project file first.", target="projectName")
    job_input = {"trainedModelLabel": label, "projectFileVersion": version.name, "hostUrl": request.host_url}
    return lro.start(EXPORT, project, project, job_input, jobs=f"projects/{project}/export/jobs", version=version)


def run_export(resource: Resource, context: JobContext) -> None:
    label = context.input["trainedModelLabel"]
    layout = resource.layout
    folder = layout.model(context.project, label) if label else layout.data(context.project)
    file = json.loads((folder / PROJECT_FILE).read_text(encoding="utf-8"))
    file["projectFileVersion"] = context.input["projectFileVersion"]
    result = layout.export_result(context.project, context.job_id)
    result.parent.mkdir(parents=True, exist_ok=True)
    result.write_text(json.dumps(file, ensure_ascii=False), encoding="utf-8")
    path = f"{bp.url_prefix}/projects/{context.project}/export/jobs/{context.job_id}/result"
    version = context.input["projectFileVersion"]
    context.update(resultUrl=f"{context.input['hostUrl'].rstrip('/')}{path}?api-version={version}")


@bp.get("/projects/<project>/export/jobs/<job_id>")
def export_job(project: str, job_id: str) -> Response:
    return lro.job_state(EXPORT, valid_name(project, "project name"), None, job_id)


@bp.get("/projects/<project>/export/jobs/<job_id>/result")
def export_result(project: str, job_id: str) -> Response:
    job = lro.existing_job(EXPORT, valid_name(project, "project name"), None, job_id)
    path = current().layout.export_result(project, job["body"]["jobId"])
    if not path.is_file():
        raise NotFound(
            f"There is no finished export job {job_id!r} in project {project!r}.",
            code="NotFound",
            inner="OperationNotFound",
        )
    return jsonify(json.loads(path.read_text(encoding="utf-8")))
