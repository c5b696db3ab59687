"""Capacity: Microsoft sizes the Custom NER container at 1 CPU and 4 GB for a minimum of 15 and a maximum of 30
transactions per second; the suite checks the minimum against the session target (started at ``--cpus 1
--memory 4g`` in Docker, pinned to one core in process mode, as it is for a ``--target`` URL).

Open loop: transaction ``i`` is due at ``i / RATE`` seconds whatever became of the others, and its latency runs
from when it was due, so a target that falls behind shows it in the latencies and the achieved rate instead of
slowing the load down (no coordinated omission). A transaction is one one-document job of about 1,000
characters, submitted and polled until it ends.
"""

from __future__ import annotations

import queue
import statistics
import threading
import time
from dataclasses import dataclass, field

import pytest

from conformance.client import JobsClient
from conformance.documents import text_of
from conformance.launching import observe
from conformance.targets import Target

RATE = 15.0
"""Transactions per second: Microsoft's documented minimum for 1 CPU and 4 GB."""
DURATION = 30.0
TOLERANCE = 0.95
"""The share of ``RATE`` to achieve: room for the load generator's own scheduling on a shared machine."""
WORKERS = 8
"""Threads issuing transactions: ahead of ``RATE`` times a healthy latency, so transactions start when due."""
DOCUMENT = text_of(1000)


@dataclass
class Load:
    """The outcome of one open-loop run, filled by the worker threads."""

    started: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    finished: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, due: float, error: str | None) -> None:
        now = time.monotonic()
        with self.lock:
            self.finished = max(self.finished, now)
            if error is None:
                self.latencies.append(now - due)
            else:
                self.errors.append(error)

    def summary(self) -> tuple[float, str]:
        """The achieved transactions per second and a one-line account of the run."""
        elapsed = max(DURATION, self.finished - self.started)
        achieved = len(self.latencies) / elapsed
        cuts = statistics.quantiles(self.latencies, n=100) if len(self.latencies) > 1 else [float("nan")] * 99
        p50, p95, p99 = (cuts[q - 1] * 1000 for q in (50, 95, 99))
        line = (
            f"offered {RATE:g}/s for {DURATION:g} s: achieved {achieved:.2f} transactions/s "
            f"({len(self.latencies)} succeeded, {len(self.errors)} errors in {elapsed:.2f} s), "
            f"latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"
        )
        return achieved, line


def _worker(target: Target, due_times: queue.SimpleQueue[float], load: Load) -> None:
    """Take the next due time, wait for it, run the transaction; until no transaction is left. The run takes
    at most about twice ``DURATION`` plus one job's deadline, however slow the target."""
    client = JobsClient(target.url, target.project, target.deployment)
    body = client.body(DOCUMENT)
    try:
        while True:
            try:
                due = due_times.get_nowait()
            except queue.Empty:
                return
            late = time.monotonic() - due
            if late > DURATION:  # hopelessly behind: counted, not sent, so the run stays bounded
                load.record(due, f"not started: the target was {late:.0f} s behind")
                continue
            time.sleep(max(0.0, -late))
            try:
                status = client.run(body)["status"]
                load.record(due, None if status == "succeeded" else f"the job ended {status}")
            except Exception as exc:  # any failure of a transaction is an error of the run, not of the thread
                load.record(due, f"{type(exc).__name__}: {exc}")
    finally:
        client.close()


@pytest.mark.clause("capacity/minimum-throughput")
def test_the_target_sustains_the_documented_minimum_throughput(
    conformance_target: Target, request: pytest.FixtureRequest
) -> None:
    load = Load(started=time.monotonic() + 0.5)  # the workers' first transaction is due once they all run
    due_times: queue.SimpleQueue[float] = queue.SimpleQueue()
    for number in range(round(RATE * DURATION)):
        due_times.put(load.started + number / RATE)
    workers = [
        threading.Thread(target=_worker, args=(conformance_target, due_times, load), name=f"load-{number}")
        for number in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    achieved, line = load.summary()
    print(f"\ncapacity ({conformance_target.limits}): {line}")
    observe(request, line)
    assert not load.errors, f"{line}; first errors: {load.errors[:3]}"
    assert achieved >= RATE * TOLERANCE, line
