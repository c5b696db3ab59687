"""The long-running-operation engine: every authoring job (import, export, train, deploy, ...) runs here.

A job is a row holding the service's ``JobState`` body and the input it was accepted with. The body is
what a poll returns; the input is what lets a restarted emulator finish a job it acknowledged with 202:
at start-up, every job that had not finished is queued again (runners are idempotent).

How jobs progress is a setting of the control plane, after moto's state transitions:

* ``timed`` (default): the job waits ``seconds`` (default 0) in ``notStarted``, then runs in a worker thread;
* ``immediate``: the job runs to its end before the 202 is sent, so the first poll sees the outcome;
* ``manual``: the job stays ``notStarted`` until ``step`` releases it.

Runners receive a ``JobContext``: they report progress with ``update``, finish by returning, fail by
raising ``JobFailedError`` and watch ``cancelled`` (set by ``cancel``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .clock import Clock, iso
from .ids import IdSource
from .store import Store

log = logging.getLogger(__name__)

JOB_LIFETIME = timedelta(days=7)
TERMINAL = frozenset({"succeeded", "failed", "cancelled", "partiallyCompleted"})
PROGRESSION_MODES = ("timed", "immediate", "manual")


class JobFailedError(Exception):
    """Ends a job as ``failed`` with these ``errors`` (each ``{code, message, target?}``)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(e.get("message")) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Progression:
    mode: str = "timed"
    seconds: float = 0.0

    def json(self) -> dict[str, Any]:
        return {"mode": self.mode, "seconds": self.seconds}


@dataclass
class JobContext:
    """What a runner sees of its job."""

    job_id: str
    kind: str
    project: str
    scope: str
    input: dict[str, Any]
    update: Callable[..., None]
    cancelled: threading.Event = field(default_factory=threading.Event)
    on_cancel: list[Callable[[], None]] = field(default_factory=list)


Runner = Callable[[JobContext], None]


