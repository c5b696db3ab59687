"""The capacity chart: offered against achieved transactions/s, and p50/p95/p99 latency against the offered rate,
with the p95 limit and the capacity marked. matplotlib draws it without a display (Agg)."""

from __future__ import annotations

from pathlib import Path

from loadtests.capacity import Capacity


def draw_capacity(found: Capacity, p95_limit_ms: float, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    steps = sorted(found.steps, key=lambda s: s.offered)
    offered = [s.offered for s in steps]
    figure, (rates, latency) = pyplot.subplots(2, 1, figsize=(8, 8), sharex=True)
    figure.suptitle(title)
    rates.plot(offered, offered, ":", color="grey", label="offered = achieved")
    rates.plot(offered, [s.summary.achieved_tps for s in steps], "o-", label="achieved")
    failed = [s for s in steps if not s.passed]
    rates.plot([s.offered for s in failed], [s.summary.achieved_tps for s in failed], "x", color="red", label="failed")
    rates.set_ylabel("transactions/s")
    for name, values in (
        ("p50", [s.summary.p50_ms for s in steps]),
        ("p95", [s.summary.p95_ms for s in steps]),
        ("p99", [s.summary.p99_ms for s in steps]),
    ):
        latency.plot(offered, [v if v is not None else float("nan") for v in values], "o-", label=name)
    latency.axhline(p95_limit_ms, color="red", linestyle="--", label=f"p95 limit {p95_limit_ms:g} ms")
    latency.set_yscale("log")
    latency.set_ylabel("latency, ms (log)")
    latency.set_xlabel("offered transactions/s")
    best = found.best
    for axes in (rates, latency):
        if best is not None:
            axes.axvline(best.offered, color="green", alpha=0.5, label=f"capacity {best.offered:g} tx/s")
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path
