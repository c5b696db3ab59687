"""Billing: the usage a container reports, and what it does when its Billing endpoint cannot be reached
(azure-contract §3.4: usage reported every interval, 10 failed attempts, then it stops serving).

Each clause starts a fresh container of the target's kind with short metering intervals (our settings
``Metering:ReportIntervalSeconds`` and ``Metering:MaxFailedAttempts``, so these clauses need our container)
against the embedded emulated cloud, whose ledger and fault rules are the judge. The fresh container bills
through the cloud's *second* key: the ledger keeps usage per key slot, so the session target (first key),
which reports on its own schedule, never blurs the comparison.

Outages are fault rules that drop every metering POST. They reach the session target too, but it reports only
every 600 s (the default), and the outages here last a few seconds.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from conformance.client import JobsClient, error_of
from conformance.documents import INVOICE, UNSUPPORTED_LANGUAGE, text_of
from conformance.launching import changed, launched, observe
from conformance.targets import READY_TIMEOUT, SECOND_KEY, EmbeddedCloud, Launched, Target

INTERVAL = 0.5
"""Seconds between the fresh container's usage reports (Metering:ReportIntervalSeconds)."""
PATIENCE = 10.0
"""Seconds any awaited change (a report, a refusal, serving again) may take: many intervals."""
SECOND_SLOT = "key2"
"""The ledger's name of ``SECOND_KEY`` (docs/billing-protocol.md: slots, never values)."""
METERING = "/metering/*"
ERRORS = tuple(range(400, 600))


@dataclass
class Metered:
    """A fresh container billing through the second key, and a client of its prediction API."""

    container: Launched
    jobs: JobsClient

    def submit(self) -> requests.Response:
        """One single-document job, refused or not, with a short deadline: a refusal must not hang."""
        return self.jobs.submit(self.jobs.body(INVOICE), timeout=5)

    def serves(self) -> bool:
        """Whether a job is accepted and succeeds now."""
        answer = self.submit()
        if answer.status_code != 202:
            return False
        return bool(self.jobs.poll(answer.headers["Operation-Location"])["status"] == "succeeded")

    def refused(self) -> bool:
        """Whether a job is refused now, with an error body; a refusal that is not an error body fails."""
        answer = self.submit()
        if answer.status_code == 202:
            return False
        error_of(answer, ERRORS)
        return True


@contextlib.contextmanager
def metered(target: Target, workdir: Path, max_failed_attempts: int) -> Iterator[Metered]:
    """A fresh container of the target's kind, reporting every ``INTERVAL`` s through the second key, ready."""
    settings = changed(target.settings, "ApiKey", SECOND_KEY)
    settings = changed(settings, "Metering:ReportIntervalSeconds", f"{INTERVAL:g}")
    settings = changed(settings, "Metering:MaxFailedAttempts", str(max_failed_attempts))
    with launched(target, settings, workdir) as container:
        jobs = JobsClient(container.wait_ready(READY_TIMEOUT), target.project, target.deployment)
        try:
            yield Metered(container, jobs)
        finally:
            jobs.close()


@contextlib.contextmanager
def billing_unreachable(cloud: EmbeddedCloud) -> Iterator[str]:
    """Every metering POST to the cloud dropped without an answer until the block ends; the fault rule's id."""
    rule = cloud.add_fault(method="POST", path=METERING, drop=True)
    try:
        yield rule
    finally:
        cloud.clear_faults()


def until(condition: Callable[[], bool], what: str, timeout: float = PATIENCE) -> float:
    """Wait for ``condition``; the seconds it took. Not within ``timeout``: the clause fails naming ``what``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"{what}: not within {timeout:g} s"
        time.sleep(INTERVAL / 5)
    return time.monotonic() - started


def dropped(cloud: EmbeddedCloud, rule: str) -> int:
    """The metering requests of the second key the fault rule ``rule`` dropped: the container's failed attempts."""
    return sum(
        1 for entry in cloud.journal("POST", METERING) if entry["fault"] == rule and entry["keySlot"] == SECOND_SLOT
    )