class JobEngine:
    """Queues, runs, cancels and persists jobs; one per emulated resource."""

    def __init__(self, store: Store, clock: Clock, ids: IdSource, *, workers: int = 4) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._runners: dict[str, Runner] = {}
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._lock = threading.Lock()
        self._held: dict[str, JobContext] = {}
        self._live: dict[str, JobContext] = {}
        self._closing = False
        self.progression = Progression()

    def register(self, kind: str, runner: Runner) -> None:
        self._runners[kind] = runner

    # reading -----------------------------------------------------------------------------------------

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job's row (``kind``, ``project``, ``scope``, ``body``) unless it does not exist or has expired."""
        rows = self._store.query("SELECT kind, project, scope, body FROM jobs WHERE id=?", (job_id,))
        if not rows:
            return None
        job = {"kind": rows[0]["kind"], "project": rows[0]["project"], "scope": rows[0]["scope"]}
        job["body"] = json.loads(rows[0]["body"])
        if job["body"]["expirationDateTime"] < iso(self._clock.now()):
            return None
        return job

    def of_kind(self, kind: str, project: str) -> list[dict[str, Any]]:
        """Bodies of the project's unexpired jobs of ``kind``, oldest first."""
        now = iso(self._clock.now())
        rows = self._store.query("SELECT body FROM jobs WHERE kind=? AND project=? ORDER BY created", (kind, project))
        bodies = [json.loads(row["body"]) for row in rows]
        return [body for body in bodies if body["expirationDateTime"] >= now]

    # writing -----------------------------------------------------------------------------------------

    def submit(self, kind: str, project: str, scope: str, job_input: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Accept a job: persist it as ``notStarted`` and schedule it by the current progression."""
        now = self._clock.now()
        job_id = self._ids.job_id(now)
        body = {
            **extra,
            "jobId": job_id,
            "createdDateTime": iso(now),
            "lastUpdatedDateTime": iso(now),
            "expirationDateTime": iso(now + JOB_LIFETIME),
            "status": "notStarted",
        }
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO jobs (id, kind, project, scope, created, status, body, input) VALUES (?,?,?,?,?,?,?,?)",
                (job_id, kind, project, scope, now.timestamp(), "notStarted", json.dumps(body), json.dumps(job_input)),
            )
        self._schedule(job_id, kind, project, scope, job_input)
        return body

    def _schedule(self, job_id: str, kind: str, project: str, scope: str, job_input: dict[str, Any]) -> None:
        context = JobContext(job_id, kind, project, scope, job_input, lambda **fields: self._update(job_id, fields))
        with self._lock:
            self._live[job_id] = context
        progression = self.progression
        if progression.mode == "immediate":
            self._run(context, 0.0)
        elif progression.mode == "manual":
            with self._lock:
                self._held[job_id] = context
        else:
            self._executor.submit(self._run, context, progression.seconds)

    def step(self, job_id: str | None = None) -> list[str]:
        """Release held (``manual``) jobs, one or all; returns the ids released."""
        with self._lock:
            ids = [job_id] if job_id in self._held else ([] if job_id else list(self._held))
            released = [self._held.pop(i) for i in ids]
        for context in released:
            if self.get(context.job_id) is not None:  # a job that expired while held stays unrun
                self._executor.submit(self._run, context, 0.0)
        return [c.job_id for c in released]

    def cancel(self, job_id: str) -> None:
        """Ask a job to stop: a waiting job is cancelled at once, a running one when its runner notices."""
        with self._lock:
            context = self._live.get(job_id)
            held = self._held.pop(job_id, None)
        if context is None:
            return
        if held is not None:
            self._finish(job_id, "cancelled")
            return
        self._update(job_id, {"status": "cancelling"})
        context.cancelled.set()
        for callback in context.on_cancel:
            callback()

    def _run(self, context: JobContext, delay: float) -> None:
        if delay and context.cancelled.wait(delay):
            self._finish(context.job_id, "cancelled")
            return
        if context.cancelled.is_set():
            self._finish(context.job_id, "cancelled")
            return
        self._update(context.job_id, {"status": "running"})
        try:
            self._runners[context.kind](context)
        except JobFailedError as failure:
            self._finish(context.job_id, "failed", failure.errors)
        except Exception:
            log.exception("job %s (%s) failed unexpectedly", context.job_id, context.kind)
            error = {"code": "InternalServerError", "message": "The job failed unexpectedly; see the emulator log."}
            self._finish(context.job_id, "failed", [error])
        else:
            self._finish(context.job_id, "cancelled" if context.cancelled.is_set() else "succeeded")

    def _finish(self, job_id: str, status: str, errors: list[dict[str, Any]] | None = None) -> None:
        if self._closing:
            return  # stopped by shutdown, not by the user: left unfinished so the next start runs it again
        fields: dict[str, Any] = {"status": status}
        if errors:
            fields["errors"] = errors
        self._update(job_id, fields)
        with self._lock:
            self._live.pop(job_id, None)

    def _update(self, job_id: str, fields: dict[str, Any]) -> None:
        """Merge ``fields`` into the job body (one level deep into ``result``) and stamp the update time."""
        with self._store.transaction() as db:
            rows = db.execute("SELECT body FROM jobs WHERE id=?", (job_id,)).fetchall()
            if not rows:
                return  # the project was deleted under the job
            body = json.loads(rows[0]["body"])
            if body["status"] in TERMINAL:
                return
            for name, value in fields.items():
                if name == "result" and isinstance(body.get("result"), dict):
                    body["result"] = {**body["result"], **value}
                else:
                    body[name] = value
            body["lastUpdatedDateTime"] = iso(self._clock.now())
            db.execute("UPDATE jobs SET body=?, status=? WHERE id=?", (json.dumps(body), body["status"], job_id))

    # life cycle ----------------------------------------------------------------------------------------

    def resume(self) -> int:
        """Queue again every job a previous run acknowledged but did not finish; returns how many."""
        rows = self._store.query(
            "SELECT id, kind, project, scope, status, input FROM jobs WHERE status IN "
            "('notStarted', 'running', 'cancelling') ORDER BY created"
        )
        for row in rows:
            if row["status"] == "cancelling":
                self._finish(row["id"], "cancelled")
                continue
            self._schedule(row["id"], row["kind"], row["project"], row["scope"], json.loads(row["input"]))
        return len(rows)

    def reset(self, timeout: float = 30) -> None:
        """Cancel every waiting and running job and wait until their runners have returned.

        Used before the store is emptied, so no runner writes a model or deployment into the fresh state.
        """
        with self._lock:
            contexts = list(self._live.values())
        for context in contexts:
            self.cancel(context.job_id)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not any(c.job_id in self._live for c in contexts):
                    return
            time.sleep(0.01)

    def close(self) -> None:
        """Stop: cancel running jobs (their runners kill any subprocess) and wait for the workers."""
        with self._lock:
            self._closing = True
            contexts = list(self._live.values())
            self._held.clear()
        for context in contexts:
            context.cancelled.set()
            for callback in context.on_cancel:
                callback()
        self._executor.shutdown(wait=True, cancel_futures=True)
