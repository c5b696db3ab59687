"""A free loopback port, for what must be told its port before it starts: a container process or image, a Locust
master, a server a test expects to find closed. (A server we start in this process binds port 0 instead and
reads back what it got, which cannot race.)"""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listened on a moment ago; another process may take it before it is used, which
    on a test machine is rare enough to accept."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
