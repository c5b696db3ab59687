"""The prediction API's routes (azure-contract.md §2): submit, read and cancel jobs; the synchronous call
refused for custom tasks.

A poll of an unfinished job waits up to ``POLL_HOLD`` seconds for it to finish before answering: a
one-document job is done within a few milliseconds, so a client's first poll (Microsoft's SDK sends it at
once after the 202) usually gets the result instead of waiting out its 5-second polling interval.
Unfinished answers also carry a short ``Retry-After``, which the SDKs honour.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from emulator.web.bodies import read_json
from emulator.web.errors import BadRequest, NotFound

from ..runtime import current
from .jobs import AnalyzeJob
from .request import CUSTOM_NER, MAX_BODY_BYTES, parse_job
from .results import job_state
from .versions import runtime_version

bp = Blueprint("analyze", __name__, url_prefix="/language")

POLL_HOLD = 0.25
POLL_RETRY_AFTER = "0.1"


def _job_url(job_id: str) -> str:
    """Absolute, from the Host the client used (werkzeug's ``host_url`` costs more than the job itself)."""
    return f"{request.scheme}://{request.host}{request.root_path}/language/analyze-text/jobs/{job_id}"


def _accepted(job: AnalyzeJob, version: str) -> Response:
    response = Response(status=202)
    response.headers["Operation-Location"] = f"{_job_url(job.job_id)}?api-version={version}"
    return response


def _existing(job_id: str) -> AnalyzeJob:
    job = current().jobs.get(job_id)
    if job is None:
        raise NotFound(
            f"Job {job_id!r} does not exist: it was never created here, or it expired (jobs are kept 24 hours)",
            code="NotFound",
            target="jobId",
        )
    return job


@bp.post("/analyze-text/jobs")
def submit_job() -> Response:
    version = runtime_version()
    runtime = current()
    runtime.require_serving()
    job_input = parse_job(read_json(MAX_BODY_BYTES), version, runtime.settings.project_name)
    return _accepted(runtime.jobs.submit(job_input), version.name)


@bp.get("/analyze-text/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    version = runtime_version()
    jobs = current().jobs
    job = _existing(job_id)
    jobs.wait(job, POLL_HOLD)
    job = jobs.snapshot(job)
    response = jsonify(job_state(job, version.name, _job_url(job.job_id)))
    if not job.finished:
        response.headers["Retry-After"] = POLL_RETRY_AFTER
    return response


@bp.post("/analyze-text/jobs/<job_id>:cancel")
def cancel_job(job_id: str) -> Response:
    version = runtime_version()
    job = _existing(job_id)
    current().jobs.cancel(job)
    return _accepted(job, version.name)


@bp.post("/:analyze-text")
def analyze_text() -> Response:
    """Azure has no synchronous Custom NER call in any version: every kind is refused with where to go."""
    runtime_version()
    body = read_json(MAX_BODY_BYTES, optional=True)
    kind = body.get("kind") if isinstance(body, dict) else None
    raise BadRequest(
        f"The synchronous analyze-text call does not run {kind or 'this task'}: the Custom NER container serves "
        f"{CUSTOM_NER} as a job only; POST /language/analyze-text/jobs",
        inner="InvalidParameterValue",
        target="kind",
    )
