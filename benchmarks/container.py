"""Container benchmark: one-document transactions (submit + poll to completion) against our container in
process mode, beside the engine's in-process documents/s, measured in the same run.

    python benchmarks/container.py [--seconds 15] [--clients 8] [--size 1000]

The emulated cloud publishes the sample project in this process; the container runs as
``cner container`` pinned to core 0 (so it sizes itself to one core); this process, the load, runs on core 1.
A transaction is what a client experiences: ``POST /language/analyze-text/jobs`` with one document of about
``--size`` characters, then ``GET`` of its ``Operation-Location`` until the job has succeeded, each client on
its own keep-alive connection. Printed:

* the engine in-process on core 0 (the same documents, ``Recognizer.recognize``): documents/s, the ceiling;
* closed loop, ``--clients`` transactions in flight: transactions/s and p50/p95/p99 latency. Target
  >= 200/s on one core, 6.7 times Microsoft's documented maximum of 30 per second for 1 core, 4 GB;
* open loop at 30 transactions/s (Microsoft's maximum), paced by the clock whatever the latency: the rate
  held and p50/p95/p99 latency. Target p95 < 50 ms;
* with ``--compare-unpinned``, the closed loop again with nothing pinned (informational);
* with ``--docker``, both loops again against our image run as Microsoft documents it, ``--cpus 1 --memory 4g``
  (host networking; the CPU limit is a quota, so the container may run on either core).

Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.engine import engine_documents_per_second
from benchmarks.report import Figure, Report, machine
from benchmarks.stack import QUIET, docker_container, sample_cloud
from emulator.container.process import ContainerProcess
from emulator.quickstart import SAMPLE_DEPLOYMENT, container_settings
from fixtures.sample_project import PROJECT_NAME
from fixtures.sized_texts import sample_texts

SERVER_CORE, CLIENT_CORE = 0, 1
JOBS = "/language/analyze-text/jobs?api-version=2023-04-01"


def _body(text: str) -> bytes:
    return json.dumps(
        {
            "analysisInput": {"documents": [{"id": "1", "text": text, "language": "en"}]},
            "tasks": [
                {
                    "kind": "CustomEntityRecognition",
                    "taskName": "bench",
                    "parameters": {"projectName": PROJECT_NAME, "deploymentName": SAMPLE_DEPLOYMENT},
                }
            ],
        }
    ).encode()


def transaction(connection: http.client.HTTPConnection, body: bytes) -> None:
    """Submit one job and poll it to completion (the container holds a poll briefly while the job runs)."""
    connection.request("POST", JOBS, body=body, headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    answer.read()
    if answer.status != 202:
        raise SystemExit(f"submit answered {answer.status}")
    location = answer.headers["Operation-Location"]
    path = location[location.index("/language/") :]
    while True:
        connection.request("GET", path)
        answer = connection.getresponse()
        job = json.loads(answer.read())
        if job["status"] == "succeeded":
            return
        if job["status"] not in ("notStarted", "running"):
            raise SystemExit(f"job ended {job['status']}: {job.get('errors')}")


def _percentiles(latencies: Sequence[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def closed_loop(url: str, bodies: Sequence[bytes], seconds: float, clients: int) -> tuple[float, list[float]]:
    """Transactions/s and latencies with ``clients`` transactions always in flight."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        mine, turn = [], offset
        while time.monotonic() < stop:
            began = time.perf_counter()
            transaction(connection, bodies[turn % len(bodies)])
            mine.append(time.perf_counter() - began)
            turn += clients
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.monotonic() - began), latencies


def open_loop(url: str, bodies: Sequence[bytes], seconds: float, rate: float) -> tuple[float, list[float]]:
    """Transactions started on a fixed schedule of ``rate`` per second (a late one does not delay the next),
    each on a free connection of a pool; the rate achieved and the latencies measured from the scheduled start."""
    host, port = url.removeprefix("http://").split(":")
    count = int(seconds * rate)
    latencies: list[float] = []
    lock = threading.Lock()
    pool = [http.client.HTTPConnection(host, int(port), timeout=30) for _ in range(16)]
    free = threading.Semaphore(len(pool))
    began = time.perf_counter() + 0.1

    def run(index: int, connection: http.client.HTTPConnection) -> None:
        scheduled = began + index / rate
        try:
            transaction(connection, bodies[index % len(bodies)])
            with lock:
                latencies.append(time.perf_counter() - scheduled)
        finally:
            with lock:
                pool.append(connection)
            free.release()

    threads = []
    for index in range(count):
        delay = began + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        free.acquire()
        with lock:
            connection = pool.pop()
        thread = threading.Thread(target=run, args=(index, connection))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - began), latencies


