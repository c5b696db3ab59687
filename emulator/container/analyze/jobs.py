"""The job engine of ``/language/analyze-text/jobs``: jobs run on worker threads, never on the request thread.

Two bounds keep the container's memory flat under any load: at most ``max_queued`` jobs wait or run (one
more is answered 429 with ``Retry-After`` instead of joining an unbounded backlog), and at most
``max_stored`` jobs are kept. Finished jobs stay readable until their ``expirationDateTime`` (24 hours
after creation, as the real service sets it), unless the store is full, when the oldest finished jobs
make room first.

A job's work (``execute``) returns only after its usage is counted, so a job becomes ``succeeded`` only
once what it served is on the metering spool.

The store is the container's largest population of Python objects (10,000 jobs under load), and CPython's
full collections walk all of it while every thread waits: at 22 tracked objects a job, such a pause reached
400 ms on the development VM and broke p95 well below saturation (loadtests/RESULTS.md, run 5). So a
finished job keeps, besides its id, times and status, only its whole answer as JSON text (``keep``, which
``results.kept`` makes): the collector never walks a string. No job has a lock or event of its own either:
pollers wait on the engine's one condition.

That answer is made outside the engine's lock. Every submit and poll takes the lock, and serializing a large
job (25 documents of 100 entities, five tasks) takes about 50 ms: under the lock it stalled every request in
flight. So a job ends in two steps: it is *finished* (terminal status, its slot in the queue free) under the
lock, then *settled* (reduced to its answer) once the answer is made. In between, a poll reads it as it is,
which is the same answer.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from emulator.web.errors import TooManyRequests

from .predict import CancelledError, TaskOutcome
from .request import JobInput

log = logging.getLogger(__name__)

JOB_LIFETIME = timedelta(days=1)
TERMINAL = frozenset({"succeeded", "partiallyCompleted", "failed", "cancelled"})
BUSY_RETRY_AFTER = 1.0

Execute = Callable[[JobInput, Callable[[], bool], Callable[[int, TaskOutcome], None]], None]
"""Runs a job's tasks: ``execute(job_input, cancelled, task_done)``; calls ``task_done(index, outcome)`` per task."""
Keep = Callable[["AnalyzeJob"], str]
"""What the store keeps of a job that has just finished, in place of its input and task states."""
RELEASED = JobInput(None, (), (), None, None)
"""The input of every finished job: what it asked for is in its answer."""


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TaskState:
    """One task's state at one moment; a change replaces it, so a snapshot of the job can share it."""

    status: str
    updated: datetime
    outcome: TaskOutcome | None = None


@dataclass(slots=True)
class AnalyzeJob:
    """A job and what it has produced so far; fields change under the engine's lock only."""

    job_id: str
    input: JobInput
    created: datetime
    status: str = "notStarted"
    updated: datetime = field(default_factory=now)
    tasks: tuple[TaskState, ...] = ()
    errors: tuple[dict[str, str], ...] = ()
    cancel_requested: bool = False
    answer: str | None = None
    """Once finished: the whole answer (``Keep``), and ``input`` is ``RELEASED``, ``tasks`` empty."""

    @property
    def expires(self) -> datetime:
        return self.created + JOB_LIFETIME

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def settled(self) -> bool:
        """Finished and reduced to its answer."""
        return self.answer is not None

    def cancelled(self) -> bool:
        """Whether work should stop: cancel was asked, or the job's ``cancelAfter`` has passed."""
        if self.cancel_requested:
            return True
        limit = self.input.cancel_after
        return limit is not None and (now() - self.created).total_seconds() > limit


