"""The emulated Language resource: its settings and the services every blueprint shares.

One ``Resource`` lives in ``app.extensions`` per app; blueprints reach it with ``current()``. Resetting the
resource (control plane) empties the store and rebuilds nothing else: the settings given at start-up
(keys, tier) are the resource's identity and survive a reset, as they would survive in Azure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from .clock import Clock
from .ids import IdSource
from .jobs import JobEngine
from .layout import Layout
from .store import Store

TIERS = ("F0", "S")


@dataclass(frozen=True)
class CloudConfig:
    """What ``cner cloud`` is started with."""

    data_dir: Path
    api_keys: tuple[str, ...]
    tier: str = "S"
    retry_after: float = 1.0
    """Seconds a poll of a running job is told to wait (``Retry-After``); tests lower it."""

    def __post_init__(self) -> None:
        if not self.api_keys or not all(self.api_keys):
            raise ValueError("at least one non-empty API key is required")
        if self.tier not in TIERS:
            raise ValueError(f"tier {self.tier!r} is not one containers may use; choose one of {', '.join(TIERS)}")


@dataclass
class Resource:
    config: CloudConfig
    store: Store
    clock: Clock
    ids: IdSource
    jobs: JobEngine
    extras: dict[str, Any] = field(default_factory=dict)
    """Per-blueprint state (billing override, faults, journal), keyed by blueprint name."""

    @property
    def layout(self) -> Layout:
        return Layout(self.store.data_dir)

    @classmethod
    def open(cls, config: CloudConfig) -> Resource:
        store = Store(config.data_dir)
        clock = Clock()
        ids = IdSource()
        return cls(config, store, clock, ids, JobEngine(store, clock, ids))


def current() -> Resource:
    resource: Resource = current_app.extensions["cner"]
    return resource
