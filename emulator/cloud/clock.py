"""The emulator's notion of "now", which the control plane can move, and the service's time formats.

Everything time-dependent (job timestamps and expiry, the billing month) reads ``Clock.now`` so a test can
jump to the end of a month or past a job's expiry without waiting. Timestamps are written the way the
recorded responses write them: whole seconds, ``Z``.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

_TICKS_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


class Clock:
    """Wall-clock UTC time plus an adjustable offset."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        with self._lock:
            return self._offset

    def set_offset(self, offset: timedelta) -> None:
        with self._lock:
            self._offset = offset


def iso(moment: datetime) -> str:
    """``2026-02-02T23:19:07Z``: the service's date-time format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(day: date) -> str:
    return day.strftime("%Y-%m-%d")


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 date-time; one without a zone is taken as UTC.

    :raises ValueError: not a date-time.
    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day_ticks(moment: datetime) -> int:
    """.NET ticks (100 ns since 0001-01-01) of the UTC midnight starting ``moment``'s day.

    The suffix of the service's job ids: every recorded id ends in a whole day's ticks, e.g.
    ``_639055872000000000`` for 2026-02-02.
    """
    midnight = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - _TICKS_EPOCH) // timedelta(microseconds=1) * 10


def month_of(moment: datetime) -> str:
    """``YYYY-MM``: the period a quota counts over."""
    return moment.astimezone(UTC).strftime("%Y-%m")
