"""Training jobs and trained models: ``:train``, training job state, cancel, models and their evaluation.

A training job runs the real engine in a subprocess (``training_worker``) on a copy of the project's data,
writing into a staging folder that replaces ``projects/<p>/models/<label>`` only when training and
evaluation succeeded; a cancelled or failed job leaves the previous model untouched. The job's ``result``
follows the recorded service: ``trainingStatus`` runs to 100 %, then ``evaluationStatus``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import deque
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Response, jsonify, request

from emulator.ner import TRAINING_CONFIG_VERSIONS, EngineError, EvaluationOptions, SplitKind
from emulator.ner.artifact import staged_directory
from emulator.web.errors import BadRequest, Conflict, invalid

from ..clock import iso
from ..jobs import JobContext, JobFailedError
from ..layout import PROJECT_FILE, RESULTS, SUMMARY
from ..paging import page
from ..resource import Resource, current
from ..versions import ApiVersion
from . import lro
from .blueprint import (
    DEPLOYMENT,
    MODEL,
    api_version,
    bp,
    existing,
    existing_in_project,
    existing_project,
    json_object,
    listing_page,
    stamp_project,
    valid_name,
)
from .catalog import MODEL_EXPIRATION_DATE

TRAIN = "train"
MAX_MODELS = 10
LATEST = "latest"


class _CancelledError(Exception):
    """Unwinds a cancelled training through the staging folder, which then vanishes."""


def model_json(model: dict[str, Any], version: ApiVersion) -> dict[str, Any]:
    """A stored model as ``version`` shows it (``hasSnapshot`` from 2023-04-01)."""
    return model if version.has_snapshot else {k: v for k, v in model.items() if k != "hasSnapshot"}


def _evaluation_options(body: dict[str, Any]) -> dict[str, Any]:
    options = body.get("evaluationOptions") or {}
    if not isinstance(options, dict):
        raise invalid("evaluationOptions must be an object", target="evaluationOptions")
    kind = options.get("kind", SplitKind.PERCENTAGE.value)
    if kind not in {k.value for k in SplitKind}:
        raise invalid(
            f"evaluationOptions.kind must be 'percentage' or 'manual', not {kind!r}", target="evaluationOptions.kind"
        )
    train, test = options.get("trainingSplitPercentage", 80), options.get("testingSplitPercentage", 20)
    if not (isinstance(train, int) and isinstance(test, int)) or isinstance(train, bool) or isinstance(test, bool):
        raise invalid("trainingSplitPercentage and testingSplitPercentage must be integers", target="evaluationOptions")
    try:
        EvaluationOptions(SplitKind(kind), train, test)
    except EngineError as exc:
        raise invalid(str(exc), target="evaluationOptions") from exc
    return {"kind": kind, "trainingSplitPercentage": train, "testingSplitPercentage": test}


@bp.post("/projects/<project>/:train")
def train(project: str) -> Response:
    version = api_version()
    existing_project(project)
    body = json_object()
    label = body.get("modelLabel")
    if not isinstance(label, str):
        raise invalid("modelLabel is required: the label the trained model will have", target="modelLabel")
    valid_name(label, "model label")
    config = body.get("trainingConfigVersion")
    config = TRAINING_CONFIG_VERSIONS[-1] if config == LATEST else config
    if config not in TRAINING_CONFIG_VERSIONS:
        raise invalid(
            f"trainingConfigVersion {config!r} is not available for Custom NER; use one of "
            f"{', '.join(TRAINING_CONFIG_VERSIONS)} (see global/training-config-versions)",
            target="trainingConfigVersion",
        )
    evaluation = _evaluation_options(body)
    if not (current().layout.data(project) / PROJECT_FILE).is_file():
        raise invalid(
            f"The project {project!r} has no labelled data; import a project file first.", target="projectName"
        )
    resource = current()
    if any(job["status"] in ("notStarted", "running", "cancelling") for job in resource.jobs.of_kind(TRAIN, project)):
        raise Conflict(
            f"A training job is already running in project {project!r}; wait for it or cancel it.", code="Conflict"
        )
    models = resource.store.listing(MODEL, project)
    if len(models) >= MAX_MODELS and all(m["label"] != label for m in models):
        raise BadRequest(
            f"Project {project!r} already has {MAX_MODELS} trained models, the most allowed; "
            "delete one or retrain an existing label.",
            code="QuotaExceeded",
        )
    result = {
        "modelLabel": label,
        "trainingConfigVersion": config,
        "trainingStatus": {"percentComplete": 0, "status": "notStarted"},
        "evaluationStatus": {"percentComplete": 0, "status": "notStarted"},
    }
    job_input = {"modelLabel": label, "trainingConfigVersion": config, "evaluationOptions": evaluation}
    return lro.start(
        TRAIN, project, label, job_input, result=result, jobs=f"projects/{project}/train/jobs", version=version
    )


class _Progress:
    """The job's ``result`` as training goes, sent whole on each change (updates merge one level deep)."""

    def __init__(self, context: JobContext, clock: Any) -> None:
        self._context = context
        self._clock = clock
        self._began = time.monotonic()
        self.started = clock.now()
        self.training: dict[str, Any] = {"percentComplete": 0, "startDateTime": iso(self.started), "status": "running"}
        self.evaluation: dict[str, Any] = {"percentComplete": 0, "status": "notStarted"}
        self._send()

    def _send(self, **extra: Any) -> None:
        self._context.update(result={"trainingStatus": self.training, "evaluationStatus": self.evaluation, **extra})

    def event(self, event: dict[str, Any]) -> None:
        now = self._clock.now()
        if event.get("stage") == "training":
            percent = int(event.get("percent", 0))
            self.training["percentComplete"] = percent
            elapsed = time.monotonic() - self._began
            remaining = elapsed * (100 - percent) / percent if percent else elapsed * 100
            self._send(estimatedEndDateTime=iso(now + timedelta(seconds=remaining)))
        elif event.get("stage") == "evaluating":
            self.training.update(percentComplete=100, endDateTime=iso(now), status="succeeded")
            self.evaluation.update(startDateTime=iso(now), status="running")
            self._send()

    def evaluated(self) -> None:
        self.evaluation.update(percentComplete=100, endDateTime=iso(self._clock.now()), status="succeeded")
        self._send()


