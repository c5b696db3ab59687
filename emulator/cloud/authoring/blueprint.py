"""The authoring blueprint and what its handlers share: the api-version, names, bodies, the project lookup.

Handlers stay thin (parse, one backend step, serialize); the checks every one of them makes live here so
each rule is written once: the api-version is checked before any handler runs; names that become folder
names pass ``ner.naming.RESOURCE_NAME``; a body must be a JSON object; a project must exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, g

from emulator.ner import ProjectIssue, naming
from emulator.web.bodies import malformed, read_json
from emulator.web.errors import NotFound, invalid

from ..clock import iso
from ..paging import page
from ..resource import current
from ..store import Store
from ..versions import ApiVersion, requested_version

bp = Blueprint("authoring", __name__, url_prefix="/language/authoring/analyze-text")

Render = Callable[[dict[str, Any], ApiVersion], dict[str, Any]]
"""A stored resource shaped for the request's api-version."""


@bp.before_request
def _check_api_version() -> None:
    """Every authoring operation requires a served api-version (400 otherwise), checked here once."""
    g.api_version = requested_version()


def api_version() -> ApiVersion:
    """The request's api-version, already checked."""
    version: ApiVersion = g.api_version
    return version


PROJECT = "project"
MODEL = "model"
DEPLOYMENT = "deployment"
EXPORTED_MODEL = "exported-model"


def valid_name(name: str, what: str) -> str:
    """``name`` if it is a valid project/model/deployment name, else 400 quoting the rule."""
    if not naming.RESOURCE_NAME(name):
        raise invalid(naming.RESOURCE_NAME.explain(name, what), target=what.replace(" ", ""))
    return name


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or 400 (413 when too large) saying what is wrong with it."""
    body = read_json(current_app.config["MAX_CONTENT_LENGTH"])
    if not isinstance(body, dict):
        raise malformed("a JSON object", body)
    return body


def existing_project(project: str) -> dict[str, Any]:
    """The stored project, or 404 ProjectNotFound."""
    stored = current().store.get(PROJECT, "", valid_name(project, "project name"))
    if stored is None:
        raise NotFound(
            f"The project {project!r} does not exist; create it with PATCH or :import first.",
            code="ProjectNotFound",
            target="projectName",
        )
    return stored


def existing(kind: str, project: str, name: str, what: str) -> dict[str, Any]:
    """The stored ``kind`` resource of ``project``, or 404 naming it."""
    stored = current().store.get(kind, project, valid_name(name, what))
    if stored is None:
        raise NotFound(f"The {what} {name!r} does not exist in project {project!r}.", code="NotFound", target=what)
    return stored


def existing_in_project(kind: str, project: str, name: str, what: str) -> dict[str, Any]:
    """The stored ``kind`` resource ``name``: 404 ProjectNotFound for an unknown project, else 404 naming it."""
    existing_project(project)
    return existing(kind, project, name, what)


def _as_stored(resource: dict[str, Any], _version: ApiVersion) -> dict[str, Any]:
    return resource


def listing_page(kind: str, project: str, version: ApiVersion, render: Render = _as_stored) -> dict[str, Any]:
    """A page of ``project``'s ``kind`` resources, each shaped for ``version`` by ``render``; 404 for an unknown
    project (the list operations of models, deployments and exported models)."""
    existing_project(project)
    return page([render(r, version) for r in current().store.listing(kind, project)], version)


def trained_model_label(project: str, body: dict[str, Any], action: str, spellings: tuple[str, ...]) -> str:
    """The existing trained model a deploy or export body names (under any of ``spellings``), or 400/404."""
    label = next((body[k] for k in spellings if k in body), None)
    if not isinstance(label, str):
        raise invalid(
            f"trainedModelLabel is required: the label of the trained model to {action}", target="trainedModelLabel"
        )
    existing(MODEL, project, label, "trained model")
    return label


def stamp_project(store: Store, project: str, field: str, moment: datetime) -> None:
    """Set one of the project's timestamps (``lastTrainedDateTime``, ``lastDeployedDateTime``) atomically,
    unless the project was deleted while the job that stamps it ran."""
    store.modify(PROJECT, "", project, lambda stored: None if stored is None else {**stored, field: iso(moment)})


def issue_json(issue: ProjectIssue) -> dict[str, Any]:
    """A project-file problem as an Azure error detail."""
    return {
        "code": "InvalidRequest",
        "message": issue.message,
        "target": issue.target,
        "innererror": {"code": issue.code, "message": issue.message},
    }
