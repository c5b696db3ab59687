"""``cner container --docker``: an image run in the foreground until Ctrl-C, with its log on the terminal.

A container whose Billing endpoint is on this machine's loopback (``cner cloud``, ``cner up``) cannot reach
it through Docker's bridge, so it gets host networking, listening on 127.0.0.1 only; otherwise its port is
published on 127.0.0.1 only. Either way nothing listens on the host's other interfaces.
"""

from __future__ import annotations

import signal
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path

from emulator.container.settings import parse_arguments

from .docker_launcher import DockerContainer

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def billing_on_loopback(settings: Sequence[str]) -> bool:
    """Whether the ``Billing`` argument (any case) names this machine's loopback."""
    try:
        billing = parse_arguments(settings).get("billing", "")
    except ValueError:
        return False
    return urllib.parse.urlsplit(billing).hostname in LOOPBACK


def run_in_docker(container: DockerContainer, say: Callable[[str], None], *, ready_timeout: float = 120.0) -> int:
    """Start ``container``, say where it serves once ready, and stop (and remove) it on SIGINT/SIGTERM or when
    it exits; returns its exit status (0 after a signal)."""
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with container:
            limits = f"--cpus {container.cpus:g} --memory {container.memory}"
            say(f"container {container.name} of {container.image}: {limits}")
            url = container.wait_ready(ready_timeout)
            say(f"ready at {url}; Ctrl-C stops and removes it")
            while not stop.wait(0.5):
                code = container.returncode
                if code is not None:
                    say(f"the container exited with status {code}")
                    return code
            say("stopping the container")
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def docker_container(
    image: str,
    settings: Sequence[str],
    *,
    model_path: Path,
    output_path: Path,
    port: int,
    cpus: float,
    memory: str,
    log: Callable[[str], None],
) -> DockerContainer:
    """The launcher for ``cner container --docker``, host-networked when Billing is on loopback."""
    return DockerContainer(
        image,
        settings,
        model_path=model_path,
        output_path=output_path,
        cpus=cpus,
        memory=memory,
        port=port,
        host_network=billing_on_loopback(settings),
        log=log,
    )
