"""Emulated-cloud benchmark: the loan sample end to end through the authoring API, and authoring GET throughput.

    python benchmarks/cloud.py [--rounds 3] [--seconds 5] [--clients 4]

The emulator runs as ``cner cloud`` in its own process pinned to core 0 (waitress, as users run it); this
process, the client, is pinned to core 1, so the two do not fight over one core. Printed:

* import + train + export of Microsoft's loan sample (upload the 20 texts, ``:import``, ``:train``, then
  ``PUT exported-models``), each job followed to its end through ``Operation-Location``: wall-clock seconds
  per round and their median, against the issue's target of 5 s. The emulator is started with
  ``--retry-after 0.05``, so polling adds at most 50 ms per job.
* authoring GET throughput: ``--clients`` threads, each on its own keep-alive connection, alternating
  ``GET projects/{p}`` and ``GET projects/{p}/models/{m}`` for ``--seconds``; requests/s and p50/p95 latency.
  The target is 100 requests/s, 60 times Azure's documented authoring GET limit (100 per minute).

Exit status 1 if a target is missed, 2 if ../shared/data (the loan sample) is absent.
"""

from __future__ import annotations

import argparse
import http.client
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

from benchmarks.report import Figure, Report, machine
from emulator.cloud.client import AuthoringClient
from emulator.web.ports import free_port
from fixtures.public_corpora import ABSENT_REASON, shared_data_dir

KEY = "benchmark-key"
PROJECT = "LoanAgreement"
SERVER_CORE, CLIENT_CORE = 0, 1


def start_cloud(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``cner cloud`` on a free loopback port, pinned to ``SERVER_CORE``; returns it once it answers."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "emulator",
        "cloud",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--api-key",
        KEY,
        "--retry-after",
        "0.05",
    ]
    process = subprocess.Popen(command, preexec_fn=lambda: os.sched_setaffinity(0, {SERVER_CORE}))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/_emulator/health")
            if connection.getresponse().status == 200:
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the emulator did not answer within 30 s")


def end_to_end(client: AuthoringClient, loan: Path, label: str) -> float:
    """Seconds from the first upload to the exported model's job ending."""
    project_file = json.loads((loan / "LoanAgreement.json").read_text(encoding="utf-8"))
    start = time.perf_counter()
    client.upload_documents(project_file, loan)
    client.run("POST", f"projects/{PROJECT}/:import", project_file)
    training = {"modelLabel": label, "trainingConfigVersion": "2022-05-01", "evaluationOptions": {"kind": "percentage"}}
    client.run("POST", f"projects/{PROJECT}/:train", training)
    client.run("PUT", f"projects/{PROJECT}/exported-models/{label}-export", {"trainedModelLabel": label})
    return time.perf_counter() - start


def get_throughput(url: str, label: str, seconds: float, clients: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p95 latency (ms) of authoring GETs from ``clients`` keep-alive connections."""
    host, port = url.removeprefix("http://").split(":")
    paths = [
        f"/language/authoring/analyze-text/projects/{PROJECT}{suffix}?api-version=2023-04-01"
        for suffix in ("", f"/models/{label}")
    ]
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        mine: list[float] = []
        turn = 0
        while time.monotonic() < stop:
            began = time.perf_counter()
            connection.request("GET", paths[turn % 2], headers={"Ocp-Apim-Subscription-Key": KEY})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"GET {paths[turn % 2]} answered {response.status}")
            mine.append(time.perf_counter() - began)
            turn += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    quantiles = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, quantiles[49] * 1000, quantiles[94] * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="end-to-end rounds (median reported)")
    parser.add_argument("--seconds", type=float, default=5.0, help="GET throughput measuring time")
    parser.add_argument("--clients", type=int, default=4, help="concurrent GET connections")
    args = parser.parse_args(argv)
    data = shared_data_dir()
    if data is None:
        print(f"SKIP: {ABSENT_REASON}")
        return 2
    os.sched_setaffinity(0, {CLIENT_CORE})
    print(machine(f"emulator pinned to core {SERVER_CORE}, client to core {CLIENT_CORE}"), flush=True)
    report = Report()
    loan = data / "loan-agreements" / "azure-format"
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_cloud(Path(tmp) / "cloud")
        try:
            client = AuthoringClient(url, KEY)
            client.authoring(
                "PATCH",
                f"projects/{PROJECT}",
                {
                    "projectKind": "CustomEntityRecognition",
                    "storageInputContainerName": "loanagreement",
                    "projectName": PROJECT,
                    "language": "en",
                },
            )
            durations = [end_to_end(client, loan, f"m{round_}") for round_ in range(args.rounds)]
            print(f"     end-to-end rounds (s): {', '.join(f'{d:.2f}' for d in durations)}")
            report.add(
                Figure(
                    f"loan sample: import + train + export (median of {args.rounds})",
                    statistics.median(durations),
                    5.0,
                    False,
                    "s",
                )
            )
            rate, p50, p95 = get_throughput(url, "m0", args.seconds, args.clients)
            report.add(Figure(f"authoring GET throughput ({args.clients} connections)", rate, 100, True, "req/s"))
            print(f"     GET latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        finally:
            process.terminate()
            process.wait(timeout=30)
    return report.verdict()


if __name__ == "__main__":
    sys.exit(main())
