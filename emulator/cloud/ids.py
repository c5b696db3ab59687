"""Identifiers the emulator hands out, random by default and reproducible after a seed.

A control-plane ``seed`` makes every later id the same on every run (moto's ``/moto-api/seed``), so a test
or a recorded scenario can name a job id in advance.
"""

from __future__ import annotations

import random
import threading
import uuid
from datetime import datetime

from .clock import day_ticks


class IdSource:
    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - ids need to be unique and seedable, not secret

    def seed(self, seed: int) -> None:
        with self._lock:
            self._random.seed(seed)

    def uuid(self) -> uuid.UUID:
        with self._lock:
            return uuid.UUID(int=self._random.getrandbits(128), version=4)

    def job_id(self, now: datetime) -> str:
        """The service's authoring job id form: ``{uuid}_{ticks of the day}``."""
        return f"{self.uuid()}_{day_ticks(now)}"
