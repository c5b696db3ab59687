"""Parity: the same scenario against two containers, answers compared after normalising volatile values.

After LocalStack's snapshot tests: job ids, timestamps and each target's own base URL differ on every run, so
they are replaced *by reference* (the first job id seen becomes ``<uuid:1>``, the second ``<uuid:2>``, ...), which
keeps relations ("the Operation-Location names the job whose id is in the body") while dropping the values.
What remains is compared path by path; a difference is reported with its JSON Pointer and both normalised values,
and known divergences are listed by the user as globs over those pointers (``--parity-ignore '*/message'``).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from conformance.client import JobsClient
from conformance.documents import EMOJI_INVOICE, INVOICE, UNKNOWN_JOB

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
DEFAULT_IGNORE = ("*/error/message", "*/innererror/message", "*/error/target", "*/innererror/target")
"""Error wording and targets are each implementation's own; the contract fixes the status and code."""


@dataclass
class Normaliser:
    """Replaces volatile values by references that are stable within one target's scenario."""

    base_url: str
    refs: dict[str, str] = field(default_factory=dict)

    def _ref(self, kind: str, value: str) -> str:
        if value not in self.refs:
            self.refs[value] = f"<{kind}:{sum(ref.startswith(f'<{kind}:') for ref in self.refs.values()) + 1}>"
        return self.refs[value]

    def text(self, value: str) -> str:
        value = value.replace(self.base_url, "<base-url>")
        value = UUID.sub(lambda match: self._ref("uuid", match[0].lower()), value)
        return DATE_TIME.sub("<date-time>", value)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, float):
            return round(value, 4)
        return value


def pointer(parts: Iterable[str | int]) -> str:
    """A JSON Pointer (RFC 6901) of a path of keys and indices."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def differences(left: Any, right: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str, str, str]]:
    """Every (JSON Pointer, left value, right value) where two normalised documents differ, in path order."""
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right)):
            if key not in right:
                found.append((pointer((*path, key)), _show(left[key]), "<absent>"))
            elif key not in left:
                found.append((pointer((*path, key)), "<absent>", _show(right[key])))
            else:
                found += differences(left[key], right[key], (*path, key))
        return found
    if isinstance(left, list) and isinstance(right, list):
        found = [
            item for n, (a, b) in enumerate(zip(left, right, strict=False)) for item in differences(a, b, (*path, n))
        ]
        if len(left) != len(right):
            found.append((pointer((*path, "length")), str(len(left)), str(len(right))))
        return found
    return [] if left == right else [(pointer(path), _show(left), _show(right))]


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def ignored(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


# Scenarios ---------------------------------------------------------------------------------------------------------


def _exchange(answer: requests.Response) -> dict[str, Any]:
    """What a client sees of one answer and the contract fixes: status, the headers that matter, the body."""
    headers = {
        name: answer.headers[name] for name in ("Operation-Location", "x-ms-error-code") if name in answer.headers
    }
    body: Any = answer.json() if answer.content else None
    return {"status": answer.status_code, "headers": headers, "body": body}


def _job(jobs: JobsClient, body: Any, query: dict[str, str] | None = None) -> list[dict[str, Any]]:
    answer = jobs.submit(body)
    seen = [_exchange(answer)]
    if answer.status_code == 202:
        jobs.poll(answer.headers["Operation-Location"])
        seen.append(_exchange(jobs.request("GET", answer.headers["Operation-Location"], params=query)))
    return seen


def _refusals(jobs: JobsClient) -> list[dict[str, Any]]:
    bodies: tuple[Any, ...] = ({}, [], jobs.body(*["Invoice"] * 26), {"analysisInput": {}})
    return [_exchange(jobs.submit(body)) for body in bodies]


Scenario = Callable[[JobsClient], list[dict[str, Any]]]

SCENARIOS: dict[str, Scenario] = {
    "entities in each string index type": lambda jobs: [
        step
        for unit in ("TextElements_v8", "UnicodeCodePoint", "Utf16CodeUnit")
        for step in _job(jobs, jobs.body(INVOICE, EMOJI_INVOICE, stringIndexType=unit))
    ],
    "statistics and a document error": lambda jobs: _job(
        jobs, jobs.body(INVOICE, "", "x" * 1500), {"showStats": "true"}
    ),
    "paging": lambda jobs: _job(jobs, jobs.body(*[INVOICE] * 4), {"top": "2"}),
    "invalid bodies": lambda jobs: _refusals(jobs),
    "unknown job": lambda jobs: [_exchange(jobs.get_job(UNKNOWN_JOB))],
    "api-version": lambda jobs: [_exchange(jobs.submit(jobs.body(INVOICE), version)) for version in ("", "2099-01-01")],
}


def compare(
    scenario: Scenario, target: JobsClient, other: JobsClient, ignore: Iterable[str]
) -> list[tuple[str, str, str]]:
    """Run ``scenario`` on both clients; the differences of their normalised answers not matched by ``ignore``."""
    left = Normaliser(target.base_url)(scenario(target))
    right = Normaliser(other.base_url)(scenario(other))
    patterns = (*DEFAULT_IGNORE, *ignore)
    return [found for found in differences(left, right) if not ignored(found[0], patterns)]
