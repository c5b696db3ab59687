"""The process launcher: our container as a child process (``python -m emulator container ...``), for
``cner up``, the tests that need a real process (gating, outages, ``kill -9``) and the benchmark.

It is the Docker-less sibling of a ``docker run``: the same ``Key=value`` settings, the port (0 picks a
free one, read back from its "Now listening on:" line), the model folder; it streams the
container's log lines, waits for ``/ready`` with a timeout whose error carries the last log lines, and
stops the container with SIGTERM (or SIGKILL, to test crashes).
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

LISTENING = re.compile(r"Now listening on: (http://\S+)")
READY_POLL = 0.05


def answers_ready(url: str, timeout: float = 5.0) -> bool:
    """Whether the container at ``url`` answers ``/ready`` with 200 within ``timeout`` seconds (no answer, or a
    slow one, counts as not ready)."""
    try:
        with urllib.request.urlopen(f"{url}/ready", timeout=timeout) as answer:  # noqa: S310 - a container's own URL
            return bool(answer.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


class ContainerStartError(RuntimeError):
    """The container exited or did not become ready in time; the message ends with its last log lines."""


class ContainerProcess:
    def __init__(
        self,
        settings: Sequence[str],
        *,
        model_path: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        env: Mapping[str, str] | None = None,
        log: Callable[[str], None] | None = None,
        cpus: set[int] | None = None,
    ) -> None:
        self.command = [
            sys.executable,
            "-m",
            "emulator",
            "container",
            "--host",
            host,
            "--port",
            str(port),
            "--model-path",
            str(model_path),
            *settings,
        ]
        self._env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self._log = log
        self._cpus = cpus
        self.lines: collections.deque[str] = collections.deque(maxlen=400)
        self.url: str | None = None
        self._listening = threading.Event()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> ContainerProcess:
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, arguments as a list
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self._env,
            preexec_fn=self._pin if self._cpus else None,
        )
        self._reader = threading.Thread(target=self._read, name="container-log", daemon=True)
        self._reader.start()
        return self

    def _pin(self) -> None:
        """In the child before exec: run on ``cpus`` only, as ``docker run --cpuset-cpus`` would."""
        assert self._cpus is not None
        os.sched_setaffinity(0, self._cpus)

    def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for raw in self._process.stdout:
            line = raw.rstrip("\n")
            self.lines.append(line)
            if self._log is not None:
                try:
                    self._log(line)
                except Exception:  # the pipe must be drained whatever the callback does
                    self._log = None
            found = LISTENING.search(line)
            if found and not self._listening.is_set():
                self.url = found.group(1)
                self._listening.set()

    @property
    def process(self) -> subprocess.Popen[str]:
        if self._process is None:
            raise RuntimeError("the container was not started")
        return self._process

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def tail(self, count: int = 15) -> str:
        return "\n".join(list(self.lines)[-count:])

    def _failed(self, why: str) -> ContainerStartError:
        return ContainerStartError(f"{why}; its last log lines:\n{self.tail()}")

    def wait_exit(self, timeout: float) -> int:
        """The exit status, once the process has ended and its log is read to the end."""
        status = self.process.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self.process.stdout is not None and not self._reader_alive():
            self.process.stdout.close()
        return status

    def _reader_alive(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def wait_ready(self, timeout: float = 60.0) -> str:
        """Wait until ``/ready`` answers 200; returns the container's URL.

        :raises ContainerStartError: the process exited, or was not ready within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while not self._listening.wait(READY_POLL):
            if self.returncode is not None:
                self.wait_exit(5)
                raise self._failed(f"the container exited with status {self.returncode} before listening")
            if time.monotonic() > deadline:
                raise self._failed(f"the container did not listen within {timeout:g} s")
        assert self.url is not None
        while True:
            if self.returncode is not None:
                self.wait_exit(5)
                raise self._failed(f"the container exited with status {self.returncode} before it was ready")
            if answers_ready(self.url):
                return self.url
            if time.monotonic() > deadline:
                raise self._failed(f"the container was not ready within {timeout:g} s")
            time.sleep(READY_POLL)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout``; returns the exit status."""
        if self.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.wait_exit(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.wait_exit(timeout)

    def kill(self) -> int:
        """SIGKILL, as a crash or ``docker kill`` would end it."""
        self.process.kill()
        return self.wait_exit(10)

    def __enter__(self) -> ContainerProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            self.stop()