def _meter_target(target: Target) -> EmbeddedCloud:
    assert target.cloud is not None, "the plugin skips meter clauses without the embedded cloud"
    return target.cloud


@pytest.mark.clause("billing/usage-reported")
def test_the_reported_text_records_are_the_served_ones(
    conformance_target: Target, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Lengths around the 1,000-character boundary, and a document in a language the model does not serve
    (answered with an error, not processed, so not billed)."""
    cloud = _meter_target(conformance_target)
    batches = [(1, 999, 1000), (1001, 2999, 5000)]
    expected = sum(math.ceil(length / 1000) for batch in batches for length in batch)
    before = cloud.usage(SECOND_SLOT)
    with metered(conformance_target, tmp_path, max_failed_attempts=10) as fresh:
        for number, lengths in enumerate(batches):
            body = fresh.jobs.body(*map(text_of, lengths))
            if number:
                unserved = {"id": "unserved", "text": text_of(1500), "language": UNSUPPORTED_LANGUAGE}
                body["analysisInput"]["documents"].append(unserved)
            assert fresh.jobs.run(body)["status"] == "succeeded"
        took = until(lambda: cloud.usage(SECOND_SLOT) - before >= expected, f"{expected} text records reported")
        time.sleep(2 * INTERVAL)  # two more reports: nothing may be billed twice
        running = cloud.usage(SECOND_SLOT) - before
    stopped = cloud.usage(SECOND_SLOT) - before  # a clean stop reports what is left: nothing
    observe(request, f"{expected} text records reported within {took:.2f} s of serving them")
    assert (running, stopped) == (expected, expected), (
        f"served {expected} text records; the ledger holds {running} while running, {stopped} after a clean stop"
    )


@pytest.mark.clause("billing/outage-stops-serving")
def test_an_unreachable_billing_endpoint_pauses_serving_until_it_answers(
    conformance_target: Target, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    cloud = _meter_target(conformance_target)
    with metered(conformance_target, tmp_path, max_failed_attempts=1000) as fresh:
        assert fresh.serves(), "the fresh container does not serve before the outage"
        with billing_unreachable(cloud):
            refused_after = until(fresh.refused, "jobs refused while the Billing endpoint is unreachable")
            assert fresh.container.returncode is None, "the container exited instead of pausing"
        served_after = until(fresh.serves, "a job served once the Billing endpoint answers again")
        assert fresh.container.returncode is None
    observe(request, f"refused {refused_after:.2f} s into the outage, serving {served_after:.2f} s after")


@pytest.mark.clause("billing/gives-up")
def test_a_billing_endpoint_unreachable_through_the_allowed_attempts_stops_serving_for_good(
    conformance_target: Target, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Once the cloud has dropped ``attempts`` metering requests of the second key, the endpoint comes back; a
    container that had not given up would serve again within an interval, so six intervals of refusals (or
    an exit) show it stopped for good."""
    cloud = _meter_target(conformance_target)
    attempts = 3
    with metered(conformance_target, tmp_path, max_failed_attempts=attempts) as fresh:
        with billing_unreachable(cloud) as rule:
            until(lambda: dropped(cloud, rule) >= attempts, f"{attempts} metering attempts of the container")
            time.sleep(INTERVAL)  # the container reads its last dropped answer just after the cloud journals it
        watched = 0
        deadline = time.monotonic() + 6 * INTERVAL
        while time.monotonic() < deadline and fresh.container.returncode is None:
            assert fresh.refused(), f"a job was accepted {watched} checks after the Billing endpoint came back"
            watched += 1
            time.sleep(INTERVAL / 5)
    observe(request, f"{watched} jobs refused over {6 * INTERVAL:g} s after the endpoint came back")
