"""The billing statuses a container can be told, when each occurs, and how each is answered on the wire.

The container FAQ lists them (azure-contract.md §3.4). Three occur on their own:

* ``Invalid``: the key is missing or is not one of the resource's: the gateway's 401, before any route runs;
* ``Mismatch``: the container is not a Custom NER container (``containerType``): 403;
* ``OutOfQuota``: an F0 resource has used its 5,000 text records of the month: 403 with ``Retry-After``
  until the month ends;

and otherwise ``Valid`` (200). Every status, those three included, can be forced by the control plane's
override, which is how a test meets the others: ``CouldNotConnect`` (the connection is dropped, no answer),
``BillingEndpointBusy`` (503 with ``Retry-After``), ``ContainerUseUnauthorized`` (403) and ``Unknown`` (500).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, jsonify

from emulator.web.bodies import Body, require
from emulator.web.errors import Unauthorized, invalid

from ..control.interceptor import drop_connection
from ..resource import Resource
from .ledger import Quota
from .records import CONTAINER_TYPE, is_custom_ner

VALID = "Valid"
INVALID = "Invalid"
MISMATCH = "Mismatch"
COULD_NOT_CONNECT = "CouldNotConnect"
OUT_OF_QUOTA = "OutOfQuota"
BUSY = "BillingEndpointBusy"
UNAUTHORIZED = "ContainerUseUnauthorized"
UNKNOWN = "Unknown"
STATUSES = (VALID, INVALID, MISMATCH, COULD_NOT_CONNECT, OUT_OF_QUOTA, BUSY, UNAUTHORIZED, UNKNOWN)

HTTP_STATUS = {VALID: 200, MISMATCH: 403, OUT_OF_QUOTA: 403, UNAUTHORIZED: 403, BUSY: 503, UNKNOWN: 500}
"""Statuses answered with a status body; ``Invalid`` is the gateway's 401 and ``CouldNotConnect`` no answer."""

RECORDING = (VALID, OUT_OF_QUOTA)
"""Statuses under which usage reports are recorded: usage already served is a fact even over the quota."""

BUSY_RETRY_AFTER = 60
MAX_RETRY_AFTER = 31 * 86_400

_OVERRIDE_MESSAGES = {
    VALID: "The key is valid for this container.",
    MISMATCH: "The key belongs to a resource of another kind than this container.",
    OUT_OF_QUOTA: "The resource's quota is used up; the container must stop serving until Retry-After.",
    BUSY: "The billing endpoint is busy; retry after Retry-After seconds.",
    UNAUTHORIZED: "This resource is not allowed to run containers.",
    UNKNOWN: "The billing endpoint could not determine the key's status; retry later.",
}


@dataclass(frozen=True)
class Override:
    status: str
    retry_after: int | None = None

    def json(self) -> dict[str, Any]:
        return {"status": self.status, "retryAfter": self.retry_after}


def parse_override(value: Any) -> Override:
    """An override from a control-plane body ``{status, retryAfter?}``.

    :raises BadRequest: unknown status, or a ``retryAfter`` for a status whose answer carries none.
    """
    body = Body(value, ("status", "retryAfter"))
    status: str = require(body.string("status", choices=STATUSES), "status", f"one of {', '.join(STATUSES)}")
    retry_after = body.integer("retryAfter", 0, MAX_RETRY_AFTER, unit=" seconds")
    if retry_after is not None and status not in (BUSY, OUT_OF_QUOTA):
        raise invalid(
            f"retryAfter applies to {BUSY} and {OUT_OF_QUOTA} only; {status} is answered without Retry-After",
            target="retryAfter",
        )
    return Override(status, retry_after)


class OverrideSlot:
    """The resource's billing-status override (``resource.extras["billing"]``); None when unset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._override: Override | None = None

    def get(self) -> Override | None:
        with self._lock:
            return self._override

    def set(self, override: Override | None) -> None:
        with self._lock:
            self._override = override


def override_slot(resource: Resource) -> OverrideSlot:
    slot: OverrideSlot = resource.extras.setdefault("billing", OverrideSlot())
    return slot


@dataclass(frozen=True)
class Verdict:
    status: str
    message: str
    retry_after: int | None = None


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def verdict(resource: Resource, container_types: Sequence[str], quota: Quota, now: datetime) -> Verdict:
    """The status for a container of ``container_types`` now: the override if one is set, else the natural one."""
    override = override_slot(resource).get()
    if override is not None:
        retry_after = override.retry_after
        if retry_after is None and override.status == BUSY:
            retry_after = BUSY_RETRY_AFTER
        if retry_after is None and override.status == OUT_OF_QUOTA:
            retry_after = _seconds_until(quota.resets_at, now)
        return Verdict(override.status, _OVERRIDE_MESSAGES.get(override.status, ""), retry_after)
    for index, container_type in enumerate(container_types):
        if not is_custom_ner(container_type):
            where = f"record {index}: " if len(container_types) > 1 else ""
            return Verdict(
                MISMATCH,
                f"{where}containerType {container_type!r} is not a Custom NER container; this Language resource "
                f"meters Custom NER containers (containerType {CONTAINER_TYPE!r})",
            )
    if quota.exhausted:
        return Verdict(
            OUT_OF_QUOTA,
            f"The F0 tier's {quota.limit} text records of {quota.month} are used up ({quota.used} used); the quota "
            f"renews on {quota.resets_at:%Y-%m-%d}, or move the resource to the S tier.",
            _seconds_until(quota.resets_at, now),
        )
    return Verdict(VALID, "The key is valid for this container.")


def answer(verdict: Verdict, details: dict[str, Any]) -> Response:
    """The wire form of a verdict: a status body (plus ``details``), the gateway's 401, or a dropped connection."""
    if verdict.status == INVALID:
        raise Unauthorized()
    if verdict.status == COULD_NOT_CONNECT:
        return drop_connection()
    response = jsonify({"status": verdict.status, "message": verdict.message, **details})
    response.status_code = HTTP_STATUS[verdict.status]
    if verdict.retry_after is not None:
        response.headers["Retry-After"] = str(verdict.retry_after)
    return response
