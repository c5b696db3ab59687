"""What a transaction sends: request bodies of the analyze-text jobs API, built once before the load starts so
the generator spends its time on the wire, not on JSON."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fixtures.sample_project import PROJECT_NAME
from fixtures.sized_texts import sample_texts, texts_of_size

DEFAULT_DEPLOYMENT = "production"
DEFAULT_SIZE = 1000
"""Characters per document: the protocol's one-document transactions of ~1,000 characters."""
MAX_REQUEST_CHARACTERS = 125_000
MAX_DOCUMENTS_PER_REQUEST = 25
"""Azure's limits per asynchronous request (azure-contract §4): a request over either is refused whole."""
API_VERSION = "2023-04-01"
JOBS_PATH = "/language/analyze-text/jobs"
KEY_VARIABLE = "CNER_LOAD_KEY"
"""Where ``cner load`` hands the key to Locust: an environment variable, not a command line others can list."""


class WorkloadError(ValueError):
    """The workload cannot be built (an empty folder, a document over the limit); the message says what to fix."""


@dataclass(frozen=True)
class Workload:
    """The options of ``--project``, ``--deployment``, ``--docs``, ``--docs-per-request`` and ``--doc-size``."""

    project: str = PROJECT_NAME
    deployment: str = DEFAULT_DEPLOYMENT
    folder: Path | None = None
    documents_per_request: int = 1
    size: int | None = DEFAULT_SIZE
    """Characters per document (cut at word boundaries); None sends the folder's files as they are."""
    language: str = "en"
    api_version: str = API_VERSION

    @property
    def jobs_path(self) -> str:
        return f"{JOBS_PATH}?api-version={self.api_version}"


def texts(workload: Workload) -> list[str]:
    """The documents: the sample invoices, or the folder's ``*.txt`` files (UTF-8), cut to ``size`` if given."""
    if not 1 <= workload.documents_per_request <= MAX_DOCUMENTS_PER_REQUEST:
        raise WorkloadError(f"--docs-per-request must be 1-{MAX_DOCUMENTS_PER_REQUEST} (Azure's limit per request)")
    most = MAX_REQUEST_CHARACTERS // workload.documents_per_request
    if workload.size is not None and not 1 <= workload.size <= most:
        raise WorkloadError(
            f"--doc-size must be 1-{most} characters with {workload.documents_per_request} per request "
            f"(Azure takes {MAX_REQUEST_CHARACTERS:,} characters per request)"
        )
    if workload.folder is None:
        return sample_texts(workload.size or DEFAULT_SIZE)
    files = sorted(workload.folder.glob("*.txt"))
    if not files:
        raise WorkloadError(f"{workload.folder}: no .txt files to send (give a folder of UTF-8 text files)")
    found = [f.read_text(encoding="utf-8") for f in files]
    if workload.size is not None:
        found = texts_of_size(found, workload.size)
        if not found:
            raise WorkloadError(f"{workload.folder}: no file has {workload.size // 2} characters or more (--doc-size)")
        return found
    for file, text in zip(files, found, strict=True):
        if not 0 < len(text) <= most:
            raise WorkloadError(
                f"{file}: {len(text)} characters; with {workload.documents_per_request} per request each may "
                f"hold 1-{most} (Azure takes {MAX_REQUEST_CHARACTERS:,} per request; or give --doc-size)"
            )
    return found


def request_bodies(workload: Workload, documents: Sequence[str]) -> list[bytes]:
    """One body per ``documents_per_request`` documents, the documents taken in turn (reused when fewer)."""
    count = max(1, -(-len(documents) // workload.documents_per_request))
    cycle = itertools.cycle(documents)
    task = {
        "kind": "CustomEntityRecognition",
        "taskName": "load",
        "parameters": {"projectName": workload.project, "deploymentName": workload.deployment},
    }
    bodies = []
    for _ in range(count):
        batch = [
            {"id": str(i), "text": next(cycle), "language": workload.language}
            for i in range(1, workload.documents_per_request + 1)
        ]
        bodies.append(json.dumps({"analysisInput": {"documents": batch}, "tasks": [task]}).encode())
    return bodies
