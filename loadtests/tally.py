"""Every transaction, kept raw and time-stamped, so the measuring window is exact and the percentiles too.

Locust's own statistics round response times into buckets to keep master-worker traffic small
(locustio/locust#255, #1563), and its workers report every few seconds: a worker's report can hold
transactions from before the master's window opened (workers finish spawning first) or after it closed.
The thresholds decide an exit code, so each transaction carries the wall-clock time it started or ended,
and the window (from every user spawned to the stop) keeps exactly those inside it. In distributed mode each
worker's tally is drained into its regular report to the master (``report_to_master``) and merged there
(``worker_report``); the machines' clocks must agree (NTP), as they must for Locust's own charts.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Tally:
    """What happened, by wall-clock time: starts, completions (with their latency), failures."""

    starts: list[float] = field(default_factory=list)
    completions: list[tuple[float, float]] = field(default_factory=list)
    """(time completed, latency in ms)."""
    failures: list[float] = field(default_factory=list)
    window_start: float | None = None
    window_end: float | None = None

    def open_window(self, now: float) -> None:
        """From now on transactions count; what is older is ramp-up and is dropped (a long run keeps only its
        window)."""
        self.window_start, self.window_end = now, None
        self.starts = [t for t in self.starts if t >= now]
        self.completions = [c for c in self.completions if c[0] >= now]
        self.failures = [t for t in self.failures if t >= now]

    def close_window(self, now: float) -> None:
        if self.window_start is not None and self.window_end is None:
            self.window_end = now

    def drain(self) -> dict[str, Any]:
        """What this worker recorded since its last report, for the master; forgotten here once taken."""
        report = {"starts": self.starts, "completions": self.completions, "failures": self.failures}
        self.starts, self.completions, self.failures = [], [], []
        return report

    def merge(self, report: dict[str, Any]) -> None:
        """Add a worker's report (the workers' last reports arrive after the master has stopped)."""
        self.starts.extend(float(t) for t in report.get("starts", ()))
        self.completions.extend((float(t), float(ms)) for t, ms in report.get("completions", ()))
        self.failures.extend(float(t) for t in report.get("failures", ()))


@dataclass(frozen=True)
class Summary:
    """One load session's figures, as ``summary.json`` holds them."""

    offered_tps: float
    users: int
    window_s: float
    started: int
    completed: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None

    @property
    def achieved_tps(self) -> float:
        """Transactions completed per second of the window: the rate the target held."""
        return self.completed / self.window_s if self.window_s > 0 else 0.0

    @property
    def started_tps(self) -> float:
        """Transactions started per second: what the generator managed to offer."""
        return self.started / self.window_s if self.window_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "achieved_tps": self.achieved_tps, "started_tps": self.started_tps}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values: a value that was measured, never an interpolation."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _within(times: list[float], start: float, end: float) -> int:
    ordered = sorted(times)
    return bisect.bisect_right(ordered, end) - bisect.bisect_left(ordered, start)


def summarise(tally: Tally, offered_tps: float, users: int, now: float) -> Summary:
    """The window's figures; a window never opened (stopped during ramp-up) measures nothing."""
    start = tally.window_start
    if start is None:
        return Summary(offered_tps, users, 0.0, 0, 0, 0, None, None, None, None)
    end = tally.window_end if tally.window_end is not None else now
    ordered = sorted(ms for t, ms in tally.completions if start <= t <= end)
    return Summary(
        offered_tps=offered_tps,
        users=users,
        window_s=max(0.0, end - start),
        started=_within(tally.starts, start, end),
        completed=len(ordered),
        failures=_within(tally.failures, start, end),
        p50_ms=percentile(ordered, 0.50),
        p95_ms=percentile(ordered, 0.95),
        p99_ms=percentile(ordered, 0.99),
        max_ms=ordered[-1] if ordered else None,
    )
