"""Serving the emulator with a production WSGI server (waitress), in the foreground or in a thread.

waitress is a multi-threaded pure-Python server: the job engine's worker threads and the request threads
share one process and one store, which is what an emulator needs (a pre-fork server would split them).
``BackgroundServer`` serves on an ephemeral loopback port for tests, benchmarks and ``cner up``.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from flask import Flask
from waitress.server import create_server

THREADS = 8


class ListenError(RuntimeError):
    """The address cannot be listened on (a port already taken, an interface this host lacks); the message
    names the address and what to change, where the bare ``OSError`` would name neither."""


def _listen(app: Flask, host: str, port: int, ident: str) -> Any:
    """waitress's server, bound; a port in use, an address not of this host, or a host that does not resolve
    (waitress's ``ValueError``) is a ``ListenError`` with the fix that fits."""
    try:
        return create_server(app, host=host, port=port, threads=THREADS, ident=ident)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            fix = "choose another port, or stop what holds it"
        else:
            fix = "give an address of this host, such as 127.0.0.1"
        reason = exc.strerror or str(exc)
    except ValueError as exc:
        reason, fix = str(exc).rstrip("."), "give an address of this host, such as 127.0.0.1"
    raise ListenError(f"cannot listen on {host}:{port}: {reason} ({fix})")


def serve(
    app: Flask, host: str, port: int, on_listening: Callable[[str], None], *, ident: str = "cner-emulator"
) -> None:
    """Serve until interrupted; ``on_listening`` gets the URL once the socket is bound, so nothing announces an
    address before it is really served. Logging is set up as ``waitress.serve`` sets it up (idempotent), so
    waitress's own warnings keep their level and logger name."""
    logging.basicConfig()
    server = _listen(app, host, port, ident)
    on_listening(f"http://{host}:{server.effective_port}")
    server.run()


class BackgroundServer:
    """``app`` served on ``host`` (port 0: any free port) in a daemon thread; ``url`` is where."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, ident: str = "cner-emulator") -> None:
        self._server: Any = _listen(app, host, port, ident)
        self.url = f"http://{host}:{self._server.effective_port}"
        self._thread = threading.Thread(target=self._server.run, name=ident, daemon=True)

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every socket from inside waitress's loop (ending it), then stop the request workers.

        The closing runs as a trigger thunk. Another wake-up of the loop (a worker finishing a request) can
        run it before this thread's own write to the trigger, which then fails because the thunk already
        closed the trigger: that failure is the success it looks like, so it is recognised and ignored.
        """
        server = self._server
        closing = threading.Event()

        def close_all() -> None:
            closing.set()  # before any close, so a failed write below can tell who closed the trigger
            for channel in list(server._map.values()):
                channel.close()

        try:
            server.trigger.pull_trigger(close_all)
        except OSError:
            if not closing.is_set():
                raise
        self._thread.join(timeout=10)
        server.task_dispatcher.shutdown()
