"""Load benchmark: the measurement protocol of ``loadtests/RESULTS.md``, every figure beside its target.

    python benchmarks/load.py [--rate 200] [--duration 60] [--step-duration 20] [--soak 600] [--out reports/load-bench]

Our image runs in Docker as Microsoft documents it for one core (``--cpus 1 --memory 4g``), held to core 0
(``--cpuset-cpus 0``); this process, Locust (``cner load``'s sessions, one local process) and the emulated cloud
run on core 1. One-document transactions of ~1,000 characters (submit + poll until done). Measured in one run:

* the engine's in-process documents/s on core 0, on the same documents (the ceiling);
* ``--rate`` transactions/s for ``--duration`` seconds: rate held within 5%, p95 < 100 ms, no failures
  (target: 200/s, more than 6 times Microsoft's documented 30/s);
* the capacity search (steps of 50/s from 100/s, ``--step-duration`` each, then bisection to 10/s) and its chart;
* the generator against a trivial jobs endpoint on core 0 (``loadtests.trivial_target``) at three times the
  capacity found: it must offer and complete that rate (it is then not the bottleneck);
* a soak of ``--soak`` seconds at 80% of the capacity: no failures, the container's resident memory (summed over
  its processes, sampled every 5 s) growing less than 10% from its first minute to its last.

Exit status 1 if a target is missed. Reports (Locust's CSV and HTML per session, the chart, ``results.json``)
go to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.engine import engine_documents_per_second
from benchmarks.report import Figure, Report, machine
from benchmarks.stack import docker_container, sample_cloud
from emulator.launcher.docker_launcher import DockerContainer
from emulator.web.ports import free_port
from loadtests.capacity import Search, find_capacity, write_capacity
from loadtests.chart import draw_capacity
from loadtests.session import Outcome, Session, run
from loadtests.thresholds import DEFAULT_RATE_TOLERANCE
from loadtests.workload import DEFAULT_SIZE, Workload, texts

SERVER_CORE, CLIENT_CORE = 0, 1
RSS_SAMPLE_SECONDS = 5.0


def core_ticks(core: int) -> tuple[int, int, int]:
    """Busy, stolen and total ticks of ``core`` so far (``/proc/stat``). On a VM the hypervisor can take a core
    away ("steal"): the same load then meets a slower core, which is why runs minutes apart differ by tens of
    percent. Printing the share stolen during each session tells a slow core from a slow container."""
    lines = Path("/proc/stat").read_text().splitlines()
    fields = next(line.split() for line in lines if line.startswith(f"cpu{core} "))
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, fields[1:9])
    return user + nice + system + irq + softirq, steal, user + nice + system + idle + iowait + irq + softirq + steal


def session(url: str, tps: float, seconds: float, out: Path) -> Outcome:
    """One quiet ``cner load`` session; prints its line, with how busy the container's core was and how much of
    it the hypervisor took."""
    before = core_ticks(SERVER_CORE)
    outcome = run(Session(target=url, tps=tps, duration_s=seconds, out=out, quiet=True))
    s = outcome.summary
    if s is not None:
        print(
            f"     {out.name}: offered {tps:g}/s, started {s.started_tps:.1f}/s, completed {s.achieved_tps:.1f}/s, "
            f"p50/p95/p99 {s.p50_ms or 0:.1f}/{s.p95_ms or 0:.1f}/{s.p99_ms or 0:.1f} ms, {s.failures} failed; "
            f"{core_use(before)}",
            flush=True,
        )
    return outcome


def core_use(before: tuple[int, int, int]) -> str:
    """How busy the container's core was since ``before`` (``core_ticks``), and how much of it was stolen."""
    busy, stolen, total = (b - a for a, b in zip(before, core_ticks(SERVER_CORE), strict=True))
    return f"core {SERVER_CORE} {busy / max(total, 1):.0%} busy, {stolen / max(total, 1):.0%} stolen"


def resident_kib(container: DockerContainer) -> int:
    """Resident memory of every process in the container (host PIDs from ``docker top``), in KiB."""
    top = container.container.top()
    column = top["Titles"].index("PID")
    total = 0
    for row in top["Processes"]:
        status = Path(f"/proc/{row[column]}/status")
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


class MemoryWatch(threading.Thread):
    """Samples ``resident_kib`` every few seconds until stopped: (seconds since start, KiB)."""

    def __init__(self, container: DockerContainer) -> None:
        super().__init__(daemon=True)
        self.container, self.samples, self.done = container, list[tuple[float, int]](), threading.Event()

    def run(self) -> None:
        began = time.monotonic()
        while not self.done.wait(RSS_SAMPLE_SECONDS):
            self.samples.append((time.monotonic() - began, resident_kib(self.container)))

    def growth(self) -> tuple[float, float, float]:
        """Median KiB of the first and of the last minute, and the growth between them."""
        end = self.samples[-1][0]
        first = statistics.median(k for t, k in self.samples if t <= 60)
        last = statistics.median(k for t, k in self.samples if t >= end - 60)
        return first, last, last / first - 1


