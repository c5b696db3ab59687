"""The image's HEALTHCHECK: exit 0 when ``/ready`` answers 200, else 1 with one line saying why.

A script of its own rather than ``python -c``: a 503 or a refused connection is an expected answer during
start-up, and Docker keeps each check's output in ``docker inspect`` (State.Health.Log), where one line reads
better than a traceback. It probes the port the container listens on, from ``ASPNETCORE_URLS`` as the
container reads it (the first URL; ``+``, ``*`` and ``0.0.0.0`` mean every interface, so loopback answers).
Only the standard library, run with ``python -I``.
"""

import os
import sys
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_URLS = "http://+:5000"
EVERY_INTERFACE = {"+", "*", "0.0.0.0"}  # noqa: S104 - names of the wildcard, nothing is bound here
TIMEOUT = 2.5  # seconds; Docker's own limit for a check is 3 s (--timeout)


def ready_url(urls: str) -> str:
    """``/ready`` at the first of ``ASPNETCORE_URLS``, on loopback when that listens on every interface."""
    netloc = urllib.parse.urlsplit(urls.split(";")[0].strip()).netloc
    host, _, port = netloc.rpartition(":")
    if host in EVERY_INTERFACE:
        host = "127.0.0.1"
    elif host == "[::]":
        host = "[::1]"
    return f"http://{host}:{port}/ready"


def main() -> int:
    url = ready_url(os.environ.get("ASPNETCORE_URLS") or DEFAULT_URLS)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 - always http://, built above
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:  # URLError (refused, timed out, ...) is an OSError
        print(f"{url}: no answer ({getattr(exc, 'reason', exc)})")
        return 1
    print(f"{url}: {status}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
