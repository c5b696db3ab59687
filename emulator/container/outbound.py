"""The container's one way out: HTTP(S) requests to the Billing endpoint (key checks, usage reports, the
exported model's manifest and files), through the configured proxy, each with a timeout.

Every failure to get an answer (refused, reset, closed, timed out, DNS) is one ``UnreachableError``, which the
billing rules read as ``CouldNotConnect``; an HTTP error status is an answer and is returned, not raised.
The key travels only in its header and never appears in a message.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

KEY_HEADER = "Ocp-Apim-Subscription-Key"
USER_AGENT = "cner-container"


class UnreachableError(OSError):
    """No HTTP answer came back."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Message

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return None


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


class Outbound:
    """Requests to ``endpoint`` (or to absolute http(s) URLs it hands out, such as download links)."""

    def __init__(self, endpoint: str, api_key: str, *, proxy: str | None = None, timeout: float = 10.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._key = api_key
        self._timeout = timeout
        proxies = {"http": proxy, "https": proxy} if proxy else {}
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies))

    def request(
        self, method: str, path: str, body: Any = None, *, timeout: float | None = None, limit: int | None = None
    ) -> Answer:
        """``path`` is relative to the endpoint or an absolute http(s) URL; ``body`` is sent as JSON. With
        ``limit``, at most ``limit + 1`` bytes of the answer are read (a longer body shows as too long).

        The key goes only to the endpoint's own origin: a download link on another host (Azure's blob links
        carry their own signature) never sees it.

        :raises UnreachableError: no answer (the message names the URL and the reason, never the key).
        """
        url = path if path.startswith(("http://", "https://")) else f"{self.endpoint}{path}"
        if not url.startswith(("http://", "https://")):
            raise UnreachableError(f"refusing to open {url!r}: only http and https URLs are used")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked above
        if _origin(url) == _origin(self.endpoint):
            request.add_header(KEY_HEADER, self._key)
        request.add_header("User-Agent", USER_AGENT)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=timeout or self._timeout) as response:
                data = response.read() if limit is None else response.read(limit + 1)
                return Answer(response.status, data, response.headers)
        except urllib.error.HTTPError as exc:
            with exc:
                return Answer(exc.code, exc.read(), exc.headers)
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UnreachableError(f"{method} {url}: no answer ({reason})") from exc
        except OSError as exc:
            raise UnreachableError(f"{method} {url}: no answer ({exc})") from exc