def generator_check(report: Report, rate: float, out: Path) -> dict[str, float]:
    """The generator alone: ``rate`` against the trivial endpoint pinned to the container's core."""
    port = free_port()
    command = [sys.executable, "-m", "loadtests.trivial_target", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as trivial:
        os.sched_setaffinity(trivial.pid, {SERVER_CORE})
        assert trivial.stdout is not None
        trivial.stdout.readline()  # listening
        try:
            outcome = session(f"http://127.0.0.1:{port}", rate, 30, out / "generator")
        finally:
            trivial.terminate()
    s = outcome.summary
    assert s is not None
    report.add(
        Figure(
            f"generator: started tx/s against a trivial endpoint (3 x capacity = {rate:g})",
            s.started_tps,
            rate * (1 - DEFAULT_RATE_TOLERANCE),
            True,
            "tx/s",
        )
    )
    report.add(
        Figure(
            "generator: completed tx/s against the trivial endpoint",
            s.achieved_tps,
            rate * (1 - DEFAULT_RATE_TOLERANCE),
            True,
            "tx/s",
        )
    )
    return {"offered": rate, **{k: v for k, v in s.to_json().items() if isinstance(v, float)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="The fixed rate to hold (tx/s).")
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds at --rate.")
    parser.add_argument("--step-duration", type=float, default=20.0, help="Seconds per capacity step.")
    parser.add_argument("--soak", type=float, default=600.0, help="Seconds of the soak at 80%% of capacity.")
    parser.add_argument("--out", type=Path, default=Path("reports/load-bench"))
    args = parser.parse_args(argv)
    print(machine(f"container: Docker --cpus 1 --memory 4g --cpuset-cpus {SERVER_CORE}; Locust on core {CLIENT_CORE}"))
    os.sched_setaffinity(0, {CLIENT_CORE})  # Locust's processes inherit it
    report, results = Report(), dict[str, object]()
    documents = texts(Workload())
    print(f"{len(documents)} documents of {min(map(len, documents))}-{max(map(len, documents))} characters, one a job")
    with tempfile.TemporaryDirectory(prefix="cner-load-") as scratch:
        root = Path(scratch)
        with sample_cloud(root) as cloud_url, docker_container(cloud_url, root, cpuset=str(SERVER_CORE)) as boxed:
            url = boxed.wait_ready(120)
            print(f"image {boxed.image} at {url}")
            engine = engine_documents_per_second(root / "docker-models", DEFAULT_SIZE, SERVER_CORE)
            report.add(Figure("engine in-process documents/s (core 0)", engine, 0, True, "docs/s"))
            session(url, 50, 10, args.out / "warm-up")

            fixed = session(url, args.rate, args.duration, args.out / "fixed").summary
            assert fixed is not None
            floor = args.rate * (1 - DEFAULT_RATE_TOLERANCE)
            report.add(
                Figure(
                    f"{args.rate:g} tx/s for {args.duration:g} s: completed tx/s",
                    fixed.achieved_tps,
                    floor,
                    True,
                    "tx/s",
                )
            )
            report.add(Figure(f"{args.rate:g} tx/s: p95 latency", fixed.p95_ms or float("inf"), 100, False, "ms"))
            report.add(Figure(f"{args.rate:g} tx/s: failed transactions", fixed.failures, 1, False))
            results["fixed"] = fixed.to_json()

            base = Session(target=url, tps=0, duration_s=args.step_duration, out=args.out / "capacity")
            before = core_ticks(SERVER_CORE)
            found = find_capacity(
                base,
                Search(start=100, step=50, max_tps=1500, resolution=10),
                say=lambda line: print(f"     {line}", flush=True),
            )
            print(f"     capacity search: {core_use(before)}", flush=True)
            write_capacity(found, base.out)
            draw_capacity(found, 100, base.out / "capacity.png", "Our container, Docker --cpus 1 --memory 4g")
            capacity = found.best.offered if found.best else 0.0
            report.add(
                Figure("capacity: highest rate held with p95 < 100 ms, no failures", capacity, args.rate, True, "tx/s")
            )
            report.add(Figure("capacity / engine documents/s", capacity / engine, 0, True))
            results["capacity"] = found.to_json()

            results["generator"] = generator_check(report, 3 * capacity, args.out)

            soak_rate = round(0.8 * capacity)
            watch = MemoryWatch(boxed)
            watch.start()
            soak = session(url, soak_rate, args.soak, args.out / "soak").summary
            watch.done.set()
            watch.join()
            assert soak is not None
            first, last, growth = watch.growth()
            report.add(
                Figure(
                    f"soak {args.soak:g} s at {soak_rate} tx/s: completed tx/s",
                    soak.achieved_tps,
                    soak_rate * (1 - DEFAULT_RATE_TOLERANCE),
                    True,
                    "tx/s",
                )
            )
            report.add(Figure("soak: failed transactions", soak.failures, 1, False))
            report.add(Figure("soak: p95 latency", soak.p95_ms or float("inf"), 100, False, "ms"))
            report.add(
                Figure(
                    f"soak: resident memory growth ({first / 1024:.0f} -> {last / 1024:.0f} MiB)",
                    growth * 100,
                    10,
                    False,
                    "%",
                )
            )
            results["soak"] = {
                **soak.to_json(),
                "rss_first_minute_kib": first,
                "rss_last_minute_kib": last,
                "rss_samples": watch.samples,
            }
    results["engine_documents_per_second"] = engine
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return report.verdict()


if __name__ == "__main__":
    raise SystemExit(main())
