"""Parity mode (``--parity-target URL``): the same scenarios on a second container, answers diffed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.client import JobsClient
from conformance.options import Options
from conformance.parity import SCENARIOS, Scenario, compare
from conformance.plugin import recorder
from conformance.report import ParityDifference
from conformance.targets import Target


@pytest.fixture(scope="module")
def parity_jobs(conformance_options: Options, conformance_target: Target) -> Iterator[JobsClient]:
    if not conformance_options.parity_target:
        pytest.skip("parity mode compares two targets: give --parity-target URL")
    client = JobsClient(conformance_options.parity_target, conformance_target.project, conformance_target.deployment)
    yield client
    client.close()


@pytest.mark.clause("parity/same-answers")
@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_both_targets_answer_alike(
    jobs: JobsClient,
    parity_jobs: JobsClient,
    scenario: Scenario,
    conformance_options: Options,
    request: pytest.FixtureRequest,
) -> None:
    found = compare(scenario, jobs, parity_jobs, conformance_options.parity_ignore)
    name = request.node.callspec.id
    recorder(request.config).parity.extend(ParityDifference(name, *difference) for difference in found)
    listed = "\n".join(f"  {path}: {left} != {right}" for path, left, right in found)
    assert not found, f"{len(found)} differences (target != parity target):\n{listed}"
