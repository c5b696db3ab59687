"""The conformance options, as the plugin parsed them: kept apart from the plugin so that modules of the
suite and of the product can take them without importing pytest's hooks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Options:
    """The conformance options as given (or from the environment)."""

    target: str | None
    image: str | None
    billing: str | None
    api_key: str | None
    project: str | None
    """None: the sample's (what the embedded cloud publishes and ``make up`` serves)."""
    deployment: str | None
    exported_model: str | None
    cpus: float
    memory: str
    openapi: tuple[Path, ...]
    parity_target: str | None
    parity_ignore: tuple[str, ...]
    report: Path | None
