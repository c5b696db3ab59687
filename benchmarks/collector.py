"""Collector benchmark: what a full job store costs CPython's cyclic garbage collector.

    python benchmarks/collector.py [--jobs 10000] [--entities 19]

A full collection walks every tracked object while all of the container's threads wait, so its length is a
pause in every request in flight (loadtests/RESULTS.md, run 5). This fills the container's job engine, as a
steady load does, with ``--jobs`` finished one-document jobs of ``--entities`` entities each (the sample
model finds about 19 in a 1,000-character invoice), then prints:

* tracked objects per finished job (target < 2: the store keeps a job's answer as one string);
* a full collection at that full store, after freezing what was there before (as the container freezes
  its start-up), the median of five (target < 20 ms);
* the same collection with nothing frozen (informational: this process's imports, not the container's).

Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import Figure, Report, machine
from benchmarks.served import serving
from emulator.container.analyze.jobs import JobEngine
from emulator.container.analyze.request import DocumentInput, JobInput, TaskInput
from emulator.container.analyze.results import kept
from emulator.ner import StringIndexType, TextIndex
from fixtures.sized_texts import sample_texts


def _collection_ms() -> float:
    began = time.perf_counter()
    gc.collect()
    return (time.perf_counter() - began) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000, help="Finished jobs in the store (Jobs:MaxStored).")
    parser.add_argument("--entities", type=int, default=19, help="Entities per document.")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.entities < 0:
        parser.error(f"--jobs must be 1 or more and --entities 0 or more, not {args.jobs} and {args.entities}")
    print(machine("not pinned"))
    report = Report()
    task = TaskInput("bench", "SampleInvoices", "production", StringIndexType.TEXT_ELEMENTS_V8, False)
    texts = sample_texts(1000)
    engine = JobEngine(serving(args.entities), kept, workers=1, max_queued=64, max_stored=args.jobs)
    try:
        gc.collect()
        gc.freeze()
        before = len(gc.get_objects())
        for k in range(args.jobs):
            document = DocumentInput("1", TextIndex(texts[k % len(texts)]), "en")
            engine.wait(engine.submit(JobInput(None, (document,), (task,), None, None)), 10)
        gc.collect()
        per_job = (len(gc.get_objects()) - before) / args.jobs
        report.add(Figure("tracked objects per finished job", per_job, 2, False))
        frozen = statistics.median(_collection_ms() for _ in range(5))
        report.add(Figure(f"full collection at {args.jobs} stored jobs, start-up frozen", frozen, 20, False, "ms"))
        gc.unfreeze()
        print(f"     the same with nothing frozen: {statistics.median(_collection_ms() for _ in range(5)):.1f} ms")
    finally:
        engine.close()
    return report.verdict()


if __name__ == "__main__":
    sys.exit(main())