def run_training(resource: Resource, context: JobContext) -> None:
    label = context.input["modelLabel"]
    progress = _Progress(context, resource.clock)
    work = resource.layout.work(context.project, context.job_id)
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(resource.layout.data(context.project), work)
    model_id = f"{label}-{progress.started:%Y%m%dT%H%M%S}-{resource.ids.uuid().hex}"
    try:
        with staged_directory(resource.layout.model(context.project, label)) as staging:
            last = _run_worker(context, work, staging, model_id, progress)
            if last.get("stage") != "done":
                message = last.get("message", "training stopped unexpectedly")
                raise JobFailedError(
                    [
                        {
                            "code": "InvalidRequest",
                            "message": message,
                            "innererror": {"code": last.get("code", "TrainingFailed"), "message": message},
                        }
                    ]
                )
    except _CancelledError:
        return
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ended = resource.clock.now()
    model = {
        "label": label,
        "modelId": model_id,
        "lastTrainedDateTime": iso(ended),
        "lastTrainingDurationInSeconds": max(1, round((ended - progress.started).total_seconds())),
        "modelExpirationDate": MODEL_EXPIRATION_DATE,
        "modelTrainingConfigVersion": context.input["trainingConfigVersion"],
        "hasSnapshot": False,
    }
    resource.store.put(MODEL, context.project, label, model, created=ended.timestamp())
    stamp_project(resource.store, context.project, "lastTrainedDateTime", ended)
    progress.evaluated()


