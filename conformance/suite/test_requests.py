"""Requests and their errors: bodies, api-version, limits and keys (azure-contract §2.5, §4, §8)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.client import JobsClient, documented_error, error_of
from conformance.documents import DELETE, ERROR_REQUESTS, INVOICE, Send, error_answer, mutated

PARAMETERS = ("tasks", 0, "parameters")
INVALID_BODIES: dict[str, tuple[tuple[str | int, ...], Any]] = {
    "no analysisInput": (("analysisInput",), DELETE),
    "no documents": (("analysisInput", "documents"), DELETE),
    "documents not a list": (("analysisInput", "documents"), "text"),
    "empty documents": (("analysisInput", "documents"), []),
    "no document id": (("analysisInput", "documents", 0, "id"), DELETE),
    "no document text": (("analysisInput", "documents", 0, "text"), DELETE),
    "no tasks": (("tasks",), DELETE),
    "no task kind": (("tasks", 0, "kind"), DELETE),
    "no projectName": ((*PARAMETERS, "projectName"), DELETE),
    "no deploymentName": ((*PARAMETERS, "deploymentName"), DELETE),
    "unknown stringIndexType": ((*PARAMETERS, "stringIndexType"), "Bytes"),
}
"""A valid job body with the value at a path changed (or removed): what each change makes wrong."""


@pytest.mark.clause("errors/invalid-body")
@pytest.mark.parametrize(("path", "value"), INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_an_invalid_job_body_is_400_with_an_error_body(
    jobs: JobsClient, path: tuple[str | int, ...], value: Any
) -> None:
    answer = jobs.submit(mutated(jobs.body(INVOICE), path, value))
    error_of(answer, 400)
    assert "Operation-Location" not in answer.headers


@pytest.mark.clause("errors/invalid-body")
@pytest.mark.parametrize("body", [[], "analysisInput", 25, None], ids=["array", "string", "number", "null"])
def test_a_body_that_is_not_an_object_is_400(jobs: JobsClient, body: Any) -> None:
    error_of(jobs.submit(body), 400)


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


@pytest.mark.clause("errors/body-shape")
@pytest.mark.parametrize("send", ERROR_REQUESTS.values(), ids=ERROR_REQUESTS.keys())
def test_error_answers_have_the_documented_body_and_header(jobs: JobsClient, send: Send) -> None:
    answer = error_answer(jobs, send)
    documented_error(answer, answer.status_code)
