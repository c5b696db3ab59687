"""Starting a Custom NER container image with docker-py, as ``docker run`` starts Microsoft's:
``--cpus``/``--memory`` limits, the model folder mounted at ``/modelPath``, the output mount, the settings as
arguments, the port published on 127.0.0.1 only (or host networking, so the container reaches an emulated
cloud on the host's loopback). It waits for ``/ready`` with a timeout whose error carries the container's
last log lines, streams its log, and stops and removes it on exit, Ctrl-C or a failing test.

The same class starts our image or Microsoft's (``MICROSOFT_IMAGE``, where a registry is reachable): both
take the same ``Key=value`` arguments, listen on ``ASPNETCORE_URLS`` (port 5000 by default) and serve
``/ready``. It mirrors ``emulator.container.process.ContainerProcess`` (start, wait_ready, stop, kill,
lines, url), so tests and benchmarks drive either.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from emulator.container.process import answers_ready

MICROSOFT_IMAGE = "mcr.microsoft.com/azure-cognitive-services/textanalytics/customner:latest"
IMAGE_UID = 10001
"""The user our image runs as: folders mounted into it must be writable by this uid."""
DEFAULT_MEMORY = "4g"
READY_POLL = 0.1


class DockerLaunchError(RuntimeError):
    """The container could not start, exited, or was not ready in time; the message ends with its last log lines."""


def docker_client() -> docker.DockerClient:
    """A client of the local engine.

    :raises DockerLaunchError: no engine answers (with what to do).
    """
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise DockerLaunchError(
            f"no Docker engine answers ({exc}); install Debian's docker.io and start dockerd "
            "(make test does both when run as root)"
        ) from exc
    return client


class DockerContainer:
    def __init__(
        self,
        image: str,
        settings: Sequence[str],
        *,
        model_path: Path,
        output_path: Path | None = None,
        cpus: float = 1.0,
        memory: str = DEFAULT_MEMORY,
        cpuset: str | None = None,
        port: int = 5000,
        host_network: bool = False,
        name: str | None = None,
        log: Callable[[str], None] | None = None,
        client: docker.DockerClient | None = None,
    ) -> None:
        self.image = image
        self.settings = list(settings)
        self.model_path = model_path
        self.output_path = output_path
        self.cpus = cpus
        self.memory = memory
        self.cpuset = cpuset
        """``--cpuset-cpus``: the cores the quota may use (a benchmark keeps its load generator off them)."""
        self.port = port
        self.host_network = host_network
        self.name = name or f"cner-{uuid.uuid4().hex[:12]}"
        self.url = f"http://127.0.0.1:{port}"
        self.lines: collections.deque[str] = collections.deque(maxlen=400)
        self._log = log
        self._client = client
        self._container: Container | None = None
        self._reader: threading.Thread | None = None

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker_client()
        return self._client

    @property
    def container(self) -> Container:
        if self._container is None:
            raise RuntimeError("the container was not started")
        return self._container

    def _mounts(self) -> dict[str, dict[str, str]]:
        """The bind mounts; folders are created, and handed to the image's user when we are root."""
        volumes = {str(self.model_path.resolve()): {"bind": "/modelPath", "mode": "rw"}}
        if self.output_path is not None:
            volumes[str(self.output_path.resolve())] = {"bind": "/output", "mode": "rw"}
        for folder in volumes:
            Path(folder).mkdir(parents=True, exist_ok=True)
            if os.getuid() == 0:
                os.chown(folder, IMAGE_UID, IMAGE_UID)
        return volumes

    def _ensure_image(self) -> None:
        """The image is local, or pulled now (Microsoft's, where a registry answers).

        :raises DockerLaunchError: neither, saying how to get it.
        """
        try:
            self.client.images.get(self.image)
            return
        except docker.errors.ImageNotFound:
            pass
        try:
            self.client.images.pull(self.image)
        except docker.errors.APIError as exc:
            raise DockerLaunchError(
                f"image {self.image} is not on this machine and cannot be pulled ({exc.explanation or exc}): "
                "build ours with `cner image build`, or pull it where a registry answers"
            ) from exc

    def start(self) -> DockerContainer:
        """``docker run -d`` with the limits, mounts and settings.

        :raises DockerLaunchError: the engine refused (unknown image, port taken, ...).
        """
        options: dict[str, Any] = {
            "command": self.settings,
            "name": self.name,
            "detach": True,
            "nano_cpus": int(self.cpus * 1e9),
            "mem_limit": self.memory,
            "volumes": self._mounts(),
            "labels": {"cner.launcher": "docker_launcher"},
        }
        if self.cpuset is not None:
            options["cpuset_cpus"] = self.cpuset
        if os.getuid() != 0:
            options["user"] = f"{os.getuid()}:{os.getgid()}"  # mounts stay writable without root
        if self.host_network:
            options["network_mode"] = "host"
            options["environment"] = {"ASPNETCORE_URLS": f"http://127.0.0.1:{self.port}"}
        else:
            options["ports"] = {"5000/tcp": ("127.0.0.1", self.port)}
        self._ensure_image()
        try:
            self._container = self.client.containers.run(self.image, **options)
        except docker.errors.APIError as exc:
            raise DockerLaunchError(f"docker refused to start {self.image}: {exc.explanation or exc}") from exc
        self._reader = threading.Thread(target=self._read, name=f"{self.name}-log", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        for chunk in self.container.logs(stream=True, follow=True):
            for line in chunk.decode("utf-8", errors="replace").splitlines():
                self.lines.append(line)
                if self._log is not None:
                    try:
                        self._log(line)
                    except Exception:  # the stream must be drained whatever the callback does
                        self._log = None

    def tail(self, count: int = 15) -> str:
        return "\n".join(list(self.lines)[-count:])

    def status(self) -> str:
        """The engine's view: created, running, exited, ..."""
        self.container.reload()
        return str(self.container.status)

    @property
    def returncode(self) -> int | None:
        """The exit status once the container has exited, else None (as ``Popen.returncode``)."""
        if self.status() in ("exited", "dead"):
            return int(self.container.attrs["State"]["ExitCode"])
        return None

    def _failed(self, why: str) -> DockerLaunchError:
        if self._reader is not None:
            self._reader.join(timeout=2)
        return DockerLaunchError(f"{why}; its last log lines:\n{self.tail()}")

    def wait_ready(self, timeout: float = 60.0) -> str:
        """Wait until ``/ready`` answers 200; returns the URL.

        :raises DockerLaunchError: the container exited, or was not ready within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            code = self.returncode
            if code is not None:
                raise self._failed(f"container {self.name} ({self.image}) exited with status {code}")
            if answers_ready(self.url):
                return self.url
            if time.monotonic() > deadline:
                raise self._failed(f"container {self.name} ({self.image}) was not ready within {timeout:g} s")
            time.sleep(READY_POLL)

    def wait_exit(self, timeout: float = 60.0) -> int:
        result = self.container.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return int(result["StatusCode"])

    def stop(self, timeout: int = 20) -> int:
        """``docker stop`` (SIGTERM, then SIGKILL after ``timeout``), then remove; returns the exit status."""
        if self._container is None:
            return 0
        try:
            self.container.stop(timeout=timeout)
            return self.wait_exit(timeout + 10)
        finally:
            self.remove()

    def kill(self) -> int:
        """``docker kill`` (SIGKILL), as a crash would end it; the container is kept until ``remove``."""
        self.container.kill()
        return self.wait_exit(30)

    def remove(self) -> None:
        if self._container is not None:
            with contextlib.suppress(docker.errors.NotFound):
                self._container.remove(force=True)

    def __enter__(self) -> DockerContainer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
