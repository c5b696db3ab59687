"""The job lifecycle as a Hypothesis state machine: submits, polls and cancels in any interleaving, with the
jobs' answers checked after every step (azure-contract §2.1–§2.3).

After every step the invariant polls every job, and a target may hold a poll until the job ends (ours does, for
a quarter of a second), so most cancels find finished jobs; the rule that cancels right after submitting is
what lands cancels on waiting and running jobs. No property depends on how fast a target is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from conformance.client import STATES, TERMINAL, JobsClient, UnexpectedAnswerError, describe, error_of
from conformance.documents import EMOJI_INVOICE, INVOICE


def _invoices(text: str, times: int) -> str:
    return " ".join([text] * times)


TEXTS = st.lists(
    st.builds(_invoices, st.sampled_from((INVOICE, EMOJI_INVOICE)), st.integers(1, 10)),
    min_size=1,
    max_size=25,
)
"""Jobs of up to 25 documents of up to ten invoices each (within the 125,000 characters of a request)."""
ORDER = {"notStarted": 0, "running": 1, "cancelling": 2} | dict.fromkeys(TERMINAL, 3)
"""How far along each status is: a job never goes back to a lower rank (and a terminal status never changes)."""


@dataclass
class Tracked:
    """A job the machine submitted, as last seen."""

    location: str
    status: str = "notStarted"
    cancelled: bool = False
    terminal_when_cancelled: str | None = None

    @property
    def job_id(self) -> str:
        return urlsplit(self.location).path.rsplit("/", 1)[-1]


class JobLifecycle(RuleBasedStateMachine):
    """Submit, poll, cancel and ask for unknown jobs; every job submitted stays answerable and moves forward."""

    submitted = Bundle("submitted")

    def __init__(self, client: JobsClient) -> None:
        super().__init__()
        self.client = client
        self.jobs: list[Tracked] = []

    @rule(target=submitted, texts=TEXTS)
    def submit(self, texts: list[str]) -> Tracked:
        return self.submitted_job(texts)

    @rule(target=submitted, texts=TEXTS)
    def submit_and_cancel_at_once(self, texts: list[str]) -> Tracked:
        """Cancel before any poll, racing the job's start (every other rule runs after the invariant's polls)."""
        job = self.submitted_job(texts)
        self.cancel(job)
        return job

    @rule(job=submitted)
    def poll(self, job: Tracked) -> None:
        self.observe(job)

    @rule(job=submitted)
    def cancel(self, job: Tracked) -> None:
        answer = self.client.cancel(job.job_id)
        if answer.status_code != 202:
            raise UnexpectedAnswerError(f"cancelling a job: {describe(answer)}")
        location = answer.headers.get("Operation-Location", "")
        assert urlsplit(location).path == urlsplit(job.location).path, f"cancel's Operation-Location: {location!r}"
        if not job.cancelled:
            job.cancelled = True
            job.terminal_when_cancelled = job.status if job.status in TERMINAL else None

    @rule(job_id=st.uuids(version=4))
    def expire(self, job_id: Any) -> None:
        """A job id the container never issued (or one long expired) is 404, whatever the other jobs do."""
        error_of(self.client.get_job(str(job_id)), 404)

    @invariant()
    def every_job_answers_and_moves_forward(self) -> None:
        for job in self.jobs:
            self.observe(job)

    def teardown(self) -> None:
        """Every job ends; a cancelled one ends cancelled, or as it had already ended when it was cancelled."""
        for job in self.jobs:
            self.check(job, self.client.poll(job.location))
            if job.terminal_when_cancelled is not None:
                assert job.status == job.terminal_when_cancelled, f"job {job.job_id} ended {job.status} after cancel"

    def submitted_job(self, texts: list[str]) -> Tracked:
        job = Tracked(self.client.accepted(self.client.body(*texts)))
        self.jobs.append(job)
        return job

    def observe(self, job: Tracked) -> None:
        answer = self.client.request("GET", job.location)
        if answer.status_code != 200:
            raise UnexpectedAnswerError(f"a submitted job must stay answerable: {describe(answer)}")
        self.check(job, answer.json())

    def check(self, job: Tracked, state: dict[str, Any]) -> None:
        """One answer about ``job``: a known status, no step back, counters that add up; then remember it.

        TasksState has no counter for a cancelled task, so once a job is cancelled the counters may add up to
        less than total (ours counts a cancelled task nowhere)."""
        status = state.get("status")
        assert status in STATES, f"job {job.job_id}: unknown status {status!r}"
        if job.status in TERMINAL:
            assert status == job.status, f"job {job.job_id} was {job.status}, now {status}"
        assert ORDER[status] >= ORDER[job.status], f"job {job.job_id} went back from {job.status} to {status}"
        if status in ("cancelling", "cancelled"):
            assert job.cancelled, f"job {job.job_id} is {status} though nobody cancelled it"
        tasks = state["tasks"]
        counted = tasks["completed"] + tasks["failed"] + tasks["inProgress"]
        if status in ("cancelling", "cancelled"):
            assert counted <= tasks["total"], f"job {job.job_id}: {tasks}"
        else:
            assert counted == tasks["total"], f"job {job.job_id}: {tasks}"
        job.status = status


@pytest.mark.clause("jobs/lifecycle", "jobs/cancel")
def test_jobs_move_forward_under_any_interleaving(jobs: JobsClient) -> None:
    run_state_machine_as_test(
        lambda: JobLifecycle(jobs),  # type: ignore[arg-type]  # documented to take any factory, typed as a class
        settings=settings(
            max_examples=20,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        ),
    )
