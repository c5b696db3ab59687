"""Requests and their errors: bodies, api-version, limits and keys (azure-contract §2.5, §4, §8)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import requests

from conformance.client import JobsClient, documented_error, error_of
from conformance.documents import INVOICE, UNKNOWN_JOB

Change = Callable[[dict[str, Any]], Any]


def _drop(*path: str | int) -> Change:
    """A change that removes the field at ``path`` from a valid job body."""

    def change(body: dict[str, Any]) -> Any:
        parent: Any = body
        for part in path[:-1]:
            parent = parent[part]
        del parent[path[-1]]
        return body

    return change


def _set(value: Any, *path: str | int) -> Change:
    def change(body: dict[str, Any]) -> Any:
        parent: Any = body
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = value
        return body

    return change


INVALID_BODIES: dict[str, Change] = {
    "no analysisInput": _drop("analysisInput"),
    "no documents": _drop("analysisInput", "documents"),
    "documents not a list": _set("text", "analysisInput", "documents"),
    "no document id": _drop("analysisInput", "documents", 0, "id"),
    "no document text": _drop("analysisInput", "documents", 0, "text"),
    "no tasks": _drop("tasks"),
    "no task kind": _drop("tasks", 0, "kind"),
    "no projectName": _drop("tasks", 0, "parameters", "projectName"),
    "no deploymentName": _drop("tasks", 0, "parameters", "deploymentName"),
    "unknown stringIndexType": _set("Bytes", "tasks", 0, "parameters", "stringIndexType"),
    "a JSON array": lambda body: [body],
    "a JSON string": lambda body: "analysisInput",
    "empty documents": _set([], "analysisInput", "documents"),
}


@pytest.mark.clause("errors/invalid-body")
@pytest.mark.parametrize("change", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_an_invalid_job_body_is_400_with_an_error_body(jobs: JobsClient, change: Change) -> None:
    answer = jobs.submit(change(copy.deepcopy(jobs.body(INVOICE))))
    error_of(answer, 400)
    assert "Operation-Location" not in answer.headers


@pytest.mark.clause("errors/invalid-body")
def test_a_body_that_is_not_json_is_400(jobs: JobsClient) -> None:
    answer = jobs.request(
        "POST",
        jobs.url(),
        params=jobs.version_query(),
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    error_of(answer, 400)


@pytest.mark.clause("errors/unknown-path")
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/language/no-such-thing"), ("DELETE", "/language/analyze-text/jobs"), ("PUT", "/ready")],
)
def test_unknown_paths_and_methods_are_4xx(jobs: JobsClient, method: str, path: str) -> None:
    answer = jobs.request(method, jobs.url(path), params=jobs.version_query())
    assert 400 <= answer.status_code < 500, f"{method} {path} -> {answer.status_code}"


@pytest.mark.clause("api-version/required")
@pytest.mark.parametrize("version", [None, "", "2099-01-01", "latest"])
def test_a_missing_or_unknown_api_version_is_400(jobs: JobsClient, version: str | None) -> None:
    params = {} if version is None else {"api-version": version}
    error_of(jobs.request("POST", jobs.url(), params=params, json=jobs.body(INVOICE)), 400)


@pytest.mark.clause("limits/documents-per-request")
def test_25_documents_are_accepted_and_26_refused_whole(jobs: JobsClient) -> None:
    jobs.run(jobs.body(*["Invoice"] * 25))
    error_of(jobs.submit(jobs.body(*["Invoice"] * 26)), 400)


@pytest.mark.clause("limits/characters-per-request")
def test_125000_characters_are_accepted_and_one_more_refused_whole(jobs: JobsClient) -> None:
    texts = ["a" * 5000] * 25
    jobs.run(jobs.body(*texts))
    error_of(jobs.submit(jobs.body(*texts[:-1], "a" * 5001)), 400)


@pytest.mark.clause("limits/request-size")
def test_a_body_over_1_mb_is_refused_with_an_error_body(jobs: JobsClient) -> None:
    body = jobs.body("Invoice")
    body["displayName"] = "x" * (1024 * 1024 + 1)
    error_of(jobs.submit(body), tuple(range(400, 500)))


@pytest.mark.clause("auth/no-request-key")
@pytest.mark.parametrize("headers", [{}, {"Ocp-Apim-Subscription-Key": "not-the-key"}], ids=["no key", "other key"])
def test_prediction_needs_no_request_key(jobs: JobsClient, headers: dict[str, str]) -> None:
    answer = jobs.submit(jobs.body(INVOICE), headers=headers)
    assert answer.status_code == 202, answer.text[:300]
    jobs.poll(answer.headers["Operation-Location"])


ERROR_REQUESTS: dict[str, Callable[[JobsClient], requests.Response]] = {
    "unknown job": lambda jobs: jobs.get_job(UNKNOWN_JOB),
    "invalid body": lambda jobs: jobs.submit({"analysisInput": {}}),
    "missing api-version": lambda jobs: jobs.request("POST", jobs.url(), json=jobs.body(INVOICE)),
    "26 documents": lambda jobs: jobs.submit(jobs.body(*["Invoice"] * 26)),
    "unknown path": lambda jobs: jobs.request("GET", jobs.url("/language/no-such-thing"), params=jobs.version_query()),
}


@pytest.mark.clause("errors/body-shape")
@pytest.mark.parametrize("send", ERROR_REQUESTS.values(), ids=ERROR_REQUESTS.keys())
def test_error_answers_have_the_documented_body_and_header(
    jobs: JobsClient, send: Callable[[JobsClient], requests.Response]
) -> None:
    answer = send(jobs)
    if answer.status_code < 400:
        pytest.skip(f"answered {answer.status_code}, not an error: whether it should is another clause's matter")
    documented_error(answer, answer.status_code)
