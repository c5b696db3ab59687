"""One Locust run for ``cner load``: its command lines (local, distributed or web UI), its child processes, Ctrl-C,
and the verdict the locustfile leaves in ``summary.json``.

Locust runs in child processes, never in this one: importing it patches the standard library with gevent.
The children get their own session, so a Ctrl-C in the terminal reaches only ``cner load``, which passes it on
to Locust once (Locust then stops its users, writes its reports and judges what it measured); a second Ctrl-C
kills them.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Literal
from urllib.parse import urlsplit

from emulator.web.ports import free_port
from loadtests.tally import Summary
from loadtests.thresholds import Thresholds
from loadtests.workload import KEY_VARIABLE, Workload

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PER_USER_TPS = 4.0
"""Transactions/s each simulated user offers when ``--users`` is not given: a 250 ms interval leaves room for
slow answers before a user falls behind its timetable, with few enough users for a server's connection limit
(waitress takes 100 at once)."""
DEFAULT_TPS = 30.0
"""Microsoft's documented maximum for one core and 4 GB: the rate offered when none is given."""
SPAWN_SECONDS = 2.0
"""Ramp-up: every user starts within this time; the measuring window opens after it."""
WORKER_EXIT_SECONDS = 15.0
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?")
Role = Literal["local", "master", "worker"]
_LOCUST_MAIN = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('locust', run_name='__main__', alter_sys=True)"
)
"""``python -m locust`` with Ctrl-C turned back into KeyboardInterrupt (Locust's clean stop): a process started
in the background by a non-interactive shell inherits SIGINT ignored, Python then leaves it ignored, and the
interrupt ``run`` passes on would go unheard."""


class SessionError(RuntimeError):
    """The session cannot start (a target that does not answer, a bad duration); the message says what to fix."""


def parse_duration(text: str) -> float:
    """Seconds of ``60``, ``60s``, ``10m``, ``1h30m`` (Locust's ``--run-time`` forms)."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise SessionError(f"duration {text!r}: give seconds, or a form such as 90s, 10m, 1h30m")
    hours, minutes, seconds = match.groups()
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    if total <= SPAWN_SECONDS:
        raise SessionError(f"duration {text!r}: longer than the {SPAWN_SECONDS:g} s ramp-up is needed to measure")
    return total


def auto_users(tps: float) -> int:
    return max(1, math.ceil(tps / PER_USER_TPS))


@dataclass(frozen=True)
class Session:
    """What ``cner load`` was asked for."""

    target: str
    tps: float
    duration_s: float
    out: Path
    workload: Workload = field(default_factory=Workload)
    thresholds: Thresholds = field(default_factory=Thresholds)
    key: str = ""
    users: int | None = None
    workers: int = 0
    """Locust workers on this machine, beside a master (0: one local process)."""
    web_port: int | None = None
    """Serve Locust's web UI here instead of running headless."""
    quiet: bool = False
    """Only Locust's warnings and final summary (a capacity search prints a line per step instead)."""
    extra: tuple[str, ...] = ()

    @property
    def user_count(self) -> int:
        return self.users or auto_users(self.tps)

    @property
    def summary_file(self) -> Path:
        return self.out / "summary.json"


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    verdict: dict[str, Any] | None
    """``summary.json``: the window's figures, each check and whether all passed; None if Locust wrote none."""
    interrupted: bool

    @property
    def summary(self) -> Summary | None:
        return Summary.from_json(self.verdict["summary"]) if self.verdict else None

    @property
    def passed(self) -> bool:
        return bool(self.verdict and self.verdict["passed"]) and self.exit_code == 0


def locust_arguments(session: Session, role: Role, master_port: int = 0) -> list[str]:
    """The command line of one Locust process of ``session``."""
    command = [sys.executable, "-c", _LOCUST_MAIN, "-f", str(LOCUSTFILE)]
    if session.quiet:
        command += ["--loglevel", "WARNING"]
    if role == "worker":
        return [*command, "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port)]
    workload, out = session.workload, session.out
    command += [
        "--host", session.target.rstrip("/"),
        "--tps", f"{session.tps:g}",
        "--project", workload.project,
        "--deployment", workload.deployment,
        "--docs-per-request", str(workload.documents_per_request),
        "--doc-size", str(workload.size or 0),
        "--p95-limit", f"{session.thresholds.p95_ms:g}",
        "--rate-tolerance", f"{session.thresholds.rate_tolerance:g}",
        "--summary-file", str(session.summary_file),
        "--users", str(session.user_count),
        "--spawn-rate", f"{max(1.0, session.user_count / SPAWN_SECONDS):g}",
        "--run-time", f"{session.duration_s:g}s",
        "--csv", str(out / "load"), "--csv-full-history",
        "--html", str(out / "report.html"),
    ]  # fmt: skip
    if workload.folder is not None:
        command += ["--docs", str(workload.folder)]
    if session.web_port is None:
        command += ["--headless"] + (["--only-summary"] if session.quiet else [])
    else:
        command += ["--web-host", "127.0.0.1", "--web-port", str(session.web_port)]
    if role == "master":
        command += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(master_port)]
        command += ["--expect-workers", str(session.workers)]
    return [*command, *session.extra]


def check_reachable(target: str, timeout: float = 5.0) -> None:
    """Fail early, in one line, when nothing listens at ``target`` (Locust would only count failures)."""
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SessionError(f"--target {target!r}: give the container's URL, such as http://127.0.0.1:5000")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as exc:
        raise SessionError(f"--target {target}: nothing answers there ({exc.strerror or exc})") from exc


def run(session: Session) -> Outcome:
    """Run ``session`` to its end (or Ctrl-C) and read its verdict. The master's (or the local process's) output
    goes to this terminal, unless quiet; the workers' to ``worker-N.log`` in the output folder."""
    session.out.mkdir(parents=True, exist_ok=True)
    session.summary_file.unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if k != KEY_VARIABLE}
    if session.key:
        environment[KEY_VARIABLE] = session.key
    port = free_port() if session.workers else 0
    role: Role = "master" if session.workers else "local"
    logs: list[Any] = []
    processes: list[subprocess.Popen[bytes]] = []
    try:
        main_log = None
        if session.quiet:
            main_log = (session.out / "locust.log").open("wb")
            logs.append(main_log)
        processes.append(_start(locust_arguments(session, role, port), environment, main_log))
        for index in range(1, session.workers + 1):
            log = (session.out / f"worker-{index}.log").open("wb")
            logs.append(log)
            processes.append(_start(locust_arguments(session, "worker", port), environment, log))
        with _forwarding_interrupts(processes) as interrupts:
            code = processes[0].wait()
            for worker in processes[1:]:
                try:
                    worker.wait(WORKER_EXIT_SECONDS)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for log in logs:
            log.close()
    verdict = json.loads(session.summary_file.read_text("utf-8")) if session.summary_file.exists() else None
    return Outcome(code, verdict, bool(interrupts))


def _start(command: list[str], environment: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter running Locust, no shell
        command,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
        start_new_session=True,
    )


@contextmanager
def _forwarding_interrupts(processes: list[subprocess.Popen[bytes]]) -> Iterator[list[int]]:
    """While Locust runs: the first SIGINT or SIGTERM goes to the master as SIGINT (a clean stop that still
    writes the reports and the verdict), a second kills every process."""
    received: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        for process in processes if len(received) > 1 else processes[:1]:
            with suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL if len(received) > 1 else signal.SIGINT)

    handler: Callable[[int, FrameType | None], None] = forward
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
