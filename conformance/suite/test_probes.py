"""Probes: the documented /, /ready, /status and /swagger of a serving container."""

from __future__ import annotations

import pytest

from conformance.client import JobsClient


@pytest.mark.clause("probes/home")
def test_home_page_answers(jobs: JobsClient) -> None:
    answer = jobs.request("GET", jobs.url("/"))
    assert answer.status_code == 200, answer.text[:200]


@pytest.mark.clause("probes/ready")
def test_ready_answers_200_while_serving(jobs: JobsClient) -> None:
    answer = jobs.request("GET", jobs.url("/ready"))
    assert answer.status_code == 200, answer.text[:200]


@pytest.mark.clause("probes/status")
def test_status_answers_200_with_a_valid_key(jobs: JobsClient) -> None:
    answer = jobs.request("GET", jobs.url("/status"))
    assert answer.status_code == 200, answer.text[:200]


@pytest.mark.clause("probes/swagger")
def test_swagger_answers(jobs: JobsClient) -> None:
    answer = jobs.request("GET", jobs.url("/swagger"))
    assert answer.status_code == 200, answer.text[:200]
