"""The container's job engine on its own: bounds, expiry, cancel, cancelAfter, and what a stop does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from emulator.container.analyze import jobs as jobs_module
from emulator.container.analyze.jobs import AnalyzeJob, JobEngine
from emulator.container.analyze.predict import CancelledError, TaskOutcome
from emulator.container.analyze.request import DocumentInput, JobInput, TaskInput
from emulator.ner import StringIndexType
from emulator.web.errors import TooManyRequests

TASK = TaskInput("t", "P", "d", StringIndexType.TEXT_ELEMENTS_V8, False)


def _input(cancel_after: float | None = None) -> JobInput:
    return JobInput(None, (DocumentInput("1", "some text", "en", 9),), (TASK,), None, cancel_after)


def _done(job: AnalyzeJob) -> AnalyzeJob:
    assert job.finished.wait(10)
    return job


def _instant(job: JobInput, cancelled: Callable[[], bool], task_done: Callable[[int, TaskOutcome], None]) -> None:
    task_done(0, TaskOutcome())


class Gate:
    """An ``execute`` that runs until released, checking for cancellation as a task does between documents."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(
        self, job: JobInput, cancelled: Callable[[], bool], task_done: Callable[[int, TaskOutcome], None]
    ) -> None:
        self.started.set()
        while not self.release.wait(0.01):
            if cancelled():
                raise CancelledError
        task_done(0, TaskOutcome())


def test_a_full_store_drops_the_oldest_finished_jobs() -> None:
    engine = JobEngine(_instant, workers=1, max_queued=5, max_stored=3)
    try:
        jobs = [_done(engine.submit(_input())) for _ in range(5)]
        assert [engine.get(j.job_id) is not None for j in jobs] == [False, False, True, True, True]
        assert jobs[0].input.documents[0].text == ""  # a finished job keeps ids, not texts
    finally:
        engine.close()


def test_expired_jobs_are_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = JobEngine(_instant, workers=1, max_queued=5, max_stored=5)
    try:
        job = _done(engine.submit(_input()))
        assert engine.get(job.job_id) is job
        monkeypatch.setattr(jobs_module, "JOB_LIFETIME", timedelta(0))
        assert engine.get(job.job_id) is None
    finally:
        engine.close()


def test_the_queue_bound_and_cancel_of_running_and_waiting_jobs() -> None:
    gate = Gate()
    engine = JobEngine(gate, workers=1, max_queued=2, max_stored=10)
    try:
        running, waiting = engine.submit(_input()), engine.submit(_input())
        with pytest.raises(TooManyRequests):
            engine.submit(_input())
        assert gate.started.wait(5)
        engine.cancel(waiting)
        assert waiting.status == "cancelled"  # at once: it had not started
        third = engine.submit(_input())  # its slot is free again
        engine.cancel(running)
        assert running.status == "cancelling"
        assert _done(running).status == "cancelled"
        gate.release.set()
        assert _done(third).status == "succeeded"
    finally:
        gate.release.set()
        engine.close()


def test_cancel_after_cancels_a_job_still_running_then() -> None:
    gate = Gate()
    engine = JobEngine(gate, workers=1, max_queued=2, max_stored=10)
    try:
        started = time.monotonic()
        assert _done(engine.submit(_input(cancel_after=0.2))).status == "cancelled"
        assert time.monotonic() - started < 5
    finally:
        gate.release.set()
        engine.close()


def test_closing_cancels_waiting_jobs_and_finishes_running_ones() -> None:
    gate = Gate()
    engine = JobEngine(gate, workers=1, max_queued=5, max_stored=10)
    running = engine.submit(_input())
    waiting = [engine.submit(_input()) for _ in range(3)]
    assert gate.started.wait(5)
    threading.Timer(0.2, gate.release.set).start()
    engine.close()
    assert running.status == "succeeded"
    assert [j.status for j in waiting] == ["cancelled"] * 3


def test_a_failing_job_is_failed_with_its_reason() -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("disk full")

    engine = JobEngine(broken, workers=1, max_queued=2, max_stored=10)
    try:
        job = _done(engine.submit(_input()))
        assert job.status == "failed"
        assert job.errors == [{"code": "InternalServerError", "message": "The job failed: disk full"}]
        assert job.tasks[0].status == "failed"
    finally:
        engine.close()
