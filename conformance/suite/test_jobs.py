"""Jobs: submit, poll, results, paging, statistics, cancel (azure-contract §2.1–§2.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from conformance.client import STATES, TERMINAL, JobsClient, error_of, results
from conformance.documents import INVOICE, UNKNOWN_JOB, UNSUPPORTED_LANGUAGE

GA_VERSIONS = ("2022-05-01", "2023-04-01")


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _answered_ids(job: dict[str, Any]) -> list[str]:
    found = results(job)
    return [document["id"] for document in found["documents"]] + [error["id"] for error in found["errors"]]


@pytest.mark.clause("jobs/submit-accepted", "api-version/ga-versions")
@pytest.mark.parametrize("version", GA_VERSIONS)
def test_submit_answers_202_with_an_absolute_operation_location(jobs: JobsClient, version: str) -> None:
    answer = jobs.submit(jobs.body(INVOICE), version)
    assert answer.status_code == 202, answer.text[:300]
    assert answer.content == b"", f"a 202 has an empty body, got {answer.text[:200]!r}"
    location = answer.headers.get("Operation-Location", "")
    parts = urlsplit(location)
    assert parts.scheme in ("http", "https"), f"Operation-Location is not absolute: {location!r}"
    assert parts.netloc, f"Operation-Location has no host: {location!r}"
    assert parts.path.startswith("/language/analyze-text/jobs/"), location
    assert parse_qs(parts.query).get("api-version") == [version], location
    jobs.poll(location)


@pytest.mark.clause("jobs/state-shape", "jobs/terminal-state", "jobs/task-result")
def test_a_finished_job_has_the_fields_clients_need(jobs: JobsClient) -> None:
    body = jobs.body(INVOICE)
    body["displayName"] = "conformance"
    location = jobs.accepted(body)
    job = jobs.poll(location)
    assert job["status"] == "succeeded", job
    assert job["jobId"] in location, (job["jobId"], location)
    # The spec's job-level lastUpdatedDateTime; the real service spells it lastUpdateDateTime (recordings).
    updated = job.get("lastUpdatedDateTime", job.get("lastUpdateDateTime"))
    assert updated is not None, f"no lastUpdatedDateTime (nor lastUpdateDateTime): {sorted(job)}"
    assert _when(updated) >= _when(job["createdDateTime"])
    counters = job["tasks"]
    assert (counters["total"], counters["completed"], counters["failed"], counters["inProgress"]) == (1, 1, 0, 0)
    [item] = counters["items"]
    assert item["kind"] == "CustomEntityRecognitionLROResults"
    assert item["taskName"] == "conformance"
    assert item["status"] == "succeeded"
    _when(item["lastUpdateDateTime"])
    assert item["results"]["projectName"] == jobs.project
    assert item["results"]["deploymentName"] == jobs.deployment
    again = jobs.request("GET", location).json()
    assert again["status"] == "succeeded", "a terminal status must not change"


@pytest.mark.clause("jobs/terminal-state", "jobs/poll-retry-after")
def test_every_poll_answers_a_known_state_and_a_usable_retry_after(jobs: JobsClient) -> None:
    location = jobs.accepted(jobs.body(*[INVOICE] * 10))
    seen = []
    for _ in range(400):
        answer = jobs.request("GET", location)
        assert answer.status_code == 200, answer.text[:300]
        job = answer.json()
        assert job["status"] in STATES, job["status"]
        counters = job["tasks"]
        assert counters["completed"] + counters["failed"] + counters["inProgress"] == counters["total"], counters
        if "Retry-After" in answer.headers:
            assert float(answer.headers["Retry-After"]) >= 0, answer.headers["Retry-After"]
        seen.append(job["status"])
        if job["status"] in TERMINAL:
            break
    assert seen[-1] == "succeeded", seen


@pytest.mark.clause("jobs/one-answer-per-document", "jobs/document-errors")
def test_a_bad_document_is_a_document_error_and_the_others_are_answered(jobs: JobsClient) -> None:
    body = jobs.body(INVOICE, "", INVOICE)
    body["analysisInput"]["documents"].append({"id": "x", "text": INVOICE, "language": UNSUPPORTED_LANGUAGE})
    job = jobs.run(body)
    assert job["status"] in ("succeeded", "partiallyCompleted"), job
    found = results(job)
    assert sorted(_answered_ids(job)) == ["0", "1", "2", "x"]
    errors = {error["id"]: error["error"] for error in found["errors"]}
    assert set(errors) == {"1", "x"}, found["errors"]
    assert all(error["code"] and error["message"] for error in errors.values()), errors
    assert {document["id"] for document in found["documents"]} == {"0", "2"}


@pytest.mark.clause("jobs/show-stats")
def test_show_stats_adds_request_and_document_statistics(jobs: JobsClient) -> None:
    job = jobs.run(jobs.body(INVOICE, "x" * 2500, ""), showStats="true")
    found = results(job)
    statistics = found["statistics"]
    assert statistics["documentsCount"] == 3
    assert statistics["validDocumentsCount"] == 2
    assert statistics["erroneousDocumentsCount"] == 1
    assert statistics["transactionsCount"] >= 1
    by_id = {document["id"]: document["statistics"] for document in found["documents"]}
    assert by_id["0"]["charactersCount"] == len(INVOICE)
    assert by_id["1"]["charactersCount"] == 2500
    assert all(stats["transactionsCount"] >= 1 for stats in by_id.values())


@pytest.mark.clause("jobs/paging")
def test_top_and_skip_page_the_documents_and_next_link_leads_to_the_rest(jobs: JobsClient) -> None:
    location = jobs.accepted(jobs.body(*[f"{INVOICE} ({n})" for n in range(7)]))
    jobs.poll(location)
    first = jobs.poll(location, {"top": "3", "skip": "2"})
    assert [d["id"] for d in results(first)["documents"]] == ["2", "3", "4"]
    page = jobs.poll(location, {"top": "3"})
    collected = [d["id"] for d in results(page)["documents"]]
    while "nextLink" in page:
        link = page["nextLink"]
        assert urlsplit(link).scheme in ("http", "https"), f"nextLink is not absolute: {link!r}"
        page = jobs.poll(link)
        collected += [d["id"] for d in results(page)["documents"]]
        assert len(collected) <= 7, collected
    assert collected == [str(n) for n in range(7)]


@pytest.mark.clause("jobs/expiration")
def test_a_job_states_when_it_expires(jobs: JobsClient) -> None:
    job = jobs.run(jobs.body(INVOICE))
    assert "expirationDateTime" in job, sorted(job)
    assert _when(job["expirationDateTime"]) > _when(job["createdDateTime"])


@pytest.mark.clause("jobs/unknown-job")
def test_an_unknown_job_is_404(jobs: JobsClient) -> None:
    error_of(jobs.get_job(UNKNOWN_JOB), 404)


@pytest.mark.clause("jobs/cancel")
def test_cancel_answers_202_and_the_job_ends_cancelled_or_as_it_was(jobs: JobsClient) -> None:
    location = jobs.accepted(jobs.body(*[INVOICE] * 25))
    job_path = urlsplit(location).path
    answer = jobs.cancel(job_path.rsplit("/", 1)[-1])
    assert answer.status_code == 202, answer.text[:300]
    assert urlsplit(answer.headers.get("Operation-Location", "")).path == job_path, answer.headers
    job = jobs.poll(location)
    assert job["status"] in ("cancelled", "succeeded"), job["status"]


@pytest.mark.clause("jobs/cancel", "jobs/unknown-job")
def test_cancelling_an_unknown_job_is_404(jobs: JobsClient) -> None:
    error_of(jobs.cancel(UNKNOWN_JOB), 404)


@pytest.mark.clause("jobs/sync-refuses-custom")
def test_the_synchronous_call_refuses_a_custom_entity_task(jobs: JobsClient) -> None:
    body = {"kind": "CustomEntityRecognition", "analysisInput": jobs.body(INVOICE)["analysisInput"]}
    body["parameters"] = jobs.task()["parameters"]
    answer = jobs.request("POST", jobs.url("/language/:analyze-text"), params=jobs.version_query(), json=body)
    error_of(answer, 400)
