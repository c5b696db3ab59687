"""Deployments: PUT (LRO), get, list, delete (LRO) and ``:swap`` (LRO).

A deployment names the trained model it serves by ``modelId``; the fields it shows come from that model
when it was deployed, so retraining a label does not silently change a deployment until it is redeployed.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from emulator.web.errors import Conflict, invalid

from ..clock import iso
from ..jobs import JobContext, JobFailedError
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
    trained_model_label,
    valid_name,
)

DEPLOY, SWAP = "deployment", "swap"
MAX_DEPLOYMENTS = {"F0": 1, "S": 10}


def deployment_json(deployment: dict[str, Any], version: ApiVersion) -> dict[str, Any]:
    """A stored deployment as ``version`` shows it (``assignedResources`` from 2023-04-15-preview)."""
    if version.assigned_resources:
        return {**deployment, "assignedResources": deployment.get("assignedResources", [])}
    return {k: v for k, v in deployment.items() if k != "assignedResources"}


@bp.get("/projects/<project>/deployments")
def list_deployments(project: str) -> dict[str, Any]:
    return listing_page(DEPLOYMENT, project, api_version(), deployment_json)


@bp.get("/projects/<project>/deployments/<name>")
def get_deployment(project: str, name: str) -> dict[str, Any]:
    return deployment_json(existing_in_project(DEPLOYMENT, project, name, "deployment"), api_version())


@bp.put("/projects/<project>/deployments/<name>")
def deploy(project: str, name: str) -> Response:
    version = api_version()
    existing_project(project)
    valid_name(name, "deployment name")
    label = trained_model_label(project, json_object(), "deploy", ("trainedModelLabel",))
    resource = current()
    deployments = resource.store.listing(DEPLOYMENT, project)
    limit = MAX_DEPLOYMENTS[resource.config.tier]
    if len(deployments) >= limit and all(d["deploymentName"] != name for d in deployments):
        raise Conflict(
            f"A {resource.config.tier} resource allows {limit} deployment(s) per project; delete one "
            "or redeploy an existing name.",
            code="QuotaExceeded",
        )
    return lro.start(
        DEPLOY,
        project,
        name,
        {"action": "deploy", "trainedModelLabel": label},
        jobs=f"projects/{project}/deployments/{name}/jobs",
        version=version,
    )


@bp.delete("/projects/<project>/deployments/<name>")
def delete_deployment(project: str, name: str) -> Response:
    version = api_version()
    existing_project(project)
    existing(DEPLOYMENT, project, name, "deployment")
    return lro.start(
        DEPLOY, project, name, {"action": "delete"}, jobs=f"projects/{project}/deployments/{name}/jobs", version=version
    )


@bp.post("/projects/<project>/deployments/:swap")
def swap(project: str) -> Response:
    version = api_version()
    existing_project(project)
    body = json_object()
    names = [body.get("firstDeploymentName"), body.get("secondDeploymentName")]
    for field, value in zip(("firstDeploymentName", "secondDeploymentName"), names, strict=True):
        if not isinstance(value, str):
            raise invalid(f"{field} is required", target=field)
        existing(DEPLOYMENT, project, value, "deployment")
    if names[0] == names[1]:
        raise invalid("firstDeploymentName and secondDeploymentName must differ", target="secondDeploymentName")
    return lro.start(
        SWAP,
        project,
        SWAP,
        {"first": names[0], "second": names[1]},
        jobs=f"projects/{project}/deployments/swap/jobs",
        version=version,
    )


@bp.get("/projects/<project>/deployments/<name>/jobs/<job_id>")
def deployment_job(project: str, name: str, job_id: str) -> Response:
    valid_name(project, "project name")
    if name == SWAP:
        return lro.job_state(SWAP, project, SWAP, job_id)
    return lro.job_state(DEPLOY, project, valid_name(name, "deployment name"), job_id)


def run_deployment(resource: Resource, context: JobContext) -> None:
    store, name = resource.store, context.scope
    if context.input["action"] == "delete":
        store.delete(DEPLOYMENT, context.project, name)
        return
    label = context.input["trainedModelLabel"]
    model = store.get(MODEL, context.project, label)
    if model is None:
        raise JobFailedError(
            [{"code": "NotFound", "message": f"The trained model {label!r} was deleted before deploying."}]
        )
    now = resource.clock.now()
    deployment = {
        "deploymentName": name,
        "modelId": model["modelId"],
        "lastTrainedDateTime": model["lastTrainedDateTime"],
        "lastDeployedDateTime": iso(now),
        "deploymentExpirationDate": model["modelExpirationDate"],
        "modelTrainingConfigVersion": model["modelTrainingConfigVersion"],
        "assignedResources": [],
    }
    store.put(DEPLOYMENT, context.project, name, deployment, created=now.timestamp())
    stamp_project(store, context.project, "lastDeployedDateTime", now)


def run_swap(resource: Resource, context: JobContext) -> None:
    store = resource.store
    first = store.get(DEPLOYMENT, context.project, context.input["first"])
    second = store.get(DEPLOYMENT, context.project, context.input["second"])
    if first is None or second is None:
        raise JobFailedError([{"code": "NotFound", "message": "A deployment to swap was deleted before the swap ran."}])
    served = ("modelId", "lastTrainedDateTime", "deploymentExpirationDate", "modelTrainingConfigVersion")
    now = iso(resource.clock.now())
    store.put(
        DEPLOYMENT,
        context.project,
        first["deploymentName"],
        {**first, **{k: second[k] for k in served}, "lastDeployedDateTime": now},
    )
    store.put(
        DEPLOYMENT,
        context.project,
        second["deploymentName"],
        {**second, **{k: first[k] for k in served}, "lastDeployedDateTime": now},
    )
