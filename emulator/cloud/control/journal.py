"""The request journal: the last requests the emulator answered, for a test to assert what a client sent.

Bounded (WireMock's unbounded journal ran servers out of memory under load, wiremock#29/#152): the oldest
entry is forgotten when a new one would exceed ``capacity``, and ``total`` counts every entry since the
last clear, so a reader can tell that entries were evicted. Nothing secret is kept: the key is named by its
slot, and query parameters whose names look like credentials (``subscription-key``, a SAS ``sig``, ...)
have their values replaced.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

CAPACITY = 1000

_SECRET_NAME = re.compile(r"key|sig|token|secret|password|credential|auth", re.IGNORECASE)
REDACTED = "REDACTED"


def redact_query(query: str) -> str:
    """``query`` with the value of every credential-like parameter replaced by ``REDACTED``."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(name, REDACTED if _SECRET_NAME.search(name) else value) for name, value in pairs])


@dataclass(frozen=True)
class Entry:
    time: str
    """When the request arrived, by the resource's clock (so a moved clock shows in the journal too)."""
    method: str
    path: str
    query: str
    status: int | None
    """None when the connection was dropped instead of answered."""
    duration_ms: float
    key_slot: str | None
    fault: str | None
    """The id of the fault rule that shaped the answer, if one did."""

    def json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "dropped": self.status is None,
            "durationMs": self.duration_ms,
            "keySlot": self.key_slot,
            "fault": self.fault,
        }


class Journal:
    """The newest ``capacity`` entries, oldest first; safe to share between request threads."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._total = 0
        self._lock = threading.Lock()

    def add(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)
            self._total += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0

    def json(self, method: str | None = None, path: str | None = None) -> dict[str, Any]:
        """The entries, filtered by method and by a path glob; ``total`` counts all, evicted ones included."""
        with self._lock:
            entries, total = list(self._entries), self._total
        selected = [
            entry.json()
            for entry in entries
            if (method is None or entry.method == method.upper())
            and (path is None or fnmatch.fnmatchcase(entry.path, path))
        ]
        return {"value": selected, "capacity": self.capacity, "total": total}
