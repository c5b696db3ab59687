"""What the suite sends: texts, altered bodies, and requests a container must refuse.

The texts are invoice-like, so a model of the sample project finds entities in them, but no clause depends on
which entities a target finds (its model is the user's).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import requests

from conformance.client import JobsClient

INVOICE = (
    "Invoice INV-2024-0117 from Contoso Supplies Ltd, 12 Harbour Road, Seattle, dated 3 March 2024. "
    "Total due: 1,250.00 EUR by 2 April 2024. Contact: Ana Lopez."
)
EMOJI_INVOICE = "🧾 Invoice INV-2023-0042 👍🏽 from Fabrikam GmbH 🇩🇪, Berlin; total 980.50 USD due 1 May 2023 ✅."
UNSUPPORTED_LANGUAGE = "tlh"
"""A language code no Custom NER project serves (Klingon): its document is answered with an error, not processed."""
UNKNOWN_JOB = "00000000-0000-4000-8000-000000000000"
"""A well-formed job id no container issued (version-4 UUID layout, all zeros)."""


def text_of(length: int) -> str:
    """An invoice-like text of exactly ``length`` characters (ASCII: characters and text elements agree)."""
    return ((INVOICE + " ") * (length // len(INVOICE) + 1))[:length]


DELETE = object()
"""``mutated``'s value meaning "remove the field"."""


def mutated(body: Any, path: tuple[str | int, ...], value: Any = DELETE) -> Any:
    """A deep copy of ``body`` with the item at ``path`` replaced by ``value``, or removed."""
    out = copy.deepcopy(body)
    parent: Any = out
    for key in path[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


Send = Callable[[JobsClient], requests.Response]

ERROR_REQUESTS: dict[str, Send] = {
    "missing api-version": lambda jobs: jobs.request("POST", jobs.url(), json=jobs.body(INVOICE)),
    "unknown api-version": lambda jobs: jobs.submit(jobs.body(INVOICE), "2099-01-01"),
    "unknown job id": lambda jobs: jobs.get_job(UNKNOWN_JOB),
    "bad body": lambda jobs: jobs.submit({"analysisInput": {}}),
    "body not JSON": lambda jobs: jobs.request(
        "POST",
        jobs.url(),
        params=jobs.version_query(),
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    ),
    "26 documents": lambda jobs: jobs.submit(jobs.body(*["Invoice"] * 26)),
    "unknown path": lambda jobs: jobs.request("GET", jobs.url("/language/no-such-thing"), params=jobs.version_query()),
}
"""Requests the contract says a container refuses with an error answer, by what is wrong with them."""


def error_answer(jobs: JobsClient, send: Send) -> requests.Response:
    """``send``'s answer, if it is an error; otherwise the calling test is skipped: whether that request must
    be refused is another clause's matter, and this one judges error answers only."""
    answer = send(jobs)
    if answer.status_code < 400:
        pytest.skip(f"answered {answer.status_code}, not an error: whether it should is another clause's matter")
    return answer
