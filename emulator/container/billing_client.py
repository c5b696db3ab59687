"""The container's side of the metering protocol (docs/billing-protocol.md): the key check, usage reports,
and the one reading of an answer that every caller shares.

Every outcome of a request, an HTTP answer of any status or none at all, is read into one ``BillingAnswer``
by the rules of "How the container reads an answer", so the serving gate and start-up decide on a status,
never on raw HTTP. The endpoint's clock comes along with its answers: usage records are stamped with it, so a
record counts in the endpoint's month even when the container's clock (or the emulator's moved clock) differs.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from .outbound import Answer, Outbound, UnreachableError

log = logging.getLogger(__name__)

_STATUS_PATH = "/metering/v1/status"
_USAGE_PATH = "/metering/v1/usage"
_API_TYPE = "analyze-text"
_ACKNOWLEDGING_RESULTS = frozenset({"accepted", "duplicate"})
"""Per-record results of a 200 usage answer meaning the record is in the ledger (a duplicate was there before)."""
_CONTAINER_BUGS = frozenset({400, 409, 413})
"""Answers that mean this container sent a malformed or conflicting body: worth an error in the log."""


class BillingStatus(StrEnum):
    """The container FAQ's statuses, spelled as the endpoint spells them."""

    VALID = "Valid"
    INVALID = "Invalid"
    MISMATCH = "Mismatch"
    OUT_OF_QUOTA = "OutOfQuota"
    COULD_NOT_CONNECT = "CouldNotConnect"
    BUSY = "BillingEndpointBusy"
    UNAUTHORIZED = "ContainerUseUnauthorized"
    UNKNOWN = "Unknown"


REFUSED = frozenset({BillingStatus.INVALID, BillingStatus.MISMATCH, BillingStatus.UNAUTHORIZED})
"""Statuses that refuse this container outright: waiting does not change them, so they are fatal at start."""


@dataclass(frozen=True)
class ContainerIdentity:
    """What the container tells the endpoint about itself in every check and record."""

    container_version: str
    container_id: str
    project_name: str
    exported_model_name: str
    container_type: str = "customner"


@dataclass(frozen=True)
class BillingAnswer:
    """One request's outcome, read by the protocol's rules."""

    status: BillingStatus
    message: str
    retry_after: float | None = None
    """Seconds the endpoint asked to wait (``Retry-After``), if it said."""
    endpoint_now: datetime | None = None
    """The endpoint's clock when it answered, if the answer carried a status body."""
    http_status: int | None = None
    """None when no answer came back; start-up reads a 404 from the status route as a wrong Billing URL."""


def iso(moment: datetime) -> str:
    """``2026-02-02T23:19:07Z``: the protocol's date-time format (whole seconds, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BillingClient:
    """Checks the key and reports usage through ``outbound``; safe to share between threads."""

    def __init__(self, outbound: Outbound, identity: ContainerIdentity) -> None:
        self._outbound = outbound
        self._identity = identity
        self._clock: tuple[datetime, float] | None = None
        """The endpoint's ``now`` of the last answer and ``time.monotonic()`` when it arrived, replaced as one
        tuple so that a reader on another thread never sees one half of an update."""

    def check(self) -> BillingAnswer:
        """The key check: no side effect at the endpoint, so it doubles as the heartbeat."""
        identity = self._identity
        body = {
            "containerType": identity.container_type,
            "containerVersion": identity.container_version,
            "containerId": identity.container_id,
            "projectName": identity.project_name,
            "exportedModelName": identity.exported_model_name,
        }
        answer, _ = self._post(_STATUS_PATH, body)
        return answer

    def report(self, records: list[dict[str, Any]]) -> tuple[BillingAnswer, set[str]]:
        """Report ``records`` (1 to 100); the answer, and the ids the endpoint holds in its ledger now.

        Only a 200 acknowledges anything: any other answer, or none, leaves every record to be re-sent with the
        same id, which the endpoint counts once however often it arrives.
        """
        answer, body = self._post(_USAGE_PATH, records)
        acknowledged: set[str] = set()
        if answer.http_status == 200 and isinstance(body, dict) and isinstance(body.get("records"), list):
            acknowledged = {
                entry["id"]
                for entry in body["records"]
                if isinstance(entry, dict)
                and isinstance(entry.get("id"), str)
                and entry.get("result") in _ACKNOWLEDGING_RESULTS
            }
        return answer, acknowledged

    def endpoint_time(self) -> datetime:
        """The endpoint's clock: ``now`` of its last answer plus the time elapsed since (monotonic, so a jump of
        the local clock does not move it); the local UTC clock until the endpoint has answered once."""
        clock = self._clock
        if clock is None:
            return datetime.now(UTC)
        now, at = clock
        return now + timedelta(seconds=time.monotonic() - at)

    def record(self, meter: str, quantity: int) -> dict[str, Any]:
        """A new usage record of ``quantity`` on ``meter``, with a fresh id (the endpoint's idempotency key)."""
        identity = self._identity
        return {
            "id": str(uuid.uuid4()),
            "containerType": identity.container_type,
            "containerVersion": identity.container_version,
            "containerId": identity.container_id,
            "meter": {"name": meter, "quantity": quantity},
            "requestTime": iso(self.endpoint_time()),
            "apiType": _API_TYPE,
        }

    def _post(self, path: str, body: Any) -> tuple[BillingAnswer, Any]:
        try:
            answer = self._outbound.request("POST", path, body)
        except UnreachableError as exc:
            return BillingAnswer(BillingStatus.COULD_NOT_CONNECT, str(exc)), None
        parsed = answer.json()
        read = self._read(path, answer, parsed)
        if read.endpoint_now is not None:
            self._clock = (read.endpoint_now, time.monotonic())
        return read, parsed

    @staticmethod
    def _read(path: str, answer: Answer, body: Any) -> BillingAnswer:
        """Rules 2 to 5 of "How the container reads an answer" (rule 1, no answer, is ``_post``'s)."""
        code = answer.status
        retry_after = _retry_after(answer.headers.get("Retry-After"))
        if isinstance(body, dict) and isinstance(body.get("status"), str):
            message = body.get("message")
            try:
                status = BillingStatus(body["status"])
            except ValueError:
                status = BillingStatus.UNKNOWN
                message = f"the endpoint answered an unknown status {body['status']!r}: {message}"
            return BillingAnswer(
                status,
                message if isinstance(message, str) else "",
                retry_after,
                _endpoint_now(body.get("now")),
                code,
            )
        error = _error_message(body)
        if code == 401:
            return BillingAnswer(
                BillingStatus.INVALID, error or "the key was refused (HTTP 401)", retry_after, None, code
            )
        if code in (429, 503):
            return BillingAnswer(BillingStatus.BUSY, error or f"HTTP {code}", retry_after, None, code)
        if code in _CONTAINER_BUGS:
            log.error("the Billing endpoint refused this container's %s request (HTTP %d): %s", path, code, error)
        message = f"HTTP {code} from {path}" + (f": {error}" if error else "")
        return BillingAnswer(BillingStatus.UNKNOWN, message, retry_after, None, code)


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the protocol sends whole seconds); None when absent or not a number of them."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _endpoint_now(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _error_message(body: Any) -> str | None:
    """``error.message`` of the service's error body, if the body is one."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        message = body["error"].get("message")
        return message if isinstance(message, str) else None
    return None
