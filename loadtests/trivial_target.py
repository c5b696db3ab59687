"""A trivial endpoint of the jobs API, to show the load generator is not the bottleneck.

    python -m loadtests.trivial_target [--port 5999]

Every ``POST .../jobs`` is accepted at once (202 with an ``Operation-Location``) and every ``GET`` answers the
same succeeded job: no model, no Flask, no threads, only asyncio and canned bytes. Pointed at it, ``cner load``
measures how many transactions/s the generator itself can offer on this machine. Not a container: it ignores
what it is sent. What it cannot read (a Content-Length that is not a number of bytes up to 1 MB, headers over
64 KiB) is answered 400 or 431 and the connection closed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

JOB = json.dumps(
    {
        "jobId": "00000000-0000-0000-0000-000000000000",
        "createdDateTime": "2026-01-01T00:00:00Z",
        "lastUpdatedDateTime": "2026-01-01T00:00:00Z",
        "status": "succeeded",
        "errors": [],
        "tasks": {
            "completed": 1,
            "failed": 0,
            "inProgress": 0,
            "total": 1,
            "items": [
                {
                    "kind": "CustomEntityRecognitionLROResults",
                    "taskName": "load",
                    "lastUpdateDateTime": "2026-01-01T00:00:00Z",
                    "status": "succeeded",
                    "results": {
                        "documents": [{"id": "1", "entities": [], "warnings": []}],
                        "errors": [],
                        "projectName": "trivial",
                        "deploymentName": "trivial",
                    },
                }
            ],
        },
    }
).encode()
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
HEAD_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
MAX_HEAD = 64 * 1024
"""Bytes of request line and headers this endpoint reads before it gives up on a request."""
MAX_BODY = 1024 * 1024
"""Azure's request limit (1 MB): a longer declared body is refused, not buffered."""


class _Exchange(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, as far as the load generator needs: request line, headers, Content-Length."""

    def __init__(self, accepted: bytes, succeeded: bytes) -> None:
        self.accepted, self.succeeded = accepted, succeeded
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            length = _content_length(head[1:])
            if length is None:
                self._refuse(BAD_REQUEST)
                return
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            method, _, rest = head[0].partition(" ")
            path = rest.partition(" ")[0]
            if method == "POST" and path.split("?")[0].endswith("/jobs"):
                self.transport.write(self.accepted)
            elif method == "GET" and "/jobs/" in path:
                self.transport.write(self.succeeded)
            else:
                self.transport.write(NOT_FOUND)
        if len(self.buffer) > MAX_HEAD:
            self._refuse(HEAD_TOO_LARGE)

    def _refuse(self, answer: bytes) -> None:
        """Answer what cannot be read, and close: the rest of the stream has no request boundary to trust."""
        self.buffer = b""
        self.transport.write(answer)
        self.transport.close()


def _content_length(headers: list[str]) -> int | None:
    """The body's length (0 without the header), or None when it is not a number of bytes this endpoint takes."""
    values = [line.split(":", 1)[1].strip() for line in headers if line.lower().startswith("content-length:")]
    if not values:
        return 0
    if len(values) > 1 or not values[0].isdigit() or int(values[0]) > MAX_BODY:
        return None
    return int(values[0])


async def serve(host: str, port: int) -> None:
    location = (
        f"http://{host}:{port}/language/analyze-text/jobs/00000000-0000-0000-0000-000000000000?api-version=2023-04-01"
    )
    accepted = f"HTTP/1.1 202 Accepted\r\nOperation-Location: {location}\r\nContent-Length: 0\r\n\r\n".encode()
    succeeded = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(JOB)}\r\n\r\n".encode() + JOB
    )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Exchange(accepted, succeeded), host, port, backlog=1024)
    print(f"trivial jobs endpoint on http://{host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5999)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