class JobEngine:
    def __init__(self, execute: Execute, keep: Keep, *, workers: int, max_queued: int, max_stored: int) -> None:
        self._execute = execute
        self._keep = keep
        self._max_queued = max_queued
        self._max_stored = max_stored
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        """Notified whenever a job settles: what pollers holding an answer wait on."""
        self._jobs: OrderedDict[str, AnalyzeJob] = OrderedDict()
        self._active = 0
        self._queue: queue.SimpleQueue[AnalyzeJob | None] = queue.SimpleQueue()
        self._workers = [
            threading.Thread(target=self._work, name=f"analyze-worker-{i}", daemon=True) for i in range(workers)
        ]
        for worker in self._workers:
            worker.start()

    def submit(self, job_input: JobInput) -> AnalyzeJob:
        """Queue a job.

        :raises TooManyRequests: ``max_queued`` jobs already wait or run, or the store holds only unfinished jobs.
        """
        created = now()
        waiting = (TaskState("notStarted", created),) * len(job_input.tasks)
        job = AnalyzeJob(str(uuid.uuid4()), job_input, created, updated=created, tasks=waiting)
        with self._lock:
            if self._active >= self._max_queued:
                raise TooManyRequests(
                    f"{self._active} jobs are waiting or running, the most this container queues; "
                    "retry after the time in Retry-After",
                    code="TooManyRequests",
                    retry_after=BUSY_RETRY_AFTER,
                )
            self._make_room(created)
            self._jobs[job.job_id] = job
            self._active += 1
        self._queue.put(job)
        return job

    def _make_room(self, at: datetime) -> None:
        """Drop expired jobs, then the oldest finished ones while the store is full (lock held)."""
        while self._jobs:
            oldest = next(iter(self._jobs.values()))
            if oldest.expires > at or not oldest.finished:
                break
            self._jobs.popitem(last=False)
        excess = len(self._jobs) - self._max_stored + 1
        if excess <= 0:
            return
        # Only as many of the oldest finished jobs as must go: a full store is the steady state under load,
        # so this runs on every submit and must not walk all of it.
        finished = (j.job_id for j in self._jobs.values() if j.finished)
        victims = list(itertools.islice(finished, excess))
        for job_id in victims:
            del self._jobs[job_id]
        if len(victims) == excess:
            return
        raise TooManyRequests(
            f"the container holds {len(self._jobs)} unfinished jobs; retry after the time in Retry-After",
            code="TooManyRequests",
            retry_after=BUSY_RETRY_AFTER,
        )

    def get(self, job_id: str) -> AnalyzeJob | None:
        """The job, or None if it never existed, expired or was dropped."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.expires <= now():
                del self._jobs[job_id]
                return None
            return job

    def wait(self, job: AnalyzeJob, timeout: float) -> bool:
        """Whether ``job`` has settled, waiting up to ``timeout`` seconds for it to."""
        with self._settled:
            return self._settled.wait_for(lambda: job.settled, timeout)

    def cancel(self, job: AnalyzeJob) -> None:
        """Ask ``job`` to stop: a waiting job is cancelled at once, a running one at its next document."""
        with self._lock:
            waiting = job.status == "notStarted"
            if waiting:
                self._finish(job, "cancelled")
            elif job.status == "running":
                job.cancel_requested = True
                job.status = "cancelling"
                job.updated = now()
        if waiting:
            self._settle(job)

    def _finish(self, job: AnalyzeJob, status: str) -> None:
        """End ``job`` (lock held): its slot in the queue is free and its state final; ``_settle`` must follow,
        after the lock is released."""
        self._active -= 1
        job.status = status
        job.updated = now()
        left = "cancelled" if status == "cancelled" else "failed"
        job.tasks = tuple(t if t.status in TERMINAL else TaskState(left, job.updated) for t in job.tasks)

    def _settle(self, job: AnalyzeJob) -> None:
        """Reduce a finished job to its answer (the store holds results, not up to a megabyte of input per job,
        nor objects for the collector to walk). The answer is made without the lock: nothing changes a finished
        job but this."""
        answer = self._keep(job)
        with self._lock:
            job.answer = answer
            job.input, job.tasks = RELEASED, ()
            self._settled.notify_all()

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            self._run(job)

    def _run(self, job: AnalyzeJob) -> None:
        with self._lock:
            if job.status != "notStarted":  # cancelled while waiting, and settled then
                return
            start = not job.cancelled()
            if start:
                job.status = "running"
                job.updated = now()
                job.tasks = (TaskState("running", job.updated),) * len(job.tasks)
            else:
                self._finish(job, "cancelled")
        if start:
            self._perform(job)
        self._settle(job)

    def _perform(self, job: AnalyzeJob) -> None:
        """Run a started job's tasks, then finish it."""

        def task_done(index: int, outcome: TaskOutcome) -> None:
            with self._lock:
                job.updated = now()
                job.tasks = (*job.tasks[:index], TaskState("succeeded", job.updated, outcome), *job.tasks[index + 1 :])

        errors: tuple[dict[str, str], ...] = ()
        try:
            self._execute(job.input, job.cancelled, task_done)
        except CancelledError:
            status = "cancelled"
        except Exception as exc:
            log.exception("job %s failed", job.job_id)
            status, errors = "failed", ({"code": "InternalServerError", "message": f"The job failed: {exc}"},)
        else:
            status = "succeeded"  # a cancel that came after the last document changes nothing
        with self._lock:
            job.errors = errors
            self._finish(job, status)

    def snapshot(self, job: AnalyzeJob) -> AnalyzeJob:
        """A copy of ``job`` taken under the lock, so one answer never mixes two moments of a running job."""
        with self._lock:
            return replace(job)

    def close(self) -> None:
        """Cancel the jobs still waiting (they were not served, so they are not counted, and nobody could read
        their results once the server is gone), then stop the workers after the jobs they are running."""
        with self._lock:
            waiting = [job for job in self._jobs.values() if job.status == "notStarted"]
            for job in waiting:
                self._finish(job, "cancelled")
        for job in waiting:
            self._settle(job)
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout=10)
