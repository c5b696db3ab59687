"""``cner load --find-capacity``: offer a rising rate, one short session per step, until a step fails its
thresholds (p95 over the limit, a failure, or the rate not held); then halve the gap between the last step
that passed and the first that failed until it is narrower than the resolution. The capacity is the highest
offered rate that passed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from loadtests.session import Outcome, Session, run
from loadtests.tally import Summary


@dataclass(frozen=True)
class Search:
    start: float = 50.0
    step: float = 50.0
    max_tps: float = 2000.0
    resolution: float = 10.0
    """Stop refining once the last pass and the first failure are this close (tx/s)."""


@dataclass(frozen=True)
class Step:
    offered: float
    summary: Summary
    passed: bool

    def line(self) -> str:
        s = self.summary
        ms = [f"{v:.1f}" if v is not None else "-" for v in (s.p50_ms, s.p95_ms, s.p99_ms)]
        return (
            f"{'PASS' if self.passed else 'FAIL'}  offered {self.offered:7.1f} tx/s: achieved {s.achieved_tps:7.1f}, "
            f"p50/p95/p99 {'/'.join(ms)} ms, {s.failures} failed"
        )


@dataclass
class Capacity:
    steps: list[Step] = field(default_factory=list)
    interrupted: bool = False

    @property
    def best(self) -> Step | None:
        """The highest offered rate that passed."""
        passing = [s for s in self.steps if s.passed]
        return max(passing, key=lambda s: s.offered) if passing else None

    def to_json(self) -> dict[str, object]:
        best = self.best
        return {
            "capacity_tps": best.offered if best else None,
            "achieved_tps": best.summary.achieved_tps if best else None,
            "interrupted": self.interrupted,
            "steps": [{"offered": s.offered, "passed": s.passed, **s.summary.to_json()} for s in self.steps],
        }


def find_capacity(
    base: Session, search: Search, say: Callable[[str], None], runner: Callable[[Session], Outcome] = run
) -> Capacity:
    """Step from ``search.start`` by ``search.step``, then bisect; each step is ``base`` at another rate, its
    reports in ``step-<rate>/`` of ``base.out``. Stops early, keeping what was measured, on Ctrl-C."""
    found = Capacity()

    def attempt(rate: float) -> bool | None:
        session = replace(base, tps=rate, quiet=True, out=base.out / f"step-{rate:07.1f}")
        outcome = runner(session)
        if outcome.interrupted or outcome.summary is None:
            found.interrupted = True
            return None
        step = Step(rate, outcome.summary, outcome.passed)
        found.steps.append(step)
        say(step.line())
        return step.passed

    rate, passed_at, failed_at = search.start, None, None
    while rate <= search.max_tps:
        result = attempt(rate)
        if result is None:
            return found
        if not result:
            failed_at = rate
            break
        passed_at, rate = rate, rate + search.step
    if failed_at is None:
        return found
    low = passed_at if passed_at is not None else 0.0
    while failed_at - low > search.resolution:
        middle = round((low + failed_at) / 2, 1)
        result = attempt(middle)
        if result is None:
            return found
        low, failed_at = (middle, failed_at) if result else (low, middle)
    return found


def write_capacity(found: Capacity, out: Path) -> Path:
    path = out / "capacity.json"
    path.write_text(json.dumps(found.to_json(), indent=2) + "\n", encoding="utf-8")
    return path
