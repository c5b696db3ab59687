"""What every benchmark prints: the machine, one line per figure beside its target, a verdict."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Figure:
    name: str
    value: float
    target: float
    higher_is_better: bool
    unit: str = ""

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.higher_is_better else self.value < self.target

    def line(self) -> str:
        sign = ">=" if self.higher_is_better else "<"
        verdict = "ok  " if self.met else "MISS"
        return f"{verdict} {self.name:<52} {self.value:>10.3f} {self.unit:<8} target {sign} {self.target:g}"


def machine(pinning: str) -> str:
    """CPU model, core count, how the benchmark pinned itself, Python version."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return f"{model}; {os.cpu_count()} cores, {pinning}; Python {platform.python_version()}"


@dataclass
class Report:
    """Collects figures as they are measured (printing each at once) and sums them up."""

    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        print(figure.line(), flush=True)

    def verdict(self) -> int:
        """Prints the summary; 0 if every target was met, else 1."""
        missed = [f.name for f in self.figures if not f.met]
        print(
            f"{len(self.figures) - len(missed)}/{len(self.figures)} targets met"
            + (f"; missed: {missed}" if missed else "")
        )
        return 1 if missed else 0
