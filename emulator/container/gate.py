"""Whether the container may serve queries, decided by the Billing endpoint's answers alone.

Microsoft's container serves only while its key checks out: "If the container doesn't connect to Azure within
the allowed time window, the container continues to run but doesn't serve queries until the billing endpoint
is restored. The connection is attempted 10 times ... If it can't connect ... within the 10 tries, the
container stops serving requests" (azure-contract.md §3.4). So the gate opens on ``Valid`` only, counts
consecutive failures to get a status (no answer, a busy or broken endpoint), and after the last allowed one
closes for good. A refusal tells the caller why and, where waiting helps, when to come back.
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import UTC, datetime
from typing import Any

from emulator.web.errors import ApiError, Forbidden, ServiceUnavailable

from .billing_client import BillingAnswer, BillingStatus, iso

log = logging.getLogger(__name__)

_FAILED = frozenset({BillingStatus.COULD_NOT_CONNECT, BillingStatus.BUSY, BillingStatus.UNKNOWN})
"""Answers that are no verdict on the key: attempts that failed, counted towards stopping for good."""
_QUOTA_PHRASE = "Out of call volume quota for TextAnalytics F0 pricing tier"
"""The real service's words for a used-up F0 quota; the Azure SDK's ``QuotaExceededPolicy`` matches them in a 403
to fail at once instead of waiting out the Retry-After."""
_NOT_CHECKED = "NotChecked"
_NOT_CHECKED_MESSAGE = "The key has not been verified with the Billing endpoint yet."


class BillingGate:
    """The serving decision; ``record`` every answer of the Billing endpoint. Safe to share between threads."""

    def __init__(self, max_failed_attempts: int, retry_interval: float) -> None:
        self._max = max_failed_attempts
        self._interval = retry_interval
        self._lock = threading.Lock()
        self._answer: BillingAnswer | None = None
        self._checked: datetime | None = None
        self._failed = 0
        self._stopped = False

    def record(self, answer: BillingAnswer) -> None:
        """Take the endpoint's latest answer; a stopped gate ignores it (only a restart serves again).

        Any definite status breaks a run of failed attempts: the attempts to stop after are consecutive ones.
        """
        with self._lock:
            if self._stopped:
                return
            was_serving = self._serving()
            self._answer = answer
            self._checked = datetime.now(UTC)
            self._failed = self._failed + 1 if answer.status in _FAILED else 0
            stopped = self._stopped = self._failed >= self._max
            serving = self._serving()
        if stopped:
            log.error(
                "stopped serving for good after %d failed attempts to reach the Billing endpoint (last: %s: %s)",
                self._max,
                answer.status,
                answer.message,
            )
        elif was_serving and not serving:
            log.warning("not serving: the Billing endpoint answered %s: %s", answer.status, answer.message)
        elif serving and not was_serving:
            log.info("serving: the Billing endpoint answered %s", answer.status)

    @property
    def serving(self) -> bool:
        """Whether prediction requests are served now."""
        with self._lock:
            return self._serving()

    @property
    def stopped(self) -> bool:
        """Whether the gate closed for good (too many failed attempts in a row)."""
        with self._lock:
            return self._stopped

    @property
    def status(self) -> BillingStatus | None:
        """The last answer's status; None before the first answer."""
        with self._lock:
            return self._answer.status if self._answer else None

    @property
    def failed_attempts(self) -> int:
        """Failed attempts in a row, up to the last answer."""
        with self._lock:
            return self._failed

    def refusal(self) -> ApiError | None:
        """What a prediction request is answered while not serving; None while serving."""
        with self._lock:
            answer, failed, stopped = self._answer, self._failed, self._stopped
        if stopped:
            return ServiceUnavailable(
                f"The container stopped serving for good after {self._max} failed attempts to reach the Billing "
                "endpoint; restart the container once the Billing endpoint is reachable.",
                code="ServiceUnavailable",
            )
        if answer is None:
            return ServiceUnavailable(
                f"{_NOT_CHECKED_MESSAGE} Retry after the check.",
                code="ServiceUnavailable",
                retry_after=_whole_seconds(self._interval),
            )
        if answer.status in _FAILED:
            return ServiceUnavailable(
                f"The Billing endpoint's status is {answer.status} (failed attempt {failed} of {self._max}); serving "
                "resumes when the Billing endpoint answers Valid again.",
                code="ServiceUnavailable",
                retry_after=_whole_seconds(max(self._interval, answer.retry_after or 0)),
            )
        if answer.status == BillingStatus.OUT_OF_QUOTA:
            return Forbidden(
                f"{_QUOTA_PHRASE}. The Billing endpoint answered {answer.status}: {answer.message}",
                code="QuotaExceeded",
                retry_after=None if answer.retry_after is None else _whole_seconds(answer.retry_after),
            )
        if answer.status != BillingStatus.VALID:
            return Forbidden(
                f"The Billing endpoint refused this container ({answer.status}): {answer.message}", code="Forbidden"
            )
        return None

    def snapshot(self) -> dict[str, Any]:
        """The gate's state for ``GET /status``."""
        with self._lock:
            answer, checked = self._answer, self._checked
            failed, stopped, serving = self._failed, self._stopped, self._serving()
        return {
            "apiStatus": answer.status if answer else _NOT_CHECKED,
            "apiStatusMessage": answer.message if answer else _NOT_CHECKED_MESSAGE,
            "serving": serving,
            "stopped": stopped,
            "failedAttempts": failed,
            "maxFailedAttempts": self._max,
            "lastCheckedDateTime": iso(checked) if checked else None,
        }

    def _serving(self) -> bool:
        return not self._stopped and self._answer is not None and self._answer.status == BillingStatus.VALID


def _whole_seconds(seconds: float) -> float:
    """``Retry-After`` is whole seconds on the wire (RFC 9110); round up, so a client never comes back early."""
    return float(max(1, math.ceil(seconds)))
