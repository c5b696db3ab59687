"""The container's job engine on its own: bounds, expiry, cancel, cancelAfter, and what a stop does."""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from emulator.container.analyze import jobs as jobs_module
from emulator.container.analyze.jobs import AnalyzeJob, JobEngine
from emulator.container.analyze.predict import CancelledError, ServedDocument, TaskOutcome
from emulator.container.analyze.request import DocumentInput, JobInput, TaskInput
from emulator.container.analyze.results import kept
from emulator.ner import StringIndexType, TextIndex
from emulator.web.errors import TooManyRequests

TASK = TaskInput("t", "P", "d", StringIndexType.TEXT_ELEMENTS_V8, False)


def _input(cancel_after: float | None = None) -> JobInput:
    return JobInput(None, (DocumentInput("1", TextIndex("some text"), "en"),), (TASK,), None, cancel_after)


def _done(engine: JobEngine, job: AnalyzeJob) -> AnalyzeJob:
    assert engine.wait(job, 10)
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
    engine = JobEngine(_instant, kept, workers=1, max_queued=5, max_stored=3)
    try:
        jobs = [_done(engine, engine.submit(_input())) for _ in range(5)]
        assert [engine.get(j.job_id) is not None for j in jobs] == [False, False, True, True, True]
        # a finished job keeps its answer (ids and results), not its texts
        answer = jobs[2].answer or ""
        assert '"documentIds": ["1"]' in answer
        assert "some text" not in answer
        assert jobs[2].input.documents == jobs[2].tasks == ()
    finally:
        engine.close()


def test_a_finished_job_costs_the_collector_one_object() -> None:
    """Full collections walk every tracked object while all threads wait: the store must not multiply them
    (a job with its inputs, states and outcomes as objects was 22 of them, and pauses reached 400 ms)."""

    def served(job: JobInput, cancelled: Callable[[], bool], task_done: Callable[[int, TaskOutcome], None]) -> None:
        entities = ({"text": "Contoso", "category": "Vendor", "offset": 0, "length": 7, "confidenceScore": 0.9},)
        task_done(0, TaskOutcome((ServedDocument("1", entities, 9, 1),)))

    engine = JobEngine(served, kept, workers=1, max_queued=10, max_stored=1000)
    try:
        gc.collect()
        before = len(gc.get_objects())
        jobs = [_done(engine, engine.submit(_input())) for _ in range(500)]
        gc.collect()
        assert (len(gc.get_objects()) - before) / len(jobs) < 1.5
        assert all(job.status == "succeeded" for job in jobs)
    finally:
        engine.close()


def test_a_finished_jobs_answer_is_made_without_the_engines_lock() -> None:
    """Serializing a large job takes tens of milliseconds; under the lock it stalled every submit and poll."""
    making, release = threading.Event(), threading.Event()

    def slow_keep(job: AnalyzeJob) -> str:
        making.set()
        assert release.wait(5)
        return kept(job)

    engine = JobEngine(_instant, slow_keep, workers=1, max_queued=5, max_stored=10)
    try:
        job = engine.submit(_input())
        assert making.wait(5)
        assert engine.get(job.job_id) is job  # the lock is free while the answer is made
        unsettled = engine.snapshot(job)
        assert (unsettled.status, unsettled.settled) == ("succeeded", False)
        assert not engine.wait(job, 0.05)
        other = engine.submit(_input())
        release.set()
        assert engine.wait(job, 5)
        assert engine.wait(other, 5)
        assert json.loads(job.answer or "") == json.loads(kept(unsettled))  # read before or after: one answer
        assert job.input.documents == job.tasks == ()
    finally:
        release.set()
        engine.close()


def test_expired_jobs_are_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = JobEngine(_instant, kept, workers=1, max_queued=5, max_stored=5)
    try:
        job = _done(engine, engine.submit(_input()))
        assert engine.get(job.job_id) is job
        monkeypatch.setattr(jobs_module, "JOB_LIFETIME", timedelta(0))
        assert engine.get(job.job_id) is None
    finally:
        engine.close()


def test_the_queue_bound_and_cancel_of_running_and_waiting_jobs() -> None:
    gate = Gate()
    engine = JobEngine(gate, kept, workers=1, max_queued=2, max_stored=10)
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
        assert _done(engine, running).status == "cancelled"
        gate.release.set()
        assert _done(engine, third).status == "succeeded"
    finally:
        gate.release.set()
        engine.close()


def test_cancel_after_cancels_a_job_still_running_then() -> None:
    gate = Gate()
    engine = JobEngine(gate, kept, workers=1, max_queued=2, max_stored=10)
    try:
        started = time.monotonic()
        assert _done(engine, engine.submit(_input(cancel_after=0.2))).status == "cancelled"
        assert time.monotonic() - started < 5
    finally:
        gate.release.set()
        engine.close()


def test_closing_cancels_waiting_jobs_and_finishes_running_ones() -> None:
    gate = Gate()
    engine = JobEngine(gate, kept, workers=1, max_queued=5, max_stored=10)
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

    engine = JobEngine(broken, kept, workers=1, max_queued=2, max_stored=10)
    try:
        job = _done(engine, engine.submit(_input()))
        assert job.status == "failed"
        assert job.errors == ({"code": "InternalServerError", "message": "The job failed: disk full"},)
        tasks = json.loads(job.answer or "{}")["body"]["tasks"]
        assert tasks == {"completed": 0, "failed": 1, "inProgress": 0, "total": 1, "items": []}
    finally:
        engine.close()
