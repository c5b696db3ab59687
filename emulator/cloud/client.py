"""A minimal authoring client over HTTP (urllib): what ``cner up`` and the benchmark use to drive the emulator.

Microsoft's SDK is a test dependency, not a product one, so the product's own scripts speak the REST
protocol directly: start an operation, follow ``Operation-Location`` until the job ends, raise on failure.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .auth import KEY_HEADER

API_VERSION = "2025-05-15-preview"
PREFIX = "/language/authoring/analyze-text"


class CloudError(RuntimeError):
    """An error answer or a failed job, with the service's message."""


def _json(body: Any) -> bytes | None:
    return json.dumps(body).encode() if body is not None else None


class AuthoringClient:
    def __init__(self, endpoint: str, key: str, *, timeout: float = 300) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.key = key
        self._timeout = timeout

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None) -> tuple[int, Any, Any]:
        """``path`` is absolute or relative to the endpoint; returns status, JSON body (or None), headers."""
        status, content, headers = self.fetch(method, path, raw if raw is not None else _json(body))
        return status, json.loads(content) if content else None, headers

    def fetch(self, method: str, path: str, data: bytes | None = None) -> tuple[int, bytes, Any]:
        """The raw answer; only http(s) URLs are opened (a manifest could name anything)."""
        url = path if path.startswith(("http://", "https://")) else f"{self.endpoint}{path}"
        if not url.startswith(("http://", "https://")):
            raise CloudError(f"refusing to open {url!r}: only http and https endpoints are used")
        request = urllib.request.Request(url, data=data, method=method, headers={KEY_HEADER: self.key})  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - checked above
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            raise CloudError(f"{method} {url} -> {exc.code}: {exc.read().decode(errors='replace')}") from exc

    def upload_documents(self, project_file: dict[str, Any], root: Path) -> None:
        """Put every document of ``project_file`` (read from ``root``/location) into the emulated storage
        container the project names, as a user copies texts to the blob container before ``:import``."""
        container = project_file["metadata"]["storageInputContainerName"]
        for document in project_file["assets"]["documents"]:
            location = document["location"]
            self.request("PUT", f"/_emulator/storage/{container}/{location}", raw=(root / location).read_bytes())

    def authoring(self, method: str, path: str, body: Any = None, **query: str) -> tuple[int, Any, Any]:
        params = "&".join(f"{k}={v}" for k, v in {"api-version": API_VERSION, **query}.items())
        return self.request(method, f"{PREFIX}/{path}?{params}", body)

    def run(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        progress: Callable[[dict[str, Any]], None] | None = None,
        **query: str,
    ) -> dict[str, Any]:
        """Start an LRO and wait for its job, showing each polled state to ``progress``; returns the final job
        state, raises ``CloudError`` unless it succeeded."""
        _, _, headers = self.authoring(method, path, body, **query)
        operation = headers["Operation-Location"]
        deadline = time.monotonic() + self._timeout
        while True:
            _, job, headers = self.request("GET", operation)
            if progress is not None:
                progress(job)
            if job["status"] == "succeeded":
                return dict(job)
            if job["status"] in ("failed", "cancelled"):
                raise CloudError(f"{method} {path}: job {job['status']}: {json.dumps(job.get('errors', []))}")
            if time.monotonic() > deadline:
                raise CloudError(f"{method} {path}: job still {job['status']} after {self._timeout} s")
            time.sleep(min(float(headers.get("Retry-After", 1)), 1.0))