def load_phases(
    report: Report, label: str, url: str, bodies: Sequence[bytes], args: argparse.Namespace, engine_rate: float
) -> None:
    """The closed loop (target >= 200/s) and the 30/s open loop (target p95 < 50 ms) against ``url``."""
    closed_loop(url, bodies, 2.0, args.clients)  # warm-up
    rate, latencies = closed_loop(url, bodies, args.seconds, args.clients)
    p50, p95, p99 = _percentiles(latencies)
    report.add(Figure(f"{label}: closed loop, {args.clients} in flight, tx/s", rate, 200, True, "tx/s"))
    print(
        f"     latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; "
        f"{rate / engine_rate:.0%} of the engine's documents/s"
    )
    rate, latencies = open_loop(url, bodies, args.seconds, 30.0)
    p50, p95, p99 = _percentiles(latencies)
    report.add(Figure(f"{label}: open loop at 30/s, tx/s held", rate, 29.0, True, "tx/s"))
    report.add(Figure(f"{label}: open loop at 30/s, p95 latency", p95, 50.0, False, "ms"))
    print(f"     latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="Length of each load phase.")
    parser.add_argument("--clients", type=int, default=8, help="Transactions in flight in the closed loop.")
    parser.add_argument("--size", type=int, default=1000, help="Characters per document.")
    parser.add_argument(
        "--compare-unpinned",
        action="store_true",
        help="Also run the closed loop with container and load free to use both cores.",
    )
    parser.add_argument(
        "--docker",
        action="store_true",
        help="Also run the same phases against our image at --cpus 1 --memory 4g (built if needed).",
    )
    args = parser.parse_args(argv)
    print(machine(f"container pinned to core {SERVER_CORE}, load on core {CLIENT_CORE}"))
    os.sched_setaffinity(0, {CLIENT_CORE})  # the load's threads (and the emulated cloud's) inherit it
    report = Report()
    with tempfile.TemporaryDirectory(prefix="cner-bench-") as scratch:
        root = Path(scratch)
        with sample_cloud(root) as cloud_url:
            settings = [*container_settings(cloud_url, root / "output"), QUIET]
            with ContainerProcess(settings, model_path=root / "models", cpus={SERVER_CORE}) as container:
                url = container.wait_ready(120)
                texts = sample_texts(args.size)
                bodies = [_body(t) for t in texts]
                sizes = [len(t) for t in texts]
                print(f"{len(texts)} documents of {min(sizes)}-{max(sizes)} characters")
                engine_rate = engine_documents_per_second(root / "models", args.size, SERVER_CORE)
                report.add(Figure("engine in-process documents/s (core 0)", engine_rate, 0, True, "docs/s"))
                load_phases(report, "process, core 0", url, bodies, args, engine_rate)
            if args.compare_unpinned:
                with ContainerProcess(settings, model_path=root / "models") as free:
                    url = free.wait_ready(120)
                    os.sched_setaffinity(0, {SERVER_CORE, CLIENT_CORE})
                    closed_loop(url, bodies, 2.0, args.clients)
                    rate, _ = closed_loop(url, bodies, args.seconds, args.clients)
                    report.add(Figure("process, unpinned: closed loop tx/s", rate, 0, True, "tx/s"))
                    os.sched_setaffinity(0, {CLIENT_CORE})
            if args.docker:
                with docker_container(cloud_url, root) as boxed:
                    url = boxed.wait_ready(120)
                    print(f"image {boxed.image} at --cpus 1 --memory 4g (a CFS quota: either core, one core's time)")
                    load_phases(report, "docker --cpus 1 --memory 4g", url, bodies, args, engine_rate)
    return report.verdict()


if __name__ == "__main__":
    raise SystemExit(main())
