"""What the suite judges: a target container, and (when we start it) the emulated cloud it meters against.

Three ways to get a target, chosen by the plugin's options:

* ``--target URL``: a container someone else started (Microsoft's or ours). The suite only sends it requests;
  clauses that need a launcher or our meter are skipped with that reason.
* ``--image IMAGE``: the suite starts the image through the docker-py launcher at ``--cpus``/``--memory``
  (1 and 4g by default, Microsoft's recommendation), with host networking so the container reaches the
  Billing endpoint on loopback. Without ``--billing``/``--api-key`` that endpoint is an embedded emulated
  cloud with our sample model published; with them it is the user's own Language resource.
* neither: our container as a child process (pinned to one core) against an embedded emulated cloud, so
  ``pytest conformance`` works on a fresh checkout.

A started target keeps its *launch recipe* (``Target.launch``): gating clauses start more containers of the same
kind with altered settings.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import docker.errors

from conformance.options import Options
from emulator.cloud.app import close_app, create_app
from emulator.cloud.client import AuthoringClient
from emulator.cloud.resource import CloudConfig
from emulator.container.process import ContainerProcess, ContainerStartError
from emulator.container.runtime import package_version
from emulator.container.settings import required_settings
from emulator.launcher.docker_launcher import DockerContainer, DockerLaunchError, docker_client
from emulator.launcher.image import SOURCE_HASH_LABEL
from emulator.quickstart import LOCAL_KEY, SAMPLE_DEPLOYMENT, SAMPLE_MODEL_LABEL, publish_sample
from emulator.web.ports import free_port
from emulator.web.server import BackgroundServer
from fixtures.sample_project import PROJECT_NAME, write_project


class TargetUnavailableError(RuntimeError):
    """There is nothing to judge: nothing answers at the URL, or the target could not be started (the message
    says why, with the container's last log lines). The run stops: every clause would fail for the same reason."""


SECOND_KEY = "conformance-second-key"
READY_TIMEOUT = 180.0


class Launched(Protocol):
    """A started container, process or Docker: what gating clauses need from it."""

    lines: Any

    @property
    def url(self) -> str | None:
        """Where it listens: fixed at launch for Docker, known once a process printed "Now listening on:"."""

    @property
    def returncode(self) -> int | None: ...

    def wait_ready(self, timeout: float = ...) -> str: ...

    def wait_exit(self, timeout: float) -> int: ...

    def tail(self, count: int = ...) -> str: ...

    def stop(self, timeout: int = ...) -> int: ...


Launch = Callable[[Sequence[str], Path], Launched]
"""Start a container of the target's kind with these ``Key=value`` settings and this working folder
(model path and output below it); it is started, not yet ready."""


@dataclass
class EmbeddedCloud:
    """The emulated Language resource the suite serves and publishes the sample to (our meter, our faults)."""

    url: str
    key: str
    project: str = PROJECT_NAME
    exported_model: str = SAMPLE_MODEL_LABEL
    deployment: str = SAMPLE_DEPLOYMENT

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """A keyed request to the resource (control plane, metering ledger); the JSON answer or None."""
        request = urllib.request.Request(  # noqa: S310 - our own loopback emulator
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Ocp-Apim-Subscription-Key": self.key, "Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            data = answer.read()
        return json.loads(data) if data else None

    def usage(self, key_slot: str, meter: str = "TextRecords") -> int:
        """The quantity of ``meter`` the ledger holds this month for the key in ``key_slot`` (``key1``,
        ``key2``: the ledger names keys by slot, never by value)."""
        ledger = self.call("GET", "/metering/v1/usage")
        return sum(
            entry["quantity"] for entry in ledger["meters"] if entry["keySlot"] == key_slot and entry["meter"] == meter
        )

    def journal(self, method: str, path: str) -> list[dict[str, Any]]:
        """The control plane's journal entries of requests matching ``method`` and the glob ``path``."""
        query = urllib.parse.urlencode({"method": method, "path": path})
        return list(self.call("GET", f"/_emulator/journal?{query}")["value"])

    def add_fault(self, **rule: Any) -> str:
        """A control-plane fault rule (docs/control-plane.md); returns its id."""
        return str(self.call("POST", "/_emulator/faults", rule)["id"])

    def clear_faults(self) -> None:
        self.call("DELETE", "/_emulator/faults")

    def settings(self) -> list[str]:
        """Microsoft's required ``Key=value`` settings for a container of the published sample."""
        return required_settings(self.url, self.key, self.project, self.exported_model)


@contextlib.contextmanager
def embedded_cloud(root: Path, say: Callable[[str], None]) -> Iterator[EmbeddedCloud]:
    """Serve an S-tier emulated resource on loopback and publish the sample to it (train, deploy, export)."""
    app = create_app(CloudConfig(root / "cloud", (LOCAL_KEY, SECOND_KEY), tier="S", retry_after=0.05))
    try:
        with BackgroundServer(app) as server:
            publish_sample(AuthoringClient(server.url, LOCAL_KEY), write_project(root / "sample", documents=60), say)
            yield EmbeddedCloud(server.url, LOCAL_KEY)
    finally:
        close_app(app)


Kind = Literal["process", "docker", "url"]


@dataclass
class Target:
    """A serving container under test and what the suite knows about it."""

    url: str
    project: str
    deployment: str
    kind: Kind
    label: str
    """What the report calls it: the image and its id, our version, or the URL."""
    ours: bool
    """Built from this project (process mode, or an image carrying our source-hash label)."""
    cloud: EmbeddedCloud | None = None
    settings: list[str] = field(default_factory=list)
    launch: Launch | None = None
    limits: str = "unknown (started elsewhere)"


def process_launcher(cpu: int | None) -> Launch:
    """Our container as a child process, pinned to ``cpu`` when given (the process analogue of ``--cpus 1``)."""

    def launch(settings: Sequence[str], workdir: Path) -> Launched:
        return ContainerProcess(
            [*settings, f"Mounts:Output={workdir / 'output'}"],
            model_path=workdir / "modelPath",
            cpus=None if cpu is None else {cpu},
        ).start()

    return launch


def docker_launcher(image: str, cpus: float, memory: str) -> Launch:
    """``image`` through the docker-py launcher with these limits, on the host network at a free port."""

    def launch(settings: Sequence[str], workdir: Path) -> Launched:
        return DockerContainer(
            image,
            list(settings),
            model_path=workdir / "modelPath",
            output_path=workdir / "output",
            cpus=cpus,
            memory=memory,
            port=free_port(),
            host_network=True,
        ).start()

    return launch


def image_facts(image: str) -> tuple[str, bool]:
    """The report's label of a local image (reference and id) and whether it is ours (our source-hash label)."""
    try:
        client = docker_client()
    except DockerLaunchError:
        return image, False  # the launcher says why when it starts the image
    try:
        found = client.images.get(image)
    except docker.errors.DockerException:
        return image, False  # not local yet: the launcher pulls it (Microsoft's) or says how to get it
    finally:
        client.close()
    return f"{image} ({found.short_id})", SOURCE_HASH_LABEL in (found.labels or {})


def process_label() -> str:
    return f"our container, process mode (cner-emulator {package_version()})"


def pinned_cpu() -> int | None:
    """The last CPU this process may use: the process target's one core, leaving the others to the suite."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return allowed[-1] if len(allowed) > 1 else None


@contextlib.contextmanager
def opened_target(options: Options, mkdtemp: Callable[[str], Path]) -> Iterator[Target]:
    """The target the options name: a running container (``--target``), else one started here (``--image``, or
    our container as a process) against ``--billing`` or an embedded emulated cloud; stopped at the end.
    ``mkdtemp(name)`` gives fresh working folders (pytest's ``tmp_path_factory.mktemp``)."""
    project = options.project or PROJECT_NAME
    deployment = options.deployment or SAMPLE_DEPLOYMENT
    if options.target:
        url = options.target.rstrip("/")
        try:
            with urllib.request.urlopen(f"{url}/", timeout=10):  # noqa: S310 - the URL the user gave
                pass
        except urllib.error.HTTPError:
            pass  # it answers: what it answers is for the clauses to judge
        except (urllib.error.URLError, OSError) as exc:
            raise TargetUnavailableError(f"nothing answers at {url} ({exc})") from exc
        yield Target(url, project, deployment, "url", options.target, False)
        return
    cloud: EmbeddedCloud | None = None
    with contextlib.ExitStack() as stack:
        if options.billing and options.api_key:
            exported_model = options.exported_model or SAMPLE_MODEL_LABEL
            settings = required_settings(options.billing, options.api_key, project, exported_model)
        else:
            cloud = stack.enter_context(embedded_cloud(mkdtemp("cloud"), lambda _: None))
            settings = cloud.settings()
        if options.image:
            label, ours = image_facts(options.image)
            launch = docker_launcher(options.image, options.cpus, options.memory)
            kind: Kind = "docker"
            limits = f"--cpus {options.cpus:g} --memory {options.memory}"
        else:
            cpu = pinned_cpu()
            label, ours, launch = process_label(), True, process_launcher(cpu)
            kind = "process"
            limits = "pinned to 1 core, no memory limit" if cpu is not None else "none"
        try:
            container = launch(settings, mkdtemp("target"))
            stack.callback(container.stop)
            url = container.wait_ready(READY_TIMEOUT)
        except (ContainerStartError, DockerLaunchError) as exc:
            raise TargetUnavailableError(str(exc)) from exc
        if cloud is not None:
            project, deployment = cloud.project, cloud.deployment
        yield Target(url, project, deployment, kind, label, ours, cloud, settings, launch, limits)
