"""What a transaction makes of the container's answers: a job state to act on, or one line saying what went
wrong. The line names the status and Azure's error codes, never an id, so Locust counts the same failure in
one row of its failure table however often it happens."""

from __future__ import annotations

import json
from typing import Any

TERMINAL = frozenset({"succeeded", "failed", "cancelled", "partiallyCompleted"})


def refusal(step: str, status: int, text: str | None) -> str:
    """``submit answered 503 ServiceUnavailable``: the status and Azure's ``error.code``, if the body has one;
    status 0 is Locust's way of saying the connection failed."""
    if not status:
        return f"{step}: no answer ({text or 'connection failed'})"
    error = (job_of(text) or {}).get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return f"{step} answered {status} {code}" if isinstance(code, str) else f"{step} answered {status}"


def job_of(text: str | None) -> dict[str, Any] | None:
    """The JSON object of an answer body, or None for anything else."""
    try:
        job = json.loads(text or "")
    except ValueError:
        return None
    return job if isinstance(job, dict) else None


def _codes(errors: object, nested: bool) -> str:
    found = set()
    for entry in errors if isinstance(errors, list) else []:
        error = entry.get("error") if nested and isinstance(entry, dict) else entry
        if isinstance(error, dict):
            found.add(str(error.get("code")))
    return ",".join(sorted(found))


def unsuccessful(job: dict[str, Any]) -> str | None:
    """None for a succeeded job whose documents all have results; else what went wrong, by error code."""
    status = job.get("status")
    if status != "succeeded":
        return f"job {status} {_codes(job.get('errors'), nested=False)}".rstrip()
    tasks = job.get("tasks")
    items = tasks.get("items") if isinstance(tasks, dict) else None
    if not isinstance(items, list) or not items:
        return "job succeeded without task results"
    errors = [
        error
        for item in items
        if isinstance(item, dict) and isinstance(item.get("results"), dict)
        for error in item["results"].get("errors") or []
    ]
    return f"document errors {_codes(errors, nested=True)}" if errors else None
