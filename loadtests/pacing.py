"""The open-loop timetable each simulated user keeps.

Locust's ``constant_throughput(x)`` waits ``1/x`` minus the last task's duration, measured from the last start:
a slow answer pushes every later start back, so the rate offered drops exactly when the target slows down and
latencies are measured from late starts (coordinated omission, locustio/locust#2347). ``Timetable`` keeps
``constant_throughput``'s role (a user's wait time between transactions) but against fixed due times: a late
transaction is followed at once by the next one that is due, and each is timed from when it was due.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable


class Timetable:
    """Due times ``interval`` apart, the first at a random phase within one interval, so that users started
    together do not fire together."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.perf_counter, rng: random.Random | None = None):
        if rate <= 0:
            raise ValueError(f"a timetable needs a positive rate, got {rate}")
        self.interval = 1.0 / rate
        self._clock = clock
        self.due = clock() + (rng or random.Random()).uniform(0.0, self.interval)

    def wait(self) -> float:
        """Seconds until the next transaction is due (0 when it is already late)."""
        return max(0.0, self.due - self._clock())

    def advance(self) -> float:
        """Take the transaction that is due now: returns its due time and books the next one."""
        due = self.due
        self.due += self.interval
        return due
