"""Job-lock benchmark: how long a poll waits for the job engine's lock while large jobs finish.

    python benchmarks/job_lock.py [--seconds 10] [--documents 25] [--entities 100] [--tasks 5]

Every submit and poll takes the engine's lock, so whatever a finishing job does under it is a stall in every
request in flight. A worker runs large jobs back to back (``--documents`` × ``--entities`` × ``--tasks``, as
big as a request may be); meanwhile this thread looks a job up (``JobEngine.get``, what a poll does first)
every 2 ms and times it. Pinned to one core, as the container runs, so the worker and the poller share it.
Prints how long such a job takes to serialize and the lock waits; exit status 1 if their p99 reaches 5 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import Figure, Report, machine
from benchmarks.served import serving
from emulator.container.analyze.jobs import AnalyzeJob, JobEngine
from emulator.container.analyze.request import DocumentInput, JobInput, TaskInput
from emulator.container.analyze.results import kept
from emulator.ner import StringIndexType, TextIndex
from fixtures.sized_texts import sample_texts
from loadtests.tally import percentile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="How long to poll.")
    parser.add_argument("--documents", type=int, default=25, help="Documents per large job (the API's most).")
    parser.add_argument("--entities", type=int, default=100, help="Entities per document.")
    parser.add_argument("--tasks", type=int, default=5, help="Custom NER tasks per large job.")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or min(args.documents, args.tasks) < 1 or args.entities < 0:
        parser.error("--seconds must be above 0, --documents and --tasks 1 or more, --entities 0 or more")
    cores = os.sched_getaffinity(0)
    print(machine(f"pinned to core {min(cores)}" if len(cores) == 1 else "not pinned"))
    report = Report()
    serialized: list[float] = []

    def keep(job: AnalyzeJob) -> str:
        began = time.perf_counter()
        answer = kept(job)
        serialized.append((time.perf_counter() - began) * 1000)
        return answer

    texts = sample_texts(1000)
    documents = tuple(DocumentInput(str(k), TextIndex(texts[k % len(texts)]), "en") for k in range(args.documents))
    tasks = tuple(
        TaskInput(f"t{k}", "P", "production", StringIndexType.TEXT_ELEMENTS_V8, False) for k in range(args.tasks)
    )
    engine = JobEngine(serving(args.entities), keep, workers=1, max_queued=64, max_stored=1000)
    stop = threading.Event()

    def large_jobs() -> None:
        while not stop.is_set():
            engine.wait(engine.submit(JobInput(None, documents, tasks, None, None)), 30)

    worker = threading.Thread(target=large_jobs, daemon=True)
    try:
        probe = engine.submit(JobInput(None, documents[:1], tasks[:1], None, None))
        engine.wait(probe, 5)
        worker.start()
        waits: list[float] = []
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            began = time.perf_counter()
            engine.get(probe.job_id)
            waits.append((time.perf_counter() - began) * 1000)
            time.sleep(0.002)
    finally:
        stop.set()
        worker.join(30)
        engine.close()
    large = sorted(serialized[1:])  # the first is the probe's
    print(f"     {len(large)} large jobs, serialized in {percentile(large, 0.5) or 0:.1f} ms (median)")
    waits.sort()
    print(f"     {len(waits)} lock waits: median {percentile(waits, 0.5) or 0:.3f} ms, max {waits[-1]:.2f} ms")
    p99 = percentile(waits, 0.99) or 0.0
    report.add(Figure("lock wait of a poll while large jobs finish, p99", p99, 5, False, "ms"))
    return report.verdict()


if __name__ == "__main__":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    sys.exit(main())
