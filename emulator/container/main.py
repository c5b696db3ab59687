"""``cner container``: serve the container in this process until a signal, or until start-up fails.

The server listens before start-up finishes, as Microsoft's image does, so probes can watch the model
load. SIGTERM (``docker stop``, Kubernetes) and SIGINT stop it cleanly: jobs already queued finish and the
usage counted is reported once more before the process exits. A fatal start-up problem exits with status 1
after logging its one-line reason.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from emulator.web.server import BackgroundServer

from . import heap
from .app import create_container_app
from .runtime import ContainerRuntime
from .settings import Settings

log = logging.getLogger("cner.container")


def configure_logging(level: int) -> None:
    """Console logging as the image does it: one line per event on stderr, at ``Logging:Console:LogLevel``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" under load is not news


def run(settings: Settings, host: str, port: int) -> int:
    """Serve until stopped; the exit status (0 after a signal, 1 after a fatal start-up problem)."""
    runtime = ContainerRuntime(settings, on_serving=heap.settle)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with BackgroundServer(create_container_app(runtime), host, port, ident="cner-container") as server:
            # Always printed, whatever the log level (as ASP.NET Core prints it): launchers read the port here.
            print(f"Now listening on: {server.url}", file=sys.stderr, flush=True)
            runtime.start()
            while not stop.is_set() and not runtime.fatal.is_set():
                stop.wait(0.2)
    finally:
        runtime.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 1 if runtime.fatal.is_set() else 0