def _run_worker(context: JobContext, work: Path, staging: Path, model_id: str, progress: _Progress) -> dict[str, Any]:
    """Run the worker, turning its progress lines into job updates; returns its last event."""
    command = [
        sys.executable,
        "-m",
        "emulator.cloud.authoring.training_worker",
        "--data",
        str(work),
        "--out",
        str(staging),
        "--label",
        context.input["modelLabel"],
        "--config",
        context.input["trainingConfigVersion"],
        "--model-id",
        model_id,
        "--evaluation",
        json.dumps(context.input["evaluationOptions"]),
    ]
    last: dict[str, Any] = {}
    other: deque[str] = deque(maxlen=20)  # the end of anything else it printed (a traceback), for the error
    # One pipe for both streams: reading stdout while stderr fills a second pipe could deadlock the worker.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:  # noqa: S603
        context.on_cancel.append(process.kill)
        if context.cancelled.is_set():
            process.kill()
        assert process.stdout is not None
        for line in process.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = None
            if not isinstance(event, dict):
                other.append(line)
                continue
            last = event
            progress.event(last)
    if context.cancelled.is_set():
        raise _CancelledError
    if process.returncode != 0 and not last.get("message"):
        last = {"stage": "error", "message": f"the training process failed: {''.join(other).strip()[-500:]}"}
    return last


@bp.get("/projects/<project>/train/jobs")
def training_jobs(project: str) -> dict[str, Any]:
    version = api_version()
    existing_project(project)
    return page(current().jobs.of_kind(TRAIN, project), version)


@bp.get("/projects/<project>/train/jobs/<job_id>")
def training_job(project: str, job_id: str) -> Response:
    return lro.job_state(TRAIN, valid_name(project, "project name"), None, job_id)


@bp.post("/projects/<project>/train/jobs/<job_id>/:cancel")
def cancel_training(project: str, job_id: str) -> Response:
    """202 pointing at the training job, which ends ``cancelled`` (or as it was, if it had already ended)."""
    version = api_version()
    lro.existing_job(TRAIN, valid_name(project, "project name"), None, job_id)
    current().jobs.cancel(job_id)
    return lro.accepted(f"projects/{project}/train/jobs/{job_id}", version)


@bp.get("/projects/<project>/models")
def list_models(project: str) -> dict[str, Any]:
    return listing_page(MODEL, project, api_version(), model_json)


@bp.get("/projects/<project>/models/<label>")
def get_model(project: str, label: str) -> dict[str, Any]:
    return model_json(existing_in_project(MODEL, project, label, "trained model"), api_version())


@bp.delete("/projects/<project>/models/<label>")
def delete_model(project: str, label: str) -> tuple[str, int]:
    existing_project(project)
    model = existing(MODEL, project, label, "trained model")
    resource = current()
    deployed = [
        d["deploymentName"] for d in resource.store.listing(DEPLOYMENT, project) if d["modelId"] == model["modelId"]
    ]
    if deployed:
        raise Conflict(
            f"The trained model {label!r} is deployed as {', '.join(deployed)}; delete or redeploy "
            "those deployments first.",
            code="Conflict",
        )
    resource.store.delete(MODEL, project, label)
    shutil.rmtree(resource.layout.model(project, label), ignore_errors=True)
    return "", 204


def _evaluation_file(project: str, label: str, name: str) -> Any:
    existing_project(project)
    existing(MODEL, project, label, "trained model")
    return json.loads((current().layout.model(project, label) / name).read_text(encoding="utf-8"))


@bp.get("/projects/<project>/models/<label>/evaluation/summary-result")
def evaluation_summary(project: str, label: str) -> Response:
    return jsonify(_evaluation_file(project, label, SUMMARY))


@bp.get("/projects/<project>/models/<label>/evaluation/result")
def evaluation_results(project: str, label: str) -> dict[str, Any]:
    version = api_version()
    if request.args.get("stringIndexType") != "Utf16CodeUnit":
        raise invalid(
            "stringIndexType=Utf16CodeUnit is required: evaluation results count in UTF-16 code units",
            target="stringIndexType",
        )
    return page(_evaluation_file(project, label, RESULTS), version)
