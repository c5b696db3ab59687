"""Schemas: every job and error answer matches the JSON Schemas written from the contract (schemas/runtime), and,
with ``--openapi FILE``, Microsoft's own definitions.

Each scenario collects every answer it sees (each poll while the job runs, the final state, each page), so a
field a target only gets wrong mid-flight or on page two is caught too. A failure lists every violation of every
answer with its JSON path, not just the first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.client import JobsClient, describe, json_of
from conformance.documents import EMOJI_INVOICE, ERROR_REQUESTS, INVOICE, UNSUPPORTED_LANGUAGE, Send, error_answer
from conformance.openapi import OpenApiSpec
from conformance.options import Options
from conformance.schema_check import RUNTIME, Violation

LONG_INVOICE = " ".join([INVOICE] * (4900 // (len(INVOICE) + 1)))
"""Just under 5,000 characters: 25 of them (the most a job may hold) keep a target busy long enough to be polled
while running."""

Observed = list[tuple[str, Any]]
"""(which answer, its JSON body) in the order seen."""
Scenario = Callable[[JobsClient, str | None], Observed]
"""Sends one job at an api-version (None: the client's) and returns the answers seen."""


def _polled(jobs: JobsClient, location: str, label: str, params: dict[str, str] | None = None) -> Observed:
    """Every answer of GET ``location`` until the job is terminal (``jobs.poll`` keeps only the last)."""
    return [
        (f"{label}, poll {number} ({job.get('status') if isinstance(job, dict) else None})", job)
        for number, job in enumerate(jobs.states(location, params), start=1)
    ]


def _running(jobs: JobsClient, version: str | None) -> Observed:
    return _polled(jobs, jobs.accepted(jobs.body(*[LONG_INVOICE] * 25), version), "25 long documents")


def _show_stats(jobs: JobsClient, version: str | None) -> Observed:
    location = jobs.accepted(jobs.body(INVOICE, "x" * 2500), version)
    return _polled(jobs, location, "showStats", {"showStats": "true"})


def _document_error(jobs: JobsClient, version: str | None) -> Observed:
    body = jobs.body(INVOICE, "")
    body["analysisInput"]["documents"].append({"id": "x", "text": INVOICE, "language": UNSUPPORTED_LANGUAGE})
    return _polled(jobs, jobs.accepted(body, version), "empty and unsupported-language documents")


def _emoji(jobs: JobsClient, version: str | None) -> Observed:
    default = _polled(jobs, jobs.accepted(jobs.body(EMOJI_INVOICE), version), "emoji")
    location = jobs.accepted(jobs.body(EMOJI_INVOICE, stringIndexType="Utf16CodeUnit"), version)
    return default + _polled(jobs, location, "emoji, Utf16CodeUnit")


def _paging(jobs: JobsClient, version: str | None) -> Observed:
    location = jobs.accepted(jobs.body(*[f"{INVOICE} ({n})" for n in range(7)]), version)
    observed = _polled(jobs, location, "7 documents")
    observed += _polled(jobs, location, "top=3&skip=2", {"top": "3", "skip": "2"})
    page = _polled(jobs, location, "top=3", {"top": "3"})
    observed += page
    # Follow nextLink while it is usable; whether it leads to the rest is clause jobs/paging's matter.
    for number in range(2, 5):
        link = page[-1][1].get("nextLink") if isinstance(page[-1][1], dict) else None
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            break
        page = _polled(jobs, link, f"nextLink page {number}")
        observed += page
    return observed


SCENARIOS: dict[str, Scenario] = {
    "running and finished": _running,
    "showStats": _show_stats,
    "document errors": _document_error,
    "emoji": _emoji,
    "paging": _paging,
}


def _report(what: str, found: list[tuple[str, Violation]]) -> str:
    lines = "\n".join(f"  - {label}: {violation}" for label, violation in found)
    return f"{len(found)} violations of {what}:\n{lines}"


@pytest.mark.clause("schema/job-state")
@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_job_answer_matches_the_job_state_schema(jobs: JobsClient, scenario: Scenario) -> None:
    found = [
        (label, violation) for label, job in scenario(jobs, None) for violation in RUNTIME.violations("job-state", job)
    ]
    assert not found, _report("schemas/runtime/job-state.schema.json", found)


@pytest.mark.clause("schema/error")
@pytest.mark.parametrize("send", ERROR_REQUESTS.values(), ids=ERROR_REQUESTS.keys())
def test_every_error_answer_matches_the_error_schema(jobs: JobsClient, send: Send) -> None:
    answer = error_answer(jobs, send)
    found = [(describe(answer)[:200], violation) for violation in RUNTIME.violations("error", json_of(answer))]
    assert not found, _report("schemas/runtime/error.schema.json", found)


@pytest.fixture(scope="module")
def openapi_specs(conformance_options: Options) -> list[OpenApiSpec]:
    """The official analyzetext.json files given with ``--openapi`` (the clause is skipped without one)."""
    if not conformance_options.openapi:
        pytest.skip("give --openapi FILE (an official analyzetext.json) to check job answers against it")
    specs = []
    for path in conformance_options.openapi:
        if not path.is_file():
            pytest.fail(f"--openapi {path}: no such file", pytrace=False)
        try:
            specs.append(OpenApiSpec.load(path))
        except ValueError as exc:
            pytest.fail(str(exc), pytrace=False)
    return specs


@pytest.mark.clause("schema/openapi")
@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_job_answer_matches_the_official_definitions(
    jobs: JobsClient, openapi_specs: list[OpenApiSpec], scenario: Scenario
) -> None:
    """Each file at its own api-version: a later version may add fields its definitions describe."""
    for spec in openapi_specs:
        found = [
            (label, violation) for label, job in scenario(jobs, spec.version) for violation in spec.violations(job)
        ]
        assert not found, _report(spec.name, found)
