"""Probes: the documented /, /ready, /status and /swagger of a serving container (azure-contract §3.3)."""

from __future__ import annotations

import pytest

from conformance.client import JobsClient


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/", marks=pytest.mark.clause("probes/home"), id="home"),
        pytest.param("/ready", marks=pytest.mark.clause("probes/ready"), id="ready"),
        pytest.param("/status", marks=pytest.mark.clause("probes/status"), id="status"),
        pytest.param("/swagger", marks=pytest.mark.clause("probes/swagger"), id="swagger"),
    ],
)
def test_a_serving_container_answers_its_probe_with_200(jobs: JobsClient, path: str) -> None:
    answer = jobs.request("GET", jobs.url(path))
    assert answer.status_code == 200, f"GET {path} -> {answer.status_code}: {answer.text[:200]}"
