"""Pass/fail rules of a load session, turned into its exit code: the offered rate was held, the 95th percentile
stayed under its limit, nothing failed. The same rules judge each step of a capacity search."""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.tally import Summary

DEFAULT_P95_MS = 100.0
DEFAULT_RATE_TOLERANCE = 0.05


@dataclass(frozen=True)
class Thresholds:
    p95_ms: float = DEFAULT_P95_MS
    rate_tolerance: float = DEFAULT_RATE_TOLERANCE
    """The completed rate may fall this fraction below the offered one (0.05: within 5%)."""
    max_failures: int = 0


@dataclass(frozen=True)
class Check:
    name: str
    measured: float | None
    limit: float
    passed: bool
    unit: str

    def line(self) -> str:
        shown = "none" if self.measured is None else f"{self.measured:.1f}"
        relation = ">=" if self.name == "rate held" else "<=" if self.name == "failures" else "<"
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {shown} {self.unit} ({relation} {self.limit:g})"


def judge(summary: Summary, thresholds: Thresholds) -> list[Check]:
    """The three checks; with no completed transaction the latency check fails (nothing was shown fast)."""
    floor = summary.offered_tps * (1 - thresholds.rate_tolerance)
    p95 = summary.p95_ms
    return [
        Check("rate held", summary.achieved_tps, floor, summary.achieved_tps >= floor, "tx/s"),
        Check("p95 latency", p95, thresholds.p95_ms, p95 is not None and p95 < thresholds.p95_ms, "ms"),
        Check("failures", summary.failures, thresholds.max_failures, summary.failures <= thresholds.max_failures, ""),
    ]


def passed(checks: list[Check]) -> bool:
    return all(check.passed for check in checks)
