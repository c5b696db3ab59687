"""Long-running operations as the service answers them (azure-contract.md §5, sdk-clients.md §3.3).

Starting one answers 202 with no body, an absolute ``Operation-Location`` built from the request's own
scheme and host (a relative one breaks both SDKs), ``Retry-After``, and no ``Location`` header (azure-core
would make a final GET on it). A poll answers the job's ``JobState``, with ``Retry-After`` until it ends.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from emulator.web.errors import NotFound

from ..jobs import TERMINAL
from ..resource import current
from ..versions import ApiVersion
from .blueprint import bp


def job_url(path: str, version: ApiVersion) -> str:
    """The absolute URL of ``path`` under the authoring prefix, with the request's api-version."""
    return f"{request.host_url.rstrip('/')}{bp.url_prefix}/{path}?api-version={version.name}"


def _retry_after(response: Response) -> Response:
    response.headers["Retry-After"] = f"{current().config.retry_after:g}"
    return response


def accepted(path: str, version: ApiVersion) -> Response:
    """202 for a job whose status URL is ``path`` (relative to the authoring prefix)."""
    response = Response(status=202)
    response.headers["Operation-Location"] = job_url(path, version)
    return _retry_after(response)


def start(
    kind: str, project: str, scope: str, job_input: dict[str, Any], *, jobs: str, version: ApiVersion, **extra: Any
) -> Response:
    """Accept a job of ``kind`` and answer 202 pointing at ``{jobs}/{jobId}`` (``extra`` goes into its state)."""
    job = current().jobs.submit(kind, project, scope, job_input, **extra)
    return accepted(f"{jobs}/{job['jobId']}", version)


def existing_job(kind: str, project: str | None, scope: str | None, job_id: str) -> dict[str, Any]:
    """The job ``job_id`` if it is a ``kind`` job of ``project`` (any, if None) and ``scope``, else 404."""
    job = current().jobs.get(job_id)
    if (
        job is None
        or job["kind"] != kind
        or (project is not None and job["project"] != project)
        or (scope is not None and job["scope"] != scope)
    ):
        raise NotFound(
            f"There is no {kind} job {job_id!r} here (jobs expire after 7 days).",
            code="NotFound",
            inner="OperationNotFound",
            target="jobId",
        )
    return job


def job_state(kind: str, project: str | None, scope: str | None, job_id: str) -> Response:
    """200 with the job's state, or 404 when no such job exists here (or it expired)."""
    job = existing_job(kind, project, scope, job_id)
    response = jsonify(job["body"])
    return response if job["body"]["status"] in TERMINAL else _retry_after(response)
