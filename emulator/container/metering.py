"""Metering: count every served job durably, report it to the Billing endpoint every interval, and let the
answers decide whether the container serves (``BillingGate``).

A round (``tick``) reports what was counted, or, with nothing to report, checks the key, so the endpoint is
asked for its verdict every interval either way ("reports usage about every 10 to 15 minutes",
azure-contract.md §3.4). The rounds run on one daemon thread; they stop once the gate has stopped for good,
since nothing would serve again before a restart, and a restart reports whatever the spool still holds.
"""

from __future__ import annotations

import logging
import threading

from .billing_client import BillingAnswer, BillingClient, BillingStatus, iso
from .gate import BillingGate
from .usage_spool import UsageSpool

log = logging.getLogger(__name__)

_BATCH = 100
"""Records per report: the endpoint's limit of a batch."""


class Meter:
    """Counting and reporting for one container. It does not own ``spool``: whoever opened it closes it."""

    def __init__(self, client: BillingClient, spool: UsageSpool, gate: BillingGate, interval: float) -> None:
        self._client = client
        self._spool = spool
        self._gate = gate
        self._interval = interval
        self._tick_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def count(self, text_records: int, transactions: int) -> None:
        """Count one served job; on disk when this returns, stamped with the endpoint's time."""
        self._spool.count(text_records, transactions, iso(self._client.endpoint_time()))

    def tick(self) -> BillingAnswer:
        """One round now: report the pending records (batch after batch while the endpoint takes them whole),
        or check the key if there are none; the gate gets the answer, which is returned."""
        with self._tick_lock:
            try:
                answer = self._round()
            except Exception as exc:  # a failing round (say, a full disk or a garbled answer) counts as failed
                log.exception("a metering round failed")
                answer = BillingAnswer(BillingStatus.UNKNOWN, f"the metering round failed: {exc}")
            self._gate.record(answer)
            return answer

    def _round(self) -> BillingAnswer:
        answer: BillingAnswer | None = None
        while records := self._spool.seal(self._client.record, _BATCH):
            answer, acknowledged = self._client.report(records)
            self._spool.acknowledge(acknowledged)
            if len(records) < _BATCH or len(acknowledged) < len(records):
                break
        return answer if answer is not None else self._client.check()

    def start(self) -> None:
        """Tick every interval (or the answer's ``Retry-After`` when longer) on a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("the meter is already started")
        self._thread = threading.Thread(target=self._run, name="cner-metering", daemon=True)
        self._thread.start()

    def close(self, *, flush: bool = True) -> None:
        """Stop ticking (at once, even mid-wait) and, with ``flush``, report what was counted in one last round."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if flush:
            self.tick()

    def _run(self) -> None:
        delay = self._interval
        while not self._stop.wait(delay):
            answer = self.tick()
            if self._gate.stopped:
                return
            delay = max(self._interval, answer.retry_after or 0.0)
