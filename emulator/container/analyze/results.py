"""A job as ``GET /language/analyze-text/jobs/{jobId}`` returns it (azure-contract.md §2.2, sdk-clients.md §2.5).

The body follows the spec and what the SDKs need: job-level ``lastUpdatedDateTime`` (and the
``lastUpdateDateTime`` spelling the real service sends, so clients written against either work), task-level
``lastUpdateDateTime``, ``kind`` ``CustomEntityRecognitionLROResults``, the request's ``taskName`` echoed,
``entities`` and ``warnings`` always lists. Documents are paged as the real service pages them (20 per
page unless ``top`` asks for fewer), with an absolute ``nextLink``.

An answer is made in two steps: the *whole* answer of a job (every document, every statistic, and the
documents' ids in order), then the *view* a query asks for (``showStats``, ``top``, ``skip``). A finished job
is stored as its whole answer in JSON text (``kept``): one string, which CPython's collector never walks, in
place of the dozen objects of its inputs, states and outcomes (jobs.py says why that matters).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import request

from emulator.web.errors import invalid

from .jobs import AnalyzeJob
from .predict import TaskOutcome

PAGE_SIZE = 20
RESULT_KIND = "CustomEntityRecognitionLROResults"


def iso(moment: datetime, *, fraction: bool = False) -> str:
    """Azure's timestamps: whole seconds at job level, microseconds at task level (as recorded)."""
    text = moment.isoformat(timespec="microseconds" if fraction else "seconds")
    return text.replace("+00:00", "Z")


def _query(*names: str) -> str | None:
    """The first of ``names`` in the query string. Asked for a missing key, werkzeug's ``MultiDict.get`` raises
    and catches an HTTP exception, which costs more than the rest of the lookup: so ``in`` first."""
    args = request.args
    for name in names:
        if name in args:
            return args[name]
    return None


def _flag(name: str) -> bool:
    """A boolean query parameter; the SDK sends ``showStats=True`` (Python's spelling), so any case."""
    value = _query(name)
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise invalid(f"{name} must be true or false, not {value!r}", target=name)
    return value.lower() == "true"


def _integer(name: str, default: int, low: int, high: int) -> int:
    """``top``/``skip``, also under the ``$top``/``$skip`` names of OData-style links."""
    value = _query(name, f"${name}")
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 9) or not low <= int(value) <= high:
        raise invalid(f"{name} must be an integer from {low} to {high}, not {value!r}", target=name)
    return int(value)


def kept(job: AnalyzeJob) -> str:
    """What the job store keeps of ``job`` once it has finished: its whole answer, as JSON text."""
    return json.dumps(_whole(job))


def job_state(job: AnalyzeJob, version: str, job_url: str) -> dict[str, Any]:
    """The body for ``job`` read now, as the request's query asks; ``job_url`` is its absolute URL without a
    query (for ``nextLink``)."""
    whole = json.loads(job.answer) if job.answer is not None else _whole(job)
    return _view(whole, version, job_url)


def _whole(job: AnalyzeJob) -> dict[str, Any]:
    """``{"documentIds": [...], "body": ...}``: the body with every document and statistic."""
    updated = iso(job.updated)
    body: dict[str, Any] = {"jobId": job.job_id}
    if job.input.display_name is not None:
        body["displayName"] = job.input.display_name
    body |= {
        "createdDateTime": iso(job.created),
        "expirationDateTime": iso(job.expires),
        "lastUpdatedDateTime": updated,
        "lastUpdateDateTime": updated,
        "status": job.status,
        "errors": list(job.errors),
    }
    items = []
    counts = {"completed": 0, "failed": 0, "inProgress": 0}
    for spec, task in zip(job.input.tasks, job.tasks, strict=True):
        if task.status == "succeeded" and task.outcome is not None:
            counts["completed"] += 1
            item: dict[str, Any] = {"kind": RESULT_KIND}
            if spec.name is not None:
                item["taskName"] = spec.name
            item |= {
                "lastUpdateDateTime": iso(task.updated, fraction=True),
                "status": task.status,
                "results": _results(task.outcome, spec.project_name, spec.deployment_name, len(job.input.documents)),
            }
            items.append(item)
        elif task.status == "failed":
            counts["failed"] += 1
        elif task.status in ("notStarted", "running"):
            counts["inProgress"] += 1
    body["tasks"] = {**counts, "total": len(job.tasks), "items": items}
    return {"documentIds": [d.id for d in job.input.documents], "body": body}


def _results(outcome: TaskOutcome, project: str, deployment: str, documents_count: int) -> dict[str, Any]:
    return {
        "statistics": {
            "documentsCount": documents_count,
            "validDocumentsCount": len(outcome.documents),
            "erroneousDocumentsCount": len(outcome.errors),
            "transactionsCount": outcome.text_records,
        },
        "documents": [
            {
                "id": served.id,
                "entities": served.entities,
                "warnings": [],
                "statistics": {"charactersCount": served.characters, "transactionsCount": served.text_records},
            }
            for served in outcome.documents
        ],
        "errors": list(outcome.errors),
        "projectName": project,
        "deploymentName": deployment,
    }


def _view(whole: dict[str, Any], version: str, job_url: str) -> dict[str, Any]:
    """The page and the statistics the query asks for, cut from ``whole`` (which this changes)."""
    show_stats = _flag("showStats")
    top = _integer("top", PAGE_SIZE, 1, PAGE_SIZE)
    skip = _integer("skip", 0, 0, 1_000_000)
    ids: list[str] = whole["documentIds"]
    page = set(ids[skip : skip + top])
    body: dict[str, Any] = whole["body"]
    for item in body["tasks"]["items"]:
        results = item["results"]
        documents = [d for d in results["documents"] if d["id"] in page]
        if not show_stats:
            del results["statistics"]
            for document in documents:
                del document["statistics"]
        results["documents"] = documents
        results["errors"] = [e for e in results["errors"] if e["id"] in page]
    if skip + top < len(ids):
        query = {"api-version": version, "top": top, "skip": skip + top}
        if show_stats:
            query["showStats"] = "true"
        body["nextLink"] = f"{job_url}?{urlencode(query)}"
    return body
