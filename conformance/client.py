"""A plain HTTP client of the prediction API, as the suite uses it: raw answers for protocol clauses, and
"submit and poll to the end" for clauses about results.

Deliberately not Microsoft's SDK: the suite must see status codes, headers and bodies the SDK hides, and must
judge a target whose answers the SDK would reject. Every wait has a deadline so a hanging target fails a
clause instead of the run (``TargetTimeoutError``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import requests

JOBS_PATH = "/language/analyze-text/jobs"
DEFAULT_VERSION = "2023-04-01"
TERMINAL = frozenset({"succeeded", "partiallyCompleted", "failed", "cancelled"})
STATES = TERMINAL | {"notStarted", "running", "cancelling"}
REQUEST_TIMEOUT = 30.0
JOB_TIMEOUT = 60.0
POLL_PAUSE = 0.05


class TargetTimeoutError(AssertionError):
    """The target did not answer, or a job did not end, within the suite's deadline (a clause failure)."""


class UnexpectedAnswerError(AssertionError):
    """An answer whose status the clause did not allow; the message shows the status and the body."""


def describe(answer: requests.Response) -> str:
    return f"{answer.request.method} {answer.url} -> {answer.status_code}: {answer.text[:500]}"


class JobsClient:
    """The prediction API of the container at ``base_url`` for one project and deployment.

    :param base_url: e.g. ``http://127.0.0.1:5000`` (no trailing slash).
    :param project: the ``projectName`` the container serves.
    :param deployment: the ``deploymentName`` requests name (the container serves its exported model under
        any deployment name the cloud would accept; ours and Microsoft's both take ``production``).
    """

    def __init__(self, base_url: str, project: str, deployment: str, version: str = DEFAULT_VERSION) -> None:
        self.base_url = base_url.rstrip("/")
        self.project = project
        self.deployment = deployment
        self.version = version
        self.session = requests.Session()

    # Building requests ---------------------------------------------------------------------------------------------

    def task(self, **parameters: Any) -> dict[str, Any]:
        """A Custom NER task of the served project; ``parameters`` add to or override its parameters."""
        return {
            "kind": "CustomEntityRecognition",
            "taskName": "conformance",
            "parameters": {"projectName": self.project, "deploymentName": self.deployment, **parameters},
        }

    def body(self, *texts: str, language: str | None = "en", **parameters: Any) -> dict[str, Any]:
        """A job of ``texts`` (ids "0", "1", ...) with one Custom NER task."""
        documents = [
            {"id": str(number), "text": text, **({"language": language} if language else {})}
            for number, text in enumerate(texts)
        ]
        return {"analysisInput": {"documents": documents}, "tasks": [self.task(**parameters)]}

    def url(self, path: str = JOBS_PATH) -> str:
        return self.base_url + path

    def get_job(self, job_id: str) -> requests.Response:
        """GET the job ``job_id`` (raw: the clause decides which statuses it allows)."""
        return self.request("GET", self.url(f"{JOBS_PATH}/{job_id}"), params=self.version_query())

    def cancel(self, job_id: str) -> requests.Response:
        """POST ``{jobId}:cancel`` (raw)."""
        return self.request("POST", self.url(f"{JOBS_PATH}/{job_id}:cancel"), params=self.version_query())

    def version_query(self, version: str | None = None) -> dict[str, str]:
        """The ``api-version`` query of ``version``, or of the client's own."""
        return {"api-version": version or self.version}

    # Raw calls -------------------------------------------------------------------------------------------------

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange with a deadline; a silent target is a TargetTimeoutError, not a hang."""
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        try:
            return self.session.request(method, url, **kwargs)
        except requests.Timeout as exc:
            raise TargetTimeoutError(f"{method} {url}: no answer within {kwargs['timeout']} s") from exc

    def submit(self, body: Any, version: str | None = None, **kwargs: Any) -> requests.Response:
        """POST the job ``body`` (any JSON value) with ``api-version`` (``version``, or the client's)."""
        return self.request("POST", self.url(), params=self.version_query(version), json=body, **kwargs)

    def accepted(self, body: Any, version: str | None = None) -> str:
        """Submit and return the Operation-Location; anything but 202 is an UnexpectedAnswerError."""
        answer = self.submit(body, version)
        if answer.status_code != 202:
            raise UnexpectedAnswerError(f"expected 202 for a valid job: {describe(answer)}")
        location = answer.headers.get("Operation-Location")
        if not location:
            raise UnexpectedAnswerError(f"202 without Operation-Location: {describe(answer)}")
        return location

    def states(
        self, location: str, params: dict[str, str] | None = None, timeout: float = JOB_TIMEOUT
    ) -> Iterator[Any]:
        """Every answer of GET ``location`` (with extra query ``params``), in order, until the job is terminal
        (the terminal one last); every answer must be 200 with a JSON body."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.request("GET", location, params=params)
            if answer.status_code != 200:
                raise UnexpectedAnswerError(f"polling a job: {describe(answer)}")
            job = json_of(answer)
            yield job
            status = job.get("status") if isinstance(job, dict) else None
            if status in TERMINAL:
                return
            if time.monotonic() > deadline:
                raise TargetTimeoutError(f"job at {location} still {status!r} after {timeout:g} s")
            time.sleep(POLL_PAUSE)

    def poll(self, location: str, params: dict[str, str] | None = None, timeout: float = JOB_TIMEOUT) -> dict[str, Any]:
        """The job's terminal state (``states``' last answer); an answer that is not a JSON object fails."""
        for job in self.states(location, params, timeout):
            if not isinstance(job, dict):
                raise UnexpectedAnswerError(f"a job answer is not a JSON object: {str(job)[:300]}")
        return dict(job)

    def run(self, body: Any, version: str | None = None, **params: str) -> dict[str, Any]:
        """Submit ``body`` and poll it to its end; the final job state."""
        return self.poll(self.accepted(body, version), params)

    def close(self) -> None:
        self.session.close()


def json_of(answer: requests.Response) -> Any:
    """The answer's JSON body; a body that is not JSON is an UnexpectedAnswerError showing it."""
    try:
        return answer.json()
    except ValueError:
        raise UnexpectedAnswerError(f"the answer is not JSON: {describe(answer)}") from None


def results(job: dict[str, Any]) -> dict[str, Any]:
    """The ``results`` of the job's single Custom NER task."""
    items = job["tasks"]["items"]
    assert len(items) == 1, f"one task submitted, {len(items)} answered"
    return dict(items[0]["results"])


def error_of(answer: requests.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    """The ``error`` object of an error answer whose status is ``status`` (or one of them)."""
    allowed = (status,) if isinstance(status, int) else status
    if answer.status_code not in allowed:
        raise UnexpectedAnswerError(f"expected {' or '.join(map(str, allowed))}: {describe(answer)}")
    body = json_of(answer)
    assert isinstance(body, dict), f"error body is not an object: {answer.text[:300]}"
    assert isinstance(body.get("error"), dict), f"error body has no error object: {answer.text[:300]}"
    return dict(body["error"])


def documented_error(answer: requests.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    """``error_of``, and the body's code and message are non-empty strings whose code is also the
    ``x-ms-error-code`` header (clause errors/body-shape)."""
    error = error_of(answer, status)
    for field in ("code", "message"):
        assert isinstance(error.get(field), str), f"error.{field} is not a string: {error}"
        assert error[field], f"error.{field} is empty: {error}"
    assert answer.headers.get("x-ms-error-code") == error["code"], (
        f"x-ms-error-code {answer.headers.get('x-ms-error-code')!r} is not error.code {error['code']!r}"
    )
    return error
